/**
 * <r1s-question-picker>: choose a question of the pack (by split and template) or type one.
 * A typed question has no gold answer, so no reward is computed for it.
 *
 * Properties: `questions` (the pack's), `label` (the group's accessible name), `split`
 * (initial split). Events: `question-change` (CustomEvent<QuestionChoice>) on every change,
 * and once after the first render with the initial choice.
 */
import { LitElement, css, html } from 'lit';
import type { Question, Split } from '../corpus/types.ts';
import type { QuestionChoice } from './playground.ts';

const SPLITS: readonly Split[] = ['train', 'test', 'ood'];
const MAX_OPTIONS = 300;

export class R1sQuestionPicker extends LitElement {
  static override properties = {
    questions: { attribute: false }, label: { type: String }, split: { type: String },
    template: { state: true }, selected: { state: true }, typed: { state: true }, mode: { state: true },
  };
  declare questions: Question[];
  declare label: string;
  declare split: Split;
  declare template: string;
  declare selected: string;
  declare typed: string;
  declare mode: 'pack' | 'typed';

  static override styles = css`
    :host { display: block; }
    fieldset { border: 1px solid var(--r1s-line); border-radius: 6px; padding: 0.4rem 0.6rem 0.6rem; margin: 0 0 0.5rem; min-width: 0; }
    legend { font-size: 0.88rem; color: var(--r1s-ink-soft); padding: 0 0.3rem; }
    .row { display: flex; flex-wrap: wrap; gap: 0.4rem 0.8rem; align-items: center; margin-top: 0.3rem; }
    select, input[type=text] { font: inherit; font-size: 0.9rem; padding: 0.2rem 0.35rem; border: 1px solid var(--r1s-line-input); border-radius: 5px; max-width: 100%; }
    select.q { width: min(100%, 38rem); }
    input[type=text] { width: min(100%, 30rem); }
    label { font-size: 0.88rem; }
    .gold { font-size: 0.84rem; color: var(--r1s-ink-dim); }
    :focus-visible { outline: 3px solid var(--r1s-focus); outline-offset: 2px; }
  `;

  constructor() {
    super();
    this.questions = [];
    this.label = 'Question';
    this.split = 'test';
    this.template = '';
    this.selected = '';
    this.typed = '';
    this.mode = 'pack';
  }

  /** The current choice (null when nothing is chosen). */
  get value(): QuestionChoice | null {
    if (this.mode === 'typed') return this.typed.trim() ? { question: this.typed.trim(), answers: [] } : null;
    const q = this.questions.find((x) => x.id === this.selected) ?? this.visible()[0];
    return q ? { question: q.question, answers: q.answers, id: q.id } : null;
  }

  private visible(): Question[] {
    return this.questions.filter((q) => q.split === this.split && (!this.template || q.template === this.template)).slice(0, MAX_OPTIONS);
  }

  private emit(): void {
    const v = this.value;
    if (v) this.dispatchEvent(new CustomEvent<QuestionChoice>('question-change', { detail: v, bubbles: true, composed: true }));
  }

  protected override firstUpdated(): void {
    this.emit();
  }

  protected override updated(changed: Map<string, unknown>): void {
    if (changed.has('questions') && changed.get('questions') !== undefined) this.emit();
  }

  override render() {
    const templates = [...new Set(this.questions.filter((q) => q.split === this.split).map((q) => q.template))];
    const list = this.visible();
    const current = this.value;
    const set = (f: () => void) => { f(); this.requestUpdate(); void this.updateComplete.then(() => this.emit()); };
    return html`<fieldset>
      <legend>${this.label}</legend>
      <div class="row" role="radiogroup" aria-label="${this.label}: source">
        <label><input type="radio" name="mode" .checked=${this.mode === 'pack'} @change=${() => set(() => (this.mode = 'pack'))} /> from the pack</label>
        <label><input type="radio" name="mode" .checked=${this.mode === 'typed'} @change=${() => set(() => (this.mode = 'typed'))} /> type your own</label>
      </div>
      ${this.mode === 'pack'
        ? html`<div class="row">
            <label>Split <select aria-label="Split" @change=${(e: Event) => set(() => { this.split = (e.target as HTMLSelectElement).value as Split; this.template = ''; this.selected = ''; })}>
              ${SPLITS.map((s) => html`<option value=${s} ?selected=${s === this.split}>${s}</option>`)}
            </select></label>
            <label>Template <select aria-label="Template" @change=${(e: Event) => set(() => { this.template = (e.target as HTMLSelectElement).value; this.selected = ''; })}>
              <option value="" ?selected=${!this.template}>all</option>
              ${templates.map((t) => html`<option value=${t} ?selected=${t === this.template}>${t}</option>`)}
            </select></label>
          </div>
          <div class="row">
            <select class="q" aria-label="Question" @change=${(e: Event) => set(() => (this.selected = (e.target as HTMLSelectElement).value))}>
              ${list.map((q) => html`<option value=${q.id} ?selected=${q.id === current?.id}>${q.question}</option>`)}
            </select>
          </div>
          ${current ? html`<div class="gold">gold answer: ${current.answers.join(' / ')}</div>` : ''}`
        : html`<div class="row">
            <input type="text" aria-label="Your question" placeholder="e.g. Where was Kreimpon born?" .value=${this.typed}
              @input=${(e: Event) => set(() => (this.typed = (e.target as HTMLInputElement).value))} />
          </div>
          <div class="gold">A typed question has no gold answer: the completion is shown, no reward.</div>`}
    </fieldset>`;
  }
}

customElements.define('r1s-question-picker', R1sQuestionPicker);

declare global {
  interface HTMLElementTagNameMap {
    'r1s-question-picker': R1sQuestionPicker;
  }
}
