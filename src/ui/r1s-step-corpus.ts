/**
 * <r1s-step-corpus>: step 1 of the guided path. The pack's shards (size, load state), the
 * search engine the rollouts query (ranked documents with BM25 scores and the matching words
 * highlighted), the question browser (template, hops, answer, supporting documents, and the
 * source's decomposition, evidence and supporting sentences: <r1s-question-structure>), the
 * import of the learner's own datasets (<r1s-pack-import>) and the export of the pack for the
 * papers' trainers (<r1s-pack-export>).
 *
 * Property: `pg` (the Playground).
 */
import { css, html, nothing } from 'lit';
import type { Question, Split } from '../corpus/types.ts';
import { highlightSegments } from './highlight.ts';
import { PlaygroundElement, sharedStyles } from './playground-element.ts';
import './r1s-pack-export.ts';
import './r1s-pack-import.ts';
import './r1s-question-structure.ts';

const PAGE = 15;

export class R1sStepCorpus extends PlaygroundElement {
  static override properties = {
    ...PlaygroundElement.properties, query: { state: true }, k: { state: true }, split: { state: true }, template: { state: true },
    hops: { state: true }, page: { state: true }, open: { state: true },
  };
  declare query: string;
  declare k: number;
  declare split: Split | '';
  declare template: string;
  declare hops: number;
  declare page: number;
  /** Question ids whose supporting documents are shown. */
  declare open: Set<string>;

  static override styles = [sharedStyles, css`
    mark { background: var(--r1s-mark); color: inherit; border-radius: 2px; padding: 0 1px; }
    ol.hits { padding-left: 1.4rem; margin: 0.4rem 0; }
    ol.hits li { margin-bottom: 0.55rem; }
    .title { font-weight: 600; }
    .meta { font-size: 0.8rem; color: var(--r1s-muted); font-variant-numeric: tabular-nums; }
    .doc { font-size: 0.88rem; line-height: 1.4; overflow-wrap: anywhere; }
    input[type=search] { width: min(100%, 26rem); }
    td.q { text-align: left; max-width: 24rem; overflow-wrap: anywhere; }
    .support { text-align: left; font-size: 0.84rem; background: var(--r1s-surface-alt); }
    .support p { margin: 0.2rem 0; overflow-wrap: anywhere; }
  `];

  constructor() {
    super();
    this.query = 'Kreimpon born';
    this.k = 5;
    this.split = 'train';
    this.template = '';
    this.hops = 0;
    this.page = 0;
    this.open = new Set();
  }

  override render() {
    const pg = this.pg;
    if (!pg) return nothing;
    const m = pg.pack?.manifest;
    return html`
      <section aria-labelledby="shards-h">
        <h3 id="shards-h">The corpus pack${m ? html`: ${m.name}` : nothing}</h3>
        ${m ? html`<p class="note">${m.description}</p><p class="note">Source: ${m.source}. Licence: ${m.license}.</p>` : nothing}
        ${pg.pack
          ? html`<p class="note">${pg.pack.documents.toLocaleString()} documents and ${pg.pack.questions.toLocaleString()} questions; every file's SHA-256 was checked;
              read in ${(pg.pack.loadMs / 1000).toFixed(2)} s, indexed (one BM25 index over all shards) in ${(pg.pack.indexMs / 1000).toFixed(2)} s.</p>`
          : html`<p class="note" role="status">${pg.shardsTotal ? `${pg.shardsVerified} of ${pg.shardsTotal} shards verified…` : 'Reading the manifest…'}</p>`}
        ${pg.shards.length
          ? html`<div class="scroll"><table aria-label="Shards">
              <thead><tr><th>shard</th><th>documents</th><th>size</th><th>state</th></tr></thead>
              <tbody>${pg.shards.map((s) => html`<tr><td class="mono">${s.file}</td><td>${s.documents.toLocaleString()}</td><td>${(s.bytes / 1024).toFixed(0)} KB</td>
                <td class=${s.state === 'verified' ? 'ok' : 'muted'}>${s.state === 'verified' ? 'loaded, hash verified' : 'waiting'}</td></tr>`)}</tbody></table></div>`
          : nothing}
      </section>
      <section aria-labelledby="search-h">
        <h3 id="search-h">Search the corpus</h3>
        <p class="note">The same engine the policy calls between <code>&lt;|begin_of_query|&gt;</code> and <code>&lt;|end_of_query|&gt;</code>: BM25 over titles and texts,
          words matched exactly after normalization. Highlighted words are the query terms that scored.</p>
        <form class="row" @submit=${(e: Event) => { e.preventDefault(); void pg.runSearch(this.query, this.k); }}>
          <label for="q">Query</label>
          <input id="q" type="search" .value=${this.query} @input=${(e: Event) => (this.query = (e.target as HTMLInputElement).value)} />
          <label>top-k <select aria-label="Documents to return" @change=${(e: Event) => (this.k = Number((e.target as HTMLSelectElement).value))}>
            ${[3, 5, 10].map((k) => html`<option value=${k} ?selected=${k === this.k}>${k}</option>`)}</select></label>
          <button type="submit" ?disabled=${pg.phase !== 'ready' || pg.busy.has('search')}>Search</button>
        </form>
        ${pg.errors.search ? html`<div class="alert" role="alert">${pg.errors.search}</div>` : nothing}
        ${pg.searchHits
          ? pg.searchHits.length === 0
            ? html`<p class="note" role="status">No document matches "${pg.searchQuery}": a rollout would get a block holding "none".</p>`
            : html`<p class="note" role="status">${pg.searchHits.length} documents for "${pg.searchQuery}" in ${pg.searchMs.toFixed(1)} ms.</p>
              <ol class="hits" aria-label="Search results">${pg.searchHits.map((h) => html`<li>
                <span class="title">${this.marked(h.title, pg.searchQuery)}</span>
                <span class="meta">(${h.id}, score ${h.score.toFixed(3)})</span>
                <div class="doc">${this.marked(h.text, pg.searchQuery)}</div></li>`)}</ol>`
          : nothing}
      </section>
      <section aria-labelledby="questions-h">
        <h3 id="questions-h">Questions</h3>
        <p class="note">Training draws from <b>train</b>; evaluation uses <b>test</b> (same templates) and <b>ood</b> (templates never trained on).
          Multi-hop questions need a chain of documents: the answer of one search is the subject of the next.</p>
        ${this.renderQuestions()}
      </section>
      <section aria-labelledby="import-h">
        <h3 id="import-h">Your own data</h3>
        <r1s-pack-import .pg=${pg}></r1s-pack-import>
      </section>
      <section aria-labelledby="export-pack-h">
        <h3 id="export-pack-h">Take this pack to a cluster</h3>
        <r1s-pack-export .pg=${pg}></r1s-pack-export>
      </section>`;
  }

  private marked(text: string, query: string) {
    return highlightSegments(text, query).map((s) => (s.match ? html`<mark>${s.text}</mark>` : s.text));
  }

  private renderQuestions() {
    const pg = this.pg!;
    const inSplit = pg.questions.filter((q) => !this.split || q.split === this.split);
    const templates = [...new Set(inSplit.map((q) => q.template))];
    const hopsList = [...new Set(inSplit.map((q) => q.hops))].sort();
    const list = inSplit.filter((q) => (!this.template || q.template === this.template) && (!this.hops || q.hops === this.hops));
    const pages = Math.max(1, Math.ceil(list.length / PAGE));
    const page = Math.min(this.page, pages - 1);
    const shown = list.slice(page * PAGE, page * PAGE + PAGE);
    const filter = (f: () => void) => { f(); this.page = 0; };
    return html`
      <div class="row">
        <label>Split <select aria-label="Question split" @change=${(e: Event) => filter(() => { this.split = (e.target as HTMLSelectElement).value as Split | ''; this.template = ''; })}>
          ${(['train', 'test', 'ood', ''] as const).map((s) => html`<option value=${s} ?selected=${s === this.split}>${s || 'all'}</option>`)}</select></label>
        <label>Template <select aria-label="Question template" @change=${(e: Event) => filter(() => (this.template = (e.target as HTMLSelectElement).value))}>
          <option value="" ?selected=${!this.template}>all</option>
          ${templates.map((t) => html`<option value=${t} ?selected=${t === this.template}>${t}</option>`)}</select></label>
        <label>Hops <select aria-label="Question hops" @change=${(e: Event) => filter(() => (this.hops = Number((e.target as HTMLSelectElement).value)))}>
          <option value="0" ?selected=${!this.hops}>all</option>
          ${hopsList.map((h) => html`<option value=${h} ?selected=${h === this.hops}>${h}</option>`)}</select></label>
        <span class="note">${list.length.toLocaleString()} questions</span>
      </div>
      <div class="scroll"><table aria-label="Questions">
        <thead><tr><th class="left">question</th><th class="left">template</th><th>hops</th><th class="left">answer</th><th class="left">supporting documents</th></tr></thead>
        <tbody>${shown.map((q) => this.questionRow(q))}</tbody>
      </table></div>
      <div class="row">
        <button class="secondary" @click=${() => (this.page = page - 1)} ?disabled=${page === 0}>Previous page</button>
        <span class="note">page ${page + 1} of ${pages}</span>
        <button class="secondary" @click=${() => (this.page = page + 1)} ?disabled=${page >= pages - 1}>Next page</button>
      </div>
      ${pg.errors.documents ? html`<div class="alert" role="alert">${pg.errors.documents}</div>` : nothing}`;
  }

  private questionRow(q: Question) {
    const pg = this.pg!;
    const isOpen = this.open.has(q.id);
    const toggle = () => {
      const next = new Set(this.open);
      if (isOpen) next.delete(q.id);
      else {
        next.add(q.id);
        void pg.loadDocuments();
      }
      this.open = next;
    };
    return html`<tr>
        <td class="q">${q.question}<r1s-question-structure .question=${q}></r1s-question-structure></td><td class="left">${q.template}</td><td>${q.hops}</td><td class="left">${q.answers.join(' / ')}</td>
        <td class="left">${q.supportingIds.length
          ? html`<button class="secondary" aria-expanded=${isOpen ? 'true' : 'false'} aria-label=${`Supporting documents of ${q.id}`} @click=${toggle}>${q.supportingIds.join(', ')}</button>`
          : html`<span class="muted">unknown</span>`}</td>
      </tr>
      ${isOpen
        ? html`<tr><td colspan="5" class="support">${q.supportingIds.map((id) => {
            const d = pg.documents?.get(id);
            return html`<p><b>${id}</b> ${d ? html`<b>${d.title}</b>: ${this.marked(d.text, q.answers.join(' '))}` : pg.busy.has('documents') ? 'loading…' : 'not found'}</p>`;
          })}<p class="note">The gold answer is highlighted.</p></td></tr>`
        : nothing}`;
  }
}

customElements.define('r1s-step-corpus', R1sStepCorpus);

declare global {
  interface HTMLElementTagNameMap {
    'r1s-step-corpus': R1sStepCorpus;
  }
}
