/**
 * <r1s-live>: live mode. A new rollout of a chosen policy on any question (typed ones too),
 * generated one token per click: each click samples one token in the trainer worker (its KV
 * cache holds the sequence), shows its probability and the alternatives, and when a query
 * closes, the search runs and its documents are spliced in, masked out of the loss.
 *
 * The menus show the policy and decoding of the rollout on screen (it may have been started on
 * another step of the path) until the learner changes them for the next one.
 *
 * Properties: `pg` (the Playground), `policy` (initial policy). Data attribute for tests:
 * `data-tokens` (generated tokens so far).
 */
import { css, html, nothing } from 'lit';
import type { PolicyName } from '../session/types.ts';
import { PlaygroundElement, sharedStyles } from './playground-element.ts';
import type { QuestionChoice } from './playground.ts';
import { tokenRows } from './token-rows.ts';
import './r1s-question-picker.ts';
import './r1s-token-tape.ts';
import './r1s-token-detail.ts';
import './r1s-search-call.ts';

const POLICY_LABEL: Record<PolicyName, string> = { base: 'base model', stage1: 'Stage-1 policy', stage2: 'Stage-2 policy' };

export class R1sLive extends PlaygroundElement {
  static override properties = { ...PlaygroundElement.properties, policy: { type: String }, choice: { state: true }, greedy: { state: true }, cursor: { state: true } };
  declare policy: PolicyName;
  declare choice: QuestionChoice | null;
  declare greedy: boolean;
  /** Token position shown in detail; -1 follows the newest token. */
  declare cursor: number;
  /** The learner changed a menu here: the menus then show their own choice, not the rollout on screen. */
  private touched = false;

  static override styles = [sharedStyles, css`
    .split { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 1rem; margin-top: 0.5rem; }
    @media (max-width: 900px) { .split { grid-template-columns: minmax(0, 1fr); } }
  `];

  constructor() {
    super();
    this.policy = 'base';
    this.choice = null;
    this.greedy = false;
    this.cursor = -1;
  }

  protected override updated(): void {
    const live = this.pg?.live;
    this.dataset.tokens = String(live ? live.actionMask.reduce((n, m) => n + m, 0) : 0);
  }

  override render() {
    const pg = this.pg;
    if (!pg) return nothing;
    const live = pg.live;
    const busy = pg.busy.has('live');
    const policies = pg.policies;
    const shown = !this.touched && live && pg.liveOf ? pg.liveOf : null;
    const wanted = shown ? shown.policy : this.policy;
    const policy = policies.includes(wanted) ? wanted : pg.latestPolicy;
    const greedy = shown ? shown.greedy : this.greedy;
    return html`
      <r1s-question-picker .questions=${pg.questions} label="Question for the live rollout" split="train"
        @question-change=${(e: CustomEvent<QuestionChoice>) => (this.choice = e.detail)}></r1s-question-picker>
      <div class="row">
        <label>Policy <select aria-label="Policy for the live rollout" @change=${(e: Event) => { this.touched = true; this.greedy = greedy; this.policy = (e.target as HTMLSelectElement).value as PolicyName; }}>
          ${policies.map((p) => html`<option value=${p} ?selected=${p === policy}>${POLICY_LABEL[p]}</option>`)}
        </select></label>
        <label>Decoding <select aria-label="Decoding" @change=${(e: Event) => { this.touched = true; this.policy = policy; this.greedy = (e.target as HTMLSelectElement).value === 'greedy'; }}>
          <option value="sample" ?selected=${!greedy}>sample (temperature 1, top-p 0.95)</option>
          <option value="greedy" ?selected=${greedy}>greedy (fixed prompt)</option>
        </select></label>
        <button class=${pg.resumeOffer ? 'secondary' : ''} @click=${() => { this.cursor = -1; this.touched = false; void pg.liveStart(policy, this.choice!, greedy, pg.nextSeed()); }} ?disabled=${busy || !this.choice}>Start live rollout</button>
        <button @click=${() => { this.cursor = -1; void pg.liveNext(1); }} ?disabled=${busy || !live || !!live.finishReason}>Next token</button>
        <button class="secondary" @click=${() => { this.cursor = -1; void pg.liveNext(10); }} ?disabled=${busy || !live || !!live.finishReason}>Next 10 tokens</button>
      </div>
      ${pg.errors.live ? html`<div class="alert" role="alert">${pg.errors.live}</div>` : nothing}
      ${live ? this.renderLive() : html`<p class="note">Start a rollout, then click "Next token": each click is one decoding step of the policy.</p>`}`;
  }

  private renderLive() {
    const pg = this.pg!, live = pg.live!;
    const rows = tokenRows(live.tokenTexts, live.promptLength, live.actionMask, live.retrieveMask, live.searches);
    const last = live.actionMask.lastIndexOf(1);
    const cursor = this.cursor >= live.promptLength && this.cursor < rows.length ? this.cursor : Math.max(last, live.promptLength - 1);
    const row = rows[cursor] ?? null;
    const step = pg.liveSteps.find((s) => s.position === cursor) ?? null;
    const generated = live.actionMask.reduce((n, m) => n + m, 0);
    return html`
      ${pg.liveOf ? html`<p class="note">On screen: a live rollout of the <b>${POLICY_LABEL[pg.liveOf.policy]}</b> (${pg.liveOf.greedy ? 'greedy' : 'sampled'}) on: ${pg.liveOf.question}</p>` : nothing}
      <p class="note" role="status">${generated} token${generated === 1 ? '' : 's'} generated, ${live.searches.length} search${live.searches.length === 1 ? '' : 'es'}${live.finishReason ? html`; finished: <b>${live.finishReason}</b>` : ''}.
        ${live.parts ? html`Reward parts against the gold answer: F1 ${live.parts.f1.toFixed(2)}, format ${live.parts.formatOk ? 'ok' : 'broken'}, answer "${live.parts.prediction}".` : nothing}</p>
      <div class="split">
        <r1s-token-tape .rows=${rows} .cursor=${cursor} .promptLength=${live.promptLength} label="Live rollout tokens"
          @cursor-change=${(e: CustomEvent<number>) => (this.cursor = e.detail)}></r1s-token-tape>
        <div>
          ${cursor >= live.promptLength
            ? html`<r1s-token-detail .row=${row} .score=${step?.score ?? null} .advantage=${null} .logProb=${live.actionMask[cursor] ? live.logProbs[cursor] ?? null : null}></r1s-token-detail>`
            : html`<p class="note">The prompt is in the cache; the first click samples the first token.</p>`}
          ${row && row.search >= 0 && live.searches[row.search] ? html`<r1s-search-call .call=${live.searches[row.search]} .index=${row.search}></r1s-search-call>` : nothing}
        </div>
      </div>`;
  }
}

customElements.define('r1s-live', R1sLive);

declare global {
  interface HTMLElementTagNameMap {
    'r1s-live': R1sLive;
  }
}
