/**
 * `npm run cli -- serve-search --pack DIR [--port 8000] [--max-k 100] [--max-queries 8192] [--allow-origin ORIGIN]... [--json]`
 *
 * Serves a pack's search index on 127.0.0.1 (never another interface: it is a local tool) with
 * the two retrieval protocols public search-RL code speaks (src/search/protocols.ts):
 * R1-Searcher's `POST /queries` and Search-R1's `POST /retrieve`, so their training and
 * evaluation scripts, our `--search-url`, or the page can search our corpus (issue 7, part 6).
 * `GET /` and `GET /health` describe the server. `--port 0` takes any free port; the URL is
 * printed. Ctrl-C stops it.
 *
 * - Browsers: a request from a web page carries an `Origin`. Only the playground's own origins
 *   on this machine (`http://localhost:<port>`, `http://127.0.0.1:<port>`, `http://[::1]:<port>`)
 *   are allowed by default, so no other page the user has open can read a (private, imported)
 *   corpus; `--allow-origin ORIGIN` adds one (`*` allows every origin). A request from any other
 *   origin gets 403 before any work. Clients outside a browser (Python, curl) send no Origin
 *   and are served.
 * - Size: at most `--max-queries` queries per request (default 8,192: Search-R1's default run
 *   posts 2,560 at once); the body limit follows from it (1 KiB per query, at least 1 MiB).
 * - Fairness: the queries of all requests are searched round-robin in slices of a few
 *   milliseconds, one slice per turn of the event loop, so large requests never stall the
 *   others or `/health` (which waits for one slice at most).
 *
 * The ranking is the in-process one: the same SearchIndex, with the pack's own settings
 * (`packSearchOptions`), over the same documents in pack order.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fsSource, loadPack } from '../../corpus/pack-loader.ts';
import {
  DEFAULT_LIMITS, parseR1SearcherRequest, parseSearchR1Request, PROTOCOL_PATHS, ProtocolError, r1SearcherResponse, searchR1Response,
  type RequestLimits,
} from '../../search/protocols.ts';
import { packSearchOptions, SearchIndex, type SearchHit } from '../../search/search-index.ts';
import { log, parseFlags, required } from '../common.ts';

const USAGE = 'npm run cli -- serve-search --pack DIR [--port 8000] [--max-k 100] [--max-queries 8192] [--allow-origin ORIGIN]... [--json]';

/** The only interface served on. */
export const SERVE_HOST = '127.0.0.1';
/** Smallest body limit: 1 MiB. */
export const MIN_MAX_BODY_BYTES = 1 << 20;

/** The body limit for a query limit: 1 KiB per query (queries are short), at least 1 MiB. */
export function maxBodyBytesFor(limits: RequestLimits): number {
  return Math.max(MIN_MAX_BODY_BYTES, limits.maxQueries * 1024);
}

/** Largest request body accepted by default: sized from the default query limit (8 MiB). */
export const DEFAULT_MAX_BODY_BYTES = maxBodyBytesFor(DEFAULT_LIMITS);

/** Milliseconds of searching before a large request lets the event loop serve others. */
const SLICE_MS = 8;

/** Origins served to browsers without `--allow-origin`: the playground on this machine, any port. */
const LOOPBACK_ORIGIN = /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$/;

/**
 * Whether a browser page of `origin` may call the server: a loopback origin, or one listed in
 * `allow` (`*` = any).
 */
export function originAllowed(origin: string, allow: readonly string[] = []): boolean {
  return LOOPBACK_ORIGIN.test(origin) || allow.includes('*') || allow.includes(origin);
}

/** Settings of {@link startSearchServer}. */
export interface SearchServerOptions {
  index: SearchIndex;
  /** TCP port; 0 = any free port. */
  port: number;
  maxBodyBytes?: number;
  limits?: RequestLimits;
  /** Extra fields for `GET /` (pack name, documents). */
  info?: Record<string, unknown>;
  /** Browser origins allowed besides the loopback ones (`*` = any); see {@link originAllowed}. */
  allowOrigins?: readonly string[];
}

/** A running server. */
export interface SearchServer {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  port: number;
  /** Requests answered and queries searched so far. */
  readonly stats: { requests: number; queries: number };
  /** Stops accepting connections and closes the open ones. */
  close(): Promise<void>;
}

/** CORS headers for an allowed browser origin (none for a client that sent no Origin). */
function corsHeaders(origin: string | undefined): Record<string, string> {
  if (!origin) return {};
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-methods': 'GET, POST, OPTIONS',
    'access-control-allow-headers': 'content-type',
    'access-control-max-age': '600',
    vary: 'origin',
  };
}

function send(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...extra });
  res.end(text);
}

/**
 * Runs the server's searches round-robin, ONE slice of about SLICE_MS per turn of the event
 * loop: between any two slices Node reads sockets and answers what is ready, so a small request
 * (or `/health`) waits for at most one slice, however many large requests are in progress.
 */
class SliceScheduler {
  private readonly jobs: { step: () => boolean; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;

  /** Runs `step` (one slice of work; true when the job is done) until done. */
  run(step: () => boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.jobs.push({ step, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.jobs.length === 0) return;
    this.scheduled = true;
    setImmediate(this.pump);
  }

  private readonly pump = (): void => {
    this.scheduled = false;
    const job = this.jobs.shift()!;
    let done = true;
    try {
      done = job.step();
      if (done) job.resolve();
    } catch (e) {
      job.reject(e);
    }
    if (!done) this.jobs.push(job);
    this.schedule();
  };
}

/** Searches `queries` through the scheduler, slice by slice; results in query order. */
async function searchInSlices(scheduler: SliceScheduler, index: SearchIndex, queries: readonly string[], k: number): Promise<SearchHit[][]> {
  const out: SearchHit[][] = [];
  let i = 0;
  await scheduler.run(() => {
    const t0 = performance.now();
    while (i < queries.length) {
      out.push(index.search(queries[i++]!, k));
      if (performance.now() - t0 > SLICE_MS) break;
    }
    return i >= queries.length;
  });
  return out;
}

/** The request body as text, or null after answering 413 when it exceeds `max` bytes. */
function readBody(req: IncomingMessage, res: ServerResponse, max: number, cors: Record<string, string>): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const tooLarge = () => {
      send(res, 413, { error: `request body exceeds ${max} bytes (raise --max-queries for larger batches)` }, { ...cors, connection: 'close' });
      res.once('finish', () => req.destroy());
      resolve(null);
    };
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > max) return tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.byteLength;
      if (size > max) {
        done = true;
        tooLarge();
      } else chunks.push(chunk);
    });
    req.on('end', () => {
      if (!done) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

/**
 * Starts the HTTP server on 127.0.0.1 (see the file comment).
 * @throws Error when the port cannot be bound (in use, not allowed).
 */
export async function startSearchServer(opts: SearchServerOptions): Promise<SearchServer> {
  const { index } = opts;
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const maxBody = opts.maxBodyBytes ?? maxBodyBytesFor(limits);
  const allow = opts.allowOrigins ?? [];
  const scheduler = new SliceScheduler();
  const stats = { requests: 0, queries: 0 };
  const info = {
    ...opts.info,
    documents: index.size,
    endpoints: { 'r1-searcher': `POST ${PROTOCOL_PATHS['r1-searcher']}`, 'search-r1': `POST ${PROTOCOL_PATHS['search-r1']}` },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    stats.requests++;
    const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '') || '/';
    // A browser names the page's origin; only allowed pages get an answer (and no work is done for others).
    const origin = req.headers.origin;
    if (origin !== undefined && !originAllowed(origin, allow)) {
      return send(res, 403, { error: `origin ${origin} is not allowed: serve-search answers pages on this machine; start it with --allow-origin ${origin} to allow that page` });
    }
    const cors = corsHeaders(origin);
    if (req.method === 'OPTIONS') {
      // CORS preflight; Chrome's Private Network Access asks before a public page calls localhost.
      const pna = origin && req.headers['access-control-request-private-network'] === 'true' ? { 'access-control-allow-private-network': 'true' } : {};
      res.writeHead(204, { ...cors, ...pna });
      res.end();
      return;
    }
    if (path === '/' || path === '/health') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: `${path} answers GET` }, { ...cors, allow: 'GET, OPTIONS' });
      return send(res, 200, info, cors);
    }
    const protocol = path === PROTOCOL_PATHS['r1-searcher'] ? 'r1-searcher' : path === PROTOCOL_PATHS['search-r1'] ? 'search-r1' : null;
    if (!protocol) return send(res, 404, { error: `no endpoint ${path}: use POST /queries (R1-Searcher) or POST /retrieve (Search-R1)` }, cors);
    if (req.method !== 'POST') return send(res, 405, { error: `${path} answers POST with a JSON body` }, { ...cors, allow: 'POST, OPTIONS' });
    const text = await readBody(req, res, maxBody, cors);
    if (text === null) return;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (e) {
      return send(res, 400, { error: `the body is not valid JSON (${(e as Error).message})` }, cors);
    }
    try {
      if (protocol === 'r1-searcher') {
        const { queries, k } = parseR1SearcherRequest(body, limits);
        stats.queries += queries.length;
        return send(res, 200, r1SearcherResponse(queries, await searchInSlices(scheduler, index, queries, k)), cors);
      }
      const { queries, k, returnScores } = parseSearchR1Request(body, limits);
      stats.queries += queries.length;
      return send(res, 200, searchR1Response(await searchInSlices(scheduler, index, queries, k), returnScores), cors);
    } catch (e) {
      if (e instanceof ProtocolError) return send(res, 400, { error: `${e.message}${/holds \d+ queries/.test(e.message) ? ' (raise it with --max-queries)' : ''}` }, cors);
      throw e;
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, { error: `search failed: ${e instanceof Error ? e.message : String(e)}` });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new Error(`serve-search: cannot listen on ${SERVE_HOST}:${opts.port} (${e.code ?? e.message}${e.code === 'EADDRINUSE' ? ': the port is in use, pick another or 0 for any free one' : ''})`)),
    );
    server.listen(opts.port, SERVE_HOST, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${SERVE_HOST}:${port}`,
    port,
    stats,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      }),
  };
}

export async function run(argv: string[]): Promise<void> {
  const f = parseFlags(argv, {
    pack: { type: 'string' }, port: { type: 'string' }, 'max-k': { type: 'string' }, 'max-queries': { type: 'string' },
    'allow-origin': { type: 'string', multiple: true }, json: { type: 'boolean' },
  }, USAGE);
  const dir = required(f.pack, 'pack');
  const port = Number(f.port ?? '8000');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be an integer in [0, 65535] (0 = any free port), got "${f.port}"`);
  const maxK = Number(f['max-k'] ?? DEFAULT_LIMITS.maxK);
  if (!Number.isInteger(maxK) || maxK < 1) throw new Error(`--max-k must be a positive integer, got "${f['max-k']}"`);
  const maxQueries = Number(f['max-queries'] ?? DEFAULT_LIMITS.maxQueries);
  if (!Number.isInteger(maxQueries) || maxQueries < 1 || maxQueries > 1_000_000) throw new Error(`--max-queries must be an integer in [1, 1000000], got "${f['max-queries']}"`);
  const allowOrigins = f['allow-origin'] ?? [];
  for (const o of allowOrigins) {
    if (o !== '*' && !/^https?:\/\/[^/\s]+$/.test(o)) throw new Error(`--allow-origin must be an origin such as https://example.org (scheme and host, no path) or *, got "${o}"`);
  }

  const t0 = performance.now();
  const pack = await loadPack(fsSource(dir));
  const index = SearchIndex.fromDocuments(pack.documents, packSearchOptions(pack.manifest));
  const server = await startSearchServer({
    index, port, limits: { ...DEFAULT_LIMITS, maxK, maxQueries }, allowOrigins,
    info: { pack: pack.manifest.name, source: pack.manifest.source, license: pack.manifest.license },
  });
  const endpoints = { 'r1-searcher': `${server.url}${PROTOCOL_PATHS['r1-searcher']}`, 'search-r1': `${server.url}${PROTOCOL_PATHS['search-r1']}` };
  if (f.json) process.stdout.write(`${JSON.stringify({ url: server.url, endpoints, pack: pack.manifest.name, documents: index.size })}\n`);
  else {
    process.stdout.write(
      `serve-search: pack "${pack.manifest.name}" (${index.size} documents, indexed in ${((performance.now() - t0) / 1000).toFixed(1)} s) on ${server.url}\n` +
        `  R1-Searcher: POST ${endpoints['r1-searcher']}  {"queries": [..], "k": 3}\n` +
        `  Search-R1:   POST ${endpoints['search-r1']}  {"queries": [..], "topk": 3, "return_scores": true}\n` +
        `  at most ${maxQueries} queries per request; browser pages: this machine's${allowOrigins.length ? ` and ${allowOrigins.join(', ')}` : ' only (--allow-origin adds others)'}\n` +
        '  Ctrl-C stops.\n',
    );
  }
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  log(`serve-search: stopped after ${server.stats.requests} requests (${server.stats.queries} queries)`);
}
