/**
 * <r1s-step-base>: step 2 of the guided path. Samples from the base model on any question
 * (picked from the pack or typed), to see what RL starts from: it has seen the tags only in a
 * format description during pretraining, so it searches rarely or badly, and what it answers
 * comes from stale knowledge. A live mode steps through one rollout token by token.
 *
 * Property: `pg` (the Playground).
 */
import { html, nothing } from 'lit';
import { PlaygroundElement, sharedStyles } from './playground-element.ts';
import type { QuestionChoice } from './playground.ts';
import './r1s-question-picker.ts';
import './r1s-sample-card.ts';
import './r1s-live.ts';
import './r1s-hf-import.ts';

export class R1sStepBase extends PlaygroundElement {
  static override properties = { ...PlaygroundElement.properties, choice: { state: true } };
  declare choice: QuestionChoice | null;

  static override styles = [sharedStyles];

  constructor() {
    super();
    this.choice = null;
  }

  override render() {
    const pg = this.pg;
    if (!pg) return nothing;
    const busy = pg.busy.has('sample') || pg.phase !== 'ready';
    const samples = pg.baseSamples.filter((s) => s.policy === 'base');
    const searched = samples.filter((s) => s.searches.length > 0).length;
    const go = (greedy: boolean) => void pg.sample('base', this.choice!, greedy, pg.nextSeed());
    return html`
      <section aria-labelledby="sample-h">
        <h3 id="sample-h">Sample from the base model</h3>
        <r1s-question-picker .questions=${pg.questions} label="Question for the base model" split="train"
          @question-change=${(e: CustomEvent<QuestionChoice>) => (this.choice = e.detail)}></r1s-question-picker>
        <div class="row">
          <button @click=${() => go(false)} ?disabled=${busy || !this.choice}>Sample</button>
          <button class="secondary" @click=${() => go(true)} ?disabled=${busy || !this.choice}>Greedy answer</button>
          <span class="note">${pg.busy.has('sample') ? 'Generating…' : 'Sampling uses temperature 1 and top-p 0.95, as in training, with a new seed per click; the greedy answer renders the prompt the same way every time, so it repeats.'}</span>
        </div>
        ${pg.errors.sample ? html`<div class="alert" role="alert">${pg.errors.sample}</div>` : nothing}
        ${samples.length ? html`<p class="note" role="status">${searched} of the last ${samples.length} samples searched; well-formed: ${samples.filter((s) => s.parts?.formatOk).length}.</p>` : nothing}
        ${samples.map((s, i) => html`<r1s-sample-card .sample=${s} heading=${i === 0 ? 'Latest sample' : ''}></r1s-sample-card>`)}
      </section>
      <section aria-labelledby="live-h">
        <h3 id="live-h">One token at a time</h3>
        <r1s-live .pg=${pg} policy="base"></r1s-live>
      </section>
      <r1s-hf-import .pg=${pg}></r1s-hf-import>`;
  }
}

customElements.define('r1s-step-base', R1sStepBase);

declare global {
  interface HTMLElementTagNameMap {
    'r1s-step-base': R1sStepBase;
  }
}
