/**
 * Output folders (Node only): the one rule for what `--overwrite` may replace, and the one way a
 * folder is replaced.
 *
 * - {@link checkOutputFolder} runs before any work: a missing or empty folder is fine; a
 *   non-empty one needs `overwrite` AND must be recognisably the same kind of output (a pack
 *   with its manifest, a checkpoint with its config and trainer state: the `FolderKind` says);
 *   anything else is refused, naming what is there. Inputs of the command may not lie inside it.
 * - {@link replaceFolder} writes the new folder beside the old one and swaps it in only once it
 *   is complete, so a failure at any point leaves the old folder as it was.
 */
import { chmod, lstat, mkdir, mkdtemp, readdir, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';

/** A kind of output folder that `--overwrite` may replace. */
export interface FolderKind {
  /** What it is called in messages: "pack", "checkpoint", ... */
  what: string;
  /**
   * Why the non-empty folder `dir` (holding `entries`) is NOT this kind of output, naming what is
   * there; null when it is one and may be replaced.
   */
  recognise(dir: string, entries: string[]): Promise<string | null>;
}

/** "a pack", "an export". */
const article = (what: string) => `${/^[aeiou]/i.test(what) ? 'an' : 'a'} ${what}`;

/** Up to five entry names for a message: `"a", "b" and 3 more`. */
export function listEntries(entries: readonly string[]): string {
  const shown = entries.slice(0, 5).map((e) => `"${e}"`).join(', ');
  return entries.length > 5 ? `${shown} and ${entries.length - 5} more` : shown;
}

/** Thrown when an output folder may not be written (exists without overwrite, other kind, inputs inside). */
export class OutputFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutputFolderError';
  }
}

/** Options of {@link checkOutputFolder}. */
export interface CheckOutputOptions {
  overwrite?: boolean;
  /** Files or folders the command reads: none may lie inside the output folder. */
  inputs?: readonly string[];
  /** Appended to the "already exists" message (e.g. "use --resume to continue it or --overwrite to replace it"). */
  hint?: string;
}

/**
 * Checks an output folder before any work starts (see the file comment).
 * @returns 'new' (missing or empty) or 'replace' (an output of the same kind, overwrite given).
 * @throws OutputFolderError naming the folder and what is wrong with it; nothing is written.
 */
export async function checkOutputFolder(dir: string, kind: FolderKind, opts: CheckOutputOptions = {}): Promise<'new' | 'replace'> {
  const target = resolve(dir);
  for (const input of opts.inputs ?? []) {
    const real = await realpath(input).catch(() => resolve(input));
    const realTarget = await realpath(target).catch(() => target);
    if (real === realTarget || real.startsWith(realTarget + sep)) {
      throw new OutputFolderError(`${dir}: ${input} lies inside the output folder, which would be replaced (nothing was written; write the ${kind.what} elsewhere)`);
    }
  }
  let st;
  try {
    st = await lstat(target);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'new';
    throw e;
  }
  if (st.isSymbolicLink()) throw new OutputFolderError(`${dir} is a symbolic link; write the ${kind.what} to a real folder (nothing was written)`);
  if (!st.isDirectory()) throw new OutputFolderError(`${dir} exists and is a file, not a ${kind.what} folder (nothing was written)`);
  const entries = await readdir(target);
  if (entries.length === 0) return 'new';
  if (!opts.overwrite) {
    throw new OutputFolderError(`${dir} already exists and is not empty (nothing was written; ${opts.hint ?? 'use --overwrite to replace it'})`);
  }
  const why = await kind.recognise(target, entries);
  if (why) {
    throw new OutputFolderError(`${dir} is not ${article(kind.what)} folder: ${why}. --overwrite replaces only ${article(kind.what)} folder; nothing was written or deleted`);
  }
  return 'replace';
}

/**
 * Writes a folder with `fill(tmp)` into a fresh temporary sibling, then swaps it in for `dir`
 * (an existing `dir` is moved aside, the new one renamed into place, the old one removed). The
 * caller has checked with {@link checkOutputFolder} that `dir` may be replaced.
 * @throws whatever `fill` or the file system throws; `dir` is then as it was and the temporary folder is gone.
 */
export async function replaceFolder(dir: string, fill: (tmp: string) => Promise<void>): Promise<void> {
  const target = resolve(dir);
  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  const tmp = await mkdtemp(join(parent, `.${basename(target)}.tmp-`));
  try {
    await chmod(tmp, 0o755); // mkdtemp makes it private (0700); outputs are read by others (a served pack).
    await fill(tmp);
    if (await exists(target)) {
      const old = await mkdtemp(join(parent, `.${basename(target)}.old-`));
      await rename(target, join(old, 'previous'));
      try {
        await rename(tmp, target);
      } catch (e) {
        await rename(join(old, 'previous'), target);
        await rm(old, { recursive: true, force: true });
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
