/**
 * <r1s-question-structure>: what an imported question's source says about its reasoning, shown
 * under the question in the Corpus step's question browser: MuSiQue's decomposition (the
 * sub-question and answer of each hop, and the document that answers it: what a multi-hop
 * search should find, hop by hop), 2WikiMultiHopQA's evidence triples, and the sentence-level
 * supporting facts of HotpotQA / 2Wiki (src/corpus/types.ts). Renders nothing for a question
 * without them (the generated world). Corpus text, so text bindings only.
 *
 * Property: `question`.
 */
import { LitElement, css, html, nothing } from 'lit';
import type { Question } from '../corpus/types.ts';

export class R1sQuestionStructure extends LitElement {
  static override properties = { question: { attribute: false } };
  declare question: Question | null;

  static override styles = css`
    :host { display: block; font-size: 0.8rem; color: var(--r1s-ink-dim); margin-top: 0.25rem; }
    ol { margin: 0.15rem 0 0.15rem 1.1rem; padding: 0; }
    li { margin: 0.1rem 0; }
    .label { font-weight: 600; }
    .doc { font-family: ui-monospace, monospace; color: var(--r1s-muted-soft); }
  `;

  constructor() {
    super();
    this.question = null;
  }

  override render() {
    const q = this.question;
    if (!q || (!q.decomposition?.length && !q.evidences?.length && !q.supportingFacts?.length)) return nothing;
    return html`
      ${q.decomposition?.length
        ? html`<div><span class="label">Hop by hop:</span><ol aria-label=${`Decomposition of ${q.id}`}>${q.decomposition.map((s) => html`<li>${s.question} → ${s.answer}${s.supportingId ? html` <span class="doc">(${s.supportingId})</span>` : nothing}</li>`)}</ol></div>`
        : nothing}
      ${q.evidences?.length
        ? html`<div><span class="label">Evidence:</span><ol aria-label=${`Evidence of ${q.id}`}>${q.evidences.map(([s, r, o]) => html`<li>(${s}, ${r}, ${o})</li>`)}</ol></div>`
        : nothing}
      ${q.supportingFacts?.length
        ? html`<div><span class="label">Supporting sentences:</span> ${q.supportingFacts.map((f, i) => html`${i ? '; ' : ''}${f.title} #${f.sentence}`)}</div>`
        : nothing}`;
  }
}

customElements.define('r1s-question-structure', R1sQuestionStructure);

declare global {
  interface HTMLElementTagNameMap {
    'r1s-question-structure': R1sQuestionStructure;
  }
}
