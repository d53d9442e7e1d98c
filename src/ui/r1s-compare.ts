/**
 * <r1s-compare>: the same question answered greedily by the base, Stage-1 and Stage-2
 * policies side by side: what each stage of R1-Searcher changed.
 *
 * Property: `pg` (the Playground).
 */
import { css, html, nothing } from 'lit';
import type { PolicyName } from '../session/types.ts';
import { PlaygroundElement, sharedStyles } from './playground-element.ts';
import type { QuestionChoice } from './playground.ts';
import './r1s-question-picker.ts';
import './r1s-sample-card.ts';

const TITLES: Record<PolicyName, string> = { base: 'Base model', stage1: 'Stage 1 (learned to search)', stage2: 'Stage 2 (learned to answer)' };

/** A policy's heading with the step it has trained to ("Stage 2 ..., step 10 of 200"). */
export function policyTitle(pg: { metrics: { 1: unknown[]; 2: unknown[] }; totalSteps: { 1: number; 2: number } }, p: PolicyName): string {
  if (p === 'base') return TITLES.base;
  const st = p === 'stage1' ? 1 : 2;
  return `${TITLES[p]}, step ${pg.metrics[st].length} of ${pg.totalSteps[st]}`;
}

export class R1sCompare extends PlaygroundElement {
  static override properties = { ...PlaygroundElement.properties, choice: { state: true } };
  declare choice: QuestionChoice | null;

  static override styles = [sharedStyles, css`
    .cols { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 0.8rem; }
    @media (max-width: 900px) { .cols { grid-template-columns: minmax(0, 1fr); } }
    .missing { color: var(--r1s-muted-soft); font-style: italic; border: 1px dashed var(--r1s-line-strong); border-radius: 8px; padding: 0.6rem; }
  `];

  constructor() {
    super();
    this.choice = null;
  }

  override render() {
    const pg = this.pg;
    if (!pg) return nothing;
    const c = pg.compare;
    return html`
      <r1s-question-picker .questions=${pg.questions} label="Question to compare on" split="test"
        @question-change=${(e: CustomEvent<QuestionChoice>) => (this.choice = e.detail)}></r1s-question-picker>
      <div class="row"><button @click=${() => pg.runCompare(this.choice!)} ?disabled=${!this.choice || pg.busy.has('compare') || pg.phase !== 'ready'}>Compare</button>
        <span class="note">${pg.busy.has('compare') ? 'Answering with each policy…' : 'Greedy decoding, as in evaluation: the same question always gets the same answers.'}</span></div>
      ${pg.errors.compare ? html`<div class="alert" role="alert">${pg.errors.compare}</div>` : nothing}
      ${c
        ? html`<div class="cols">${(['base', 'stage1', 'stage2'] as const).map((p) => {
            const r = c.results[p];
            return html`<div>${!r || 'error' in r
              ? html`<h4>${TITLES[p]}</h4><div class="missing">${r && 'error' in r ? r.error.replace(/^session: /, '') : 'not run'}</div>`
              : html`<r1s-sample-card .sample=${r} heading=${policyTitle(pg, p)} data-policy=${p}></r1s-sample-card>`}</div>`;
          })}</div>`
        : nothing}`;
  }
}

customElements.define('r1s-compare', R1sCompare);

declare global {
  interface HTMLElementTagNameMap {
    'r1s-compare': R1sCompare;
  }
}
