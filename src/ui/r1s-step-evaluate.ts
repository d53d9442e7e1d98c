/**
 * <r1s-step-evaluate>: step 5 of the guided path. Runs src/eval/evaluate.ts from the page
 * (greedy decoding, top-5 documents as in the paper's evaluation) on test and ood questions in
 * three modes, shows the metrics in the paper's layout (methods as rows, each policy with the
 * step it was evaluated at; splits x metrics as columns), searches per question by hop count,
 * every metric in a folded table, a grouped bar chart by template, and compares the base,
 * Stage-1 and Stage-2 policies on one question.
 *
 * Property: `pg` (the Playground).
 */
import { css, html, nothing } from 'lit';
import type { Split } from '../corpus/types.ts';
import { RETRIEVER_EVAL_MODES as EVAL_MODES, type EvalMode } from '../eval/evaluate.ts';
import type { EvalRow, PolicyName } from '../session/types.ts';
import { PlaygroundElement, sharedStyles } from './playground-element.ts';
import type { BarSeries } from './r1s-bars.ts';
import './r1s-bars.ts';
import './r1s-compare.ts';
import { PALETTE } from './theme.ts';

const MODE_LABEL: Record<EvalMode, string> = {
  naive: 'naive generation (no search)', rag: 'standard RAG (top-k documents in the prompt)', search: 'policy searching on its own',
  oracle: 'every search returns the supporting documents (the reading ceiling)',
};
const POLICY_LABEL: Record<PolicyName, string> = { base: 'base', stage1: 'Stage 1', stage2: 'Stage 2' };
const COLORS = [PALETTE.grey, PALETTE.amber, PALETTE.accent, PALETTE.green, PALETTE.red, PALETTE.purple, PALETTE.teal, PALETTE.pink, PALETTE.slate];
/** The paper's method names (its Table 1 rows), per mode. */
const METHOD: Record<EvalMode, string> = { naive: 'Naive generation', rag: 'Standard RAG', search: 'R1-Searcher (searches on its own)', oracle: 'Oracle documents (reading ceiling)' };
const MODE_ORDER: readonly EvalMode[] = ['naive', 'rag', 'search'];
const POLICY_ORDER: readonly PolicyName[] = ['base', 'stage1', 'stage2'];
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
    fieldset { border: 1px solid var(--r1s-line); border-radius: 6px; padding: 0.3rem 0.6rem 0.5rem; margin: 0; }
    legend { font-size: 0.86rem; color: var(--r1s-ink-soft); }
    .form { display: flex; flex-wrap: wrap; gap: 0.6rem 1rem; align-items: flex-end; }
    input[type=number] { width: 6rem; }
    progress { width: min(100%, 16rem); }
    table.paper { width: 100%; }
    table.paper th, table.paper td { padding: 0.2rem 0.4rem; }
    table.paper td.method { text-align: left; max-width: 16rem; }
    table.paper thead th { text-align: center; }
    /* Every column fits a 768 px tablet: headers wrap, cells stay compact. */
    table.all { width: 100%; font-size: 0.8rem; }
    table.all th { white-space: normal; vertical-align: bottom; }
    table.all th, table.all td { padding: 0.15rem 0.3rem; }
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

  /** "Stage 2, step 10 of 200": the policy with the step it was evaluated at. */
  private policyAt(r: EvalRow): string {
    if (r.policy === 'base') return 'base';
    const st = r.policy === 'stage1' ? 1 : 2;
    return `${POLICY_LABEL[r.policy]}, step ${r.steps} of ${this.pg!.totalSteps[st]}`;
  }

  /** The paper's Table 1 layout: a method (mode x policy) per row, splits x (Cover-EM, F1) as columns. */
  private renderPaperTable(rows: EvalRow[]) {
    const splits = (['test', 'ood'] as Split[]).filter((s) => rows.some((r) => r.split === s));
    const methods: { mode: EvalMode; policy: PolicyName }[] = [];
    for (const mode of MODE_ORDER) for (const policy of POLICY_ORDER) if (rows.some((r) => r.mode === mode && r.policy === policy)) methods.push({ mode, policy });
    const cell = (mode: EvalMode, policy: PolicyName, split: Split) => rows.find((r) => r.mode === mode && r.policy === policy && r.split === split);
    const f = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x.toFixed(3) : '-');
    const best = (split: Split, k: 'coverEm' | 'f1') => Math.max(...rows.filter((r) => r.split === split).map((r) => r.overall[k]));
    const splitLabel: Record<Split, string> = { train: 'train', test: 'test (trained templates)', ood: 'ood (new templates)' };
    return html`<div class="scroll"><table class="paper" aria-label="Evaluation in the paper's layout">
      <thead><tr><th rowspan="2" class="left">method (policy, step)</th>${splits.map((s) => html`<th colspan="2">${splitLabel[s]}</th>`)}</tr>
        <tr>${splits.map(() => html`<th title="Cover-EM: the gold answer appears in the prediction (the paper's ACC_R)">Cover-EM</th><th>F1</th>`)}</tr></thead>
      <tbody>${methods.map(({ mode, policy }) => {
        const any = rows.find((r) => r.mode === mode && r.policy === policy)!;
        return html`<tr><td class="method">${METHOD[mode]}<br /><span class="note">${this.policyAt(any)}</span></td>
          ${splits.map((s) => {
            const r = cell(mode, policy, s);
            return html`<td>${r && r.overall.coverEm === best(s, 'coverEm') ? html`<b>${f(r.overall.coverEm)}</b>` : f(r?.overall.coverEm)}</td>
              <td>${r && r.overall.f1 === best(s, 'f1') ? html`<b>${f(r.overall.f1)}</b>` : f(r?.overall.f1)}</td>`;
          })}</tr>`;
      })}</tbody></table></div>
      <p class="note">Bold: the best of a column. ${rows[0] ? `${rows[0].overall.n} questions per split.` : ''} Greedy decoding, top-5 documents per search, as in the paper's evaluation.</p>`;
  }

  /** Searches per question by hop count, for each policy searching on its own: a trained policy searches about once per hop. */
  private renderHops(rows: EvalRow[]) {
    const search = rows.filter((r) => r.mode === 'search').sort((a, b) => POLICY_ORDER.indexOf(a.policy) - POLICY_ORDER.indexOf(b.policy) || a.split.localeCompare(b.split));
    if (!search.length) return nothing;
    const hops = [...new Set(search.flatMap((r) => Object.keys(r.byHops)))].sort((a, b) => Number(a) - Number(b));
    return html`<h3>Searches per question by hop count</h3>
      <div class="scroll"><table aria-label="Searches per question by hop count">
        <thead><tr><th class="left">policy (step)</th><th class="left">split</th>${hops.map((h) => html`<th>${h}-hop</th>`)}</tr></thead>
        <tbody>${search.map((r) => html`<tr><td class="left">${this.policyAt(r)}</td><td class="left">${r.split}</td>
          ${hops.map((h) => html`<td>${r.byHops[h] ? html`${r.byHops[h].searchesPerQuestion.toFixed(2)} <span class="note">(${r.byHops[h].n} q)</span>` : '-'}</td>`)}</tr>`)}</tbody>
      </table></div>`;
  }

  private renderResults() {
    const pg = this.pg!;
    const rows = [...pg.evalRows].sort((a, b) => (a.split < b.split ? -1 : a.split > b.split ? 1 : 0) || a.policy.localeCompare(b.policy) || EVAL_MODES.indexOf(a.mode) - EVAL_MODES.indexOf(b.mode));
    const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '-');
    const chartRows = rows.filter((r) => r.split === this.chartSplit);
    const templates = [...new Set(chartRows.flatMap((r) => Object.keys(r.byTemplate)))];
    const series: BarSeries[] = chartRows.map((r, i) => ({
      label: `${this.policyAt(r)}, ${r.mode}`, color: COLORS[i % COLORS.length]!,
      values: templates.map((t) => r.byTemplate[t]?.[this.metric] ?? NaN),
    }));
    return html`
      ${this.renderPaperTable(rows)}
      ${this.renderHops(rows)}
      <h3>Every metric: one row per split, policy and mode</h3>
      <div class="scroll"><table class="all" aria-label="Evaluation results">
        <thead><tr><th class="left">split</th><th class="left">policy</th><th class="left">mode</th><th>questions</th><th>Cover-EM</th><th>EM</th><th>F1</th>
          <th>format</th><th>searches / q</th><th>answer in docs</th><th>support found</th></tr></thead>
        <tbody>${rows.map((r) => html`<tr><td>${r.split}</td><td class="left">${this.policyAt(r)}</td><td class="left" title=${MODE_LABEL[r.mode]}>${r.mode}</td>
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

declare global {
  interface HTMLElementTagNameMap {
    'r1s-step-evaluate': R1sStepEvaluate;
  }
}
