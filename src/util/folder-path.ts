/**
 * Paths that a pack or a checkpoint names must stay inside its folder: the one rule, used by the
 * pack loader (manifest file names, the generator's vocabulary file) and by the checkpoint
 * reader. Two halves: a check of the name itself (pure, runs in the browser too) and, on a
 * disk, a check of where the name really leads once symbolic links are followed.
 */

/**
 * Why `name` is not a plain relative path inside a folder, or null when it is one: no absolute
 * path, no drive letter or URL scheme (`:`), no backslash, no empty, `.` or `..` segment.
 */
export function relativePathProblem(name: string): string | null {
  if (name === '') return 'is empty';
  if (name.startsWith('/')) return 'is an absolute path';
  if (name.includes('\\')) return 'holds a backslash';
  if (name.includes(':')) return 'holds a ":" (a drive letter or URL scheme)';
  if (name.includes('\0')) return 'holds a NUL character';
  if (name.split('/').some((p) => p === '' || p === '.' || p === '..')) return 'has an empty, "." or ".." segment';
  return null;
}

/** The parts of node:fs/promises and node:path that {@link resolveInside} needs (passed in, so this module stays free of Node imports). */
export interface NodeFsPath {
  realpath(p: string): Promise<string>;
  resolve(...p: string[]): string;
  join(...p: string[]): string;
  sep: string;
}

/** A name that leads outside its folder (by its spelling or through a symbolic link). */
export class OutsideFolderError extends Error {
  constructor(readonly path: string, message: string) {
    super(message);
    this.name = 'OutsideFolderError';
  }
}

/**
 * The real path of `name` inside `dir`, after following every symbolic link.
 * @throws OutsideFolderError when the name is not a plain relative path or leads (through a
 *   link) outside `dir`; the ENOENT of a missing file (code kept) as it comes from `realpath`.
 */
export async function resolveInside(fs: NodeFsPath, dir: string, name: string): Promise<string> {
  const problem = relativePathProblem(name);
  if (problem) throw new OutsideFolderError(name, `"${name}" ${problem}: only plain relative paths inside the folder are read`);
  const root = await fs.realpath(fs.resolve(dir));
  const real = await fs.realpath(fs.join(root, name));
  if (real !== root && !real.startsWith(root.endsWith(fs.sep) ? root : root + fs.sep)) {
    throw new OutsideFolderError(name, `"${name}" is a symbolic link to ${real}, outside the folder ${root}: refused`);
  }
  return real;
}
