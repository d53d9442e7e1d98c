/**
 * Checkpoint folders on disk (Node only). Writes go to a temporary sibling folder that is
 * swapped in when complete, so a crash never leaves a half-written checkpoint, and an existing
 * folder is replaced only when asked and only when it is a checkpoint ({@link CHECKPOINT_FOLDER}).
 * Reads never leave the folder: a file that is a symbolic link to somewhere else is refused.
 */
import { readFile, realpath, stat, writeFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { OutsideFolderError, resolveInside } from '../util/folder-path.ts';
import { checkOutputFolder, listEntries, replaceFolder, type FolderKind } from '../util/output-folder.ts';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint, type Checkpoint } from './checkpoint.ts';
import { addTagTokens } from './hf-model.ts';
import { importCheckpointFiles } from './import.ts';
import { isByteLevelBpe } from '../tokenizer/byte-level.ts';

/**
 * Every file a checkpoint folder may hold: the model and trainer files (src/io/checkpoint.ts)
 * and what the runners write beside them.
 */
export const CHECKPOINT_FILE_NAMES: readonly string[] = [
  'config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'optimizer.safetensors', 'trainer_state.json',
  'metrics.jsonl', 'rollouts.json', 'eval.json',
];

/**
 * What `--overwrite` may replace with a checkpoint: a folder with a config.json whose every
 * entry is a checkpoint file. A pack, an export or a user's own files are refused, named.
 */
export const CHECKPOINT_FOLDER: FolderKind = {
  what: 'checkpoint',
  async recognise(_dir: string, entries: string[]): Promise<string | null> {
    if (!entries.includes('config.json')) return `it has no config.json (it holds ${listEntries(entries)})`;
    const foreign = entries.filter((e) => !CHECKPOINT_FILE_NAMES.includes(e));
    return foreign.length ? `it holds ${listEntries(foreign)}, which no checkpoint holds` : null;
  },
};

const NODE_FS_PATH = { realpath, resolve, join, sep };

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
      return new Uint8Array(await readFile(await resolveInside(NODE_FS_PATH, dir, name)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      if (e instanceof OutsideFolderError) throw new CheckpointError(`${name}: ${e.message}`);
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
 * `overwrite`, and even then unless it is a checkpoint folder ({@link CHECKPOINT_FOLDER}).
 * @throws OutputFolderError naming the folder; CheckpointError for weights that are not finite
 *   (nothing is written then).
 */
export async function saveCheckpointDir(dir: string, ckpt: Checkpoint, opts: { overwrite?: boolean; extra?: Map<string, Uint8Array | string> } = {}): Promise<void> {
  const files = encodeCheckpoint(ckpt);
  for (const [k, v] of opts.extra ?? []) files.set(k, typeof v === 'string' ? new TextEncoder().encode(v) : v);
  await checkOutputFolder(dir, CHECKPOINT_FOLDER, { overwrite: opts.overwrite, hint: 'pass --overwrite to replace it' });
  await replaceFolder(dir, async (tmp) => {
    for (const [name, bytes] of files) await writeFile(join(tmp, name), bytes);
  });
}
