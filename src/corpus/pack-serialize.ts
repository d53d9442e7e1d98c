/**
 * A corpus pack (the format of src/corpus/types.ts) as file contents, without touching a disk:
 * shard files `shard-000.jsonl`.., `questions.jsonl`, any extra files, and `manifest.json` with
 * every file's size and SHA-256. Runs in Node and in the browser (the page's import worker);
 * writing to a directory is src/corpus/pack-writer.ts.
 *
 * The bytes are deterministic (fixed key order, `\n` line ends, a trailing newline), so a
 * generated pack can be committed and reproduced byte for byte.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { CorpusDocument, PackFile, PackManifest, Question, ShardInfo } from './types.ts';

/** An extra file of a pack (e.g. a generator's word list). */
export interface PackFileContent {
  /** Plain file name (letters, digits, `.`, `_`, `-`), relative to the manifest. */
  file: string;
  /** Text (written as UTF-8) or bytes. */
  content: string | Uint8Array;
}

/** Everything a pack holds. */
export interface PackSpec {
  name: string;
  description: string;
  source: string;
  license: string;
  /** Documents in pack order; split into `shards` contiguous shards. */
  documents: readonly CorpusDocument[];
  questions: readonly Question[];
  /** Number of shard files, 1..documents.length. */
  shards: number;
  /** Generator settings recorded in the manifest (e.g. seed, sizes, the word list's hash). */
  generator?: Record<string, unknown>;
  /**
   * Extra files written beside the shards. Each is hashed in the manifest: by `generator` (its
   * `vocabulary` entry) or, for any other, in the manifest's `extraFiles` list.
   */
  extraFiles?: readonly PackFileContent[];
}

/** File names of the manifest and the questions inside a pack. */
export const MANIFEST_FILE = 'manifest.json';
export const QUESTIONS_FILE = 'questions.jsonl';

/** Shard file name of shard `i`: 0 -> "shard-000.jsonl". */
export function shardFileName(i: number): string {
  return `shard-${String(i).padStart(3, '0')}.jsonl`;
}

const encoder = new TextEncoder();
/** UTF-8 bytes of a file's content. */
export const toBytes = (content: string | Uint8Array): Uint8Array => (typeof content === 'string' ? encoder.encode(content) : content);

/** Size and lowercase hex SHA-256 of a file's content. */
export function describeFile(file: string, content: string | Uint8Array): PackFile {
  const bytes = toBytes(content);
  return { file, bytes: bytes.byteLength, sha256: bytesToHex(sha256(bytes)) };
}

/**
 * Splits `items` into `n` contiguous parts whose sizes differ by at most one (the first parts
 * get the extra items). Throws unless 1 <= n <= items.length.
 */
export function splitContiguous<T>(items: readonly T[], n: number): T[][] {
  if (!Number.isInteger(n) || n < 1 || n > items.length) {
    throw new Error(`shard count must be an integer in [1, ${items.length}] (the number of documents), got ${n}`);
  }
  const base = Math.floor(items.length / n);
  const extra = items.length % n;
  const parts: T[][] = [];
  let at = 0;
  for (let i = 0; i < n; i++) {
    const size = base + (i < extra ? 1 : 0);
    parts.push(items.slice(at, at + size));
    at += size;
  }
  return parts;
}

/** One JSON line per item; each line ends with `\n`. */
const jsonLines = (rows: readonly unknown[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join('');

function checkString(what: string, v: unknown): void {
  if (typeof v !== 'string') throw new Error(`writePack: ${what} must be a string, got ${typeof v}`);
}

/** Validates a spec; throws naming the first bad field. */
function checkSpec(spec: PackSpec): void {
  for (const k of ['name', 'description', 'source', 'license'] as const) checkString(k, spec[k]);
  if (!spec.name.trim()) throw new Error('writePack: name must not be empty');
  const docIds = new Set<string>();
  spec.documents.forEach((d, i) => {
    for (const k of ['id', 'title', 'text'] as const) checkString(`documents[${i}].${k}`, d[k]);
    if (docIds.has(d.id)) throw new Error(`writePack: duplicate document id "${d.id}"`);
    docIds.add(d.id);
  });
  const qIds = new Set<string>();
  spec.questions.forEach((q, i) => {
    checkString(`questions[${i}].id`, q.id);
    checkString(`questions[${i}].question`, q.question);
    if (qIds.has(q.id)) throw new Error(`writePack: duplicate question id "${q.id}"`);
    qIds.add(q.id);
  });
  const reserved = new Set([MANIFEST_FILE, QUESTIONS_FILE]);
  for (const f of spec.extraFiles ?? []) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(f.file) || reserved.has(f.file) || /^shard-\d+\.jsonl$/.test(f.file)) {
      throw new Error(`writePack: bad extra file name "${f.file}" (a plain name, not a shard, questions or manifest file)`);
    }
  }
}

/**
 * The files of a pack and its manifest, without touching the disk: shard files, the questions
 * file, the extra files, then `manifest.json` (pretty JSON, 2-space indent, trailing newline).
 * Deterministic bytes. Throws on a bad spec (naming the field).
 */
export function serializePack(spec: PackSpec): { files: PackFileContent[]; manifest: PackManifest } {
  checkSpec(spec);
  const files: PackFileContent[] = [];
  const shards: ShardInfo[] = splitContiguous(spec.documents, spec.shards).map((docs, i) => {
    const file = shardFileName(i);
    // Keys in the order id, title, text whatever order the caller's objects have.
    const content = jsonLines(docs.map((d) => ({ id: d.id, title: d.title, text: d.text })));
    files.push({ file, content });
    const { bytes, sha256 } = describeFile(file, content);
    return { file, documents: docs.length, bytes, sha256 };
  });
  const questionsContent = jsonLines(
    spec.questions.map((q) => ({
      id: q.id,
      question: q.question,
      answers: q.answers,
      hops: q.hops,
      template: q.template,
      split: q.split,
      supportingIds: q.supportingIds,
      // Optional: written only when present, so packs without it keep their exact bytes.
      ...(q.answerInCorpus === undefined ? {} : { answerInCorpus: q.answerInCorpus }),
      // The source's structure (src/corpus/types.ts), likewise only when present.
      ...(q.decomposition === undefined ? {} : { decomposition: q.decomposition }),
      ...(q.evidences === undefined ? {} : { evidences: q.evidences }),
      ...(q.supportingFacts === undefined ? {} : { supportingFacts: q.supportingFacts }),
    })),
  );
  files.push({ file: QUESTIONS_FILE, content: questionsContent });
  for (const f of spec.extraFiles ?? []) files.push(f);
  const manifest: PackManifest = {
    format: 'r1s-pack',
    version: 1,
    name: spec.name,
    description: spec.description,
    source: spec.source,
    license: spec.license,
    shards,
    questions: { ...describeFile(QUESTIONS_FILE, questionsContent), count: spec.questions.length },
  };
  if (spec.generator) manifest.generator = spec.generator;
  // Every file of the folder is in the manifest: extra files the generator does not name are listed.
  const named = (spec.generator?.vocabulary as { file?: unknown } | undefined)?.file;
  const unlisted = (spec.extraFiles ?? []).filter((f) => f.file !== named);
  if (unlisted.length) manifest.extraFiles = unlisted.map((f) => describeFile(f.file, f.content));
  files.push({ file: MANIFEST_FILE, content: `${JSON.stringify(manifest, null, 2)}\n` });
  return { files, manifest };
}
