/**
 * Splits a file's bytes into records: JSON Lines (one object per line), one JSON array, TSV
 * lines (R1-Searcher's corpus: `{id, document}` per line) or parquet rows (hyparquet; Search-R1's
 * data files).
 *
 * A bad line never stops the file: it comes back as a rejection with its 1-based line number and
 * the reason (not UTF-8, longer than the limit, not JSON, not an object), and reading goes on.
 * Blank lines are skipped silently; a UTF-8 byte-order mark and CRLF line ends are accepted.
 * A JSON array file is parsed as a whole (it is usually one line), so bytes that are not UTF-8
 * or JSON there refuse the whole file (ImportError); items that are not objects are rejected
 * one by one with their 1-based item number.
 */
import { parquetReadObjects } from 'hyparquet';
import { isRecord, describe } from './fields.ts';
import { ImportError, type RejectedRecord } from './types.ts';

/** Default longest accepted line: 1 MiB (a MuSiQue line with 20 paragraphs is about 12 KB). */
export const DEFAULT_MAX_LINE_BYTES = 1 << 20;

/** A record in its file: an object, or the rejection of that line / item. */
export type FileRecord =
  | { ok: true; line?: number; item?: number; value: Record<string, unknown> }
  | { ok: false; rejected: RejectedRecord };

const strictDecoder = new TextDecoder('utf-8', { fatal: true });

/** Offset past a UTF-8 byte-order mark, if the bytes start with one. */
function bomLength(bytes: Uint8Array): number {
  return bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
}

/** A file's container: what {@link containerOf} tells from its first bytes. */
export type FileContainer = 'json-array' | 'jsonl' | 'tsv' | 'parquet';

/** Whether the bytes are a parquet file: `PAR1` at both ends. */
export function isParquet(bytes: Uint8Array): boolean {
  const n = bytes.length;
  const magic = (o: number) => bytes[o] === 0x50 && bytes[o + 1] === 0x41 && bytes[o + 2] === 0x52 && bytes[o + 3] === 0x31;
  return n >= 12 && magic(0) && magic(n - 4);
}

/**
 * The file's container: parquet by its magic bytes; a JSON array when the first non-space
 * character is `[`; TSV when the first line is not a JSON object but has a tab (R1-Searcher's
 * corpus, `0<TAB>Title: ..`); else JSON Lines.
 */
export function containerOf(bytes: Uint8Array): FileContainer {
  if (isParquet(bytes)) return 'parquet';
  for (let i = bomLength(bytes); i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) continue;
    if (c === 0x5b) return 'json-array';
    if (c === 0x7b) return 'jsonl';
    let end = bytes.indexOf(0x0a, i);
    if (end < 0) end = bytes.length;
    return bytes.subarray(i, end).includes(0x09) ? 'tsv' : 'jsonl';
  }
  return 'jsonl';
}

/**
 * Records of a TSV file, one `{id, document}` per line (the text before the first tab, and the
 * rest as it stands; the document's reader parses it). A line without a tab, not UTF-8 or too
 * long is rejected with its line number; blank lines are skipped.
 */
export function* tsvRecords(file: string, bytes: Uint8Array, maxLineBytes = DEFAULT_MAX_LINE_BYTES): Generator<FileRecord> {
  for (const l of textLines(file, bytes, maxLineBytes)) {
    if (!l.ok) { yield l; continue; }
    const tab = l.text.indexOf('\t');
    if (tab < 0) {
      yield lineReject(file, l.line, 'bad-field', 'a TSV line must be id<TAB>document, found no tab');
      continue;
    }
    yield { ok: true, line: l.line, value: { id: l.text.slice(0, tab), document: l.text.slice(tab + 1) } };
  }
}

type RejectedLine = Extract<FileRecord, { ok: false }>;

/** A rejected line of `file`. */
function lineReject(file: string, line: number, reason: RejectedRecord['reason'], message: string): RejectedLine {
  return { ok: false, rejected: { file, line, reason, message } };
}

/**
 * The non-blank lines of a line-oriented file as UTF-8 text with their 1-based numbers (BOM
 * skipped, CRLF accepted); a line too long or not UTF-8 comes back rejected. Shared by the JSON
 * Lines and TSV readers.
 */
function* textLines(file: string, bytes: Uint8Array, maxLineBytes: number): Generator<{ ok: true; line: number; text: string } | RejectedLine> {
  let start = bomLength(bytes);
  let line = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    line++;
    let raw = bytes.subarray(start, end);
    if (raw[raw.length - 1] === 0x0d) raw = raw.subarray(0, raw.length - 1); // CRLF
    start = end + 1;
    if (raw.byteLength > maxLineBytes) {
      yield lineReject(file, line, 'line-too-long', `line is ${raw.byteLength} bytes, the limit is ${maxLineBytes}`);
      continue;
    }
    let text: string;
    try {
      text = strictDecoder.decode(raw);
    } catch {
      yield lineReject(file, line, 'not-utf8', 'line is not valid UTF-8');
      continue;
    }
    if (text.trim() !== '') yield { ok: true, line, text };
  }
}

/** BigInt (parquet INT64) -> number where exact, recursively; other values as they are. */
function plainValue(v: unknown): unknown {
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (Array.isArray(v)) return v.map(plainValue);
  if (isRecord(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plainValue(x)]));
  return v;
}

/**
 * Rows of a parquet file as records (1-based `line` = row number), read with hyparquet (snappy
 * built in); INT64 values become numbers (strings beyond 2^53), structs objects, lists arrays.
 * @throws ImportError naming the file when hyparquet cannot read it.
 */
export async function parquetRecords(file: string, bytes: Uint8Array): Promise<FileRecord[]> {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let rows: Record<string, unknown>[];
  try {
    rows = await parquetReadObjects({ file: buffer });
  } catch (e) {
    throw new ImportError(`${file}: refused as a whole: not a readable parquet file (${e instanceof Error ? e.message : String(e)})`);
  }
  return rows.map((row, i) => ({ ok: true, line: i + 1, value: plainValue(row) as Record<string, unknown> }));
}

/** Records of a JSON Lines file, in line order. */
export function* jsonLinesRecords(file: string, bytes: Uint8Array, maxLineBytes = DEFAULT_MAX_LINE_BYTES): Generator<FileRecord> {
  for (const l of textLines(file, bytes, maxLineBytes)) {
    if (!l.ok) { yield l; continue; }
    let value: unknown;
    try {
      value = JSON.parse(l.text);
    } catch (e) {
      yield lineReject(file, l.line, 'invalid-json', `not valid JSON (${e instanceof Error ? e.message : String(e)})`);
      continue;
    }
    if (!isRecord(value)) {
      yield lineReject(file, l.line, 'not-an-object', `a record must be a JSON object, got ${describe(value)}`);
      continue;
    }
    yield { ok: true, line: l.line, value };
  }
}

/** Records of a file holding one JSON array. @throws ImportError when it is not UTF-8 or not a JSON array. */
export function* jsonArrayRecords(file: string, bytes: Uint8Array): Generator<FileRecord> {
  let text: string;
  try {
    text = strictDecoder.decode(bytes.subarray(bomLength(bytes)));
  } catch {
    throw new ImportError(`${file}: refused as a whole: a JSON array file must be valid UTF-8`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ImportError(`${file}: refused as a whole: not a valid JSON array (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!Array.isArray(value)) throw new ImportError(`${file}: refused as a whole: expected a JSON array, got ${describe(value)}`);
  for (let i = 0; i < value.length; i++) {
    const v: unknown = value[i];
    if (isRecord(v)) yield { ok: true, item: i + 1, value: v };
    else yield { ok: false, rejected: { file, item: i + 1, reason: 'not-an-object', message: `a record must be a JSON object, got ${describe(v)}` } };
  }
}
