/**
 * `export --checkpoint CKPT --format hf|onnx --out PATH [--kv-cache] [--zip] [--overwrite] [--json]`:
 * writes the Hugging Face folder or the ONNX model of a checkpoint (src/onnx/export-folder.ts),
 * as a folder at PATH, or with --zip as one zip file at PATH. With --kv-cache (onnx only) the
 * ONNX model also takes and returns the attention keys and values (past_key_values.{l}.key/value
 * in, present.{l}.key/value out), for decoding one token per call as transformers.js does. The model card reads the
 * checkpoint folder's trainer_state.json, eval.json and metrics.jsonl when present.
 *
 * Writes are atomic (a temporary sibling renamed into place) and an existing PATH is replaced
 * only with --overwrite.
 */
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { loadCheckpointDir } from '../../io/checkpoint-fs.ts';
import { EXPORT_FORMATS, exportFiles, type ExportFormat } from '../../onnx/export-folder.ts';
import { zipFiles } from '../../io/zip.ts';
import { checkOutputFolder, listEntries, type FolderKind } from '../../util/output-folder.ts';
import { log, parseFlags, required } from '../common.ts';

const USAGE = 'npm run cli -- export --checkpoint CKPT --format hf|onnx --out PATH [--kv-cache] [--zip] [--overwrite] [--json]';

export async function run(argv: string[]): Promise<void> {
  const f = parseFlags(argv, {
    checkpoint: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' },
    zip: { type: 'boolean' }, overwrite: { type: 'boolean' }, json: { type: 'boolean' }, 'kv-cache': { type: 'boolean' },
  }, USAGE);
  const dir = required(f.checkpoint, 'checkpoint');
  const format = required(f.format, 'format') as ExportFormat;
  if (!EXPORT_FORMATS.includes(format)) throw new Error(`--format must be ${EXPORT_FORMATS.join(' or ')}, got "${f.format}"`);
  if (f['kv-cache'] && format !== 'onnx') throw new Error(`--kv-cache needs --format onnx (the ${format} export has no graph to add a cache to)`);
  const out = required(f.out, 'out');
  if (resolve(out) === resolve(dir)) throw new Error('--out must differ from --checkpoint');
  // Refuse before the (possibly slow) export, so a mistake costs nothing.
  const existing = await kindOf(out);
  if (existing && !f.overwrite) throw new Error(`--out ${out} already exists (nothing was written; pass --overwrite to replace it)`);
  if (existing === 'dir' && f.zip) throw new Error(`--out ${out} is a folder; with --zip it must be a file path`);
  if (existing === 'file' && !f.zip) throw new Error(`--out ${out} is a file; without --zip it must be a folder path`);
  // --overwrite replaces only an earlier export (never a checkpoint, a pack or other files).
  if (existing === 'dir') await checkOutputFolder(out, EXPORT_FOLDER, { overwrite: true, inputs: [dir] });
  if (existing === 'file' && !(await isZip(out))) throw new Error(`--out ${out} is not a zip file; --overwrite replaces only an earlier export (nothing was written)`);

  const t0 = performance.now();
  const ckpt = await loadCheckpointDir(dir);
  const files = exportFiles(ckpt, format, {
    name: basename(resolve(dir)),
    ...(await optional(join(dir, 'eval.json'), 'evalJson')),
    ...(await optional(join(dir, 'metrics.jsonl'), 'metricsJsonl')),
    ...(f['kv-cache'] ? { kvCache: true } : {}),
  });
  if (f.zip) await atomicWriteFile(out, zipFiles(files, { root: basename(out).replace(/\.zip$/i, '') }));
  else await atomicWriteDir(out, files);
  const seconds = (performance.now() - t0) / 1000;
  const listing = [...files].map(([name, b]) => ({ name, bytes: b.length }));
  const bytes = f.zip ? (await stat(out)).size : listing.reduce((s, x) => s + x.bytes, 0);
  if (f.json) process.stdout.write(`${JSON.stringify({ checkpoint: dir, format, out, zip: !!f.zip, files: listing, bytes, seconds })}\n`);
  else log(`export ${format}: ${listing.length} files, ${(bytes / 1e6).toFixed(2)} MB -> ${out}${f.zip ? ' (zip)' : ''} in ${seconds.toFixed(1)} s`);
}

/** Names an export folder may hold (src/onnx/export-folder.ts; `onnx/` for the Hub layout). */
const EXPORT_NAMES = new Set(['README.md', 'config.json', 'generation_config.json', 'model.safetensors', 'model.onnx', 'onnx', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']);

/** An earlier export: config.json and tokenizer_config.json (a checkpoint has no tokenizer_config.json), nothing else foreign. */
const EXPORT_FOLDER: FolderKind = {
  what: 'export',
  async recognise(_dir: string, entries: string[]): Promise<string | null> {
    if (!entries.includes('config.json') || !entries.includes('tokenizer_config.json')) return `it has no config.json and tokenizer_config.json (it holds ${listEntries(entries)})`;
    const foreign = entries.filter((e) => !EXPORT_NAMES.has(e));
    return foreign.length ? `it holds ${listEntries(foreign)}, which no export holds` : null;
  },
};

/** Whether a file starts with a zip local-file header. */
async function isZip(p: string): Promise<boolean> {
  const h = await open(p, 'r');
  try {
    const b = Buffer.alloc(4);
    await h.read(b, 0, 4, 0);
    return b.readUInt32LE(0) === 0x04034b50;
  } finally {
    await h.close();
  }
}

async function kindOf(p: string): Promise<'file' | 'dir' | null> {
  try {
    return (await stat(p)).isDirectory() ? 'dir' : 'file';
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

async function optional<K extends string>(path: string, key: K): Promise<Partial<Record<K, Uint8Array>>> {
  try {
    return { [key]: new Uint8Array(await readFile(path)) } as Record<K, Uint8Array>;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
}

const tmpName = (p: string, tag: string) => join(dirname(p), `.${basename(p)}.${tag}-${process.pid}-${Date.now()}`);

/** Writes a folder into a temporary sibling, then swaps it into place. */
async function atomicWriteDir(dir: string, files: ReadonlyMap<string, Uint8Array>): Promise<void> {
  await mkdir(dirname(dir), { recursive: true });
  const tmp = tmpName(dir, 'tmp');
  await mkdir(tmp);
  try {
    for (const [name, bytes] of files) {
      await mkdir(dirname(join(tmp, name)), { recursive: true }); // onnx/model.onnx
      await writeFile(join(tmp, name), bytes);
    }
    await swapIn(tmp, dir);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

async function atomicWriteFile(path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tmpName(path, 'tmp');
  try {
    await writeFile(tmp, bytes);
    await swapIn(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Renames `tmp` to `dest`; an existing `dest` (allowed by --overwrite) is moved aside first and removed after. */
async function swapIn(tmp: string, dest: string): Promise<void> {
  const old = (await kindOf(dest)) ? tmpName(dest, 'old') : null;
  if (old) await rename(dest, old);
  await rename(tmp, dest);
  if (old) await rm(old, { recursive: true, force: true });
}
