/**
 * <r1s-pack-import>: bring your own data (Corpus step). Dataset files dropped or picked here
 * (HotpotQA / 2Wiki JSON, MuSiQue JSONL, FlashRAG, R1-Searcher files and corpus TSV, Search-R1's
 * parquet, the sample format, and corpus files) are imported in a worker into a pack stored in
 * the browser, with a progress bar and the import report (questions, documents, shards, every
 * rejected line with its reason). Stored packs are listed with "Use" (reopens the page on that pack) and "Delete".
 *
 * Each file's role (questions or corpus) is guessed from its name and can be changed.
 * Property: `pg` (the Playground).
 */
import { css, html, nothing } from 'lit';
import type { FileRole, RejectReason } from '../corpus/import/types.ts';
import { STORED_PACK_PREFIX } from '../corpus/pack-store.ts';
import { PlaygroundElement, sharedStyles } from './playground-element.ts';

interface PickedDataset {
  name: string;
  bytes: Uint8Array;
  role: FileRole;
}

/** A corpus file by its name (`corpus`, `paragraphs`, `wiki`, `docs`); anything else holds questions. */
export function guessRole(fileName: string): FileRole {
  return /corpus|paragraph|wiki|docs|documents/i.test(fileName) ? 'corpus' : 'questions';
}

const REJECTED_SHOWN = 50;

export class R1sPackImport extends PlaygroundElement {
  static override properties = { ...PlaygroundElement.properties, files: { state: true }, name: { state: true }, overwrite: { state: true }, dragging: { state: true } };
  declare files: PickedDataset[];
  declare name: string;
  declare overwrite: boolean;
  declare dragging: boolean;

  static override styles = [sharedStyles, css`
    .drop { border: 2px dashed var(--r1s-line-drop); border-radius: 8px; padding: 0.8rem; text-align: center; color: var(--r1s-ink-dim); background: var(--r1s-surface-drop); }
    .drop.over { border-color: var(--r1s-accent); background: var(--r1s-accent-pale); }
    input[type=file] { font-size: 0.85rem; max-width: 100%; }
    progress { width: min(100%, 24rem); }
    td.left { text-align: left; overflow-wrap: anywhere; }
  `];

  constructor() {
    super();
    this.files = [];
    this.name = 'my-pack';
    this.overwrite = false;
    this.dragging = false;
  }

  private async add(list: ArrayLike<File>): Promise<void> {
    const picked = await Promise.all(Array.from(list).map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()), role: guessRole(f.name) })));
    const names = new Set(picked.map((p) => p.name));
    this.files = [...this.files.filter((f) => !names.has(f.name)), ...picked];
  }

  private setRole(i: number, role: FileRole): void {
    this.files = this.files.map((f, j) => (j === i ? { ...f, role } : f));
  }

  private async run(): Promise<void> {
    const pg = this.pg!;
    await pg.importFiles(this.files.map((f) => ({ ...f, bytes: f.bytes.slice() })), this.name.trim(), this.overwrite);
    if (!pg.errors.packs) this.files = [];
  }

  override render() {
    const pg = this.pg;
    if (!pg) return nothing;
    const busy = pg.busy.has('packs');
    const p = pg.importProgress;
    return html`
      <p class="note">Import your own questions and documents (HotpotQA or 2WikiMultiHopQA JSON, MuSiQue JSONL, FlashRAG or Search-R1 files,
        R1-Searcher training files, or the sample format). They become a pack stored in this browser, searchable like the world pack.
        Training on it needs a base model pretrained on its text (<code>npm run cli -- pretrain --pack DIR</code>, then import the checkpoint in the Export step).</p>
      <div class="drop ${this.dragging ? 'over' : ''}" role="region" aria-label="Drop dataset files here"
        @dragover=${(e: DragEvent) => { e.preventDefault(); this.dragging = true; }} @dragleave=${() => (this.dragging = false)}
        @drop=${(e: DragEvent) => { e.preventDefault(); this.dragging = false; if (e.dataTransfer) void this.add(e.dataTransfer.files); }}>
        Drop dataset files here, or
        <label>choose files <input type="file" multiple accept=".json,.jsonl,.txt,.tsv,.parquet,application/json" aria-label="Choose dataset files" ?disabled=${busy}
          @change=${(e: Event) => { const input = e.target as HTMLInputElement; if (input.files) void this.add(input.files).then(() => (input.value = '')); }} /></label>
      </div>
      ${this.files.length ? html`
        <div class="scroll"><table aria-label="Files to import">
          <thead><tr><th class="left">file</th><th>size</th><th>holds</th><th><span class="sr-only">remove</span></th></tr></thead>
          <tbody>${this.files.map((f, i) => html`<tr><td class="left mono">${f.name}</td><td>${(f.bytes.byteLength / 1024).toFixed(0)} KB</td>
            <td><select aria-label=${`What ${f.name} holds`} @change=${(e: Event) => this.setRole(i, (e.target as HTMLSelectElement).value as FileRole)}>
              <option value="questions" ?selected=${f.role === 'questions'}>questions</option><option value="corpus" ?selected=${f.role === 'corpus'}>corpus</option></select></td>
            <td><button class="secondary" aria-label=${`Remove ${f.name}`} @click=${() => (this.files = this.files.filter((_, j) => j !== i))}>Remove</button></td></tr>`)}</tbody>
        </table></div>
        <div class="row">
          <label>Pack name <input aria-label="Pack name" .value=${this.name} @input=${(e: Event) => (this.name = (e.target as HTMLInputElement).value)} /></label>
          <label><input type="checkbox" .checked=${this.overwrite} @change=${(e: Event) => (this.overwrite = (e.target as HTMLInputElement).checked)} /> Replace a stored pack of that name</label>
          <button ?disabled=${busy || !this.name.trim()} @click=${() => void this.run()}>Import</button>
        </div>` : nothing}
      ${p ? html`<p role="status">${p.phase === 'read' ? `Reading ${p.file ?? ''}` : 'Matching supporting documents'}…
        <progress aria-label="Import progress" max=${p.total} .value=${p.done}></progress></p>` : nothing}
      ${pg.errors.packs ? html`<div class="alert" role="alert">${pg.errors.packs}</div>` : nothing}
      ${this.renderReport()}
      ${this.renderStored()}`;
  }

  private renderReport() {
    const r = this.pg!.importReport;
    if (!r) return nothing;
    const reasons = Object.entries(r.rejected.byReason).filter(([, n]) => n > 0) as [RejectReason, number][];
    return html`<section aria-label="Import report">
      <p role="status">Imported <b>${r.name}</b>: ${r.questions.toLocaleString()} questions (train ${r.splits.train}, test ${r.splits.test}, ood ${r.splits.ood}),
        ${r.documents.toLocaleString()} documents in ${r.shards} shard${r.shards === 1 ? '' : 's'}; ${r.rejected.total} line${r.rejected.total === 1 ? '' : 's'} rejected;
        ${r.answerNotInCorpus} question${r.answerNotInCorpus === 1 ? '' : 's'} whose answer appears nowhere in the documents (kept, marked).</p>
      <div class="scroll"><table aria-label="Files read">
        <thead><tr><th class="left">file</th><th>format found</th><th>records</th><th>accepted</th><th>rejected</th></tr></thead>
        <tbody>${r.files.map((f) => html`<tr><td class="left mono">${f.file}</td><td>${f.format}</td><td>${f.records}</td><td>${f.accepted}</td><td>${f.rejected}</td></tr>`)}</tbody>
      </table></div>
      ${r.rejected.total ? html`
        <p class="note">Rejected by reason: ${reasons.map(([k, n]) => `${k} ${n}`).join(', ')}.</p>
        <div class="scroll"><table aria-label="Rejected lines">
          <thead><tr><th class="left">file</th><th>line</th><th class="left">reason</th></tr></thead>
          <tbody>${r.rejected.records.slice(0, REJECTED_SHOWN).map((x) => html`<tr><td class="left mono">${x.file}</td><td>${x.line ?? (x.item !== undefined ? `item ${x.item}` : '')}</td><td class="left">${x.reason}: ${x.message}</td></tr>`)}</tbody>
        </table></div>
        ${r.rejected.records.length > REJECTED_SHOWN ? html`<p class="note">… and ${r.rejected.records.length - REJECTED_SHOWN} more.</p>` : nothing}` : nothing}
    </section>`;
  }

  private renderStored() {
    const pg = this.pg!;
    if (pg.storedPacks.length === 0) return nothing;
    return html`<div class="scroll"><table aria-label="Packs stored in this browser">
      <thead><tr><th class="left">pack</th><th>questions</th><th>documents</th><th>size</th><th class="left">source</th><th><span class="sr-only">actions</span></th></tr></thead>
      <tbody>${pg.storedPacks.map((s) => {
        const inUse = pg.config.pack === `${STORED_PACK_PREFIX}${s.name}`;
        return html`<tr><td class="left mono">${s.name}</td><td>${s.questions.toLocaleString()}</td><td>${s.documents.toLocaleString()}</td>
          <td>${(s.bytes / 1e6).toFixed(1)} MB</td><td class="left">${s.source}</td>
          <td>${inUse ? html`<span class="muted">in use</span>` : html`<button class="secondary" aria-label=${`Use pack ${s.name}`} @click=${() => pg.usePack(`${STORED_PACK_PREFIX}${s.name}`)}>Use</button>`}
            <button class="secondary" aria-label=${`Delete pack ${s.name}`} ?disabled=${inUse || pg.busy.has('packs')} @click=${() => void pg.deleteStoredPack(s.name)}>Delete</button></td></tr>`;
      })}</tbody>
    </table></div>
    ${pg.packIsStored ? html`<p><button class="secondary" @click=${() => pg.usePack('world')}>Back to the world pack</button></p>` : nothing}`;
  }
}

customElements.define('r1s-pack-import', R1sPackImport);

declare global {
  interface HTMLElementTagNameMap {
    'r1s-pack-import': R1sPackImport;
  }
}
