/**
 * `export-pack --pack DIR --format search-r1|r1-searcher --out DIR [--checkpoint CKPT] [--data-source NAME] [--overwrite] [--json]`
 *
 * Writes a corpus pack in the files of a public trainer (issue 20; src/corpus/export/): Search-R1's
 * train.parquet / test.parquet / corpus.jsonl, or R1-Searcher's Stage-1 / Stage-2 / evaluation
 * question files and corpus.tsv, with a README.md giving the trainer's and the retriever's
 * commands and our settings mapped to their flags. The settings are the defaults of
 * src/rl/trainer.ts, or, with --checkpoint, those of the run that wrote the checkpoint (its
 * trainer_state.json) for that checkpoint's stage. The folder is written atomically (a
 * temporary sibling renamed into place); an existing --out is replaced only with --overwrite,
 * and only when it is an earlier pack export (checked before any work).
 * `npm run cli -- import` reads the folder back into the same pack.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { checkOutputFolder, listEntries, replaceFolder, type FolderKind } from '../../util/output-folder.ts';
import { exportPack } from '../../corpus/export/export-pack.ts';
import { PACK_EXPORT_FORMATS, type PackExportFormat } from '../../corpus/export/common.ts';
import { runSettingsSummary } from '../../rl/settings.ts';
import { fsSource, loadPack } from '../../corpus/pack-loader.ts';
import { defaultRlSettings, storedRlSettings, type RlSettings } from '../../rl/settings.ts';
import { log, parseFlags, required } from '../common.ts';

/** Every top-level entry an export of either format holds (README.md always). */
const EXPORT_ENTRIES = ['README.md', 'train.parquet', 'test.parquet', 'corpus.jsonl', 'corpus.tsv', 'data'];

/** What `--overwrite` may replace: an earlier export-pack folder, and nothing else. */
const PACK_EXPORT_FOLDER: FolderKind = {
  what: 'pack export',
  async recognise(_dir: string, entries: string[]): Promise<string | null> {
    if (!entries.includes('README.md')) return `it has no README.md (it holds ${listEntries(entries)})`;
    const foreign = entries.filter((e) => !EXPORT_ENTRIES.includes(e));
    return foreign.length ? `it holds ${listEntries(foreign)}, which no pack export holds` : null;
  },
};

const USAGE = 'npm run cli -- export-pack --pack DIR --format search-r1|r1-searcher --out DIR [--checkpoint CKPT] [--data-source NAME] [--overwrite] [--json]';

/** The two stages' settings: defaults, with a checkpoint's own stage replaced by its run's settings. */
async function stageSettings(checkpoint: string | undefined): Promise<{ 1: RlSettings; 2: RlSettings }> {
  const out = { 1: defaultRlSettings(1), 2: defaultRlSettings(2) };
  if (!checkpoint) return out;
  const path = join(checkpoint, 'trainer_state.json');
  let state: { stage?: unknown; settings?: unknown };
  try {
    state = JSON.parse(await readFile(path, 'utf8')) as typeof state;
  } catch (e) {
    throw new Error(`--checkpoint: cannot read ${path} (${(e as Error).message})`);
  }
  if (state.stage === 1 || state.stage === 2) out[state.stage] = storedRlSettings(state.stage, state.settings, `--checkpoint: ${path} settings`);
  else throw new Error(`--checkpoint: ${path} is a stage-${String(state.stage)} checkpoint; its settings are not RL settings (give a Stage 1 or 2 checkpoint)`);
  return out;
}

export async function run(argv: string[]): Promise<void> {
  const f = parseFlags(argv, {
    pack: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' }, checkpoint: { type: 'string' },
    'data-source': { type: 'string' }, overwrite: { type: 'boolean' }, json: { type: 'boolean' },
  }, USAGE);
  const packDir = required(f.pack, 'pack');
  const format = required(f.format, 'format') as PackExportFormat;
  if (!PACK_EXPORT_FORMATS.includes(format)) throw new Error(`--format must be ${PACK_EXPORT_FORMATS.join(' or ')}, got "${f.format}"`);
  if (f['data-source'] !== undefined && format !== 'search-r1') throw new Error('--data-source is a Search-R1 setting (--format search-r1)');
  const out = required(f.out, 'out');
  if (resolve(out) === resolve(packDir)) throw new Error('--out must differ from --pack');
  // Before any work: --overwrite replaces only an earlier pack export (issue 18's output rule).
  await checkOutputFolder(out, PACK_EXPORT_FOLDER, { overwrite: !!f.overwrite, inputs: [packDir], hint: 'pass --overwrite to replace it' });

  const t0 = performance.now();
  const settings = await stageSettings(f.checkpoint);
  const pack = await loadPack(fsSource(packDir));
  const files = exportPack(pack, format, {
    settings: runSettingsSummary(settings[1], settings[2]),
    ...(f['data-source'] !== undefined ? { dataSource: f['data-source'] } : {}),
  }, packDir);
  await replaceFolder(out, async (tmp) => {
    for (const [name, bytes] of files) {
      await mkdir(dirname(join(tmp, name)), { recursive: true });
      await writeFile(join(tmp, name), bytes);
    }
  });
  const listing = [...files].map(([name, b]) => ({ name, bytes: b.byteLength }));
  const seconds = (performance.now() - t0) / 1000;
  if (f.json) process.stdout.write(`${JSON.stringify({ pack: packDir, format, out, files: listing, seconds })}\n`);
  else log(`export-pack ${format}: ${listing.map((x) => `${x.name} ${(x.bytes / 1024).toFixed(1)} KB`).join(', ')} -> ${out} in ${seconds.toFixed(1)} s`);
}
