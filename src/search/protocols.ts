/**
 * The two HTTP retrieval protocols that public search-RL code calls (issue 7, part 6), shared by
 * our server (`serve-search`, src/cli/commands/serve-search.ts) and client
 * ({@link RemoteRetriever}, src/search/remote-retriever.ts). No Node or browser API here.
 *
 * R1-Searcher (its `train/wiki_corpus_load.py` Flask server; the rollout posts to it):
 *   `POST /queries {"queries": [q, ..], "k": n}` -> `{"queries": [q, ..], "answers": [[doc, ..], ..]}`,
 *   each doc ONE string, a whole line of their TSV corpus as read from the file (`0\tTitle: <title>
 *   Text: <text>`, a BOM on the first line, CSV quoting, or KILT's `title   text`). No scores.
 *   `k` defaults to 3 there. (Their rollout strips a leading `123 ` row number; so do we.)
 * Search-R1 (its `search_r1/search/retrieval_server.py` FastAPI server):
 *   `POST /retrieve {"queries": [q, ..], "topk": n, "return_scores": bool}` ->
 *   `{"result": [[{"document": {"id", "contents"}, "score"}, ..], ..]}` with scores, or
 *   `{"result": [[{"id", "contents"}, ..], ..]}` without; `contents` is the title in double
 *   quotes, a newline, then the text. Its BM25 retriever over an index with stored documents
 *   sends `{"title", "text", "contents"}` with no id instead. `topk` defaults to 3,
 *   `return_scores` to false there.
 */
import { derivedDocumentId } from '../corpus/import/doc-id.ts';
import { formatSearchR1Contents, splitContents } from '../corpus/import/flashrag-corpus.ts';
import { formatR1SearcherDocument, parseR1SearcherDocument } from '../corpus/import/r1-searcher-corpus.ts';
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

/**
 * R1-Searcher's document string (`Title: <title> Text: <text>`) and its reading (a TSV line of
 * their corpus as it stands, with a BOM, a row number, CSV quoting, or KILT's `title   text`):
 * the corpus importer's rules, src/corpus/import/r1-searcher-corpus.ts.
 */
export { formatR1SearcherDocument, parseR1SearcherDocument };

/** Search-R1's `contents`: `"<title>"\n<text>` (src/corpus/import/flashrag-corpus.ts, which the corpus export uses too). */
export { formatSearchR1Contents };

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
 * SearchHits from an R1-Searcher response to `n` queries. Ids are the TSV id column when the
 * string is a whole corpus line (`id<TAB>..`, what their server sends), else derived from title
 * and text (src/corpus/import/doc-id.ts: the ids a sample-corpus pack uses); scores by rank.
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
      // Their server sends whole corpus lines: the id column, when there, is the document's id
      // (the one importing the same TSV gives it).
      const row = d.match(/^\ufeff?([^\t\n]+)\t/)?.[1]?.trim();
      return { id: row || derivedDocumentId(title, text), title, text, score: rankScore(rank) };
    });
  });
}

/**
 * One document of a Search-R1 `/retrieve` answer, whichever retriever sent it
 * (PeterGriffinJin/Search-R1 `search_r1/search/retrieval_server.py`): the dense retriever and
 * the BM25 one over a separate corpus send the corpus row (`{id, contents}` for wiki-18, any
 * other columns passed through); the BM25 one over an index that stores raw documents sends
 * `{title, text, contents}` with no id. `contents` wins when present; else `title` and `text`.
 * A document without an id gets the derived id of its title and text (src/corpus/import/doc-id.ts).
 * @throws ResponseShapeError naming the position when neither `contents` nor `text` is a string.
 */
function searchR1Document(doc: unknown, where: string): { id: string; title: string; text: string } {
  if (!isObject(doc)) throw new ResponseShapeError(`${where} must be a document object ({id, contents}, {title, text, contents} or {document: .., score}), got ${doc === null ? 'null' : typeof doc}`);
  let title: string, text: string;
  if (typeof doc.contents === 'string') ({ title, text } = parseSearchR1Contents(doc.contents));
  else if (typeof doc.text === 'string') ({ title, text } = { title: typeof doc.title === 'string' ? doc.title.trim() : '', text: doc.text.trim() });
  else throw new ResponseShapeError(`${where} has neither "contents" nor "text" (fields: ${Object.keys(doc).slice(0, 8).join(', ') || 'none'})`);
  const id = typeof doc.id === 'string' && doc.id !== '' ? doc.id : typeof doc.id === 'number' ? String(doc.id) : derivedDocumentId(title, text);
  return { id, title, text };
}

/**
 * SearchHits from a Search-R1 response to `n` queries, with or without scores (scores by rank
 * when absent), documents in any shape its retrievers send (see `searchR1Document`); numeric
 * ids become strings. A query with no hits is an empty list (their BM25 server's answer then).
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
      const doc = searchR1Document(scored ? (entry as { document: unknown }).document : entry, `"result"[${i}][${rank}]`);
      const score = scored ? (entry as { score?: unknown }).score : undefined;
      return { ...doc, score: typeof score === 'number' && Number.isFinite(score) ? score : rankScore(rank) };
    });
  });
}
