/**
 * <r1s-token-tape>: a rollout as a strip of tokens, one chip per token, with the cursor on one
 * of them. Generated tokens are chips; document blocks spliced in by the search engine are
 * shown inside a hatched box marked "masked out of the loss"; the prompt can be folded away.
 * Keyboard: the strip is one tab stop; Left/Right move the cursor by a token, Home/End jump to
 * the first/last generated token, PageUp/PageDown by ten.
 *
 * Properties: `rows` (TokenRow[]), `cursor` (position), `promptLength`, `label`.
 * Events: `cursor-change` (CustomEvent<number>) when a chip is clicked or a key moves the cursor.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import type { TokenRow } from './token-rows.ts';

export class R1sTokenTape extends LitElement {
  static override properties = {
    rows: { attribute: false }, cursor: { type: Number }, promptLength: { type: Number }, label: { type: String },
    showPrompt: { state: true },
  };
  declare rows: TokenRow[];
  declare cursor: number;
  declare promptLength: number;
  declare label: string;
  declare showPrompt: boolean;

  static override styles = css`
    :host { display: block; }
    .tape { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 0.8rem; line-height: 1.9; border: 1px solid #dde1e8; border-radius: 6px; padding: 0.4rem; max-height: 16rem; overflow-y: auto; background: #fbfcfd; }
    .tape:focus-visible { outline: 3px solid #f0b400; outline-offset: 2px; }
    .tok { display: inline-block; padding: 0 0.25rem; margin: 0 0.1rem 0.15rem 0; border-radius: 4px; border: 1px solid transparent; cursor: pointer; white-space: pre; }
    .generated { background: #e8effc; }
    .tag { color: #7a3db8; font-weight: 600; background: #f1eafb; }
    .prompt { color: #667; background: #f0f1f3; }
    .document { color: #556; background: transparent; }
    .current { border-color: #1d2330; box-shadow: 0 0 0 2px #f0b400; }
    .docs { display: block; margin: 0.2rem 0 0.3rem 0.8rem; padding: 0.15rem 0.4rem; border-left: 3px solid #b9c2d0; background: repeating-linear-gradient(135deg, #eef1f5, #eef1f5 6px, #e6eaf0 6px, #e6eaf0 12px); }
    .docs-label { display: block; font-family: system-ui, sans-serif; font-size: 0.72rem; color: #667; }
    button { font: inherit; font-size: 0.8rem; border: 1px solid #b9c2d0; background: #fff; border-radius: 5px; padding: 0.1rem 0.5rem; cursor: pointer; margin-bottom: 0.3rem; }
  `;

  constructor() {
    super();
    this.rows = [];
    this.cursor = 0;
    this.promptLength = 0;
    this.label = 'Tokens';
    this.showPrompt = false;
  }

  private move(to: number): void {
    const first = this.showPrompt ? 1 : this.promptLength;
    const c = Math.max(Math.min(first, this.rows.length - 1), Math.min(this.rows.length - 1, to));
    this.dispatchEvent(new CustomEvent<number>('cursor-change', { detail: c, bubbles: true, composed: true }));
  }

  private onKey(e: KeyboardEvent): void {
    const step = { ArrowRight: 1, ArrowLeft: -1, PageDown: 10, PageUp: -10 }[e.key];
    if (step !== undefined) this.move(this.cursor + step);
    else if (e.key === 'Home') this.move(this.promptLength);
    else if (e.key === 'End') this.move(this.rows.length - 1);
    else return;
    e.preventDefault();
  }

  protected override updated(): void {
    this.renderRoot.querySelector('.current')?.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }

  override render() {
    const chip = (r: TokenRow) => html`<span class="tok ${r.kind} ${r.tag ? 'tag' : ''} ${r.index === this.cursor ? 'current' : ''}"
      data-index=${r.index} @click=${() => this.move(r.index)}>${r.text}</span>`;
    const out: TemplateResult[] = [];
    let block: TemplateResult[] | null = null;
    for (const r of this.rows) {
      if (r.kind === 'prompt' && !this.showPrompt) continue;
      if (r.kind === 'document') {
        (block ??= []).push(chip(r));
        continue;
      }
      if (block) {
        out.push(html`<span class="docs"><span class="docs-label">retrieved documents: masked out of the loss (retrieve mask 0)</span>${block}</span>`);
        block = null;
      }
      out.push(chip(r));
    }
    if (block) out.push(html`<span class="docs"><span class="docs-label">retrieved documents: masked out of the loss (retrieve mask 0)</span>${block}</span>`);
    return html`
      ${this.promptLength > 0 ? html`<button type="button" aria-pressed=${this.showPrompt ? 'true' : 'false'} @click=${() => (this.showPrompt = !this.showPrompt)}>
        ${this.showPrompt ? 'Hide the prompt' : `Show the prompt (${this.promptLength} tokens)`}</button>` : nothing}
      <div class="tape" tabindex="0" role="group" aria-label=${`${this.label}: use the arrow keys to move through the tokens`} @keydown=${this.onKey}>${out}</div>`;
  }
}

customElements.define('r1s-token-tape', R1sTokenTape);
