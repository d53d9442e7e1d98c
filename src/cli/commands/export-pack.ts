/**
 * `export-pack --pack DIR --format search-r1|r1-searcher --out DIR [--checkpoint CKPT] [--data-source NAME] [--overwrite] [--json]`
 *
 * Writes a corpus pack in the files of a public trainer (issue 20; src/corpus/export/): Search-R1's
 * train.parquet / test.parquet / corpus.jsonl, or R1-Searcher's Stage-1 / Stage-2 / evaluation
 * question files and corpus.tsv, with a README.md giving the trainer's and the retriever's
 * commands and our settings mapped to their flags. The settings are the defaults of
 * src/rl/trainer.ts, or, with --checkpoint, those of the run that wrote the checkpoint (its
 * trainer_state.json) for that checkpoint's stage. The folder is written atomically (a
 * temporary sibling renamed into place); an existing --out is replaced only with --overwrite.
 * `npm run cli -- import` reads the folder back into the same pack.
 */
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { exportPack } from '../../corpus/export/export-pack.ts';
import { PACK_EXPORT_FORMATS, runSettingsSummary, type PackExportFormat } from '../../corpus/export/common.ts';
import { fsSource, loadPack } from '../../corpus/pack-loader.ts';
import { defaultRlSettings, type RlSettings } from '../../rl/trainer.ts';
import { log, parseFlags, required } from '../common.ts';

const USAGE = 'npm run cli -- export-pack --pack DIR --format search-r1|r1-searcher --out DIR [--checkpoint CKPT] [--data-source NAME] [--overwrite] [--json]';

/** `base` with the plain-object fields of `over` merged in, recursively (a run's settings as given). */
function merged<T>(base: T, over: unknown): T {
  if (typeof over !== 'object' || over === null || Array.isArray(over)) return base;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = typeof b === 'object' && b !== null && !Array.isArray(b) ? merged(b, v) : v;
  }
  return out as T;
}

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
  if (state.stage === 1 || state.stage === 2) out[state.stage] = merged(out[state.stage], state.settings);
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
  if (await exists(out) && !f.overwrite) throw new Error(`--out ${out} already exists (nothing was written; pass --overwrite to replace it)`);

  const t0 = performance.now();
  const settings = await stageSettings(f.checkpoint);
  const pack = await loadPack(fsSource(packDir));
  const files = exportPack(pack, format, {
    settings: runSettingsSummary(settings[1], settings[2]),
    ...(f['data-source'] !== undefined ? { dataSource: f['data-source'] } : {}),
  }, packDir);
  await atomicWriteDir(out, files);
  const listing = [...files].map(([name, b]) => ({ name, bytes: b.byteLength }));
  const seconds = (performance.now() - t0) / 1000;
  if (f.json) process.stdout.write(`${JSON.stringify({ pack: packDir, format, out, files: listing, seconds })}\n`);
  else log(`export-pack ${format}: ${listing.map((x) => `${x.name} ${(x.bytes / 1024).toFixed(1)} KB`).join(', ')} -> ${out} in ${seconds.toFixed(1)} s`);
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

const tmpName = (p: string, tag: string) => join(dirname(p), `.${basename(p)}.${tag}-${process.pid}-${Date.now()}`);

/** Writes the files into a temporary sibling folder, then swaps it into place (the old one removed after). */
async function atomicWriteDir(dir: string, files: ReadonlyMap<string, Uint8Array>): Promise<void> {
  await mkdir(dirname(resolve(dir)), { recursive: true });
  const tmp = tmpName(resolve(dir), 'tmp');
  await mkdir(tmp);
  try {
    for (const [name, bytes] of files) {
      await mkdir(dirname(join(tmp, name)), { recursive: true });
      await writeFile(join(tmp, name), bytes);
    }
    const old = (await exists(dir)) ? tmpName(resolve(dir), 'old') : null;
    if (old) await rename(dir, old);
    await rename(tmp, dir);
    if (old) await rm(old, { recursive: true, force: true });
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}
