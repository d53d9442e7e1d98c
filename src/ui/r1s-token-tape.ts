/**
 * <r1s-token-tape>: a rollout as a strip of tokens, one chip per token, with the cursor on one
 * of them. Generated tokens are chips; document blocks spliced in by the search engine are
 * shown inside a hatched box marked "masked out of the loss"; the prompt can be folded away.
 * Keyboard: the strip is one tab stop; Left/Right move the cursor by a token, Home/End jump to
 * the first/last generated token, PageUp/PageDown by ten.
 *
 * With `advantages` (one per position) it is a heat-map: every token in the loss is coloured by
 * its advantage, blue for positive and red for negative, stronger for a larger |advantage|
 * (full strength at |A| >= 2), with a legend.
 *
 * Properties: `rows` (TokenRow[]), `cursor` (position), `promptLength`, `label`, `advantages` (number[] | null).
 * Events: `cursor-change` (CustomEvent<number>) when a chip is clicked or a key moves the cursor.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import type { TokenRow } from './token-rows.ts';

/** |advantage| drawn at full colour. */
const HEAT_FULL = 2;

export class R1sTokenTape extends LitElement {
  static override properties = {
    rows: { attribute: false }, cursor: { type: Number }, promptLength: { type: Number }, label: { type: String },
    showPrompt: { state: true }, advantages: { attribute: false },
  };
  declare advantages: number[] | null;
  declare rows: TokenRow[];
  declare cursor: number;
  declare promptLength: number;
  declare label: string;
  declare showPrompt: boolean;

  static override styles = css`
    :host { display: block; }
    .tape { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 0.8rem; line-height: 1.9; border: 1px solid var(--r1s-line); border-radius: 6px; padding: 0.4rem; max-height: 16rem; overflow-y: auto; background: var(--r1s-surface-tape); }
    .tape:focus-visible { outline: 3px solid var(--r1s-focus); outline-offset: 2px; }
    .tok { display: inline-block; padding: 0 0.25rem; margin: 0 0.1rem 0.15rem 0; border-radius: 4px; border: 1px solid transparent; cursor: pointer; white-space: pre; }
    .generated { background: var(--r1s-accent-soft); }
    .tag { color: var(--r1s-purple); font-weight: 600; background: var(--r1s-tag-soft); }
    .prompt { color: var(--r1s-muted-soft); background: var(--r1s-prompt-soft); }
    .document { color: var(--r1s-muted); background: transparent; }
    .current { border-color: var(--r1s-ink); box-shadow: 0 0 0 2px var(--r1s-focus); }
    .docs { display: block; margin: 0.2rem 0 0.3rem 0.8rem; padding: 0.15rem 0.4rem; border-left: 3px solid var(--r1s-line-input); background: repeating-linear-gradient(135deg, var(--r1s-doc-stripe), var(--r1s-doc-stripe) 6px, var(--r1s-doc-stripe-alt) 6px, var(--r1s-doc-stripe-alt) 12px); }
    .docs-label { display: block; font-family: system-ui, sans-serif; font-size: 0.72rem; color: var(--r1s-muted-soft); }
    .legend { display: flex; flex-wrap: wrap; gap: 0.2rem 0.9rem; align-items: center; font-size: 0.76rem; color: var(--r1s-ink-dim); margin: 0 0 0.3rem; }
    .sw { display: inline-block; width: 1.6rem; height: 0.8rem; border: 1px solid var(--r1s-line-strong); border-radius: 3px; vertical-align: middle; margin-right: 0.25rem; }
    .sw.neg { background: linear-gradient(90deg, var(--r1s-adv-negative), var(--r1s-surface)); }
    .sw.pos { background: linear-gradient(90deg, var(--r1s-surface), var(--r1s-adv-positive)); }
    .sw.doc { background: repeating-linear-gradient(135deg, var(--r1s-doc-stripe), var(--r1s-doc-stripe) 3px, var(--r1s-doc-stripe-swatch) 3px, var(--r1s-doc-stripe-swatch) 6px); }
    .sw.prompt { background: var(--r1s-prompt-soft); }
    .heat .generated:not(.inloss) { background: transparent; border-color: var(--r1s-line-heat); }
    button { font: inherit; font-size: 0.8rem; border: 1px solid var(--r1s-line-input); background: var(--r1s-surface); border-radius: 5px; padding: 0.1rem 0.5rem; cursor: pointer; margin-bottom: 0.3rem; }
  `;

  constructor() {
    super();
    this.rows = [];
    this.cursor = 0;
    this.promptLength = 0;
    this.label = 'Tokens';
    this.showPrompt = false;
    this.advantages = null;
  }

  /** Inline background of a token in the loss: its advantage's colour, mixed with white by |A|. */
  private heat(r: TokenRow): string {
    const a = this.advantages?.[r.index];
    if (!r.inLoss || a === undefined || !Number.isFinite(a)) return '';
    const pct = Math.round(Math.min(1, Math.abs(a) / HEAT_FULL) * 80);
    return `background: color-mix(in srgb, var(${a >= 0 ? '--r1s-adv-positive' : '--r1s-adv-negative'}) ${pct}%, var(--r1s-surface))`;
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
    const chip = (r: TokenRow) => html`<span class="tok ${r.kind} ${r.tag ? 'tag' : ''} ${r.inLoss ? 'inloss' : ''} ${r.index === this.cursor ? 'current' : ''}"
      style=${this.heat(r)} data-index=${r.index} data-advantage=${this.advantages && r.inLoss ? String(this.advantages[r.index] ?? '') : ''}
      @click=${() => this.move(r.index)}>${r.text}</span>`;
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
      ${this.advantages ? html`<div class="legend" aria-label="Colour legend">
        <span><span class="sw neg"></span>negative advantage (made less likely)</span>
        <span><span class="sw pos"></span>positive advantage (made more likely); stronger colour, larger |A| (full at ${HEAT_FULL})</span>
        <span><span class="sw doc"></span>documents: masked out of the loss</span>
        <span><span class="sw prompt"></span>prompt</span></div>` : nothing}
      <div class="tape ${this.advantages ? 'heat' : ''}" tabindex="0" role="group" aria-label=${`${this.label}: use the arrow keys to move through the tokens`} @keydown=${this.onKey}>${out}</div>`;
  }
}

customElements.define('r1s-token-tape', R1sTokenTape);

declare global {
  interface HTMLElementTagNameMap {
    'r1s-token-tape': R1sTokenTape;
  }
}
