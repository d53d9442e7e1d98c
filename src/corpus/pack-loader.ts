/**
 * Loading a corpus pack (see `types.ts` for the format) with its integrity checks.
 *
 * A pack is `manifest.json`, shard files of documents and a questions file, all JSON Lines,
 * each listed in the manifest with its size and SHA-256. `loadPack` reads the manifest, then
 * every shard and the questions file in parallel, and refuses anything that does not match
 * the manifest: a wrong size, a wrong hash, bytes that are not UTF-8, a line that is not a
 * JSON object with the right fields, a wrong count, a duplicate id. Every refusal is a
 * {@link PackError} whose message names the file (and the line where there is one).
 *
 * Where the bytes come from is a {@link PackSource}: `fetchSource` for the page and workers,
 * `fsSource` for Node (the CLI and tests). `node:fs` is imported lazily inside `fsSource`, so
 * the browser bundle never pulls it in.
 */
import type {
  CorpusDocument,
  Pack,
  PackFile,
  PackManifest,
  Question,
  ShardInfo,
  Split,
} from './types.ts';
import { relativePathProblem, resolveInside } from '../util/folder-path.ts';

/** The manifest's file name, relative to the pack's directory or base URL. */
export const MANIFEST_FILE = 'manifest.json';

/**
 * A pack that cannot be loaded. `file` is the pack file at fault (`manifest.json`, a shard or
 * the questions file); `line` the 1-based JSON Lines line number where one applies.
 */
export class PackError extends Error {
  readonly file: string;
  readonly line: number | undefined;

  constructor(file: string, message: string, line?: number) {
    super(`pack file ${file}${line === undefined ? '' : ` line ${line}`}: ${message}`);
    this.name = 'PackError';
    this.file = file;
    this.line = line;
  }
}

/**
 * Where a pack's bytes come from. `name` is a file name from the manifest, relative to the
 * pack (e.g. `"manifest.json"`, `"shard-000.jsonl"`). Implementations reject when the file
 * cannot be read; `loadPack` wraps such a rejection in a {@link PackError} naming the file.
 */
export interface PackSource {
  readFile(name: string, signal?: AbortSignal): Promise<Uint8Array>;
  /** Where the pack lives (a URL or a directory), for messages. */
  readonly location?: string;
}

/** Progress of {@link loadPack}, reported once per shard as it finishes (in completion order). */
export interface PackProgress {
  /** Shards loaded and verified so far. */
  loaded: number;
  /** Shards in the pack. */
  total: number;
  /** Bytes of the shards loaded so far. */
  bytes: number;
  /** Bytes of all shards (from the manifest). */
  totalBytes: number;
  /** The shard that just finished. */
  file: string;
}

export interface LoadPackOptions {
  onProgress?: (progress: PackProgress) => void;
  /** Aborts the reads; `loadPack` then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Also hash manifest.json into `Pack.manifestSha256` (the pack's identity, for resumed runs). */
  identity?: boolean;
}

/**
 * A source that fetches files relative to `baseUrl` (the page's `public/corpus/<pack>/`
 * directory, or any URL). A non-2xx response is an error naming the URL and status.
 */
export function fetchSource(baseUrl: string | URL): PackSource {
  const base = String(baseUrl).endsWith('/') ? String(baseUrl) : `${String(baseUrl)}/`;
  return {
    location: base,
    async readFile(name: string, signal?: AbortSignal): Promise<Uint8Array> {
      // A relative base (e.g. "/corpus/world/") resolves against the page's or worker's URL.
      const url = new URL(name, new URL(base, globalThis.location?.href));
      const res = await fetch(url, { signal });
      if (!res.ok) throw new Error(`GET ${url.href} answered ${res.status} ${res.statusText}`);
      return new Uint8Array(await res.arrayBuffer());
    },
  };
}

/**
 * A source that reads files from a directory with `node:fs` (Node only). A name that is not a
 * plain relative path, or that leads outside the directory through a symbolic link, is refused
 * (src/util/folder-path.ts), so a pack can never make us read a file outside its folder.
 */
export function fsSource(dir: string): PackSource {
  return {
    location: dir,
    async readFile(name: string, signal?: AbortSignal): Promise<Uint8Array> {
      const [fs, path] = await Promise.all([
        importNode<typeof import('node:fs/promises')>('node:fs/promises'),
        importNode<typeof import('node:path')>('node:path'),
      ]);
      const real = await resolveInside({ realpath: fs.realpath, resolve: path.resolve, join: path.join, sep: path.sep }, dir, name);
      return fs.readFile(real, { signal });
    },
  };
}

/**
 * Imports a Node built-in at run time. The specifier is a variable and marked `@vite-ignore`,
 * so the bundler neither follows nor stubs it: browser bundles hold no trace of node:fs.
 */
function importNode<T>(specifier: string): Promise<T> {
  return import(/* @vite-ignore */ specifier) as Promise<T>;
}

/**
 * Loads and verifies a whole pack. Documents come back in manifest order (shard order, then
 * line order) whatever order the reads finish in, so an index built from them is the same on
 * every load.
 *
 * @throws PackError naming the file (and line) for any mismatch with the manifest or bad
 *   content; a failed read is also a PackError naming the file. Aborting rejects with the
 *   signal's reason.
 */
export async function loadPack(source: PackSource, opts: LoadPackOptions = {}): Promise<Pack> {
  const { onProgress, signal } = opts;
  signal?.throwIfAborted();
  const manifestBytes: { sha256?: string } = {};
  const manifest = parseManifest(await readChecked(source, MANIFEST_FILE, undefined, signal, opts.identity ? manifestBytes : undefined));

  // One failure cancels the other reads: there is no use finishing them.
  const inner = new AbortController();
  const onAbort = () => inner.abort(signal!.reason);
  signal?.addEventListener('abort', onAbort, { once: true });

  const totalBytes = manifest.shards.reduce((s, sh) => s + sh.bytes, 0);
  let loaded = 0;
  let bytes = 0;
  try {
    const shardsP = Promise.all(
      manifest.shards.map(async (shard) => {
        const text = await readChecked(source, shard.file, shard, inner.signal);
        const docs = parseShard(shard, text);
        loaded += 1;
        bytes += shard.bytes;
        if (!inner.signal.aborted) onProgress?.({ loaded, total: manifest.shards.length, bytes, totalBytes, file: shard.file });
        return docs;
      }),
    );
    const questionsP = readChecked(source, manifest.questions.file, manifest.questions, inner.signal);
    // Reject as soon as either fails, so the other is cancelled rather than awaited.
    const [shardDocs, questionsText] = await Promise.all([shardsP, questionsP]).catch((e: unknown) => {
      inner.abort(e);
      throw signal?.aborted ? signal.reason : e;
    });

    const documents = shardDocs.flat();
    checkUniqueDocumentIds(manifest.shards, shardDocs);
    const docIds = new Set(documents.map((d) => d.id));
    const questions = parseQuestions(manifest.questions, questionsText, docIds);
    return { manifest, documents, questions, ...(manifestBytes.sha256 ? { manifestSha256: manifestBytes.sha256 } : {}) };
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

// ---------------------------------------------------------------------------------------------
// Reading and verifying one file

/**
 * Reads one file of a pack that its manifest lists with size and SHA-256 (e.g. the generator's
 * word list, {@link packVocabularyFile}) and returns its text.
 * @throws PackError naming the file for a failed read, a wrong size or hash, or bad UTF-8.
 */
export function readPackFile(source: PackSource, info: PackFile, signal?: AbortSignal): Promise<string> {
  return readChecked(source, info.file, info, signal);
}

/** Reads a file, checks size and SHA-256 against `info` (when given), decodes strict UTF-8. */
async function readChecked(
  source: PackSource,
  file: string,
  info: PackFile | undefined,
  signal: AbortSignal | undefined,
  hashOut?: { sha256?: string },
): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await source.readFile(file, signal);
  } catch (e) {
    if (signal?.aborted) throw signal.reason;
    const where = source.location ? ` from ${source.location}` : '';
    throw new PackError(file, `cannot be read${where}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (hashOut) hashOut.sha256 = await sha256Hex(bytes);
  if (info) {
    if (bytes.byteLength !== info.bytes) {
      throw new PackError(file, `size is ${bytes.byteLength} bytes, the manifest says ${info.bytes} (truncated or altered)`);
    }
    const hash = await sha256Hex(bytes);
    if (hash !== info.sha256) {
      throw new PackError(file, `SHA-256 is ${hash}, the manifest says ${info.sha256} (corrupt or altered)`);
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new PackError(file, 'is not valid UTF-8', firstBadUtf8Line(bytes));
  }
}

/** The 1-based line holding the first byte sequence that is not UTF-8 (only called on a failed decode). */
function firstBadUtf8Line(bytes: Uint8Array): number | undefined {
  const dec = new TextDecoder('utf-8', { fatal: true });
  let start = 0, line = 1;
  while (start <= bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    try {
      dec.decode(bytes.subarray(start, end));
    } catch {
      return line;
    }
    start = end + 1;
    line++;
  }
  return undefined;
}

/** Lowercase hex SHA-256 of some bytes, with WebCrypto (browsers, workers and Node >= 20). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  // digest() wants an ArrayBuffer-backed view; copy only when the view is over something else.
  const view = bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', view));
  let hex = '';
  for (const b of digest) hex += b.toString(16).padStart(2, '0');
  return hex;
}

/**
 * Splits JSON Lines text and parses each line as a JSON object. One trailing newline is
 * allowed; any other empty line is an error. Yields `[value, 1-based line number]`.
 */
function* jsonLines(file: string, text: string): Generator<[Record<string, unknown>, number]> {
  if (text === '') return;
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') throw new PackError(file, 'is empty (one JSON object per line expected)', i + 1);
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw new PackError(file, `is not valid JSON (${e instanceof Error ? e.message : String(e)})`, i + 1);
    }
    if (!isRecord(value)) throw new PackError(file, `must be a JSON object, got ${typeName(value)}`, i + 1);
    yield [value, i + 1];
  }
}

function parseShard(shard: ShardInfo, text: string): CorpusDocument[] {
  const docs: CorpusDocument[] = [];
  for (const [obj, line] of jsonLines(shard.file, text)) {
    const field = fieldReader(shard.file, line);
    // Copy the three fields only: extra fields would ride along into every search hit.
    docs.push({ id: field.id(obj, 'id'), title: field.string(obj, 'title'), text: field.string(obj, 'text') });
  }
  if (docs.length !== shard.documents) {
    throw new PackError(shard.file, `holds ${docs.length} documents, the manifest says ${shard.documents}`);
  }
  return docs;
}

function checkUniqueDocumentIds(shards: ShardInfo[], shardDocs: CorpusDocument[][]): void {
  const seen = new Map<string, string>(); // id -> "file line n"
  shardDocs.forEach((docs, s) => {
    const file = shards[s]!.file;
    docs.forEach((doc, i) => {
      const first = seen.get(doc.id);
      if (first !== undefined) throw new PackError(file, `duplicate document id "${doc.id}" (first at ${first})`, i + 1);
      seen.set(doc.id, `${file} line ${i + 1}`);
    });
  });
}

const SPLITS: readonly Split[] = ['train', 'test', 'ood'];

function parseQuestions(info: PackManifest['questions'], text: string, docIds: Set<string>): Question[] {
  const questions: Question[] = [];
  const seen = new Map<string, number>();
  for (const [obj, line] of jsonLines(info.file, text)) {
    const field = fieldReader(info.file, line);
    const id = field.id(obj, 'id');
    const first = seen.get(id);
    if (first !== undefined) throw new PackError(info.file, `duplicate question id "${id}" (first at line ${first})`, line);
    seen.set(id, line);
    const answers = field.stringArray(obj, 'answers');
    if (answers.length === 0) throw new PackError(info.file, 'field "answers" must hold at least one answer', line);
    const split = field.string(obj, 'split');
    if (!(SPLITS as readonly string[]).includes(split)) {
      throw new PackError(info.file, `field "split" must be one of ${SPLITS.join(', ')}, got "${split}"`, line);
    }
    const supportingIds = field.stringArray(obj, 'supportingIds');
    for (const sid of supportingIds) {
      if (!docIds.has(sid)) throw new PackError(info.file, `field "supportingIds" names unknown document "${sid}"`, line);
    }
    const answerInCorpus = obj.answerInCorpus;
    if (answerInCorpus !== undefined && typeof answerInCorpus !== 'boolean') {
      throw new PackError(info.file, `field "answerInCorpus" must be a boolean when present, got ${typeName(answerInCorpus)}`, line);
    }
    questions.push({
      id,
      question: field.string(obj, 'question'),
      answers,
      hops: field.count(obj, 'hops'),
      template: field.string(obj, 'template'),
      split: split as Split,
      supportingIds,
      ...(answerInCorpus === undefined ? {} : { answerInCorpus }),
      ...questionStructure(obj, field, docIds, (msg) => new PackError(info.file, msg, line)),
    });
  }
  if (questions.length !== info.count) {
    throw new PackError(info.file, `holds ${questions.length} questions, the manifest says ${info.count}`);
  }
  return questions;
}

/**
 * The optional structure of a question (src/corpus/types.ts: `decomposition`, `evidences`,
 * `supportingFacts`), checked field by field; absent fields stay absent, so older packs load as before.
 */
function questionStructure(
  obj: Record<string, unknown>, field: ReturnType<typeof fieldReader>, docIds: Set<string>, error: (msg: string) => PackError,
): Pick<Question, 'decomposition' | 'evidences' | 'supportingFacts'> {
  const out: Pick<Question, 'decomposition' | 'evidences' | 'supportingFacts'> = {};
  const list = (name: string): unknown[] | undefined => {
    const v = obj[name];
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) throw error(`field "${name}" must be an array when present, got ${typeName(v)}`);
    return v;
  };
  const steps = list('decomposition');
  if (steps) {
    out.decomposition = steps.map((step, i) => {
      if (!isRecord(step)) throw error(`field "decomposition[${i}]" must be an object {question, answer, supportingId?}, got ${typeName(step)}`);
      const prefix = `decomposition[${i}]`;
      const sid = step.supportingId;
      if (sid !== undefined && (typeof sid !== 'string' || !docIds.has(sid))) throw error(`field "${prefix}.supportingId" must name a document of the pack, got ${JSON.stringify(sid)}`);
      return { question: field.string(step, 'question', prefix), answer: field.string(step, 'answer', prefix), ...(sid === undefined ? {} : { supportingId: sid as string }) };
    });
  }
  const triples = list('evidences');
  if (triples) {
    out.evidences = triples.map((t, i) => {
      if (!Array.isArray(t) || t.length !== 3 || !t.every((x) => typeof x === 'string')) throw error(`field "evidences[${i}]" must be [subject, relation, object] strings, got ${typeName(t)}`);
      return [t[0], t[1], t[2]] as [string, string, string];
    });
  }
  const facts = list('supportingFacts');
  if (facts) {
    out.supportingFacts = facts.map((f, i) => {
      if (!isRecord(f)) throw error(`field "supportingFacts[${i}]" must be an object {title, sentence}, got ${typeName(f)}`);
      return { title: field.string(f, 'title', `supportingFacts[${i}]`), sentence: field.count(f, 'sentence', `supportingFacts[${i}]`) };
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Manifest validation

const SHA256_RE = /^[0-9a-f]{64}$/;

/**
 * Parses and validates `manifest.json` text. Unknown top-level fields are ignored (room for
 * later additions); every known field is checked for presence and type.
 * @throws PackError naming `manifest.json` and the field at fault.
 */
export function parseManifest(text: string): PackManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new PackError(MANIFEST_FILE, `is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const m = fieldReader(MANIFEST_FILE);
  if (!isRecord(value)) throw new PackError(MANIFEST_FILE, `must be a JSON object, got ${typeName(value)}`);
  if (value.format !== 'r1s-pack') {
    throw new PackError(MANIFEST_FILE, `field "format" must be "r1s-pack", got ${JSON.stringify(value.format)}`);
  }
  if (value.version !== 1) {
    throw new PackError(MANIFEST_FILE, `field "version" must be 1 (the only version this loader reads), got ${JSON.stringify(value.version)}`);
  }
  const name = m.id(value, 'name');
  const description = m.string(value, 'description');
  const source = m.string(value, 'source');
  const license = m.string(value, 'license');

  if (!Array.isArray(value.shards) || value.shards.length === 0) {
    throw new PackError(MANIFEST_FILE, `field "shards" must be a non-empty array, got ${typeName(value.shards)}`);
  }
  const files = new Set<string>([MANIFEST_FILE]);
  const shards: ShardInfo[] = value.shards.map((raw: unknown, i: number) => {
    const where = `shards[${i}]`;
    if (!isRecord(raw)) throw new PackError(MANIFEST_FILE, `field "${where}" must be an object, got ${typeName(raw)}`);
    const shard = { ...packFile(raw, where, files), documents: m.count(raw, 'documents', where) };
    return shard;
  });

  const rawQ = value.questions;
  if (!isRecord(rawQ)) throw new PackError(MANIFEST_FILE, `field "questions" must be an object, got ${typeName(rawQ)}`);
  const questions = { ...packFile(rawQ, 'questions', files), count: m.count(rawQ, 'count', 'questions') };

  const manifest: PackManifest = { format: 'r1s-pack', version: 1, name, description, source, license, shards, questions };
  if (value.generator !== undefined) {
    if (!isRecord(value.generator)) {
      throw new PackError(MANIFEST_FILE, `field "generator" must be an object when present, got ${typeName(value.generator)}`);
    }
    manifest.generator = value.generator;
    // The word list a generated pack's tokenizer reads is a file of the pack like any other:
    // a plain relative name, with its size and SHA-256 (checked when it is read).
    if (value.generator.vocabulary !== undefined) {
      if (!isRecord(value.generator.vocabulary)) {
        throw new PackError(MANIFEST_FILE, `field "generator.vocabulary" must be an object {file, bytes, sha256}, got ${typeName(value.generator.vocabulary)}`);
      }
      packFile(value.generator.vocabulary, 'generator.vocabulary', files);
    }
  }
  if (value.extraFiles !== undefined) {
    if (!Array.isArray(value.extraFiles)) throw new PackError(MANIFEST_FILE, `field "extraFiles" must be an array when present, got ${typeName(value.extraFiles)}`);
    manifest.extraFiles = value.extraFiles.map((raw: unknown, i: number) => {
      if (!isRecord(raw)) throw new PackError(MANIFEST_FILE, `field "extraFiles[${i}]" must be an object, got ${typeName(raw)}`);
      return packFile(raw, `extraFiles[${i}]`, files);
    });
  }
  return manifest;
}

/** The generator's word list of a pack (validated by {@link parseManifest}), or undefined when it has none. */
export function packVocabularyFile(manifest: PackManifest): PackFile | undefined {
  const v = manifest.generator?.vocabulary as PackFile | undefined;
  return v ? { file: v.file, bytes: v.bytes, sha256: v.sha256 } : undefined;
}

/** Validates the `{file, bytes, sha256}` part of a manifest entry; `files` catches reuse. */
function packFile(raw: Record<string, unknown>, where: string, files: Set<string>): PackFile {
  const m = fieldReader(MANIFEST_FILE);
  const file = m.id(raw, 'file', where);
  // Names are relative paths inside the pack: no escaping it, no absolute paths or URLs.
  const problem = relativePathProblem(file);
  if (problem) throw new PackError(MANIFEST_FILE, `field "${where}.file" must be a relative path inside the pack, got "${file}" (it ${problem})`);
  if (files.has(file)) throw new PackError(MANIFEST_FILE, `field "${where}.file" names "${file}", which is already used`);
  files.add(file);
  const bytes = m.count(raw, 'bytes', where);
  const sha256 = m.string(raw, 'sha256', where);
  if (!SHA256_RE.test(sha256)) {
    throw new PackError(MANIFEST_FILE, `field "${where}.sha256" must be 64 lowercase hex digits, got "${sha256}"`);
  }
  return { file, bytes, sha256 };
}

// ---------------------------------------------------------------------------------------------
// Field checks shared by the manifest, shards and questions

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v === undefined) return 'nothing';
  return `a ${typeof v} (${JSON.stringify(v).slice(0, 40)})`;
}

/** Typed field getters that throw a PackError naming file, line and field. */
function fieldReader(file: string, line?: number) {
  const fail = (name: string, prefix: string | undefined, what: string, v: unknown): never => {
    const path = prefix ? `${prefix}.${name}` : name;
    if (v === undefined) throw new PackError(file, `field "${path}" is missing (${what} expected)`, line);
    throw new PackError(file, `field "${path}" must be ${what}, got ${typeName(v)}`, line);
  };
  return {
    string(obj: Record<string, unknown>, name: string, prefix?: string): string {
      const v = obj[name];
      return typeof v === 'string' ? v : fail(name, prefix, 'a string', v);
    },
    /** A non-empty string (ids and names). */
    id(obj: Record<string, unknown>, name: string, prefix?: string): string {
      const v = obj[name];
      return typeof v === 'string' && v.length > 0 ? v : fail(name, prefix, 'a non-empty string', v);
    },
    /** A non-negative integer (sizes and counts). */
    count(obj: Record<string, unknown>, name: string, prefix?: string): number {
      const v = obj[name];
      return Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : fail(name, prefix, 'a non-negative integer', v);
    },
    stringArray(obj: Record<string, unknown>, name: string, prefix?: string): string[] {
      const v = obj[name];
      return Array.isArray(v) && v.every((x) => typeof x === 'string') ? [...v] : fail(name, prefix, 'an array of strings', v);
    },
  };
}
