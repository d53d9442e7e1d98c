/**
 * Checkpoint folders on disk (Node only). Writes go to a temporary sibling folder that is
 * renamed into place, so a crash never leaves a half-written checkpoint, and an existing
 * folder is replaced only when asked.
 */
import { mkdir, readFile, rename, rm, stat, writeFile, readdir } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from './checkpoint.ts';
import { addTagTokens } from './hf-model.ts';
import { importCheckpointFiles } from './import.ts';
import { isByteLevelBpe } from '../tokenizer/byte-level.ts';

/** Loads a checkpoint folder. @throws CheckpointError naming the file and field; Error for a missing folder. */
export async function loadCheckpointDir(dir: string): Promise<Checkpoint> {
  try {
    if (!(await stat(dir)).isDirectory()) throw new Error(`checkpoint: ${dir} is not a folder`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`checkpoint: folder ${dir} does not exist`);
    throw e;
  }
  return decodeCheckpoint(async (name) => {
    try {
      return new Uint8Array(await readFile(join(dir, name)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  });
}

/**
 * The folder a run starts from: one of our checkpoints (loadCheckpointDir), or a Hugging Face
 * model folder downloaded from the Hub (config.json, a byte-level BPE tokenizer.json, safetensors
 * weights, perhaps sharded or 16-bit; no trainer_state.json), imported (src/io/import.ts) with
 * the R1-Searcher tags added (src/io/hf-model.ts). Only the files the model needs are read.
 * @returns the checkpoint and one note per conversion (empty for our checkpoints).
 * @throws Error naming the file and field, as loadCheckpointDir and importCheckpointFiles do.
 */
export async function loadModelFolder(dir: string): Promise<{ checkpoint: Checkpoint; notes: string[]; imported: boolean }> {
  const read = async (name: string) => {
    try {
      return new Uint8Array(await readFile(join(dir, name)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  };
  const tokBytes = await read('tokenizer.json').catch(() => null);
  let byteLevel = false;
  try {
    byteLevel = !!tokBytes && isByteLevelBpe(JSON.parse(new TextDecoder().decode(tokBytes)));
  } catch { /* loadCheckpointDir reports the bad JSON */ }
  if (!byteLevel || (await read('trainer_state.json'))) return { checkpoint: await loadCheckpointDir(dir), notes: [], imported: false };
  const files = new Map<string, Uint8Array>();
  for (const name of ['config.json', 'tokenizer.json', 'model.safetensors', 'model.safetensors.index.json']) {
    const b = await read(name);
    if (b) files.set(name, b);
  }
  const index = files.get('model.safetensors.index.json');
  if (index && !files.has('model.safetensors')) {
    const map = (JSON.parse(new TextDecoder().decode(index)) as { weight_map?: Record<string, string> }).weight_map ?? {};
    for (const shard of new Set(Object.values(map))) {
      if (typeof shard !== 'string' || shard.includes('/') || shard.includes('\\') || shard.startsWith('.')) throw new Error(`import: model.safetensors.index.json names ${JSON.stringify(shard)}, not a file of the folder`);
      const b = await read(shard);
      if (b) files.set(shard, b);
    }
  }
  const { checkpoint, notes } = await importCheckpointFiles(files, { modelOnly: true });
  const tagged = addTagTokens(checkpoint);
  return { checkpoint: tagged.checkpoint, notes: [...notes, ...tagged.notes], imported: true };
}

/**
 * Writes a checkpoint folder atomically. `extra` files (metrics.jsonl, rollouts.json, ...) are
 * written beside the checkpoint's own. Refuses to replace an existing non-empty folder unless
 * `overwrite`.
 */
export async function saveCheckpointDir(dir: string, ckpt: Checkpoint, opts: { overwrite?: boolean; extra?: Map<string, Uint8Array | string> } = {}): Promise<void> {
  if (await nonEmptyDir(dir)) {
    if (!opts.overwrite) throw new Error(`checkpoint: ${dir} already exists and is not empty (nothing was written; pass --overwrite to replace it)`);
  }
  const files = encodeCheckpoint(ckpt);
  for (const [k, v] of opts.extra ?? []) files.set(k, typeof v === 'string' ? new TextEncoder().encode(v) : v);
  const parent = dirname(dir);
  await mkdir(parent, { recursive: true });
  const tmp = join(parent, `.${basename(dir)}.tmp-${process.pid}-${Date.now()}`);
  await mkdir(tmp, { recursive: true });
  try {
    for (const [name, bytes] of files) await writeFile(join(tmp, name), bytes);
    const old = join(parent, `.${basename(dir)}.old-${process.pid}-${Date.now()}`);
    const existed = await exists(dir);
    if (existed) await rename(dir, old);
    await rename(tmp, dir);
    if (existed) await rm(old, { recursive: true, force: true });
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

async function nonEmptyDir(p: string): Promise<boolean> {
  try {
    return (await readdir(p)).length > 0;
  } catch {
    return false;
  }
}
