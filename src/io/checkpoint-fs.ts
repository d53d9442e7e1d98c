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
