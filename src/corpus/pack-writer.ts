/**
 * Writes a corpus pack to a directory: the files of serializePack (src/corpus/pack-serialize.ts,
 * which this module re-exports). Generic: any generator or importer can use it. Writing goes
 * to a temporary sibling directory that is renamed into place at the end: a failure leaves
 * nothing partial. Node only (node:fs).
 */
import { chmod, mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { PackManifest } from './types.ts';
import { serializePack, toBytes, type PackSpec } from './pack-serialize.ts';

export * from './pack-serialize.ts';

/** Options of {@link writePack}. */
export interface WritePackOptions {
  /** Replace an existing non-empty directory (its old content is removed entirely). Default false. */
  overwrite?: boolean;
}

/** Thrown by {@link writePack} when the target directory is not empty and overwrite is off. */
export class PackExistsError extends Error {
  constructor(readonly dir: string) {
    super(`writePack: refusing to overwrite non-empty directory "${dir}" (set overwrite to replace it)`);
    this.name = 'PackExistsError';
  }
}

/**
 * Writes a pack into `dir` (created with its parents if missing) and returns its manifest.
 * Refuses an existing non-empty `dir` unless `opts.overwrite` (then the old directory is
 * replaced as a whole). Files are written into a temporary sibling directory and renamed into
 * place, so on any error `dir` is left as it was. Throws on a bad spec or an I/O error.
 */
export async function writePack(dir: string, spec: PackSpec, opts: WritePackOptions = {}): Promise<PackManifest> {
  const { files, manifest } = serializePack(spec);
  const target = resolve(dir);
  const parent = dirname(target);
  let replace = false;
  if (await exists(target)) {
    if (!(await stat(target)).isDirectory()) throw new Error(`writePack: "${dir}" exists and is not a directory`);
    const entries = await readdir(target);
    if (entries.length > 0 && !opts.overwrite) {
      throw new PackExistsError(dir);
    }
    replace = true;
  }
  await mkdir(parent, { recursive: true });
  const tmp = await mkdtemp(join(parent, `.${basename(target)}.tmp-`));
  try {
    await chmod(tmp, 0o755); // mkdtemp makes it private (0700); a pack directory is served as-is.
    for (const f of files) await writeFile(join(tmp, f.file), toBytes(f.content));
    if (replace) {
      const old = await mkdtemp(join(parent, `.${basename(target)}.old-`));
      await rename(target, join(old, 'pack'));
      try {
        await rename(tmp, target);
      } catch (e) {
        await rename(join(old, 'pack'), target);
        throw e;
      }
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(tmp, target);
    }
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  return manifest;
}

/** Whether a path exists; throws on errors other than "not found". */
async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}
