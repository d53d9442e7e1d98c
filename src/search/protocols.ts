/**
 * The two HTTP retrieval protocols that public search-RL code calls (issue 7, part 6), shared by
 * our server (`serve-search`, src/cli/commands/serve-search.ts) and client
 * ({@link RemoteRetriever}, src/search/remote-retriever.ts). No Node or browser API here.
 *
 * R1-Searcher (its `train/wiki_corpus_load.py` Flask server; the rollout posts to it):
 *   `POST /queries {"queries": [q, ..], "k": n}` -> `{"queries": [q, ..], "answers": [[doc, ..], ..]}`,
 *   each doc ONE string, a line of their TSV corpus: `Title: <title> Text: <text>`. No ids, no
 *   scores. `k` defaults to 3 there. (Their rollout strips a leading `123 ` row number; so do we.)
 * Search-R1 (its `search_r1/search/retrieval_server.py` FastAPI server):
 *   `POST /retrieve {"queries": [q, ..], "topk": n, "return_scores": bool}` ->
 *   `{"result": [[{"document": {"id", "contents"}, "score"}, ..], ..]}` with scores, or
 *   `{"result": [[{"id", "contents"}, ..], ..]}` without; `contents` is the title in double
 *   quotes, a newline, then the text. `topk` defaults to 3, `return_scores` to false there.
 */
import { derivedDocumentId } from '../corpus/import/doc-id.ts';
import { splitContents } from '../corpus/import/flashrag-corpus.ts';
import type { SearchHit } from './search-index.ts';

/** Which protocol: R1-Searcher's `/queries` or Search-R1's `/retrieve`. */
export type SearchProtocol = 'r1-searcher' | 'search-r1';

/** The path each protocol is served on. */
export const PROTOCOL_PATHS: Readonly<Record<SearchProtocol, string>> = Object.freeze({ 'r1-searcher': '/queries', 'search-r1': '/retrieve' });

/** Both servers' default number of documents per query. */
export const DEFAULT_TOP_K = 3;

export interface R1SearcherRequest {
  queries: string[];
  k?: number;
}
export interface R1SearcherResponse {
  queries: string[];
  answers: string[][];
}
export interface SearchR1Request {
  queries: string[];
  topk?: number;
  return_scores?: boolean;
}
export interface SearchR1Document {
  id: string;
  contents: string;
}
export interface SearchR1ScoredDocument {
  document: SearchR1Document;
  score: number;
}
export interface SearchR1Response {
  result: SearchR1ScoredDocument[][] | SearchR1Document[][];
}

/** A request the server refuses with 400; the message names the field. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/** Limits on what one request may ask (the server's defense against huge requests). */
export interface RequestLimits {
  /** Most queries in one request. */
  maxQueries: number;
  /** Most characters in one query. */
  maxQueryChars: number;
  /** Largest k / topk. */
  maxK: number;
}

/**
 * Defaults of {@link RequestLimits}. Search-R1's default GRPO run (`train_batch_size` 512 x
 * `n_agent` 5) posts 2,560 queries at once to `/retrieve`; 8,192 leaves room for larger batches.
 */
export const DEFAULT_LIMITS: Readonly<RequestLimits> = Object.freeze({ maxQueries: 8192, maxQueryChars: 4096, maxK: 100 });

// ---------------------------------------------------------------------------------------------
// Documents on the wire

/** R1-Searcher's document string: `Title: <title> Text: <text>`. */
export function formatR1SearcherDocument(doc: { title: string; text: string }): string {
  return `Title: ${doc.title} Text: ${doc.text}`;
}

/**
 * Title and text of an R1-Searcher document string. Accepts a leading row number and the CSV
 * quoting their TSV corpus sometimes carries (`"Title: .. ""quoted"" .."`). A string without the
 * `Title: .. Text:` frame is all text, with an empty title.
 */
export function parseR1SearcherDocument(doc: string): { title: string; text: string } {
  let s = doc.replace(/^\d+\s+/, '').trim();
  if (s.length >= 2 && s.startsWith('"Title:') && s.endsWith('"')) s = s.slice(1, -1).replace(/""/g, '"');
  const m = s.match(/^Title:\s*(.*?)\s+Text:\s*([\s\S]*)$/);
  return m ? { title: m[1]!.trim(), text: m[2]!.trim() } : { title: '', text: s };
}

/** Search-R1's `contents`: `"<title>"\n<text>`. */
export function formatSearchR1Contents(doc: { title: string; text: string }): string {
  return `"${doc.title}"\n${doc.text}`;
}

/** Title and text of Search-R1 `contents` (the corpus importer's reading of the same field). */
export function parseSearchR1Contents(contents: string): { title: string; text: string } {
  return splitContents(contents);
}

// ---------------------------------------------------------------------------------------------
// Server side: requests in, responses out

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkQueries(body: Record<string, unknown>, limits: RequestLimits): string[] {
  const q = body.queries;
  if (!Array.isArray(q)) throw new ProtocolError(`"queries" must be an array of strings, got ${q === undefined ? 'nothing' : typeof q}`);
  if (q.length > limits.maxQueries) throw new ProtocolError(`"queries" holds ${q.length} queries, at most ${limits.maxQueries} are allowed`);
  q.forEach((x, i) => {
    if (typeof x !== 'string') throw new ProtocolError(`"queries"[${i}] must be a string, got ${x === null ? 'null' : typeof x}`);
    if (x.length > limits.maxQueryChars) throw new ProtocolError(`"queries"[${i}] has ${x.length} characters, at most ${limits.maxQueryChars} are allowed`);
  });
  return q as string[];
}

/**
 * `k` / `topk` read as the servers read it: missing or null is the default 3; Search-R1's
 * `if not request.topk` also takes 0 as the default (`zeroIsDefault`); pydantic's lax mode there
 * takes an integral float (3.0) or a numeric string ("3") as the integer.
 */
function checkK(body: Record<string, unknown>, field: string, limits: RequestLimits, zeroIsDefault = false): number {
  const raw = body[field];
  if (raw === undefined || raw === null) return DEFAULT_TOP_K;
  const k = typeof raw === 'string' && /^\s*[+-]?\d+(\.0*)?\s*$/.test(raw) ? Number(raw) : raw;
  if (zeroIsDefault && k === 0) return DEFAULT_TOP_K;
  if (!Number.isSafeInteger(k) || (k as number) < 1 || (k as number) > limits.maxK) {
    throw new ProtocolError(`"${field}" must be an integer in [1, ${limits.maxK}], got ${JSON.stringify(raw)}`);
  }
  return k as number;
}

/** Strings pydantic's lax mode reads as booleans (Search-R1's `return_scores: bool`), lower-cased. */
const LAX_TRUE = new Set(['true', '1', 'yes', 'on', 't', 'y']), LAX_FALSE = new Set(['false', '0', 'no', 'off', 'f', 'n']);

/** `return_scores` as Search-R1's server reads it (missing or null: false). */
function checkReturnScores(rs: unknown): boolean {
  if (rs === undefined || rs === null || rs === false || rs === 0) return false;
  if (rs === true || rs === 1) return true;
  if (typeof rs === 'string') {
    const v = rs.trim().toLowerCase();
    if (LAX_TRUE.has(v)) return true;
    if (LAX_FALSE.has(v)) return false;
  }
  throw new ProtocolError(`"return_scores" must be a boolean, got ${JSON.stringify(rs)}`);
}

/** Validates an R1-Searcher request body (parsed JSON). @throws ProtocolError naming the field. */
export function parseR1SearcherRequest(body: unknown, limits: RequestLimits = DEFAULT_LIMITS): { queries: string[]; k: number } {
  if (!isObject(body)) throw new ProtocolError('the body must be a JSON object {"queries": [..], "k": n}');
  return { queries: checkQueries(body, limits), k: checkK(body, 'k', limits) };
}

/**
 * Validates a Search-R1 request body (parsed JSON) with the lax rules of their FastAPI server:
 * `topk` missing, null or 0 is 3, `"3"` and `3.0` are 3; `return_scores` takes pydantic's
 * boolean strings ("true", "yes", "1", ...). Extra fields are ignored, as there.
 * @throws ProtocolError naming the field.
 */
export function parseSearchR1Request(body: unknown, limits: RequestLimits = DEFAULT_LIMITS): { queries: string[]; k: number; returnScores: boolean } {
  if (!isObject(body)) throw new ProtocolError('the body must be a JSON object {"queries": [..], "topk": n, "return_scores": bool}');
  const returnScores = checkReturnScores(body.return_scores);
  return { queries: checkQueries(body, limits), k: checkK(body, 'topk', limits, true), returnScores };
}

/** The R1-Searcher answer for `hits[i]` of `queries[i]`. */
export function r1SearcherResponse(queries: readonly string[], hits: readonly SearchHit[][]): R1SearcherResponse {
  return { queries: [...queries], answers: hits.map((list) => list.map(formatR1SearcherDocument)) };
}

/** The Search-R1 answer for `hits[i]` of query i, with or without scores. */
export function searchR1Response(hits: readonly SearchHit[][], returnScores: boolean): SearchR1Response {
  const doc = (h: SearchHit): SearchR1Document => ({ id: h.id, contents: formatSearchR1Contents(h) });
  return returnScores
    ? { result: hits.map((list) => list.map((h) => ({ document: doc(h), score: h.score }))) }
    : { result: hits.map((list) => list.map(doc)) };
}

// ---------------------------------------------------------------------------------------------
// Client side: responses back to SearchHits

/** Thrown for a response that does not have the protocol's shape. */
export class ResponseShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResponseShapeError';
  }
}

/** Score of the hit at 0-based `rank` when the protocol sends none: 1, 1/2, 1/3, ... */
export const rankScore = (rank: number) => 1 / (rank + 1);

/**
 * SearchHits from an R1-Searcher response to `n` queries. Ids are derived from title and text
 * (src/corpus/import/doc-id.ts: the ids a sample-corpus pack uses), scores by rank.
 * @throws ResponseShapeError when `answers` is missing, has the wrong length or holds non-strings.
 */
export function hitsFromR1Searcher(body: unknown, n: number): SearchHit[][] {
  const answers = isObject(body) ? body.answers : undefined;
  if (!Array.isArray(answers)) throw new ResponseShapeError('no "answers" array');
  if (answers.length !== n) throw new ResponseShapeError(`"answers" holds ${answers.length} lists for ${n} queries`);
  return answers.map((list: unknown, i) => {
    if (!Array.isArray(list) || !list.every((d) => typeof d === 'string')) throw new ResponseShapeError(`"answers"[${i}] must be an array of strings`);
    return (list as string[]).map((d, rank) => {
      const { title, text } = parseR1SearcherDocument(d);
      return { id: derivedDocumentId(title, text), title, text, score: rankScore(rank) };
    });
  });
}

/**
 * SearchHits from a Search-R1 response to `n` queries, with or without scores (scores by rank
 * when absent). Numeric ids become strings.
 * @throws ResponseShapeError when `result` is missing, has the wrong length or holds other shapes.
 */
export function hitsFromSearchR1(body: unknown, n: number): SearchHit[][] {
  const result = isObject(body) ? body.result : undefined;
  if (!Array.isArray(result)) throw new ResponseShapeError('no "result" array');
  if (result.length !== n) throw new ResponseShapeError(`"result" holds ${result.length} lists for ${n} queries`);
  return result.map((list: unknown, i) => {
    if (!Array.isArray(list)) throw new ResponseShapeError(`"result"[${i}] must be an array`);
    return list.map((entry: unknown, rank) => {
      const scored = isObject(entry) && isObject(entry.document);
      const doc = scored ? (entry as { document: Record<string, unknown> }).document : entry;
      if (!isObject(doc) || typeof doc.contents !== 'string' || (typeof doc.id !== 'string' && typeof doc.id !== 'number')) {
        throw new ResponseShapeError(`"result"[${i}][${rank}] must be {id, contents} or {document: {id, contents}, score}`);
      }
      const score = scored ? (entry as { score?: unknown }).score : undefined;
      const { title, text } = parseSearchR1Contents(doc.contents);
      return { id: String(doc.id), title, text, score: typeof score === 'number' && Number.isFinite(score) ? score : rankScore(rank) };
    });
  });
}
