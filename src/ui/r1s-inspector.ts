/**
 * <r1s-inspector>: the rollout inspector of a stage. A step slider walks the steps whose
 * rollouts were kept (src/session/rollout-history.ts: the first, the latest and a thinning grid
 * between), so an early step, when rewards in a group still differed, stays reachable. Picking
 * a step or a rollout pins the inspector to that step: training may go on, the view stays
 * ("Follow the latest step" lets go). A rollout is shown as a heat-map of its tokens coloured by
 * advantage, as one RL step drawn from it (<r1s-cycle>), and token by token: the chosen token,
 * its probability and the top alternatives, whether it is in the loss; each search call with
 * its documents, spliced in and visibly masked; and the reward breakdown (recipe.md section 6).
 *
 * Properties: `pg` (the Playground), `stage` (1 or 2). Data attributes for tests:
 * `data-cursor` (token position), `data-selected` (rollout index), `data-step` (step shown).
 */
import { css, html, nothing } from 'lit';
import type { RolloutRecord } from '../rl/trainer.ts';
import { PlaygroundElement, sharedStyles } from './playground-element.ts';
import { documentBlocks, recordTokenTexts, tokenRows, type TokenRow } from './token-rows.ts';
import './r1s-token-tape.ts';
import './r1s-token-detail.ts';
import './r1s-search-call.ts';
import './r1s-cycle.ts';

export class R1sInspector extends PlaygroundElement {
  static override properties = {
    ...PlaygroundElement.properties, stage: { type: Number }, selected: { state: true }, cursor: { state: true }, order: { state: true }, pinned: { state: true },
  };
  declare stage: 1 | 2;
  declare selected: number;
  declare cursor: number;
  declare order: 'desc' | 'asc' | 'batch';
  /** The step the inspector is pinned to, with its rollouts as they were; null follows the latest step. */
  declare pinned: { step: number; rollouts: RolloutRecord[] } | null;
  /** The step the selection refers to (a new step while following resets it). */
  private shownStep = -1;

  static override styles = [sharedStyles, css`
    .list { max-height: 13rem; overflow-y: auto; }
    tr.sel { background: var(--r1s-selected); }
    td.q { max-width: 22rem; text-align: left; overflow-wrap: anywhere; }
    .controls { margin: 0.5rem 0; }
    input[type=range] { width: min(100%, 24rem); }
    .split { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 1rem; }
    h4 { font-size: 0.9rem; margin: 0.8rem 0 0.3rem; }
    .pos { color: var(--r1s-adv-positive); } .neg { color: var(--r1s-adv-negative); }
    .steps { display: flex; flex-wrap: wrap; gap: 0.4rem 0.8rem; align-items: center; margin-bottom: 0.4rem; }
    .pin { font-size: 0.82rem; background: var(--r1s-selected); border: 1px solid var(--r1s-notice-border); border-radius: 999px; padding: 0.05rem 0.6rem; }
    @media (max-width: 900px) { .split { grid-template-columns: minmax(0, 1fr); } }
  `];

  constructor() {
    super();
    this.stage = 1;
    this.selected = -1;
    this.cursor = 0;
    this.order = 'desc';
    this.pinned = null;
  }

  /** The steps of this stage whose rollouts can be shown, ascending. */
  private steps(): number[] {
    const pg = this.pg!;
    const steps = new Set(pg.history.filter((h) => h.stage === this.stage).map((h) => h.step));
    if (pg.stage === this.stage && pg.rollouts.length && !pg.showingShipped) steps.add(pg.metrics[this.stage].length);
    return [...steps].sort((a, b) => a - b);
  }

  /** The rollouts of a step: the whole latest batch of the running stage, else the kept ones. */
  private rolloutsOf(step: number): RolloutRecord[] {
    const pg = this.pg!;
    if (pg.isLatestBatch(this.stage, step)) return pg.rollouts;
    return pg.history.find((h) => h.stage === this.stage && h.step === step)?.rollouts ?? [];
  }

  private view(): { step: number; rollouts: RolloutRecord[] } | null {
    if (this.pinned) return this.pinned;
    const steps = this.steps();
    const step = steps.at(-1);
    return step === undefined ? null : { step, rollouts: this.rolloutsOf(step) };
  }

  private pinTo(step: number): void {
    this.pinned = { step, rollouts: this.rolloutsOf(step) };
    this.shownStep = step;
    this.selected = -1;
  }

  private select(i: number): void {
    const v = this.view();
    const r = v?.rollouts[i];
    if (!v || !r) return;
    // Picking a rollout pins its step: the next training step does not take it away.
    if (!this.pinned) this.pinned = v;
    this.selected = i;
    this.cursor = r.promptLength;
    void this.pg!.inspect(i, this.stage, v.step, r);
  }

  private sorted(rs: RolloutRecord[]): number[] {
    const idx = rs.map((_, i) => i);
    if (this.order === 'batch') return idx;
    return idx.sort((a, b) => (this.order === 'desc' ? rs[b]!.reward - rs[a]!.reward : rs[a]!.reward - rs[b]!.reward) || a - b);
  }

  protected override willUpdate(): void {
    super.willUpdate();
    if (!this.pg) return;
    const v = this.view();
    const step = v?.step ?? -1;
    if (step !== this.shownStep) {
      this.shownStep = step;
      this.selected = -1;
    }
    // A restarted stage (or another run shown) no longer has the pinned step.
    if (this.pinned && !this.steps().includes(this.pinned.step) && this.pg.metrics[this.stage].length < this.pinned.step) this.pinned = null;
  }

  protected override updated(): void {
    this.dataset.cursor = String(this.cursor);
    this.dataset.selected = String(this.selected);
    this.dataset.step = String(this.shownStep);
  }

  override render() {
    const pg = this.pg;
    if (!pg) return nothing;
    const steps = this.steps();
    const v = this.view();
    if (!v || v.rollouts.length === 0) return html`<p class="note">No rollouts of Stage ${this.stage} yet: run a step.</p>`;
    const rs = v.rollouts;
    const at = Math.max(0, steps.indexOf(v.step));
    const total = pg.metrics[this.stage].length;
    const latest = steps.at(-1);
    const nextOrder = { desc: 'asc', asc: 'batch', batch: 'desc' } as const;
    const orderLabel = { desc: 'highest reward first', asc: 'lowest reward first', batch: 'batch order' }[this.order];
    const whole = pg.isLatestBatch(this.stage, v.step) && rs === pg.rollouts;
    return html`
      <div class="steps">
        <label>Step <input type="range" min="0" max=${Math.max(0, steps.length - 1)} .value=${String(at)} aria-label="Step of the kept rollouts"
          aria-valuetext=${`step ${v.step}`} @input=${(e: Event) => this.pinTo(steps[Number((e.target as HTMLInputElement).value)]!)} /></label>
        <span class="note">step <b>${v.step}</b> of ${total} · kept steps: ${steps.join(', ')}</span>
        ${this.pinned
          ? html`<span class="pin">pinned to step ${v.step}${latest !== undefined && latest !== v.step ? ` (training is at ${latest})` : ''}</span>
              <button class="secondary" @click=${() => { this.pinned = null; }}>Follow the latest step</button>`
          : html`<span class="note">following the latest step</span>`}
      </div>
      <div class="row">
        <button class="secondary" @click=${() => (this.order = nextOrder[this.order])}>Sort by reward</button>
        <span class="note">${rs.length} rollouts of step ${v.step}${whole ? '' : ' (the groups kept of that batch, those whose rewards differ first)'}, ${orderLabel}.</span>
      </div>
      <div class="list scroll">
        <table aria-label="Rollouts of the step">
          <thead><tr><th>#</th><th class="left">question</th><th aria-sort=${this.order === 'desc' ? 'descending' : this.order === 'asc' ? 'ascending' : 'none'}>reward</th>
            <th title="reward minus the mean reward of its group">after group baseline</th><th>searches</th><th>format</th><th>F1</th><th><span class="sr-only">inspect</span></th></tr></thead>
          <tbody>${this.sorted(rs).map((i) => {
            const r = rs[i]!;
            return html`<tr class=${i === this.selected ? 'sel' : ''}>
              <td>${i + 1}</td><td class="q">${r.question}</td><td>${r.reward.toFixed(2)}</td>
              <td class=${r.shapedReward > 1e-9 ? 'pos' : r.shapedReward < -1e-9 ? 'neg' : ''}>${r.shapedReward.toFixed(3)}</td><td>${r.parts.retrievals}</td>
              <td class=${r.parts.formatOk ? 'ok' : 'bad'}>${r.parts.formatOk ? 'ok' : 'broken'}</td><td>${r.parts.f1.toFixed(2)}</td>
              <td><button class="secondary" aria-label=${`Inspect rollout ${i + 1}`} @click=${() => this.select(i)}>Inspect</button></td></tr>`;
          })}</tbody>
        </table>
      </div>
      ${this.selected >= 0 && rs[this.selected] ? this.renderRollout(rs[this.selected]!, rs, v.step) : html`<p class="note">Pick a rollout to step through it token by token.</p>`}`;
  }

  private renderRollout(r: RolloutRecord, batch: RolloutRecord[], step: number) {
    const pg = this.pg!;
    const insp = pg.inspectionKey === `${this.stage}:${step}:${this.selected}` ? pg.inspection : null;
    const texts = insp?.tokens ?? recordTokenTexts(r);
    const blocks = documentBlocks(r.retrieveMask, r.promptLength);
    const rows = tokenRows(texts, r.promptLength, r.actionMask, r.retrieveMask, blocks);
    const T = rows.length;
    const cursor = Math.min(Math.max(this.cursor, 0), T - 1);
    const row: TokenRow | null = rows[cursor] ?? null;
    const score = insp && cursor >= r.promptLength ? insp.scores[cursor - r.promptLength] ?? null : null;
    const go = (c: number) => (this.cursor = Math.max(r.promptLength, Math.min(T - 1, c)));
    const nextSearch = () => {
      const b = blocks.find((x) => x.start - 1 > cursor);
      if (b) go(b.start - 1);
    };
    const parts = r.parts;
    const group = batch.filter((x) => x.group === r.group);
    const groupMean = group.length ? group.reduce((a, x) => a + x.reward, 0) / group.length : null;
    const lastGen = r.actionMask.lastIndexOf(1);
    const tokenAdv = r.advantages[row?.inLoss ? cursor : lastGen] ?? 0;
    const estimator = pg.settingsInForce[this.stage]?.advantageEstimator ?? 'reinforce_baseline';
    const scoredBy = insp ? (insp.exact ? 'probabilities under the policy that sampled this batch'
      : `probabilities under the ${insp.scoredWith === 'stage2' ? 'Stage-2' : 'Stage-1'} policy as it is now (the policy that sampled step ${step} was not kept)`) : 'loading probabilities…';
    return html`
      <h3>Rollout ${this.selected + 1} of step ${step}: ${r.question}</h3>
      <p class="note">gold: ${r.answers.join(' / ')} · template ${r.template} (${r.hops} hop${r.hops === 1 ? '' : 's'}) · ended: ${r.finishReason} · ${scoredBy}</p>
      <div class="scroll"><table aria-label="Reward breakdown">
        <tr><th>retrieval</th><th>format</th><th>answer (F1)</th><th>penalty</th><th>reward</th><th>group mean</th><th>after the group baseline</th><th>prediction</th></tr>
        <tr><td>${parts.retrieval.toFixed(2)}</td><td>${parts.format.toFixed(2)}</td><td>${parts.answer.toFixed(2)}</td><td>${parts.penalty.toFixed(2)}</td>
          <td><b>${r.reward.toFixed(2)}</b></td><td>${groupMean === null ? '-' : groupMean.toFixed(3)}</td><td>${r.shapedReward.toFixed(3)}</td><td class="left mono">${parts.prediction || '(none)'}</td></tr>
      </table></div>
      ${parts.formatOk ? nothing : html`<p class="note bad">Format broken: ${parts.violations.join('; ')}</p>`}
      <p class="explain" id="adv-explain">${estimator === 'group_norm'
        ? html`Advantage: this rollout's reward after the group baseline, divided by the group's standard deviation (${r.shapedReward.toFixed(3)}), is given to every token it wrote (KL terms aside); the heat-map colours each token by it.`
        : html`Advantage: the reward after the group baseline (${r.shapedReward.toFixed(3)}) is given to every token the policy wrote, then normalized over all loss tokens of the batch
          (minus their mean, divided by their standard deviation: REINFORCE++), so here a token's advantage is <b>${tokenAdv.toFixed(3)}</b>: its sign says whether the rollout beat its group
          as the batch goes, its size is in batch standard deviations.`}</p>
      <r1s-token-tape .rows=${rows} .cursor=${cursor} .promptLength=${r.promptLength} .advantages=${r.advantages} label="Rollout tokens"
        @cursor-change=${(e: CustomEvent<number>) => go(e.detail)}></r1s-token-tape>
      <div class="row controls" role="toolbar" aria-label="Step through the tokens">
        <button class="secondary" @click=${() => go(r.promptLength)}>First token</button>
        <button class="secondary" @click=${() => go(cursor - 1)} ?disabled=${cursor <= r.promptLength}>Previous token</button>
        <button @click=${() => go(cursor + 1)} ?disabled=${cursor >= T - 1}>Next token</button>
        <button class="secondary" @click=${nextSearch} ?disabled=${!blocks.some((x) => x.start - 1 > cursor)}>Next search</button>
        <button class="secondary" @click=${() => go(T - 1)}>Last token</button>
        <label>position <input type="range" min=${r.promptLength} max=${T - 1} .value=${String(cursor)} aria-label="Token position"
          @input=${(e: Event) => go(Number((e.target as HTMLInputElement).value))} /></label>
        <span class="note" role="status">token ${cursor - r.promptLength + 1} of ${T - r.promptLength}</span>
      </div>
      <div class="split">
        <r1s-token-detail .row=${row} .score=${score} .advantage=${r.advantages[cursor] ?? null} .logProb=${r.actionMask[cursor] ? r.logProbs[cursor] ?? null : null}></r1s-token-detail>
        <div>${row && row.search >= 0 && r.searches[row.search] ? html`<r1s-search-call .call=${r.searches[row.search]} .index=${row.search}></r1s-search-call>`
          : html`<p class="note">The search call of a query shows here when the cursor is on its documents.</p>`}</div>
      </div>
      <h4>One RL step, drawn from this rollout (the token under the cursor lights its part)</h4>
      <r1s-cycle .record=${r} .rows=${rows} .cursor=${cursor} .groupMean=${groupMean}></r1s-cycle>
      ${pg.errors.inspect ? html`<div class="alert" role="alert">${pg.errors.inspect}</div>` : nothing}`;
  }
}

customElements.define('r1s-inspector', R1sInspector);

declare global {
  interface HTMLElementTagNameMap {
    'r1s-inspector': R1sInspector;
  }
}
