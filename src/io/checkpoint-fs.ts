/**
 * Checkpoint folders on disk (Node only). Writes go to a temporary sibling folder that is
 * renamed into place, so a crash never leaves a half-written checkpoint, and an existing
 * folder is replaced only when asked.
 */
import { mkdir, readFile, rename, rm, stat, writeFile, readdir } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from './checkpoint.ts';

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
