/**
 * <r1s-app>: the playground page. A guided path of six steps (Corpus, Base model, Stage 1,
 * Stage 2, Evaluate, Export), each explained in a few sentences tied to the paper; the
 * learner goes back and forth and every step keeps its results. The page's behaviour lives in
 * {@link Playground} (playground.ts); this element lays it out, and each step is its own element.
 *
 * Attributes set for tests and tools: `data-state` (loading | ready | running | paused |
 * error), `data-stage` (the RL stage in the trainer, 0 before one starts), `data-steps` (steps
 * done in it), `data-step` (the step of the guided path shown), `data-saved` (the step of the
 * last save, or -1).
 */
import { css, html, nothing } from 'lit';
import { PlaygroundElement, sharedStyles } from './playground-element.ts';
import { themeStyles } from './theme.ts';
import { Playground } from './playground.ts';
import { STEP_IDS, type StepId } from './url-config.ts';
import './r1s-step-corpus.ts';
import './r1s-step-base.ts';
import './r1s-step-stage.ts';
import './r1s-step-evaluate.ts';
import './r1s-step-export.ts';

const TITLES: Record<StepId, string> = {
  corpus: 'Corpus', base: 'Base model', stage1: 'Stage 1: learn to search', stage2: 'Stage 2: learn to answer', evaluate: 'Evaluate', export: 'Export',
};

/** Two or three plain sentences per step, tied to the paper (the stage steps add their own). */
const INTRO: Record<StepId, string[]> = {
  corpus: [
    "R1-Searcher teaches a model to call a search engine over a fixed corpus in the middle of its own reasoning; the paper searches Wikipedia to answer HotpotQA and 2WikiMultiHopQA questions.",
    'Here the corpus is a generated encyclopedia whose facts differ from what the base model read in pretraining, like knowledge that went stale: only search can answer. Try the engine the rollouts will call.',
  ],
  base: [
    'RL starts from a base model, with no supervised search trajectories ("RL-Zero"). Ours saw the tags only inside a format description during pretraining, with random words in the slots.',
    'Sample from it: it may open a query, but it searches rarely or for the wrong thing, and its answers come from stale knowledge. The two RL stages change that.',
  ],
  stage1: [],
  stage2: [],
  evaluate: [],
  export: [],
};

export class R1sApp extends PlaygroundElement {
  static override styles = [themeStyles, sharedStyles, css`
    :host { max-width: 1200px; margin: 0 auto; padding: 0.8rem 1rem 2rem; }
    header h1 { font-size: 1.45rem; margin: 0 0 0.2rem; }
    .sub { color: var(--r1s-ink-dim); margin: 0 0 0.6rem; max-width: 80ch; }
    .status { color: var(--r1s-ink-soft); font-size: 0.9rem; margin: 0.2rem 0 0.6rem; }
    nav ol { list-style: none; display: flex; flex-wrap: wrap; gap: 0.4rem; padding: 0; margin: 0 0 0.8rem; counter-reset: step; }
    nav button { background: var(--r1s-surface); color: var(--r1s-ink); border: 1px solid var(--r1s-line-strong); border-radius: 999px; padding: 0.3rem 0.8rem; font-size: 0.9rem; }
    nav button[aria-current='step'] { background: var(--r1s-accent); color: var(--r1s-surface); border-color: var(--r1s-accent); }
    nav .done { color: var(--r1s-green); font-weight: 700; margin-left: 0.25rem; }
    nav button[aria-current='step'] .done { color: var(--r1s-ok-on-accent); }
    main h2 { font-size: 1.3rem; margin: 0.2rem 0 0.5rem; }
    .pager { display: flex; justify-content: space-between; gap: 0.5rem; margin-top: 1rem; }
    .resume { background: var(--r1s-notice); border: 1px solid var(--r1s-notice-border); border-radius: 8px; padding: 0.6rem 0.9rem; margin-bottom: 0.8rem; }
    .trained { background: var(--r1s-accent-soft); border: 1px solid var(--r1s-accent-border); border-radius: 8px; padding: 0.5rem 0.9rem; margin-bottom: 0.7rem; }
    .trained p { margin: 0 0 0.35rem; }
    footer { margin-top: 1.5rem; font-size: 0.82rem; color: var(--r1s-muted); border-top: 1px solid var(--r1s-line); padding-top: 0.6rem; }
    @media (max-width: 800px) { :host { padding: 0.6rem 0.6rem 1.5rem; } nav button { font-size: 0.85rem; padding: 0.25rem 0.6rem; } }
  `];

  private started = false;

  constructor() {
    super();
    this.pg = new Playground(location.search);
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (!this.started) {
      this.started = true;
      void this.pg!.load();
    }
  }

  private state(): string {
    const pg = this.pg!;
    if (pg.phase !== 'ready') return pg.phase;
    if (pg.running) return 'running';
    const s = pg.stage;
    return s && pg.metrics[s].length > 0 && !pg.stageDone(s) ? 'paused' : 'ready';
  }

  protected override updated(): void {
    const pg = this.pg!;
    this.dataset.state = this.state();
    this.dataset.stage = String(pg.stage ?? 0);
    this.dataset.steps = String(pg.stage ? pg.metrics[pg.stage].length : 0);
    this.dataset.step = pg.stepId;
    this.dataset.saved = String(pg.lastSaved?.step ?? -1);
  }

  private done(step: StepId): boolean {
    const pg = this.pg!;
    switch (step) {
      case 'corpus': return pg.pack !== null;
      case 'base': return pg.baseSamples.some((s) => s.policy === 'base');
      case 'stage1': return pg.stageDone(1) || pg.metrics[2].length > 0;
      case 'stage2': return pg.stageDone(2);
      case 'evaluate': return pg.evalRows.length > 0;
      case 'export': return Object.keys(pg.exports).length > 0;
    }
  }

  override render() {
    const pg = this.pg!;
    const step = pg.stepId;
    const i = STEP_IDS.indexOf(step);
    const offer = pg.resumeOffer;
    return html`
      <header>
        <h1>R1-Searcher Playground</h1>
        <p class="sub">Reinforcement learning teaches a small language model to search in the middle of its own reasoning
          (Song et al., 2025, "R1-Searcher: Incentivizing the Search Capability in LLMs via Reinforcement Learning"), here at toy scale, entirely in your browser.</p>
        <p class="status" role="status" aria-live="polite">${pg.status}</p>
      </header>
      ${pg.fatal ? html`<div class="alert" role="alert">${pg.fatal}</div>` : nothing}
      ${pg.urlErrors.length ? html`<div class="alert" role="alert">Ignored URL settings: ${pg.urlErrors.join('; ')}</div>` : nothing}
      ${offer && pg.phase === 'ready' && !pg.running
        ? html`<div class="resume" role="region" aria-label="Saved run found">
            <b>A saved run was found:</b> ${offer.name}, Stage ${offer.stage} at step ${offer.step} (saved ${new Date(offer.updatedAt).toLocaleString()}).
            <div class="row" style="margin-top:0.4rem">
              <button @click=${() => pg.resume(offer.id)} ?disabled=${pg.busy.has('runs')}>Resume</button>
              <button class="secondary" @click=${() => pg.dismissResume()}>Start fresh</button>
            </div>
          </div>`
        : nothing}
      ${this.renderShippedOffer()}
      <nav aria-label="Guided path"><ol>
        ${STEP_IDS.map((s, k) => html`<li><button aria-current=${s === step ? 'step' : 'false'} @click=${() => pg.goTo(s)}>
          ${k + 1}. ${TITLES[s]}${this.done(s) ? html`<span class="done" aria-hidden="true">✓</span><span class="sr-only">(done)</span>` : nothing}</button></li>`)}
      </ol></nav>
      <main>
        <h2>${i + 1}. ${TITLES[step]}</h2>
        ${INTRO[step].map((p) => html`<p class="explain">${p}</p>`)}
        ${this.renderStep(step)}
        <div class="pager">
          ${i > 0 ? html`<button class="secondary" @click=${() => pg.goTo(STEP_IDS[i - 1]!)}>Back: ${TITLES[STEP_IDS[i - 1]!]}</button>` : html`<span></span>`}
          ${i < STEP_IDS.length - 1 ? html`<button class=${offer ? 'secondary' : ''} @click=${() => pg.goTo(STEP_IDS[i + 1]!)}>Next: ${TITLES[STEP_IDS[i + 1]!]}</button>` : nothing}
        </div>
      </main>
      <footer>
        ${pg.info
          ? html`Policy: ${pg.info.parameters.toLocaleString()} parameters, ${pg.info.config.numLayers} layer${pg.info.config.numLayers === 1 ? "" : "s"}, hidden size ${pg.info.config.hiddenSize},
              vocabulary ${pg.info.vocabulary.toLocaleString()}. Backend: <b>${pg.info.backend}</b>${pg.info.backendDetail ? ` (${pg.info.backendDetail})` : ''}.
              ${pg.info.backendNote ? html`<br />${pg.info.backendNote}.` : nothing}`
          : 'Loading the model…'}
        The configuration is in this page's address: copy it to share a run.
      </footer>`;
  }

  /**
   * "See a trained run": the shipped run (src/session/shipped-run.ts) in seconds, or train it yourself.
   * Offered until the learner has results of their own; secondary while a saved run is offered
   * (the resume offer is then the only primary action).
   */
  private renderShippedOffer() {
    const pg = this.pg!;
    const m = pg.shippedRun;
    if (!m || pg.showingShipped || pg.running || pg.phase !== 'ready' || pg.metrics[1].length > 0 || pg.metrics[2].length > 0) return nothing;
    const cls = pg.resumeOffer ? 'secondary' : '';
    return html`<div class="trained" role="region" aria-label="A trained run">
      <p><b>See a trained run</b> in seconds: the default recipe's Stage 1 (${m.stages[1].steps} steps) and Stage 2 (${m.stages[2].steps} steps), seed ${m.seed},
        trained once on the command line and shipped with the page. Its curves, its rollouts at early and late steps, its evaluation, and all three policies answering the same question.
        Stage 2's answer reward rises within its first 10 to 20 steps.</p>
      <div class="row">
        <button class=${cls} @click=${() => void this.showShipped()} ?disabled=${pg.busy.has('shipped')}>See a trained run</button>
        <button class="secondary" @click=${() => pg.goTo('stage1')}>Train it yourself</button>
        ${pg.busy.has('shipped') ? html`<span class="note" role="status">Loading the shipped run…</span>` : nothing}
      </div>
      ${pg.errors.shipped ? html`<div class="alert" role="alert">${pg.errors.shipped}</div>` : nothing}
    </div>`;
  }

  /** Shows the shipped run, then its evaluation with Compare answered on the first test question. */
  private async showShipped(): Promise<void> {
    const pg = this.pg!;
    await pg.showShippedRun();
    if (!pg.showingShipped) return;
    pg.goTo('evaluate');
    const q = pg.questions.find((x) => x.split === 'test');
    if (q) await pg.runCompare({ question: q.question, answers: q.answers, id: q.id });
  }

  private renderStep(step: StepId) {
    const pg = this.pg!;
    switch (step) {
      case 'corpus': return html`<r1s-step-corpus .pg=${pg}></r1s-step-corpus>`;
      case 'base': return html`<r1s-step-base .pg=${pg}></r1s-step-base>`;
      case 'stage1': return html`<r1s-step-stage .pg=${pg} .stage=${1}></r1s-step-stage>`;
      case 'stage2': return html`<r1s-step-stage .pg=${pg} .stage=${2}></r1s-step-stage>`;
      case 'evaluate': return html`<r1s-step-evaluate .pg=${pg}></r1s-step-evaluate>`;
      case 'export': return html`<r1s-step-export .pg=${pg}></r1s-step-export>`;
    }
  }
}

customElements.define('r1s-app', R1sApp);

declare global {
  interface HTMLElementTagNameMap {
    'r1s-app': R1sApp;
  }
}
