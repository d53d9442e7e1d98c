/**
 * A {@link Retriever} over HTTP: the rollout (recipe.md section 3) searches a remote endpoint
 * that speaks R1-Searcher's `/queries` or Search-R1's `/retrieve` protocol (src/search/protocols.ts)
 * instead of the in-process index: our own `serve-search`, or the dense-retrieval servers of
 * those projects (the paper's move to other search engines).
 *
 * One POST per `searchMany` batch. Each request has a timeout (AbortController); an unreachable
 * server, a timeout, an HTTP error or a malformed answer is a {@link RemoteSearchError} whose
 * message names the endpoint and says what happened. Uses the global `fetch`, so it runs in
 * Node >= 20, workers and pages (the server sends CORS headers for the page).
 */
import {
  hitsFromR1Searcher, hitsFromSearchR1, PROTOCOL_PATHS, ResponseShapeError, type R1SearcherRequest, type SearchProtocol, type SearchR1Request,
} from './protocols.ts';
import type { Retriever } from './retriever.ts';
import type { SearchHit } from './search-index.ts';

/** Settings of a {@link RemoteRetriever}. */
export interface RemoteRetrieverOptions {
  /**
   * The endpoint (`http://127.0.0.1:8000/retrieve`, `.../queries`) or the server's base URL
   * (`http://127.0.0.1:8000`, then `protocol` is required).
   */
  url: string;
  /** Needed when the URL's path is not `/queries` or `/retrieve`; must agree with it when it is. */
  protocol?: SearchProtocol;
  /** Milliseconds before a request is given up. Default 10,000. */
  timeoutMs?: number;
  /** The fetch to use (tests); default the global one. */
  fetch?: typeof fetch;
}

/** What a remote search failure says: the endpoint, then what went wrong. */
export class RemoteSearchError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RemoteSearchError';
  }
}

export const DEFAULT_REMOTE_TIMEOUT_MS = 10_000;

/**
 * The endpoint URL and protocol for `url` (see {@link RemoteRetrieverOptions.url}).
 * @throws Error for a URL that is not http(s), a protocol that contradicts the path, or a base
 *   URL without a protocol.
 */
export function resolveEndpoint(url: string, protocol?: SearchProtocol): { endpoint: string; protocol: SearchProtocol } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`search URL "${url}" is not a URL (e.g. http://127.0.0.1:8000/retrieve)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`search URL "${url}" must be http or https`);
  if (protocol !== undefined && !(protocol in PROTOCOL_PATHS)) throw new Error(`unknown search protocol "${protocol}" (r1-searcher or search-r1)`);
  const path = u.pathname.replace(/\/+$/, '');
  const byPath = (Object.keys(PROTOCOL_PATHS) as SearchProtocol[]).find((p) => path.endsWith(PROTOCOL_PATHS[p]));
  if (byPath) {
    if (protocol && protocol !== byPath) throw new Error(`search URL "${url}" is a ${byPath} endpoint, but protocol ${protocol} was asked for`);
    return { endpoint: u.href, protocol: byPath };
  }
  if (!protocol) {
    throw new Error(`search URL "${url}" does not say its protocol: end it in /queries (R1-Searcher) or /retrieve (Search-R1), or set the protocol`);
  }
  u.pathname = `${path}${PROTOCOL_PATHS[protocol]}`;
  return { endpoint: u.href, protocol };
}

/** Searches a remote endpoint; see the file comment. */
export class RemoteRetriever implements Retriever {
  readonly endpoint: string;
  readonly protocol: SearchProtocol;
  readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;

  /** @throws Error for a bad URL, protocol or timeout (see {@link resolveEndpoint}). */
  constructor(opts: RemoteRetrieverOptions) {
    const { endpoint, protocol } = resolveEndpoint(opts.url, opts.protocol);
    const timeoutMs = opts.timeoutMs ?? DEFAULT_REMOTE_TIMEOUT_MS;
    if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) throw new Error(`RemoteRetriever: timeoutMs must be a positive number, got ${timeoutMs}`);
    this.endpoint = endpoint;
    this.protocol = protocol;
    this.timeoutMs = timeoutMs;
    this.fetchFn = opts.fetch ?? ((input, init) => fetch(input, init));
  }

  async search(query: string, k: number): Promise<SearchHit[]> {
    return (await this.searchMany([query], k))[0]!;
  }

  /**
   * The top `k` hits of each query, in order; one request for the whole batch.
   * @throws RangeError for a bad k; RemoteSearchError when the server cannot be reached, does not
   *   answer in time, answers an HTTP error or something that is not the protocol's shape.
   */
  async searchMany(queries: string[], k: number): Promise<SearchHit[][]> {
    if (!(Number.isSafeInteger(k) && k > 0)) throw new RangeError(`RemoteRetriever: k must be a positive integer, got ${k}`);
    if (queries.length === 0) return [];
    const body: R1SearcherRequest | SearchR1Request =
      this.protocol === 'r1-searcher' ? { queries, k } : { queries, topk: k, return_scores: true };
    const json = await this.post(body);
    try {
      const hits = this.protocol === 'r1-searcher' ? hitsFromR1Searcher(json, queries.length) : hitsFromSearchR1(json, queries.length);
      return hits.map((list) => list.slice(0, k)); // a server may send more than asked
    } catch (e) {
      if (e instanceof ResponseShapeError) throw new RemoteSearchError(`search server ${this.endpoint} sent an answer that is not ${this.protocol}'s: ${e.message}`);
      throw e;
    }
  }

  /** POSTs JSON and returns the parsed answer, with the timeout over the whole exchange. */
  private async post(body: unknown): Promise<unknown> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    try {
      let res: Response;
      try {
        res = await this.fetchFn(this.endpoint, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: controller.signal,
        });
      } catch (e) {
        if (controller.signal.aborted) throw this.timeoutError();
        const cause = (e as { cause?: { code?: string; message?: string } }).cause;
        const why = cause?.code ?? cause?.message ?? (e as Error).message;
        throw new RemoteSearchError(`search server ${this.endpoint} is unreachable (${why}); is it running? (npm run cli -- serve-search --pack DIR --port N)`, { cause: e });
      }
      let text: string;
      try {
        text = await res.text();
      } catch (e) {
        if (controller.signal.aborted) throw this.timeoutError();
        throw new RemoteSearchError(`search server ${this.endpoint}: the answer broke off (${(e as Error).message})`, { cause: e });
      }
      if (!res.ok) throw new RemoteSearchError(`search server ${this.endpoint} answered ${res.status} ${res.statusText}: ${text.slice(0, 300)}`);
      try {
        return JSON.parse(text);
      } catch {
        throw new RemoteSearchError(`search server ${this.endpoint} answered something that is not JSON: ${text.slice(0, 120)}`);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  private timeoutError(): RemoteSearchError {
    return new RemoteSearchError(`search server ${this.endpoint} did not answer within ${this.timeoutMs} ms`);
  }
}

/**
 * The retriever of a `--search-url URL` flag (train, eval): a RemoteRetriever with the default
 * timeout, or undefined when the flag is absent (the caller then uses the pack's own index).
 * @throws Error naming the flag when the URL is unusable.
 */
export function searchUrlRetriever(url: string | undefined): RemoteRetriever | undefined {
  if (url === undefined) return undefined;
  try {
    return new RemoteRetriever({ url });
  } catch (e) {
    throw new Error(`--search-url: ${(e as Error).message}`);
  }
}
