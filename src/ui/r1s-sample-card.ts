/**
 * <r1s-sample-card>: one rollout outside training (a base-model sample, a Compare column):
 * its searches, the completion with documents set apart, and how it would score (Stage 2's
 * reward parts when the question has a gold answer), and how it was decoded: greedy (argmax,
 * with the prompt rendered the same way every time, so the same question gives the same answer)
 * or sampled (with its seed). The prompt is shown folded.
 *
 * Properties: `sample` (SampleResult), `heading`.
 */
import { LitElement, css, html, nothing } from 'lit';
import type { SampleResult } from '../session/types.ts';
import './r1s-completion.ts';

export class R1sSampleCard extends LitElement {
  static override properties = { sample: { attribute: false }, heading: { type: String } };
  declare sample: SampleResult | null;
  declare heading: string;

  static override styles = css`
    :host { display: block; background: var(--r1s-surface); border: 1px solid var(--r1s-line); border-radius: 8px; padding: 0.6rem 0.8rem; margin-bottom: 0.6rem; }
    h4 { margin: 0 0 0.3rem; font-size: 0.95rem; }
    .facts { display: flex; flex-wrap: wrap; gap: 0.2rem 0.9rem; font-size: 0.82rem; color: var(--r1s-ink-dim); margin-bottom: 0.4rem; }
    .ok { color: var(--r1s-green); } .bad { color: var(--r1s-red); }
    .q { font-size: 0.85rem; margin-bottom: 0.3rem; overflow-wrap: anywhere; }
    .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
    .decoding { display: inline-block; font-size: 0.76rem; border-radius: 999px; padding: 0 0.5rem; margin-bottom: 0.3rem; border: 1px solid var(--r1s-line-strong); color: var(--r1s-ink-soft); }
    .decoding.greedy { background: var(--r1s-accent-soft); border-color: var(--r1s-accent-border); }
    details { font-size: 0.8rem; color: var(--r1s-ink-dim); margin-bottom: 0.3rem; }
    details pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0.2rem 0; font-size: 0.78rem; }
  `;

  constructor() {
    super();
    this.sample = null;
    this.heading = '';
  }

  override render() {
    const s = this.sample;
    if (!s) return nothing;
    const generated = s.actionMask.reduce((n, m) => n + m, 0);
    return html`
      ${this.heading ? html`<h4>${this.heading}</h4>` : nothing}
      <div class="decoding ${s.decoding}" data-decoding=${s.decoding}>${s.decoding === 'greedy'
        ? 'greedy decoding (argmax), fixed prompt: the same question gives the same answer'
        : `sampled: temperature 1, top-p 0.95, seed ${s.seed}`}</div>
      <div class="q">Q: ${s.question}</div>
      <details><summary>Prompt${s.decoding === 'greedy' ? ' (rendered the same way for every greedy answer)' : ''}</summary><pre>${s.prompt}</pre></details>
      <div class="facts">
        <span>${s.searches.length} search${s.searches.length === 1 ? '' : 'es'}${s.searches.length ? html`: ${s.searches.map((c, i) => html`${i ? ', ' : ''}<span class="mono">${c.query}</span>`)}` : ''}</span>
        <span>${generated} tokens</span>
        <span>ended: ${s.finishReason}</span>
        ${s.parts
          ? html`<span class=${s.parts.formatOk ? 'ok' : 'bad'}>${s.parts.formatOk ? 'well-formed' : `format: ${s.parts.violations[0] ?? 'broken'}`}</span>
              <span>answer: <span class="mono">${s.parts.prediction || '(none)'}</span></span>
              <span class=${s.parts.f1 > 0 ? 'ok' : ''}>F1 ${s.parts.f1.toFixed(2)}</span>
              <span>answer in documents: ${s.parts.answerInDocs ? 'yes' : 'no'}</span>`
          : nothing}
      </div>
      <r1s-completion .text=${s.completion}></r1s-completion>`;
  }
}

customElements.define('r1s-sample-card', R1sSampleCard);

declare global {
  interface HTMLElementTagNameMap {
    'r1s-sample-card': R1sSampleCard;
  }
}
