/**
 * <r1s-cycle>: one RL step of R1-Searcher as an SVG diagram, filled with the inspected rollout:
 * the prompt, the policy's reasoning, its query, the search engine, the spliced documents
 * (retrieve mask 0: out of the loss), the answer; then the reward parts, the group baseline,
 * the token's advantage, the clipped loss and the update that closes the loop. The token under
 * the inspector's cursor lights its part (cycle-parts.ts). Every text is a Lit text binding.
 *
 * Properties: `record` (RolloutRecord), `rows` (TokenRow[]), `cursor`, `groupMean` (mean reward
 * of the rollout's group, or null). Data attribute for tests: `data-lit` (lit boxes, spaces).
 */
import { LitElement, css, html, nothing, svg } from 'lit';
import type { RolloutRecord } from '../rl/trainer.ts';
import { litBoxes, tokenParts, type CycleBox } from './cycle-parts.ts';
import type { TokenRow } from './token-rows.ts';

interface Box {
  id: CycleBox;
  x: number;
  y: number;
  title: string;
  lines: string[];
}

const W = 150, H = 84, TOP = 36, BOTTOM = 196;
/** Columns of the top row (six boxes) and the bottom row (five, under the first five). */
const col = (i: number) => 8 + i * 160;

function cut(s: string, n = 22): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

function fixed(x: number, d = 2): string {
  return Number.isFinite(x) ? x.toFixed(d) : '-';
}

export class R1sCycle extends LitElement {
  static override properties = { record: { attribute: false }, rows: { attribute: false }, cursor: { type: Number }, groupMean: { attribute: false } };
  declare record: RolloutRecord | null;
  declare rows: TokenRow[];
  declare cursor: number;
  declare groupMean: number | null;

  static override styles = css`
    :host { display: block; }
    svg { width: 100%; height: auto; display: block; font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; }
    .box rect { fill: var(--r1s-surface); stroke: var(--r1s-line-strong); stroke-width: 1.5; }
    .box.docs rect { fill: url(#hatch); }
    .box.lit rect { fill: var(--r1s-accent-soft); stroke: var(--r1s-accent); stroke-width: 3; }
    .box.docs.lit rect { fill: url(#hatch-lit); }
    .title { font-size: 13.5px; font-weight: 700; fill: var(--r1s-ink); }
    .line { font-size: 12.5px; fill: var(--r1s-ink-soft); }
    .arrow { stroke: var(--r1s-arrow); stroke-width: 1.6; fill: none; marker-end: url(#head); }
    .caption { font-size: 12.5px; fill: var(--r1s-muted); }
    .stage { font-size: 12px; font-weight: 700; fill: var(--r1s-muted); letter-spacing: 0.04em; }
    .head { fill: var(--r1s-arrow); }
    .hatch { fill: var(--r1s-hatch); } .hatch-line { stroke: var(--r1s-hatch-line); }
    .hatch-lit { fill: var(--r1s-accent-soft); } .hatch-lit-line { stroke: var(--r1s-accent-hatch); }
  `;

  constructor() {
    super();
    this.record = null;
    this.rows = [];
    this.cursor = 0;
    this.groupMean = null;
  }

  private lit(): CycleBox[] {
    return this.rows.length ? litBoxes(this.rows, tokenParts(this.rows), this.cursor) : [];
  }

  protected override updated(): void {
    this.dataset.lit = this.lit().join(' ');
  }

  private boxes(r: RolloutRecord): Box[] {
    const generated = r.actionMask.reduce((n, m) => n + m, 0);
    const docTokens = r.retrieveMask.slice(r.promptLength).filter((m) => m === 0).length;
    const adv = r.advantages[this.cursor];
    const inLoss = this.rows[this.cursor]?.inLoss ?? false;
    const first = r.searches[0];
    const p = r.parts;
    return [
      { id: 'prompt', x: col(0), y: TOP, title: '1. Prompt', lines: [cut(r.question), `${r.promptLength} tokens`] },
      { id: 'think', x: col(1), y: TOP, title: '2. Policy writes', lines: [`${generated} tokens sampled`, 'at temperature 1'] },
      { id: 'query', x: col(2), y: TOP, title: '3. Query', lines: [first ? cut(first.query) : '(no query)', `${r.searches.length} search${r.searches.length === 1 ? '' : 'es'}`] },
      { id: 'search', x: col(3), y: TOP, title: '4. Search engine', lines: [first ? `top-${first.hits.length} (BM25)` : 'not called', first?.hits[0] ? cut(first.hits[0].title) : ''] },
      { id: 'documents', x: col(4), y: TOP, title: '5. Documents', lines: [`${docTokens} tokens spliced`, 'retrieve mask 0'] },
      { id: 'answer', x: col(5), y: TOP, title: '6. Answer', lines: [cut(p.prediction || '(none)'), `gold: ${cut(r.answers[0] ?? '-', 16)}`] },
      { id: 'reward', x: col(0), y: BOTTOM, title: `7. Reward ${fixed(r.reward)}`, lines: [`= ret ${fixed(p.retrieval, 1)} + fmt ${fixed(p.format, 1)}`, `+ F1 ${fixed(p.answer)} + pen ${fixed(p.penalty, 1)}`] },
      { id: 'baseline', x: col(1), y: BOTTOM, title: '8. Group baseline', lines: [`group mean ${this.groupMean === null ? '-' : fixed(this.groupMean, 3)}`, `r − mean = ${fixed(r.shapedReward, 3)}`] },
      { id: 'advantage', x: col(2), y: BOTTOM, title: '9. Advantage', lines: [inLoss && adv !== undefined ? `A = ${fixed(adv, 3)}` : 'A: not in the loss', 'normalized on batch'] },
      { id: 'loss', x: col(3), y: BOTTOM, title: '10. Clipped loss', lines: [inLoss ? 'this token: in it' : 'this token: not in it', '−min(ρA, clip(ρ)A)'] },
      { id: 'update', x: col(4), y: BOTTOM, title: '11. Update', lines: ['AdamW step on', 'the policy weights'] },
    ];
  }

  override render() {
    const r = this.record;
    if (!r) return nothing;
    const lit = new Set(this.lit());
    const boxes = this.boxes(r);
    const mid = (b: Box) => b.y + H / 2;
    // Arrows: along the top row, down from the answer to the reward row's end, along the bottom
    // row, and from the update back up to the policy.
    const arrows = [
      ...[0, 1, 2, 3, 4].map((i) => `M${col(i) + W} ${TOP + H / 2} H${col(i + 1) - 2}`),
      `M${col(5) + W / 2} ${TOP + H} V${BOTTOM - 30} H${col(0) + W / 2} V${BOTTOM - 2}`,
      ...[0, 1, 2, 3].map((i) => `M${col(i) + W} ${BOTTOM + H / 2} H${col(i + 1) - 2}`),
      `M${col(4) + W / 2} ${BOTTOM} V${BOTTOM - 14} H${col(1) + W / 2} V${TOP + H + 2}`,
    ];
    return html`<svg viewBox="0 0 968 ${BOTTOM + H + 34}" role="img"
      aria-label=${`One RL step driven by this rollout; the token under the cursor lights: ${[...lit].join(', ') || 'nothing'}`}>
      <defs>
        <marker id="head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path class="head" d="M0 0 L10 5 L0 10 z"></path></marker>
        <pattern id="hatch" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect class="hatch" width="8" height="8"></rect><line class="hatch-line" x1="0" y1="0" x2="0" y2="8" stroke-width="4"></line></pattern>
        <pattern id="hatch-lit" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect class="hatch-lit" width="8" height="8"></rect><line class="hatch-lit-line" x1="0" y1="0" x2="0" y2="8" stroke-width="4"></line></pattern>
      </defs>
      <text class="stage" x="8" y="22">ROLLOUT (the policy generates; the engine answers its queries)</text>
      <text class="stage" x="8" y=${BOTTOM + H + 24}>LEARNING (from the outcome back to every token in the loss; the update feeds the next batch)</text>
      ${arrows.map((d) => svg`<path class="arrow" d=${d}></path>`)}
      ${boxes.map((b) => svg`<g class="box ${b.id === 'documents' ? 'docs' : ''} ${lit.has(b.id) ? 'lit' : ''}" data-box=${b.id}>
        <rect x=${b.x} y=${b.y} width=${W} height=${H} rx="8"></rect>
        <text class="title" x=${b.x + 10} y=${b.y + 24}>${b.title}</text>
        ${b.lines.map((l, k) => svg`<text class="line" x=${b.x + 10} y=${b.y + 46 + k * 19}>${l}</text>`)}
      </g>`)}
      <text class="caption" x=${col(5)} y=${mid(boxes[10]!) - 8}>11 → 2: the next</text>
      <text class="caption" x=${col(5)} y=${mid(boxes[10]!) + 10}>batch is sampled by</text>
      <text class="caption" x=${col(5)} y=${mid(boxes[10]!) + 28}>the updated policy</text>
    </svg>`;
  }
}

customElements.define('r1s-cycle', R1sCycle);

declare global {
  interface HTMLElementTagNameMap {
    'r1s-cycle': R1sCycle;
  }
}
