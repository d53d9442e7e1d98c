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
import './r1s-curves.ts';
import './r1s-settings.ts';
import './r1s-inspector.ts';
import './r1s-live.ts';

/** The charts, each over fields of StepMetrics (tokensPerSecond is added per point). */
const CHARTS: { title: string; series: CurveSeries[]; range?: [number, number] }[] = [
  { title: 'Mean reward and its parts', series: [
    { key: 'reward', label: 'reward', color: '#2457c5' }, { key: 'rewardRetrieval', label: 'retrieval', color: '#1a7f37' },
    { key: 'rewardFormat', label: 'format', color: '#9a6700' }, { key: 'rewardAnswer', label: 'answer (F1)', color: '#b42318' },
    { key: 'rewardPenalty', label: 'penalty', color: '#6e7781' }] },
  { title: 'Rates', series: [
    { key: 'retrievalRate', label: 'retrieval rate', color: '#1a7f37' }, { key: 'formatRate', label: 'format rate', color: '#9a6700' },
    { key: 'answerInDocs', label: 'answer in retrieved docs', color: '#7a3db8' }, { key: 'docsFound', label: 'search found docs', color: '#0a7ea4' }], range: [0, 1] },
  { title: 'Answer F1 and Cover-EM', series: [{ key: 'f1', label: 'F1', color: '#b42318' }, { key: 'coverEm', label: 'Cover-EM', color: '#2457c5' }], range: [0, 1] },
  { title: 'KL to the initial policy (computed when the KL coefficient is above 0)', series: [{ key: 'kl', label: 'KL (k1)', color: '#6e40c9' }] },
  { title: 'Response length (generated tokens)', series: [{ key: 'responseLength', label: 'tokens per rollout', color: '#2457c5' }] },
  { title: 'Searches per rollout', series: [{ key: 'searchesPerRollout', label: 'searches', color: '#1a7f37' }] },
  { title: 'Tokens per second (forward and backward)', series: [{ key: 'tokensPerSecond', label: 'tokens/s', color: '#9a6700' }] },
];

const EXPLAIN: Record<1 | 2, string[]> = {
  1: [
    'Stage 1 rewards the act of searching, whatever the answer: 0.5 for a retrieval and 0.5 for a well-formed completion (R1-Searcher, section 3; recipe.md section 6). ' +
      "Here the retrieval part is paid only when the search returned documents and every query shares a word with the question or the documents before it ('relevant'); 'found' drops the second condition, and the paper's 'any' paid for searches that found nothing.",
    'Each rollout pauses when the policy closes a query; the search engine runs and its documents are spliced in. Those tokens are masked out of the loss: the policy is never trained to write documents.',
    'Every question is sampled several times; each rollout is compared with the mean reward of its group (REINFORCE++ with a baseline), so only groups whose rewards differ teach anything.',
  ],
  2: [
    'Stage 2 rewards the answer: token F1 against the gold answer, and a penalty (-2 in the paper) for a broken format (R1-Searcher, section 3; recipe.md section 6).',
    "It starts from the Stage-1 policy (or from the base when Stage 1 was skipped), which already searches; now the query must find the right document and the answer must be copied out of it.",
  ],
};

export class R1sStepStage extends PlaygroundElement {
  static override properties = { ...PlaygroundElement.properties, stage: { type: Number } };
  declare stage: 1 | 2;

  static override styles = [sharedStyles, css`
    .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 340px), 1fr)); gap: 0.6rem 1rem; }
    .chart h4 { margin: 0 0 0.2rem; font-size: 0.88rem; }
    .controls button { min-width: 5.5rem; }
    progress { width: min(100%, 16rem); }
  `];

  constructor() {
    super();
    this.stage = 1;
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
    const points = ms.map((m) => ({ ...m, tokensPerSecond: m.tokens / Math.max(1e-9, m.updateSeconds) })) as unknown as Record<string, number>[];
    const last = ms.at(-1);
    const s = pg.settingsInForce[stage];
    return html`
      ${EXPLAIN[stage].map((p) => html`<p class="explain">${p}</p>`)}
      ${stage === 2 && !pg.policies.includes('stage1') && ms.length === 0 ? html`<p class="note">Stage 1 has not run: Stage 2 would start from the base model (the "Stage 1 skipped" ablation).</p>` : nothing}
      <section aria-labelledby="set-h${stage}">
        <h3 id="set-h${stage}">Settings</h3>
        <r1s-settings .pg=${pg} .stage=${stage}></r1s-settings>
      </section>
      <section aria-labelledby="run-h${stage}">
        <h3 id="run-h${stage}">Training</h3>
        <div class="row controls">
          <button @click=${() => pg.start(stage)} ?disabled=${!ready || pg.running}>${started ? 'Continue' : 'Start'}</button>
          <button class="secondary" @click=${() => pg.pause()} ?disabled=${!pg.running}>Pause</button>
          <button class="secondary" @click=${() => pg.stepOnce(stage)} ?disabled=${!ready || pg.running}>Step</button>
          ${current && ms.length > 0 ? html`<button class="secondary" @click=${() => pg.restart(stage)} ?disabled=${!ready || pg.running}>Restart</button>` : nothing}
          <progress max=${total} .value=${ms.length} aria-label=${`Stage ${stage} progress`}></progress>
          <span class="note">step ${ms.length} of ${total}</span>
        </div>
        ${pg.errors.train ? html`<div class="alert" role="alert">${pg.errors.train}</div>` : nothing}
        ${pg.errors.save ? html`<div class="alert" role="alert">Saving failed: ${pg.errors.save}. Training goes on unsaved.</div>` : nothing}
        ${s ? html`<p class="note">In force: ${s.promptsPerStep} questions × ${s.samplesPerPrompt} samples per step, learning rate ${s.optimizer.lr}, ${s.advantageEstimator},
          KL ${s.klCoef}, up to ${s.rollout.maxSearches} searches of top-${s.rollout.topK}, ${s.rollout.maxNewTokens} new tokens, prompt preset "${s.promptPreset}",
          ${stage === 1 ? `retrieval reward '${s.reward.retrievalReward}'` : `format penalty ${s.reward.formatPenalty}`}.</p>` : nothing}
        ${done && !pg.running ? html`<p class="note">Stage ${stage} is complete. Start runs it again from ${stage === 1 ? 'the base model (Stage 2 results are dropped)' : 'its initial policy'}.</p>` : nothing}
        ${stage === 2 && pg.stage === 1 && pg.metrics[1].length > 0 && !pg.stageDone(1) ? html`<p class="note">Stage 1 stopped at step ${pg.metrics[1].length} of ${pg.totalSteps[1]}: Stage 2 would start from that policy.</p>` : nothing}
        <p class="note">"Step" runs one batch of rollouts and one update. Pausing takes effect after the current step; the run is saved every ${pg.config.saveEvery} steps, on pause and at the end.</p>
      </section>
      <section aria-labelledby="curves-h${stage}">
        <h3 id="curves-h${stage}">Curves per step</h3>
        <div class="charts">${CHARTS.map((c) => html`<div class="chart"><h4>${c.title}</h4>
          <r1s-curves .points=${points} .series=${c.series} .height=${150} .range=${c.range ?? null} label=${`Stage ${stage}: ${c.title}`}></r1s-curves></div>`)}</div>
      </section>
      ${last && current ? this.renderLast(last) : nothing}
      <section aria-labelledby="insp-h${stage}">
        <h3 id="insp-h${stage}">Rollout inspector</h3>
        <p class="note">The latest batch. Step through a rollout token by token: what the policy chose, how likely it was, the alternatives,
          its advantage, and which tokens the loss sees.</p>
        ${current ? html`<r1s-inspector .pg=${pg}></r1s-inspector>` : html`<p class="note">Run a step of Stage ${stage} to see its rollouts.</p>`}
      </section>
      <section aria-labelledby="live-h${stage}">
        <h3 id="live-h${stage}">Live mode: a new rollout, one token per click</h3>
        <r1s-live .pg=${pg} policy=${stage === 1 ? 'stage1' : 'stage2'}></r1s-live>
      </section>`;
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
