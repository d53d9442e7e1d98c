/**
 * <r1s-rollouts>: the latest step's rollouts as text, sorted by reward, with each spliced
 * document block set apart (it is masked out of the loss). Everything from the model and the
 * corpus is rendered as text (Lit escapes interpolated strings), never as HTML.
 */
import { LitElement, css, html } from 'lit';
import type { RolloutRecord } from '../rl/trainer.ts';
import { completionSegments } from './completion-segments.ts';

export class R1sRollouts extends LitElement {
  static override properties = { rollouts: { attribute: false }, limit: { type: Number } };
  declare rollouts: RolloutRecord[];
  declare limit: number;

  static override styles = css`
    :host { display: block; }
    article { background: #fff; border: 1px solid #dde1e8; border-radius: 6px; padding: 0.6rem 0.8rem; margin: 0 0 0.6rem; }
    header { display: flex; flex-wrap: wrap; gap: 0.4rem 1rem; font-size: 0.85rem; color: #445; margin-bottom: 0.4rem; }
    .q { font-weight: 600; color: #1d2330; }
    .reward { font-variant-numeric: tabular-nums; }
    .completion { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 0.82rem; line-height: 1.6; overflow-wrap: anywhere; }
    .tag { color: #7a3db8; font-weight: 600; }
    .documents { display: block; margin: 0.25rem 0 0.25rem 1rem; padding: 0.25rem 0.5rem; border-left: 3px solid #b9c2d0; background: #eef1f5; color: #556; }
    .documents::before { content: 'retrieved (masked out of the loss) '; font-family: system-ui, sans-serif; font-size: 0.72rem; color: #778; display: block; }
    .ok { color: #1a7f37; } .bad { color: #b42318; }
  `;

  constructor() {
    super();
    this.rollouts = [];
    this.limit = 8;
  }

  override render() {
    if (this.rollouts.length === 0) return html`<p>No rollouts yet.</p>`;
    const sorted = [...this.rollouts].sort((a, b) => b.reward - a.reward).slice(0, this.limit);
    return html`${sorted.map(
      (r) => html`<article>
        <header>
          <span class="q">${r.question}</span>
          <span>gold: ${r.answers.join(' / ')}</span>
          <span class="reward">reward ${r.reward.toFixed(2)}</span>
          <span class=${r.parts.formatOk ? 'ok' : 'bad'}>${r.parts.formatOk ? 'well-formed' : `format: ${r.parts.violations[0] ?? 'broken'}`}</span>
          <span>searches ${r.parts.retrievals}</span>
          <span>F1 ${r.parts.f1.toFixed(2)}</span>
          <span>ended: ${r.finishReason}</span>
        </header>
        <div class="completion">
          ${completionSegments(r.completion).map((s) =>
            s.kind === 'documents' ? html`<span class="documents">${s.text}</span>` : s.kind === 'tag' ? html`<span class="tag">${s.text}</span> ` : html`<span>${s.text}</span> `,
          )}
        </div>
      </article>`,
    )}`;
  }
}

customElements.define('r1s-rollouts', R1sRollouts);
