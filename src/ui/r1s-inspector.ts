/**
 * <r1s-inspector>: the rollout inspector. Lists the latest batch's rollouts (sortable by
 * reward) and steps through one token by token: the chosen token, its probability under the
 * policy that sampled it and the top alternatives, its advantage, whether it is in the loss;
 * each search call with its query and ranked documents, spliced in and visibly masked; and the
 * reward breakdown (recipe.md section 6: retrieval, format, F1, penalty).
 *
 * Property: `pg` (the Playground). Data attribute for tests: `data-cursor` (token position).
 */
import { css, html, nothing } from 'lit';
import type { RolloutRecord } from '../rl/trainer.ts';
import { PlaygroundElement, sharedStyles } from './playground-element.ts';
import { documentBlocks, recordTokenTexts, tokenRows, type TokenRow } from './token-rows.ts';
import './r1s-token-tape.ts';
import './r1s-token-detail.ts';
import './r1s-search-call.ts';

export class R1sInspector extends PlaygroundElement {
  static override properties = { ...PlaygroundElement.properties, selected: { state: true }, cursor: { state: true }, order: { state: true } };
  declare selected: number;
  declare cursor: number;
  declare order: 'desc' | 'asc' | 'batch';
  /** The batch the selection refers to (a new step resets it). */
  private batch: RolloutRecord[] | null = null;

  static override styles = [sharedStyles, css`
    .list { max-height: 15rem; overflow-y: auto; }
    tr.sel { background: #fff6d6; }
    td.q { max-width: 22rem; text-align: left; overflow-wrap: anywhere; }
    .controls { margin: 0.5rem 0; }
    input[type=range] { width: min(100%, 24rem); }
    .split { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 1rem; }
    @media (max-width: 900px) { .split { grid-template-columns: minmax(0, 1fr); } }
  `];

  constructor() {
    super();
    this.selected = -1;
    this.cursor = 0;
    this.order = 'desc';
  }

  private select(i: number): void {
    const r = this.pg!.rollouts[i];
    if (!r) return;
    this.selected = i;
    this.cursor = r.promptLength;
    void this.pg!.inspect(i);
  }

  private sorted(): number[] {
    const rs = this.pg!.rollouts;
    const idx = rs.map((_, i) => i);
    if (this.order === 'batch') return idx;
    return idx.sort((a, b) => (this.order === 'desc' ? rs[b]!.reward - rs[a]!.reward : rs[a]!.reward - rs[b]!.reward) || a - b);
  }

  protected override willUpdate(): void {
    super.willUpdate();
    const rs = this.pg?.rollouts ?? [];
    if (this.batch !== rs) {
      this.batch = rs;
      this.selected = -1;
    }
  }

  protected override updated(): void {
    this.dataset.cursor = String(this.cursor);
    this.dataset.selected = String(this.selected);
  }

  override render() {
    const pg = this.pg;
    if (!pg) return nothing;
    const rs = pg.rollouts;
    if (rs.length === 0) return html`<p class="note">No rollouts yet: run a step.</p>`;
    const nextOrder = { desc: 'asc', asc: 'batch', batch: 'desc' } as const;
    const orderLabel = { desc: 'highest reward first', asc: 'lowest reward first', batch: 'batch order' }[this.order];
    return html`
      <div class="row">
        <button class="secondary" @click=${() => (this.order = nextOrder[this.order])}>Sort by reward</button>
        <span class="note">Showing ${rs.length} rollouts of step ${pg.metrics[pg.stage ?? 1].length}, ${orderLabel}.</span>
      </div>
      <div class="list scroll">
        <table>
          <thead><tr><th>#</th><th class="left">question</th><th aria-sort=${this.order === 'desc' ? 'descending' : this.order === 'asc' ? 'ascending' : 'none'}>reward</th>
            <th>searches</th><th>format</th><th>F1</th><th>ended</th><th><span class="sr-only">inspect</span></th></tr></thead>
          <tbody>${this.sorted().map((i) => {
            const r = rs[i]!;
            return html`<tr class=${i === this.selected ? 'sel' : ''}>
              <td>${i + 1}</td><td class="q">${r.question}</td><td>${r.reward.toFixed(2)}</td><td>${r.parts.retrievals}</td>
              <td class=${r.parts.formatOk ? 'ok' : 'bad'}>${r.parts.formatOk ? 'ok' : 'broken'}</td><td>${r.parts.f1.toFixed(2)}</td><td>${r.finishReason}</td>
              <td><button class="secondary" aria-label=${`Inspect rollout ${i + 1}`} @click=${() => this.select(i)}>Inspect</button></td></tr>`;
          })}</tbody>
        </table>
      </div>
      ${this.selected >= 0 && rs[this.selected] ? this.renderRollout(rs[this.selected]!) : html`<p class="note">Pick a rollout to step through it token by token.</p>`}`;
  }

  private renderRollout(r: RolloutRecord) {
    const pg = this.pg!;
    const insp = pg.inspection?.index === this.selected ? pg.inspection : null;
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
    return html`
      <h3>Rollout ${this.selected + 1}: ${r.question}</h3>
      <p class="note">gold: ${r.answers.join(' / ')} · template ${r.template} (${r.hops} hop${r.hops === 1 ? '' : 's'}) · ended: ${r.finishReason}
        ${insp ? (insp.exact ? ' · probabilities under the policy that sampled this batch' : ' · probabilities under the current policy (the sampling policy was not saved)') : ' · loading probabilities…'}</p>
      <div class="scroll"><table aria-label="Reward breakdown">
        <tr><th>retrieval</th><th>format</th><th>answer (F1)</th><th>penalty</th><th>reward</th><th>after the group baseline</th><th>prediction</th></tr>
        <tr><td>${parts.retrieval.toFixed(2)}</td><td>${parts.format.toFixed(2)}</td><td>${parts.answer.toFixed(2)}</td><td>${parts.penalty.toFixed(2)}</td>
          <td><b>${r.reward.toFixed(2)}</b></td><td>${r.shapedReward.toFixed(3)}</td><td class="left mono">${parts.prediction || '(none)'}</td></tr>
      </table></div>
      ${parts.formatOk ? nothing : html`<p class="note bad">Format broken: ${parts.violations.join('; ')}</p>`}
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
        <r1s-token-tape .rows=${rows} .cursor=${cursor} .promptLength=${r.promptLength} label="Rollout tokens"
          @cursor-change=${(e: CustomEvent<number>) => go(e.detail)}></r1s-token-tape>
        <div>
          <r1s-token-detail .row=${row} .score=${score} .advantage=${r.advantages[cursor] ?? null} .logProb=${r.actionMask[cursor] ? r.logProbs[cursor] ?? null : null}></r1s-token-detail>
          ${row && row.search >= 0 && r.searches[row.search] ? html`<r1s-search-call .call=${r.searches[row.search]} .index=${row.search}></r1s-search-call>` : nothing}
        </div>
      </div>
      ${pg.errors.inspect ? html`<div class="alert" role="alert">${pg.errors.inspect}</div>` : nothing}`;
  }
}

customElements.define('r1s-inspector', R1sInspector);
