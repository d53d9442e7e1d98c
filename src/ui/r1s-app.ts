/**
 * <r1s-app>: the playground page. Loads the corpus pack into the search worker and the base
 * checkpoint into the trainer worker, runs Stage 1 then Stage 2 with start, pause and single
 * steps, and shows the curves and the latest rollouts. It computes nothing itself: every
 * number comes from the workers.
 *
 * Attributes set for tests and tools: `data-state` (loading | ready | running | paused | error),
 * `data-stage`, `data-steps` (steps done in the current stage).
 */
import { LitElement, css, html, nothing } from 'lit';
import { proxy, transfer, wrap, type Remote } from 'comlink';
import { createSearchWorker } from '../search/client.ts';
import type { SearchWorkerApi } from '../search/worker-api.ts';
import type { TrainerApi } from '../rl/trainer-api.ts';
import type { SessionInfo } from '../rl/session.ts';
import type { RolloutRecord, StepMetrics, RlSettings } from '../rl/trainer.ts';
import type { PackProgress } from '../corpus/pack-loader.ts';
import { readPageConfig, type PageConfig } from './url-config.ts';
import type { CurveSeries } from './r1s-curves.ts';
import './r1s-curves.ts';
import './r1s-rollouts.ts';

type State = 'loading' | 'ready' | 'running' | 'paused' | 'error';

const REWARD_SERIES: CurveSeries[] = [
  { key: 'reward', label: 'mean reward', color: '#2457c5' },
  { key: 'retrievalRate', label: 'retrieval rate', color: '#1a7f37' },
  { key: 'formatRate', label: 'format rate', color: '#9a6700' },
  { key: 'f1', label: 'F1', color: '#b42318' },
  { key: 'answerInDocs', label: 'answer in retrieved docs', color: '#7a3db8' },
];

export class R1sApp extends LitElement {
  static override properties = {
    state: { state: true }, status: { state: true }, error: { state: true }, info: { state: true },
    stage: { state: true }, metrics: { state: true }, rollouts: { state: true }, settings: { state: true },
  };

  declare state: State;
  declare status: string;
  declare error: string;
  declare info: (SessionInfo & { backendNote: string; backendDetail: string; pack: string; documents: number; shards: number; source: string; license: string }) | null;
  declare stage: 1 | 2 | null;
  /** Metrics per stage, in step order. */
  declare metrics: Record<1 | 2, StepMetrics[]>;
  declare rollouts: RolloutRecord[];
  declare settings: RlSettings | null;

  private config: PageConfig;
  private search: Remote<SearchWorkerApi> | null = null;
  private trainer: Remote<TrainerApi> | null = null;
  private stopRequested = false;

  static override styles = css`
    :host { display: block; max-width: 1200px; margin: 0 auto; padding: 1rem; }
    h1 { font-size: 1.4rem; margin: 0 0 0.2rem; }
    .sub { color: #556; margin: 0 0 1rem; }
    section { background: #fff; border: 1px solid #dde1e8; border-radius: 8px; padding: 0.8rem 1rem; margin-bottom: 1rem; }
    h2 { font-size: 1.05rem; margin: 0 0 0.5rem; }
    .row { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; }
    button { font: inherit; padding: 0.35rem 0.9rem; border-radius: 6px; border: 1px solid #2457c5; background: #2457c5; color: #fff; cursor: pointer; }
    button.secondary { background: #fff; color: #2457c5; }
    button:disabled { opacity: 0.45; cursor: default; }
    button:focus-visible { outline: 3px solid #f0b400; outline-offset: 2px; }
    .status { color: #445; font-size: 0.9rem; }
    .alert { background: #fdecea; border: 1px solid #f5c2bd; color: #8a1c12; padding: 0.5rem 0.8rem; border-radius: 6px; margin-bottom: 1rem; white-space: pre-wrap; }
    .note { color: #556; font-size: 0.88rem; }
    table { border-collapse: collapse; font-size: 0.85rem; font-variant-numeric: tabular-nums; }
    td, th { padding: 0.15rem 0.6rem; text-align: right; border-bottom: 1px solid #eef0f3; }
    th:first-child, td:first-child { text-align: left; }
    .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 1rem; }
    code { font-size: 0.82rem; overflow-wrap: anywhere; }
  `;

  constructor() {
    super();
    const { config, errors } = readPageConfig(location.search);
    this.config = config;
    this.state = 'loading';
    this.status = 'Starting…';
    this.error = errors.length ? `Ignored URL settings: ${errors.join('; ')}` : '';
    this.info = null;
    this.stage = null;
    this.metrics = { 1: [], 2: [] };
    this.rollouts = [];
    this.settings = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      this.search = createSearchWorker();
      this.status = 'Loading the corpus pack…';
      const packUrl = `${import.meta.env.BASE_URL}corpus/${this.config.pack}/`;
      const packInfo = await this.search.loadPack(packUrl, proxy((p: PackProgress) => {
        this.status = `Loading the corpus pack: ${p.loaded}/${p.total} files verified`;
      }));
      this.status = 'Loading the base model…';
      const channel = new MessageChannel();
      await this.search.connect(transfer(channel.port1, [channel.port1]));
      this.trainer = wrap<TrainerApi>(new Worker(new URL('../../workers/trainer.worker.ts', import.meta.url), { type: 'module' }));
      const session = await this.trainer.init(transfer({
        backend: this.config.backend, modelUrl: `${import.meta.env.BASE_URL}models/${this.config.model}/`, searchPort: channel.port2,
      }, [channel.port2]));
      this.info = {
        ...session, pack: packInfo.manifest.name, documents: packInfo.documents, shards: packInfo.manifest.shards.length,
        source: packInfo.manifest.source, license: packInfo.manifest.license,
      };
      this.state = 'ready';
      this.status = `Ready: ${packInfo.documents} documents in ${packInfo.manifest.shards.length} shards, a ${session.parameters.toLocaleString()}-parameter policy on the ${session.backend} backend.`;
    } catch (e) {
      this.fail(e);
    }
  }

  private fail(e: unknown): void {
    this.state = 'error';
    this.error = e instanceof Error ? e.message : String(e);
    this.status = 'Stopped by an error.';
  }

  private stageSteps(stage: 1 | 2): number {
    return stage === 1 ? this.config.stage1Steps : this.config.stage2Steps;
  }

  /** Starts `stage` (if it is not the running one) and runs it until done or paused. */
  private async start(stage: 1 | 2): Promise<void> {
    if (!this.trainer || this.state === 'running') return;
    try {
      if (this.stage !== stage) await this.begin(stage);
      await this.run(Infinity);
    } catch (e) {
      this.fail(e);
    }
  }

  private async begin(stage: 1 | 2): Promise<void> {
    const override = {
      promptsPerStep: this.config.promptsPerStep,
      samplesPerPrompt: this.config.samplesPerPrompt,
      rollout: { maxNewTokens: this.config.maxNewTokens },
    };
    this.settings = await this.trainer!.startStage(stage, override, this.stageSteps(stage), this.config.seed + stage);
    this.stage = stage;
    this.metrics = { ...this.metrics, [stage]: [] };
    this.rollouts = [];
  }

  /** Runs up to `n` steps of the current stage, stopping early on pause or at the stage's length. */
  private async run(n: number): Promise<void> {
    const stage = this.stage!;
    this.state = 'running';
    this.stopRequested = false;
    for (let i = 0; i < n && !this.stopRequested; i++) {
      if (this.metrics[stage].length >= this.stageSteps(stage)) break;
      this.status = `Stage ${stage}: step ${this.metrics[stage].length + 1} of ${this.stageSteps(stage)}…`;
      const { metrics, rollouts } = await this.trainer!.step();
      this.metrics = { ...this.metrics, [stage]: [...this.metrics[stage], metrics] };
      this.rollouts = rollouts;
    }
    const done = this.metrics[stage].length >= this.stageSteps(stage);
    this.state = done ? 'ready' : 'paused';
    this.status = done ? `Stage ${stage} finished: ${this.metrics[stage].length} steps.` : `Stage ${stage} paused at step ${this.metrics[stage].length}.`;
  }

  private async stepOnce(): Promise<void> {
    if (!this.trainer || this.state === 'running') return;
    try {
      if (this.stage === null) await this.begin(1);
      await this.run(1);
    } catch (e) {
      this.fail(e);
    }
  }

  private pause(): void {
    this.stopRequested = true;
    this.status = 'Pausing after this step…';
  }

  protected override updated(): void {
    this.dataset.state = this.state;
    this.dataset.stage = String(this.stage ?? 0);
    this.dataset.steps = String(this.stage ? this.metrics[this.stage].length : 0);
  }

  override render() {
    const busy = this.state === 'running' || this.state === 'loading' || this.state === 'error';
    const last = this.stage ? this.metrics[this.stage].at(-1) : undefined;
    return html`
      <h1>R1-Searcher Playground</h1>
      <p class="sub">Reinforcement learning teaches a small language model to search in the middle of its own reasoning
        (Song et al., 2025, "R1-Searcher"), here at toy scale, entirely in your browser.</p>
      ${this.error ? html`<div class="alert" role="alert">${this.error}</div>` : nothing}
      <section aria-label="Status">
        <div class="status" role="status">${this.status}</div>
        ${this.info
          ? html`<p class="note">Corpus: <b>${this.info.pack}</b> pack, ${this.info.documents} documents in ${this.info.shards} shards
              (${this.info.source}; ${this.info.license}). Policy: ${this.info.parameters.toLocaleString()} parameters,
              ${this.info.config.numLayers} layers, vocabulary ${this.info.vocabulary}. Backend: <b>${this.info.backend}</b>
              ${this.info.backendDetail ? html`(${this.info.backendDetail})` : nothing}.
              ${this.info.backendNote ? html`<br />${this.info.backendNote}` : nothing}</p>`
          : nothing}
      </section>
      <section aria-label="Training">
        <h2>Training</h2>
        <p class="note">Stage 1 rewards well-formed searching (0.5 for a search that returns documents, 0.5 for a well-formed
          completion); Stage 2 rewards the answer (F1) and subtracts 2 for broken format. Retrieved documents are spliced into
          the rollout and masked out of the loss.</p>
        <div class="row">
          <button @click=${() => this.start(1)} ?disabled=${busy || this.stage === 2}>${this.stage === 1 && this.state === 'paused' ? 'Resume Stage 1' : 'Start Stage 1'}</button>
          <button @click=${() => this.start(2)} ?disabled=${busy}>${this.stage === 2 && this.state === 'paused' ? 'Resume Stage 2' : 'Start Stage 2'}</button>
          <button class="secondary" @click=${() => this.pause()} ?disabled=${this.state !== 'running'}>Pause</button>
          <button class="secondary" @click=${() => this.stepOnce()} ?disabled=${busy}>Step</button>
        </div>
        ${this.settings
          ? html`<p class="note">Stage ${this.settings.stage}: ${this.settings.promptsPerStep} questions × ${this.settings.samplesPerPrompt} samples per step,
              learning rate ${this.settings.optimizer.lr}, ${this.settings.advantageEstimator}, KL ${this.settings.klCoef},
              up to ${this.settings.rollout.maxSearches} searches of top-${this.settings.rollout.topK},
              Stage-1 retrieval reward: ${this.settings.reward.retrievalReward === 'found' ? 'paid only for a search that found documents' : "paid for any well-formed search (the paper's)"}.</p>`
          : nothing}
      </section>
      <div class="grid">
        <section aria-label="Stage 1 curves">
          <h2>Stage 1: learn to search</h2>
          <r1s-curves .points=${this.metrics[1] as unknown as Record<string, number>[]} .series=${REWARD_SERIES} label="Stage 1 curves"></r1s-curves>
        </section>
        <section aria-label="Stage 2 curves">
          <h2>Stage 2: learn to answer</h2>
          <r1s-curves .points=${this.metrics[2] as unknown as Record<string, number>[]} .series=${REWARD_SERIES} label="Stage 2 curves"></r1s-curves>
        </section>
      </div>
      ${last
        ? html`<section aria-label="Latest step">
            <h2>Latest step (stage ${last.stage}, step ${last.step})</h2>
            <table>
              <tr><th>mean reward</th><td>${last.reward.toFixed(3)}</td><th>retrieval rate</th><td>${last.retrievalRate.toFixed(2)}</td></tr>
              <tr><th>format rate</th><td>${last.formatRate.toFixed(2)}</td><th>F1</th><td>${last.f1.toFixed(3)}</td></tr>
              <tr><th>answer in retrieved docs</th><td>${last.answerInDocs.toFixed(2)}</td><th>searches per rollout</th><td>${last.searchesPerRollout.toFixed(2)}</td></tr>
              <tr><th>groups with reward spread</th><td>${last.groupsWithSpread.toFixed(2)}</td><th>response length</th><td>${last.responseLength.toFixed(1)}</td></tr>
              <tr><th>seconds</th><td>${last.seconds.toFixed(1)}</td><th>tokens / s</th><td>${(last.tokens / Math.max(1e-9, last.updateSeconds)).toFixed(0)}</td></tr>
            </table>
          </section>`
        : nothing}
      <section aria-label="Latest rollouts">
        <h2>Latest rollouts</h2>
        ${this.rollouts[0] ? html`<p class="note">Prompt: <code>${this.rollouts[0].prompt}</code></p>` : nothing}
        <r1s-rollouts .rollouts=${this.rollouts}></r1s-rollouts>
      </section>
    `;
  }
}

customElements.define('r1s-app', R1sApp);
