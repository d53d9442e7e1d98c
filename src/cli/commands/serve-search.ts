/**
 * `npm run cli -- serve-search --pack DIR [--port 8000] [--max-k 100] [--json]`
 *
 * Serves a pack's search index on 127.0.0.1 (never another interface: it is a local tool) with
 * the two retrieval protocols public search-RL code speaks (src/search/protocols.ts):
 * R1-Searcher's `POST /queries` and Search-R1's `POST /retrieve`, so their training and
 * evaluation scripts, our `--search-url`, or the page can search our corpus (issue 7, part 6).
 * `GET /` describes the server. CORS is open (`*`, with the OPTIONS preflight) so a page on
 * another origin can call it; bodies are capped; bad requests get a 400 with `{"error"}`
 * naming the field. `--port 0` takes any free port; the URL is printed. Ctrl-C stops it.
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
import { packSearchOptions, SearchIndex } from '../../search/search-index.ts';
import { log, parseFlags, required } from '../common.ts';

const USAGE = 'npm run cli -- serve-search --pack DIR [--port 8000] [--max-k 100] [--json]';

/** The only interface served on. */
export const SERVE_HOST = '127.0.0.1';
/** Largest request body accepted: 1 MiB (1,024 queries of 1 KB each). */
export const DEFAULT_MAX_BODY_BYTES = 1 << 20;

/** Settings of {@link startSearchServer}. */
export interface SearchServerOptions {
  index: SearchIndex;
  /** TCP port; 0 = any free port. */
  port: number;
  maxBodyBytes?: number;
  limits?: RequestLimits;
  /** Extra fields for `GET /` (pack name, documents). */
  info?: Record<string, unknown>;
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

const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-allow-headers': 'content-type',
  'access-control-max-age': '600',
};

function send(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...CORS_HEADERS, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...extra });
  res.end(text);
}

/** The request body as text, or null after answering 413 when it exceeds `max` bytes. */
function readBody(req: IncomingMessage, res: ServerResponse, max: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const tooLarge = () => {
      send(res, 413, { error: `request body exceeds ${max} bytes` }, { connection: 'close' });
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
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const stats = { requests: 0, queries: 0 };
  const info = {
    ...opts.info,
    documents: index.size,
    endpoints: { 'r1-searcher': `POST ${PROTOCOL_PATHS['r1-searcher']}`, 'search-r1': `POST ${PROTOCOL_PATHS['search-r1']}` },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    stats.requests++;
    const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '') || '/';
    if (req.method === 'OPTIONS') {
      // CORS preflight; Chrome's Private Network Access asks before a public page calls localhost.
      const pna = req.headers['access-control-request-private-network'] === 'true' ? { 'access-control-allow-private-network': 'true' } : {};
      res.writeHead(204, { ...CORS_HEADERS, ...pna });
      res.end();
      return;
    }
    if (path === '/' || path === '/health') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: `${path} answers GET` }, { allow: 'GET, OPTIONS' });
      return send(res, 200, info);
    }
    const protocol = path === PROTOCOL_PATHS['r1-searcher'] ? 'r1-searcher' : path === PROTOCOL_PATHS['search-r1'] ? 'search-r1' : null;
    if (!protocol) return send(res, 404, { error: `no endpoint ${path}: use POST /queries (R1-Searcher) or POST /retrieve (Search-R1)` });
    if (req.method !== 'POST') return send(res, 405, { error: `${path} answers POST with a JSON body` }, { allow: 'POST, OPTIONS' });
    const text = await readBody(req, res, maxBody);
    if (text === null) return;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (e) {
      return send(res, 400, { error: `the body is not valid JSON (${(e as Error).message})` });
    }
    try {
      if (protocol === 'r1-searcher') {
        const { queries, k } = parseR1SearcherRequest(body, limits);
        stats.queries += queries.length;
        return send(res, 200, r1SearcherResponse(queries, index.searchMany(queries, k)));
      }
      const { queries, k, returnScores } = parseSearchR1Request(body, limits);
      stats.queries += queries.length;
      return send(res, 200, searchR1Response(index.searchMany(queries, k), returnScores));
    } catch (e) {
      if (e instanceof ProtocolError) return send(res, 400, { error: e.message });
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
  const f = parseFlags(argv, { pack: { type: 'string' }, port: { type: 'string' }, 'max-k': { type: 'string' }, json: { type: 'boolean' } }, USAGE);
  const dir = required(f.pack, 'pack');
  const port = Number(f.port ?? '8000');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be an integer in [0, 65535] (0 = any free port), got "${f.port}"`);
  const maxK = Number(f['max-k'] ?? DEFAULT_LIMITS.maxK);
  if (!Number.isInteger(maxK) || maxK < 1) throw new Error(`--max-k must be a positive integer, got "${f['max-k']}"`);

  const t0 = performance.now();
  const pack = await loadPack(fsSource(dir));
  const index = SearchIndex.fromDocuments(pack.documents, packSearchOptions(pack.manifest));
  const server = await startSearchServer({
    index, port, limits: { ...DEFAULT_LIMITS, maxK }, info: { pack: pack.manifest.name, source: pack.manifest.source, license: pack.manifest.license },
  });
  const endpoints = { 'r1-searcher': `${server.url}${PROTOCOL_PATHS['r1-searcher']}`, 'search-r1': `${server.url}${PROTOCOL_PATHS['search-r1']}` };
  if (f.json) process.stdout.write(`${JSON.stringify({ url: server.url, endpoints, pack: pack.manifest.name, documents: index.size })}\n`);
  else {
    process.stdout.write(
      `serve-search: pack "${pack.manifest.name}" (${index.size} documents, indexed in ${((performance.now() - t0) / 1000).toFixed(1)} s) on ${server.url}\n` +
        `  R1-Searcher: POST ${endpoints['r1-searcher']}  {"queries": [..], "k": 3}\n` +
        `  Search-R1:   POST ${endpoints['search-r1']}  {"queries": [..], "topk": 3, "return_scores": true}\n` +
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
