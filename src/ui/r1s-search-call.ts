/**
 * <r1s-search-call>: one search a rollout made: the query the policy wrote and the ranked
 * documents the engine returned (title, id, BM25 score), which were spliced into the rollout.
 *
 * Properties: `call` ({ query, hits }), `index` (0-based number of the search in its rollout).
 */
import { LitElement, css, html } from 'lit';

/** A search as the element shows it: the query and the ranked hits (no document text). */
export interface SearchCallView {
  query: string;
  hits: { id: string; title: string; score: number }[];
}

export class R1sSearchCall extends LitElement {
  static override properties = { call: { attribute: false }, index: { type: Number } };
  declare call: SearchCallView | null;
  declare index: number;

  static override styles = css`
    :host { display: block; font-size: 0.86rem; border-left: 3px solid var(--r1s-accent); padding: 0.2rem 0.6rem; margin: 0.4rem 0; background: var(--r1s-accent-wash); }
    .q { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-weight: 600; }
    ol { margin: 0.2rem 0 0.2rem 1.2rem; padding: 0; }
    .score { color: var(--r1s-muted); font-variant-numeric: tabular-nums; }
    .none { color: var(--r1s-alert-ink); }
  `;

  constructor() {
    super();
    this.call = null;
    this.index = 0;
  }

  override render() {
    const c = this.call;
    if (!c) return html``;
    return html`<div>Search ${this.index + 1}: query <span class="q">${c.query}</span></div>
      ${c.hits.length === 0
        ? html`<div class="none">No document matched: the block holds "none".</div>`
        : html`<ol>${c.hits.map((h) => html`<li>${h.title} <span class="score">(${h.id}, score ${h.score.toFixed(2)})</span></li>`)}</ol>`}`;
  }
}

customElements.define('r1s-search-call', R1sSearchCall);

declare global {
  interface HTMLElementTagNameMap {
    'r1s-search-call': R1sSearchCall;
  }
}
