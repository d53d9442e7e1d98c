/**
 * <r1s-step-stage>: steps 3 and 4 of the guided path, one RL stage of R1-Searcher: its
 * settings, Start / Pause / Step, live curves per step, the latest step's numbers, the rollout
 * inspector and the live mode.
 *
 * Properties: `pg` (the Playground), `stage` (1 or 2).
 */
import { css, html, nothing } from 'lit';
import type { StepMetrics } from '../rl/trainer.ts';
import { PlaygroundElement, sharedStyles } from './playground-element.ts';
import type { CurveSeries } from './r1s-curves.ts';
import { PALETTE } from './theme.ts';
import { stageValue } from './url-config.ts';
import './r1s-curves.ts';
import './r1s-settings.ts';
import './r1s-inspector.ts';
import './r1s-live.ts';

const C = PALETTE;
/** The charts, each over fields of StepMetrics (tokensPerSecond is added per point). Parts that can coincide differ by dash and markers. */
const CHARTS: { title: string; series: CurveSeries[]; range?: [number, number]; more?: boolean; kl?: boolean }[] = [
  { title: 'Mean reward and its parts', series: [
    { key: 'reward', label: 'reward', color: C.accent }, { key: 'rewardRetrieval', label: 'retrieval', color: C.green, dash: [8, 4], marker: true },
    { key: 'rewardFormat', label: 'format', color: C.amber, dash: [2, 3] }, { key: 'rewardAnswer', label: 'answer (F1)', color: C.red, dash: [12, 3, 2, 3] },
    { key: 'rewardPenalty', label: 'penalty', color: C.grey, dash: [4, 4] }] },
  { title: 'Rates', series: [
    { key: 'retrievalRate', label: 'retrieval rate', color: C.green, marker: true }, { key: 'formatRate', label: 'format rate', color: C.amber, dash: [2, 3] },
    { key: 'answerInDocs', label: 'answer in docs', color: C.purple, dash: [8, 4] }, { key: 'docsFound', label: 'docs found', color: C.teal, dash: [12, 3, 2, 3] }], range: [0, 1] },
  { title: 'Answer F1 and Cover-EM', series: [{ key: 'f1', label: 'F1', color: C.red }, { key: 'coverEm', label: 'Cover-EM', color: C.accent, dash: [6, 3], marker: true }], range: [0, 1] },
  { title: 'KL to the initial policy', series: [{ key: 'kl', label: 'KL (k1)', color: C.violet }], more: true, kl: true },
  { title: 'Response length (generated tokens)', series: [{ key: 'responseLength', label: 'tokens per rollout', color: C.accent }], more: true },
  { title: 'Searches per rollout', series: [{ key: 'searchesPerRollout', label: 'searches', color: C.green }], more: true },
  { title: 'Tokens per second (forward and backward)', series: [{ key: 'tokensPerSecond', label: 'tokens/s', color: C.amber }], more: true },
];

const EXPLAIN: Record<1 | 2, string[]> = {
  1: [
    'Stage 1 rewards the act of searching, whatever the answer: 0.5 for a retrieval and 0.5 for a well-formed completion (R1-Searcher, section 3; recipe.md section 6). ' +
      "Here the retrieval part is paid in two halves ('follow-up'): one for a first query that names the question and returns documents, one for a later query that names a word read in those documents (searching again with a lead). 'relevant' pays all of it for on-topic searches, 'found' for any search that returned documents, and the paper's 'any' even for searches that found nothing.",
    'Each rollout pauses when the policy closes a query; the search engine runs and its documents are spliced in. Those tokens are masked out of the loss: the policy is never trained to write documents.',
    'A small KL penalty to the base model (the KL coefficient: 0.05 by default in Stage 1, 0 in Stage 2) keeps the base\'s habit of searching again on 3-hop questions alive until the second search earns its half of the retrieval reward. Without it, on one seed of eleven tried the second search was dropped within 15 steps and never came back.',
    'Every question is sampled several times; each rollout is compared with the mean reward of its group (REINFORCE++ with a baseline), so only groups whose rewards differ teach anything.',
  ],
  2: [
    'Stage 2 rewards the answer: token F1 against the gold answer, and a penalty (-2 in the paper) for a broken format (R1-Searcher, section 3; recipe.md section 6).',
    "It starts from the Stage-1 policy (or from the base when Stage 1 was skipped), which already searches; now the query must find the right document and the answer must be copied out of it.",
    'You need not wait for all its steps: the answer reward rises within the first 10 to 20 (the shipped run\'s curves show it). Pause whenever the curves have said enough.',
  ],
};

export class R1sStepStage extends PlaygroundElement {
  static override properties = { ...PlaygroundElement.properties, stage: { type: Number }, confirming: { state: true }, replayTo: { state: true } };
  /** While the curves replay: the steps drawn so far (null: all of them). */
  declare replayTo: number | null;
  private replayTimer: ReturnType<typeof setInterval> | null = null;
  declare stage: 1 | 2;
  /** What a pending Start or Restart would drop, asked before it runs; null when nothing is asked. */
  declare confirming: string | null;

  static override styles = [sharedStyles, css`
    .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 300px), 1fr)); gap: 0.4rem 1rem; }
    .chart h4 { margin: 0 0 0.1rem; font-size: 0.85rem; }
    .controls button { min-width: 5.5rem; }
    progress { width: min(100%, 14rem); }
    details > summary { cursor: pointer; font-weight: 600; font-size: 0.92rem; }
    details > summary .note { font-weight: 400; }
    section { padding: 0.6rem 0.9rem; margin-bottom: 0.7rem; }
    .explain { margin: 0.2rem 0 0.4rem; max-width: 120ch; }
    .confirm { background: var(--r1s-notice); border: 1px solid var(--r1s-notice-border); border-radius: 8px; padding: 0.5rem 0.8rem; margin: 0.4rem 0; }
    .shipped { background: var(--r1s-accent-soft); border: 1px solid var(--r1s-accent-border); border-radius: 8px; padding: 0.45rem 0.8rem; margin: 0 0 0.6rem; font-size: 0.9rem; }
    h3 { margin: 0.2rem 0 0.35rem; }
  `];

  constructor() {
    super();
    this.stage = 1;
    this.confirming = null;
    this.replayTo = null;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.stopReplay();
  }

  /** Draws the recorded curves again step by step (about four seconds), as they grew while training. */
  private replay(): void {
    const n = this.pg?.metrics[this.stage].length ?? 0;
    this.stopReplay();
    if (n === 0) return;
    this.replayTo = 1;
    this.replayTimer = setInterval(() => {
      if (this.replayTo === null || this.replayTo >= n) this.stopReplay();
      else this.replayTo += 1;
    }, Math.max(40, Math.round(4000 / n)));
  }

  private stopReplay(): void {
    if (this.replayTimer) clearInterval(this.replayTimer);
    this.replayTimer = null;
    this.replayTo = null;
  }

  /** What starting this stage again would drop (empty when nothing): asked before Start or Restart runs. */
  private wouldDrop(restart: boolean): string {
    const pg = this.pg!, stage = this.stage;
    if (pg.showingShipped) return '';
    const own = pg.metrics[stage].length;
    const later = stage === 1 ? pg.metrics[2].length : 0;
    const again = restart || pg.stageDone(stage);
    if (!again || (own === 0 && later === 0)) return '';
    const parts = [`Stage ${stage}'s ${own} step${own === 1 ? '' : 's'}`];
    if (later > 0) parts.push(`Stage 2's ${later} step${later === 1 ? '' : 's'}`);
    return `Start Stage ${stage} again from ${stage === 1 ? 'the base model' : 'its initial policy'}? This drops ${parts.join(' and ')} from the page` +
      (stage === 1 ? ' (the saved run stays in the list of saved runs).' : ' (the saved run is overwritten at the next save).');
  }

  private go(restart: boolean): void {
    const ask = this.wouldDrop(restart);
    if (ask) {
      this.confirming = ask;
      return;
    }
    void (restart ? this.pg!.restart(this.stage) : this.pg!.start(this.stage));
  }

  override render() {
    const pg = this.pg;
    if (!pg) return nothing;
    const stage = this.stage;
    const ms = pg.metrics[stage];
    const total = pg.totalSteps[stage];
    const current = pg.stage === stage;
    const done = pg.stageDone(stage);
    const started = current && ms.length > 0 && !done;
    const ready = pg.phase === 'ready';
    const points = ms.slice(0, this.replayTo ?? ms.length).map((m) => ({ ...m, tokensPerSecond: m.tokens / Math.max(1e-9, m.updateSeconds) })) as unknown as Record<string, number>[];
    const last = ms.at(-1);
    const s = pg.settingsInForce[stage];
    // After a reload the resume offer is the one primary action on the page.
    const primary = pg.resumeOffer ? 'secondary' : '';
    const kl = s?.klCoef ?? stageValue(pg.config, stage, 'klCoef');
    const chart = (c: (typeof CHARTS)[number]) => html`<div class="chart"><h4>${c.title}</h4>
      <r1s-curves .points=${points} .series=${c.series} .height=${140} .range=${c.range ?? null} label=${`Stage ${stage}: ${c.title}`}
        emptyNote=${c.kl && kl === 0 ? 'Not computed: the KL coefficient of this stage is 0 (as in the paper\'s Qwen runs), so nothing pulls the policy back to its start.' : c.kl ? 'Not computed at these steps.' : ''}></r1s-curves></div>`;
    const shipped = pg.showingShipped && pg.shippedRun;
    return html`
      ${shipped ? html`<p class="shipped" role="note">This is the <b>shipped run</b> (seed ${pg.shippedRun!.seed}, ${pg.shippedRun!.stages[stage].steps} steps of Stage ${stage},
        trained in ${Math.round(pg.shippedRun!.stages[stage].seconds)} s by <code>npm run cli -- shipped-run</code>): its curves, kept rollouts and policies.
        <b>Train it yourself:</b> Start trains ${stage === 1 ? 'Stage 1 from the base model' : 'Stage 2 from the shipped Stage-1 policy'}.</p>` : nothing}
      <p class="explain">${EXPLAIN[stage][0]}</p>
      ${EXPLAIN[stage].length > 1 ? html`<details><summary>More on Stage ${stage}</summary>${EXPLAIN[stage].slice(1).map((p) => html`<p class="explain">${p}</p>`)}</details>` : nothing}
      ${stage === 2 && !pg.policies.includes('stage1') && ms.length === 0 ? html`<p class="note">Stage 1 has not run: Stage 2 would start from the base model (the "Stage 1 skipped" ablation).</p>` : nothing}
      <section aria-labelledby="run-h${stage}">
        <h3 id="run-h${stage}" class="sr-only">Training</h3>
        <div class="row controls">
          <button class=${primary} @click=${() => this.go(false)} ?disabled=${!ready || pg.running}>${started ? 'Continue' : 'Start'}</button>
          <button class="secondary" @click=${() => pg.pause()} ?disabled=${!pg.running}>Pause</button>
          <button class="secondary" @click=${() => pg.stepOnce(stage)} ?disabled=${!ready || pg.running}>Step</button>
          ${current && ms.length > 0 ? html`<button class="secondary" @click=${() => this.go(true)} ?disabled=${!ready || pg.running}>Restart</button>` : nothing}
          <progress max=${total} .value=${ms.length} aria-label=${`Stage ${stage} progress`}></progress>
          <span class="note">step ${ms.length} of ${total}${pg.lastSaved?.stage === stage ? ` · saved at step ${pg.lastSaved.step}` : ''}</span>
        </div>
        ${this.confirming
          ? html`<div class="confirm" role="group" aria-label="Confirm starting again"><p>${this.confirming}</p>
              <div class="row"><button class="danger" @click=${() => { this.confirming = null; void this.pg!.restart(stage); }}>Yes, start Stage ${stage} again</button>
                <button class="secondary" @click=${() => { this.confirming = null; }}>Keep my results</button></div></div>`
          : nothing}
        ${pg.errors.train ? html`<div class="alert" role="alert">${pg.errors.train}</div>` : nothing}
        ${pg.errors.save ? html`<div class="alert" role="alert">Saving failed: ${pg.errors.save}. Training goes on unsaved.</div>` : nothing}
        ${done && !pg.running && !shipped ? html`<p class="note">Stage ${stage} is complete. Start runs it again from ${stage === 1 ? 'the base model (it asks first: Stage 2 results would be dropped)' : 'its initial policy (it asks first)'}.</p>` : nothing}
        ${stage === 2 && pg.stage === 1 && pg.metrics[1].length > 0 && !pg.stageDone(1) ? html`<p class="note">Stage 1 stopped at step ${pg.metrics[1].length} of ${pg.totalSteps[1]}: Stage 2 would start from that policy.</p>` : nothing}
        <details>
          <summary>Settings of Stage ${stage} <span class="note">(${s ? 'in force' : 'used at the next start'}: ${this.summary()}) · change</span></summary>
          <r1s-settings .pg=${pg} .stage=${stage}></r1s-settings>
        </details>
      </section>
      <section aria-labelledby="curves-h${stage}">
        <div class="row"><h3 id="curves-h${stage}">Curves per step</h3>
          ${ms.length > 1 && !pg.running ? html`<button class="secondary" @click=${() => this.replay()}>${this.replayTo === null ? 'Replay the curves' : `Replaying: step ${this.replayTo}`}</button>` : nothing}</div>
        <div class="charts">${CHARTS.filter((c) => !c.more).map(chart)}</div>
        <details><summary>More curves: KL, response length, searches, speed</summary><div class="charts">${CHARTS.filter((c) => c.more).map(chart)}</div></details>
      </section>
      <section aria-labelledby="insp-h${stage}">
        <h3 id="insp-h${stage}">Rollout inspector</h3>
        <r1s-inspector .pg=${pg} .stage=${stage}></r1s-inspector>
      </section>
      ${last && (current || shipped) ? this.renderLast(last) : nothing}
      <section aria-labelledby="live-h${stage}">
        <h3 id="live-h${stage}">Live mode: a new rollout, one token per click</h3>
        <r1s-live .pg=${pg} policy=${stage === 1 ? 'stage1' : 'stage2'}></r1s-live>
      </section>`;
  }

  /** One line of the stage's settings: those in force once it started, else those the next start uses. */
  private summary(): string {
    const pg = this.pg!, stage = this.stage;
    const s = pg.settingsInForce[stage];
    const v = <K extends Parameters<typeof stageValue>[2]>(k: K) => stageValue(pg.config, stage, k);
    const steps = pg.totalSteps[stage];
    if (s) {
      return `${steps} steps, ${s.promptsPerStep} questions × ${s.samplesPerPrompt} samples, lr ${s.optimizer.lr}, ${s.advantageEstimator}, KL ${s.klCoef}, ` +
        `≤ ${s.rollout.maxSearches} searches of top-${s.rollout.topK}, ${s.rollout.maxNewTokens} new tokens, ` +
        (stage === 1 ? `retrieval reward '${s.reward.retrievalReward}'` : `format penalty ${s.reward.formatPenalty}`);
    }
    return `${steps} steps, ${v('promptsPerStep')} questions × ${v('samplesPerPrompt')} samples, lr ${v('lr')}, ${v('advantageEstimator')}, KL ${v('klCoef')}, ` +
      `≤ ${v('maxSearches')} searches of top-${v('topK')}, ${v('maxNewTokens')} new tokens, ` +
      (stage === 1 ? `retrieval reward '${v('retrievalReward')}'` : `format penalty ${v('formatPenalty')}`);
  }

  private renderLast(m: StepMetrics) {
    return html`<section aria-labelledby="last-h${this.stage}">
      <h3 id="last-h${this.stage}">Latest step (${m.step})</h3>
      <div class="scroll"><table aria-label="Latest step">
        <tr><th>mean reward</th><td>${m.reward.toFixed(3)}</td><th>retrieval rate</th><td>${m.retrievalRate.toFixed(2)}</td><th>format rate</th><td>${m.formatRate.toFixed(2)}</td></tr>
        <tr><th>F1</th><td>${m.f1.toFixed(3)}</td><th>answer in retrieved docs</th><td>${m.answerInDocs.toFixed(2)}</td><th>searches per rollout</th><td>${m.searchesPerRollout.toFixed(2)}</td></tr>
        <tr><th>groups with reward spread</th><td>${m.groupsWithSpread.toFixed(2)}</td><th>response length</th><td>${m.responseLength.toFixed(1)}</td><th>KL</th><td>${Number.isFinite(m.kl) ? m.kl.toExponential(2) : '-'}</td></tr>
        <tr><th>loss</th><td>${m.loss.toFixed(4)}</td><th>clip fraction</th><td>${m.clipFraction.toFixed(3)}</td><th>grad norm</th><td>${m.gradNorm.toFixed(3)}</td></tr>
        <tr><th>seconds</th><td>${m.seconds.toFixed(2)}</td><th>tokens / s</th><td>${(m.tokens / Math.max(1e-9, m.updateSeconds)).toFixed(0)}</td><th>hops drawn</th><td>${m.hops.join(', ')}</td></tr>
      </table></div></section>`;
  }
}

customElements.define('r1s-step-stage', R1sStepStage);

declare global {
  interface HTMLElementTagNameMap {
    'r1s-step-stage': R1sStepStage;
  }
}
