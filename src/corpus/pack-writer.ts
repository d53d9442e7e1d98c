/**
 * Writes a corpus pack to a directory: the files of serializePack (src/corpus/pack-serialize.ts,
 * which this module re-exports). Generic: any generator or importer can use it. Writing goes
 * to a temporary sibling directory that is renamed into place at the end: a failure leaves
 * nothing partial. Node only (node:fs).
 */
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { PackManifest } from './types.ts';
import { MANIFEST_FILE, serializePack, toBytes, type PackSpec } from './pack-serialize.ts';
import { checkOutputFolder, listEntries, replaceFolder, type FolderKind } from '../util/output-folder.ts';

export * from './pack-serialize.ts';

/** Options of {@link writePack}. */
export interface WritePackOptions {
  /** Replace an existing pack folder (its old content is removed entirely); any other folder is refused. Default false. */
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
 * What `overwrite` may replace: a pack folder, i.e. one whose manifest.json says `"format":
 * "r1s-pack"` and whose every entry is a file that manifest lists (shards, questions, the
 * generator's word list). A user's notes, an import's input files or a checkpoint are refused, named.
 */
export const PACK_FOLDER: FolderKind = {
  what: 'pack',
  async recognise(dir: string, entries: string[]): Promise<string | null> {
    if (!entries.includes(MANIFEST_FILE)) return `it has no ${MANIFEST_FILE} (it holds ${listEntries(entries)})`;
    // Leniently read: a pack whose manifest no longer validates may still be replaced, as long
    // as it says it is a pack and the folder holds only the files it names.
    let m: { format?: unknown; shards?: unknown; questions?: { file?: unknown }; generator?: { vocabulary?: { file?: unknown } }; extraFiles?: unknown };
    try {
      m = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8'));
    } catch (e) {
      return `its ${MANIFEST_FILE} is not JSON (${(e as Error).message.split('\n')[0]})`;
    }
    if (!m || typeof m !== 'object' || m.format !== 'r1s-pack') return `its ${MANIFEST_FILE} is not a pack manifest (no "format": "r1s-pack")`;
    const named = [
      ...[m.shards, m.extraFiles].flatMap((list) => (Array.isArray(list) ? list.map((s: { file?: unknown }) => s?.file) : [])),
      m.questions?.file, m.generator?.vocabulary?.file,
    ];
    const listed = new Set([MANIFEST_FILE, ...named.filter((f): f is string => typeof f === 'string')]);
    const foreign = entries.filter((e) => !listed.has(e));
    return foreign.length ? `it holds ${listEntries(foreign)}, which its manifest does not list` : null;
  },
};

/**
 * Writes a pack into `dir` (created with its parents if missing) and returns its manifest.
 * Refuses an existing non-empty `dir` unless `opts.overwrite`, and even then unless it is a pack
 * folder ({@link PACK_FOLDER}); the old pack is replaced as a whole. Files are written into a
 * temporary sibling directory and swapped in when complete, so on any error `dir` is left as it
 * was. Throws on a bad spec or an I/O error; PackExistsError without overwrite;
 * OutputFolderError for a folder that is not a pack.
 */
export async function writePack(dir: string, spec: PackSpec, opts: WritePackOptions = {}): Promise<PackManifest> {
  const { files, manifest } = serializePack(spec);
  const target = resolve(dir);
  if (await exists(target)) {
    if (!(await stat(target)).isDirectory()) throw new Error(`writePack: "${dir}" exists and is not a directory`);
    if ((await readdir(target)).length > 0 && !opts.overwrite) throw new PackExistsError(dir);
  }
  await checkOutputFolder(target, PACK_FOLDER, { overwrite: opts.overwrite });
  await replaceFolder(target, async (tmp) => {
    for (const f of files) await writeFile(join(tmp, f.file), toBytes(f.content));
  });
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
