/**
 * <r1s-step-evaluate>: step 5 of the guided path. Runs src/eval/evaluate.ts from the page
 * (greedy decoding, top-5 documents as in the paper's evaluation) on test and ood questions in
 * three modes, shows the metrics as a table and a grouped bar chart by template, and compares
 * the base, Stage-1 and Stage-2 policies on one question.
 *
 * Property: `pg` (the Playground).
 */
import { css, html, nothing } from 'lit';
import type { Split } from '../corpus/types.ts';
import { EVAL_MODES as ALL_EVAL_MODES, type EvalMode } from '../eval/evaluate.ts';
import type { PolicyName } from '../rl/session.ts';
import { PlaygroundElement, sharedStyles } from './playground-element.ts';
import type { BarSeries } from './r1s-bars.ts';
import './r1s-bars.ts';
import './r1s-compare.ts';

const MODE_LABEL: Record<EvalMode, string> = {
  naive: 'naive generation (no search)', rag: 'standard RAG (top-k documents in the prompt)', search: 'policy searching on its own',
  oracle: 'every search returns the supporting documents (the reading ceiling)',
};
/** The page's modes: the oracle needs the pack's documents, which live in the search worker (the CLI has it). */
const EVAL_MODES: readonly EvalMode[] = ALL_EVAL_MODES.filter((m) => m !== 'oracle');
const POLICY_LABEL: Record<PolicyName, string> = { base: 'base', stage1: 'Stage 1', stage2: 'Stage 2' };
const COLORS = ['#6e7781', '#9a6700', '#2457c5', '#1a7f37', '#b42318', '#7a3db8', '#0a7ea4', '#bf3989', '#57606a'];
type Metric = 'coverEm' | 'f1' | 'em';
const METRIC_LABEL: Record<Metric, string> = { coverEm: 'Cover-EM (ACC_R)', f1: 'F1', em: 'EM' };

export class R1sStepEvaluate extends PlaygroundElement {
  static override properties = {
    ...PlaygroundElement.properties, policy: { state: true }, splits: { state: true }, modes: { state: true }, chartSplit: { state: true }, metric: { state: true },
  };
  declare policy: PolicyName | '';
  declare splits: Set<Split>;
  declare modes: Set<EvalMode>;
  declare chartSplit: Split;
  declare metric: Metric;

  static override styles = [sharedStyles, css`
    fieldset { border: 1px solid #dde1e8; border-radius: 6px; padding: 0.3rem 0.6rem 0.5rem; margin: 0; }
    legend { font-size: 0.86rem; color: #34405a; }
    .form { display: flex; flex-wrap: wrap; gap: 0.6rem 1rem; align-items: flex-end; }
    input[type=number] { width: 6rem; }
    progress { width: min(100%, 16rem); }
  `];

  constructor() {
    super();
    this.policy = '';
    this.splits = new Set(['test', 'ood']);
    this.modes = new Set(EVAL_MODES);
    this.chartSplit = 'test';
    this.metric = 'coverEm';
  }

  private toggle<T>(set: Set<T>, v: T): Set<T> {
    const next = new Set(set);
    if (next.has(v)) next.delete(v);
    else next.add(v);
    return next;
  }

  override render() {
    const pg = this.pg;
    if (!pg) return nothing;
    const policy = this.policy && pg.policies.includes(this.policy) ? this.policy : pg.latestPolicy;
    const busy = pg.busy.has('eval') || pg.phase !== 'ready';
    const splits = (['test', 'ood'] as Split[]).filter((s) => this.splits.has(s));
    const modes = EVAL_MODES.filter((m) => this.modes.has(m));
    const prog = pg.evalProgress;
    return html`
      <p class="explain">The paper evaluates with greedy decoding and five documents per search, in-domain (HotpotQA, 2Wiki) and out-of-domain
        (Musique, Bamboogle). Here <b>test</b> holds new questions of the trained templates and <b>ood</b> templates never trained on.</p>
      <p class="explain">Three ways to answer: naive generation (no search: the base's stale knowledge), standard RAG (the top documents for the
        whole question placed in the prompt), and the policy searching on its own. The shape R1-Searcher reports: naive &lt; RAG &lt; the trained policy,
        with about as many searches as the question has hops.</p>
      <section aria-labelledby="eval-h">
        <h3 id="eval-h">Run the evaluation</h3>
        <div class="form">
          <label>Policy <select aria-label="Policy to evaluate" @change=${(e: Event) => (this.policy = (e.target as HTMLSelectElement).value as PolicyName)}>
            ${pg.policies.map((p) => html`<option value=${p} ?selected=${p === policy}>${POLICY_LABEL[p]}</option>`)}</select></label>
          <fieldset><legend>Splits</legend>
            ${(['test', 'ood'] as Split[]).map((s) => html`<label><input type="checkbox" .checked=${this.splits.has(s)} @change=${() => (this.splits = this.toggle(this.splits, s))} /> ${s}</label> `)}
          </fieldset>
          <fieldset><legend>Modes</legend>
            ${EVAL_MODES.map((m) => html`<label title=${MODE_LABEL[m]}><input type="checkbox" .checked=${this.modes.has(m)} @change=${() => (this.modes = this.toggle(this.modes, m))} /> ${m}</label> `)}
          </fieldset>
          <label>Questions per split <input type="number" min="0" .value=${String(pg.config.evalLimit)} aria-describedby="limit-help"
            @change=${(e: Event) => { const n = Number((e.target as HTMLInputElement).value); if (Number.isInteger(n) && n >= 0) pg.setConfig({ evalLimit: n }); }} /></label>
          <button @click=${() => pg.evaluate(policy, splits, modes, pg.config.evalLimit)} ?disabled=${busy || splits.length === 0 || modes.length === 0}>Evaluate</button>
        </div>
        <p class="note" id="limit-help">Questions are spread over the templates (the first of each, then the second, ...); 0 takes the whole split.</p>
        ${prog ? html`<div class="row" role="status"><progress max=${Math.max(1, prog.total)} .value=${prog.done} aria-label="Evaluation progress"></progress>
          <span class="note">${prog.done} of ${prog.total} questions</span></div>` : nothing}
        ${pg.errors.eval ? html`<div class="alert" role="alert">${pg.errors.eval}</div>` : nothing}
        ${pg.evalRows.length ? this.renderResults() : nothing}
      </section>
      <section aria-labelledby="cmp-h">
        <h3 id="cmp-h">Compare the policies</h3>
        <r1s-compare .pg=${pg}></r1s-compare>
      </section>`;
  }

  private renderResults() {
    const pg = this.pg!;
    const rows = [...pg.evalRows].sort((a, b) => (a.split < b.split ? -1 : a.split > b.split ? 1 : 0) || a.policy.localeCompare(b.policy) || EVAL_MODES.indexOf(a.mode) - EVAL_MODES.indexOf(b.mode));
    const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '-');
    const chartRows = rows.filter((r) => r.split === this.chartSplit);
    const templates = [...new Set(chartRows.flatMap((r) => Object.keys(r.byTemplate)))];
    const series: BarSeries[] = chartRows.map((r, i) => ({
      label: `${POLICY_LABEL[r.policy]}, ${r.mode}`, color: COLORS[i % COLORS.length]!,
      values: templates.map((t) => r.byTemplate[t]?.[this.metric] ?? NaN),
    }));
    return html`
      <div class="scroll"><table aria-label="Evaluation results">
        <thead><tr><th class="left">split</th><th class="left">policy</th><th class="left">mode</th><th>questions</th><th>Cover-EM</th><th>EM</th><th>F1</th>
          <th>format</th><th>searches / q</th><th>answer in docs</th><th>support found</th></tr></thead>
        <tbody>${rows.map((r) => html`<tr><td>${r.split}</td><td class="left">${POLICY_LABEL[r.policy]}</td><td class="left" title=${MODE_LABEL[r.mode]}>${r.mode}</td>
          <td>${r.overall.n}</td><td><b>${f(r.overall.coverEm)}</b></td><td>${f(r.overall.em)}</td><td>${f(r.overall.f1)}</td><td>${f(r.overall.formatRate)}</td>
          <td>${f(r.overall.searchesPerQuestion)}</td><td>${f(r.overall.answerInDocs)}</td><td>${f(r.overall.supportRecall)}</td></tr>`)}</tbody>
      </table></div>
      <h3>By template</h3>
      <div class="row">
        <label>Split <select aria-label="Chart split" @change=${(e: Event) => (this.chartSplit = (e.target as HTMLSelectElement).value as Split)}>
          ${(['test', 'ood'] as Split[]).map((s) => html`<option value=${s} ?selected=${s === this.chartSplit}>${s}</option>`)}</select></label>
        <label>Metric <select aria-label="Chart metric" @change=${(e: Event) => (this.metric = (e.target as HTMLSelectElement).value as Metric)}>
          ${(Object.keys(METRIC_LABEL) as Metric[]).map((m) => html`<option value=${m} ?selected=${m === this.metric}>${METRIC_LABEL[m]}</option>`)}</select></label>
      </div>
      ${templates.length
        ? html`<r1s-bars .groups=${templates} .series=${series} label=${`${METRIC_LABEL[this.metric]} by template on ${this.chartSplit}`}></r1s-bars>`
        : html`<p class="note">No results on ${this.chartSplit} yet.</p>`}`;
  }
}

customElements.define('r1s-step-evaluate', R1sStepEvaluate);
