/**
 * <r1s-completion>: a completion as text, with the tags picked out and each spliced document
 * block set apart and labelled as masked out of the loss (recipe.md section 3). Everything from
 * the model and the corpus is rendered as text (Lit escapes interpolated strings), never as HTML.
 *
 * Properties: `text` (the completion, tags written out).
 */
import { LitElement, css, html } from 'lit';
import { completionSegments } from './completion-segments.ts';

export class R1sCompletion extends LitElement {
  static override properties = { text: { type: String } };
  declare text: string;

  static override styles = css`
    :host { display: block; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 0.82rem; line-height: 1.6; overflow-wrap: anywhere; }
    .tag { color: var(--r1s-purple); font-weight: 600; }
    .documents { display: block; margin: 0.25rem 0 0.25rem 1rem; padding: 0.25rem 0.5rem; border-left: 3px solid var(--r1s-line-input); background: repeating-linear-gradient(135deg, var(--r1s-doc-stripe), var(--r1s-doc-stripe) 6px, var(--r1s-doc-stripe-alt) 6px, var(--r1s-doc-stripe-alt) 12px); color: var(--r1s-muted); }
    .label { display: block; font-family: system-ui, sans-serif; font-size: 0.72rem; color: var(--r1s-muted-soft); }
    .empty { color: var(--r1s-muted-faint); font-style: italic; }
  `;

  constructor() {
    super();
    this.text = '';
  }

  override render() {
    const segs = completionSegments(this.text);
    if (segs.length === 0) return html`<span class="empty">(nothing generated)</span>`;
    return html`${segs.map((s) =>
      s.kind === 'documents'
        ? html`<span class="documents"><span class="label">retrieved by the search engine, masked out of the loss</span>${s.text}</span>`
        : s.kind === 'tag' ? html`<span class="tag">${s.text}</span> ` : html`<span>${s.text}</span> `,
    )}`;
  }
}

customElements.define('r1s-completion', R1sCompletion);

declare global {
  interface HTMLElementTagNameMap {
    'r1s-completion': R1sCompletion;
  }
}
