/**
 * <r1s-pack-export>: take the pack to a cluster (Corpus step; issue 20). Downloads the loaded
 * pack as a zip in the files of Search-R1 (verl) or R1-Searcher (OpenRLHF-RAG), with a README
 * that gives the trainer's and the retriever's commands and maps the page's training settings
 * (the URL's, as the Stage 1 and Stage 2 buttons would run them) to the trainer's flags: the
 * same files as `npm run cli -- export-pack` (src/corpus/export/). The exporter, the parquet
 * writer and the settings code load only on the first click.
 *
 * Property: `pg` (the Playground).
 */
import { css, html, nothing } from 'lit';
import type { PackExportFormat } from '../corpus/export/common.ts';
import { STORED_PACK_PREFIX } from '../corpus/pack-store.ts';
import { zipFiles } from '../io/zip.ts';
import { downloadBytes } from './files.ts';
import { PlaygroundElement, sharedStyles } from './playground-element.ts';
import { stageOverride } from './url-config.ts';

const LABELS: Readonly<Record<PackExportFormat, string>> = { 'search-r1': 'Search-R1 (verl)', 'r1-searcher': 'R1-Searcher (OpenRLHF)' };

export class R1sPackExport extends PlaygroundElement {
  static override properties = { ...PlaygroundElement.properties, busy: { state: true }, error: { state: true }, done: { state: true } };
  declare busy: PackExportFormat | null;
  declare error: string | null;
  declare done: string | null;

  static override styles = [sharedStyles, css`.files { font-size: 0.84rem; }`];

  constructor() {
    super();
    this.busy = null;
    this.error = null;
    this.done = null;
  }

  private async download(format: PackExportFormat): Promise<void> {
    const pg = this.pg;
    if (!pg?.pack || this.busy) return;
    this.busy = format;
    this.error = null;
    this.done = null;
    try {
      await pg.loadDocuments();
      if (!pg.documents) throw new Error(pg.errors.documents ?? 'the documents could not be read');
      const [{ exportPack }, { runSettingsSummary, mergeSettings }] = await Promise.all([
        import('../corpus/export/export-pack.ts'), import('../rl/settings.ts'),
      ]);
      const c = pg.config;
      const settings = runSettingsSummary(mergeSettings(1, stageOverride(c, 1)), mergeSettings(2, stageOverride(c, 2)), { stage1: c.stage1Steps, stage2: c.stage2Steps });
      const name = pg.pack.manifest.name;
      // How the README's commands name the pack: a shipped pack's folder; an imported one lives only
      // in this browser (the README's own import command makes a folder of it).
      const packDir = c.pack.startsWith(STORED_PACK_PREFIX) ? 'PACK_DIR' : `public/corpus/${c.pack}`;
      const files = exportPack({ manifest: pg.pack.manifest, documents: [...pg.documents.values()], questions: pg.questions }, format, { settings }, packDir);
      const root = `${name}-${format}`;
      downloadBytes(zipFiles(files, { root }), `${root}.zip`);
      this.done = `${root}.zip: ${[...files.keys()].join(', ')}`;
    } catch (e) {
      this.error = `Export for ${LABELS[format]} failed: ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      this.busy = null;
    }
  }

  override render() {
    const pg = this.pg;
    if (!pg) return nothing;
    return html`
      <p class="note">Run the same experiment at scale: this pack's questions and documents in the files the papers' trainers read,
        with a README giving their commands, the retriever to run (theirs, or <code>serve-search</code> on this pack) and this page's
        settings next to their flags and the paper's values.</p>
      <div class="row">
        ${(['search-r1', 'r1-searcher'] as const).map((f) => html`<button class="secondary" ?disabled=${!pg.pack || this.busy !== null}
          @click=${() => void this.download(f)}>${this.busy === f ? 'Exporting…' : `Download for ${LABELS[f]} (zip)`}</button>`)}
      </div>
      ${this.done ? html`<p class="note files" role="status">${this.done}</p>` : nothing}
      ${this.error ? html`<div class="alert" role="alert">${this.error}</div>` : nothing}`;
  }
}

customElements.define('r1s-pack-export', R1sPackExport);

declare global {
  interface HTMLElementTagNameMap {
    'r1s-pack-export': R1sPackExport;
  }
}
