/**
 * Helpers shared by the CLI commands: flag parsing with clear errors, pack and checkpoint
 * loading, backend choice, progress bars on a terminal, output.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import cliProgress from 'cli-progress';
import { fsSource, loadPack, packVocabularyFile, readPackFile } from '../corpus/pack-loader.ts';
import type { Pack } from '../corpus/types.ts';
import { SearchIndex, packSearchOptions } from '../search/search-index.ts';
import { LocalRetriever } from '../search/retriever.ts';
import { buildPackTokenizer } from '../tokenizer/pack-vocab.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import { createBackend } from '../backend/select.ts';
import type { Backend } from '../backend/backend.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses flags strictly; an unknown flag or a missing value is an error naming it. */
export function parseFlags<O extends Options>(argv: string[], options: O, usage: string) {
  try {
    return parseArgs({ args: fixNegativeValues(argv, options), options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new Error(`${(e as Error).message}\nusage: ${usage}`);
  }
}

/** `--flag -2` -> `--flag=-2` for string flags, so negative numbers parse as values. */
function fixNegativeValues(argv: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!, next = argv[i + 1];
    const name = a.startsWith('--') ? a.slice(2) : '';
    if (name && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** A required string flag. */
export function required(v: string | undefined, flag: string): string {
  if (v === undefined || v === '') throw new Error(`--${flag} is required`);
  return v;
}

/** Parses an integer flag; throws naming the flag. */
export function intFlag(v: string | undefined, flag: string, def: number, min = 0): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${flag} must be an integer >= ${min}, got "${v}"`);
  return n;
}

/** Parses a number flag; throws naming the flag. */
export function numFlag(v: string | undefined, flag: string, def: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${flag} must be a number, got "${v}"`);
  return n;
}

/**
 * Parses an optional share flag (a number in [0, 1]); undefined when absent (so a sampler
 * makes no draw for it). Throws naming the flag.
 */
export function shareFlag(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = numFlag(v, flag, 0);
  if (!(n >= 0 && n <= 1)) throw new Error(`--${flag}: expected a share in [0, 1], got "${v}"`);
  return n;
}

/** A loaded pack with its search index and tokenizer. */
export interface PackContext {
  dir: string;
  pack: Pack;
  index: SearchIndex;
  retriever: LocalRetriever;
}

/** Loads and verifies a pack folder and indexes it. */
export async function openPack(dir: string): Promise<PackContext> {
  const pack = await loadPack(fsSource(dir), { identity: true });
  const index = SearchIndex.fromDocuments(pack.documents, packSearchOptions(pack.manifest));
  return { dir, pack, index, retriever: new LocalRetriever(index) };
}

/**
 * The tokenizer a fresh model gets for a pack (its words.txt included when the pack has one;
 * read inside the pack folder only and checked against the manifest's size and SHA-256).
 */
export async function packTokenizer(ctx: PackContext): Promise<Tokenizer> {
  const vocab = packVocabularyFile(ctx.pack.manifest);
  const extraWords = vocab ? await readPackFile(fsSource(ctx.dir), vocab) : undefined;
  return buildPackTokenizer(ctx.pack, { extraWords });
}

/** The backend named by --backend (auto: wasm SIMD when available, else cpu). */
export async function openBackend(name: string | undefined, threads: string | undefined): Promise<Backend> {
  const n = (name ?? 'auto') as 'cpu' | 'wasm' | 'auto';
  if (!['cpu', 'wasm', 'auto'].includes(n)) throw new Error(`--backend must be cpu, wasm or auto, got "${name}"`);
  return createBackend(n, threads === undefined ? {} : { threads: intFlag(threads, 'threads', 1, 1) });
}

/** A progress bar on stderr when it is a terminal; a no-op otherwise (logs and CI stay clean). */
export function progressBar(total: number, label: string) {
  if (!process.stderr.isTTY) return { update: (_v: number, _p?: object) => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {value}/{total} | {info}`, stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { info: '' });
  return { update: (v: number, p?: object) => bar.update(v, p), stop: () => bar.stop() };
}

/** Prints a line to stderr (human-readable logs that never mix with --json output). */
export function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}
