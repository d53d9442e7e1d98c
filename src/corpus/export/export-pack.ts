/**
 * `exportPack`: a corpus pack in the files of a public trainer (issue 20), name -> bytes, with
 * a README.md that says how to run the trainer and its retriever on them
 * (src/corpus/export/readme.ts). Search-R1: src/corpus/export/search-r1.ts; R1-Searcher:
 * src/corpus/export/r1-searcher.ts. The CLI writes the map as a folder (`export-pack`), the page
 * as a zip; `npm run cli -- import` reads the folder back into the same pack.
 */
import { parquetMetadata } from 'hyparquet';
import type { Pack } from '../types.ts';
import { PACK_EXPORT_FORMATS, type PackExportFormat, type PackExportOptions } from './common.ts';
import { r1SearcherFiles } from './r1-searcher.ts';
import { packExportReadme, type ExportedFileInfo } from './readme.ts';
import { searchR1Files } from './search-r1.ts';

const WHAT: Readonly<Record<string, string>> = {
  'train.parquet': 'training questions (verl rows)',
  'test.parquet': 'test and out-of-domain questions (verl rows)',
  'corpus.jsonl': 'retrieval corpus `{id, contents}`',
  'data/training_set/stage_1.jsonl': 'Stage-1 questions',
  'data/training_set/stage_2.jsonl': 'Stage-2 questions',
  'corpus.tsv': 'retrieval corpus `id<TAB>Title: .. Text: ..`',
};

/** Rows of an exported file: parquet rows from its footer, else lines. */
function rowsOf(name: string, bytes: Uint8Array): number {
  if (name.endsWith('.parquet')) return Number(parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer).num_rows);
  let n = 0;
  for (const b of bytes) if (b === 0x0a) n++;
  return n;
}

/**
 * The export's files in a fixed order, README.md last. `packDir` is how the README's commands
 * name the pack (the CLI's --pack; the page: the pack's name).
 * A pack without training questions (an evaluation set) gets empty training files.
 * @throws Error for an unknown format or a pack without documents.
 */
export function exportPack(pack: Pack, format: PackExportFormat, opts: PackExportOptions, packDir = pack.manifest.name): Map<string, Uint8Array> {
  if (!PACK_EXPORT_FORMATS.includes(format)) throw new Error(`export-pack: format must be ${PACK_EXPORT_FORMATS.join(' or ')}, got ${JSON.stringify(format)}`);
  if (pack.documents.length === 0) throw new Error(`export-pack: pack ${pack.manifest.name} has no documents`);
  const files = format === 'search-r1' ? searchR1Files(pack, opts) : r1SearcherFiles(pack, opts.settings);
  const infos: ExportedFileInfo[] = [...files].map(([name, bytes]) => ({
    name, bytes: bytes.byteLength, rows: rowsOf(name, bytes),
    what: WHAT[name] ?? (name.includes('_ood') ? 'out-of-domain evaluation questions' : 'test evaluation questions'),
  }));
  files.set('README.md', new TextEncoder().encode(packExportReadme(pack, format, opts.settings, infos, packDir)));
  return files;
}
