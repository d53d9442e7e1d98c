/**
 * What the search worker exposes (`workers/search.worker.ts` only wraps this in comlink).
 *
 * Kept apart from the worker file so Node tests can drive the very same object, directly or
 * through a comlink MessageChannel, without a browser.
 */
import { fetchSource, loadPack, type PackProgress, type PackSource } from '../corpus/pack-loader.ts';
import { expose } from 'comlink';
import type { PackManifest, Question } from '../corpus/types.ts';
import { SearchIndex, packSearchOptions, type SearchHit, type SearchIndexOptions } from './search-index.ts';

/** What `loadPack` answers: the manifest and the sizes of what was indexed. */
export interface LoadedPackInfo {
  manifest: PackManifest;
  documents: number;
  questions: number;
  /** Milliseconds spent reading and verifying the pack, then building the index. */
  loadMs: number;
  indexMs: number;
}

/** Counters of the worker, for the page's status line. */
export interface SearchWorkerStats {
  /** Null until a pack is loaded. */
  pack: LoadedPackInfo | null;
  terms: number;
  /** Queries answered since the pack was loaded, and the milliseconds spent on them. */
  queries: number;
  searchMs: number;
  cache: { hits: number; misses: number; entries: number; capacity: number };
}

/**
 * The search worker's API. Through comlink every method returns a Promise; `search` and
 * `searchMany` then match the {@link Retriever} interface exactly.
 */
export interface SearchWorkerApi {
  /**
   * Loads the pack at `baseUrl` (e.g. `"/corpus/world/"`), verifies it and builds ONE index
   * over all shards in manifest order, replacing any previous pack (a refused pack leaves the
   * previous one in service). `onProgress` is called once
   * per shard; across comlink pass it wrapped in `Comlink.proxy(fn)`.
   * @throws PackError (as an Error with its message) when the pack is refused.
   */
  loadPack(baseUrl: string, onProgress?: (progress: PackProgress) => void): Promise<LoadedPackInfo>;
  /** See `SearchIndex.search`. @throws Error when no pack is loaded. */
  search(query: string, k: number): SearchHit[];
  /** See `SearchIndex.searchMany`. @throws Error when no pack is loaded. */
  searchMany(queries: string[], k: number): SearchHit[][];
  stats(): SearchWorkerStats;
  /** The loaded pack's questions (the trainer worker gets them from here). @throws Error when no pack is loaded. */
  questions(): Question[];
  /**
   * Serves this same API on `port` too, so that another worker (the trainer) can search
   * directly, without a round trip through the page. Pass the port with `Comlink.transfer`.
   */
  connect(port: MessagePort): void;
}

/**
 * Builds the API object. `sourceFor` turns the `baseUrl` of `loadPack` into a PackSource
 * (default: fetch; tests pass `fsSource`).
 */
export function createSearchWorkerApi(
  sourceFor: (baseUrl: string) => PackSource = fetchSource,
  indexOptions?: SearchIndexOptions,
): SearchWorkerApi {
  let index: SearchIndex | null = null;
  let questionList: Question[] = [];
  let info: LoadedPackInfo | null = null;
  let queries = 0;
  let searchMs = 0;

  const ready = (): SearchIndex => {
    if (!index) throw new Error('search worker: no pack loaded; call loadPack(baseUrl) first');
    return index;
  };

  const api: SearchWorkerApi = {
    async loadPack(baseUrl, onProgress) {
      const t0 = performance.now();
      const pack = await loadPack(sourceFor(baseUrl), {
        // Across comlink the callback is a proxy whose call returns a promise; a page that went
        // away must not turn into an unhandled rejection here.
        onProgress: onProgress && ((p) => void Promise.resolve(onProgress(p)).catch(() => {})),
      });
      const t1 = performance.now();
      const next = SearchIndex.fromDocuments(pack.documents, { ...packSearchOptions(pack.manifest), ...indexOptions });
      const t2 = performance.now();
      index = next;
      questionList = pack.questions;
      info = {
        manifest: pack.manifest,
        documents: pack.documents.length,
        questions: pack.questions.length,
        loadMs: t1 - t0,
        indexMs: t2 - t1,
      };
      queries = 0;
      searchMs = 0;
      return info;
    },
    search(query, k) {
      const idx = ready();
      const t0 = performance.now();
      const hits = idx.search(query, k);
      searchMs += performance.now() - t0;
      queries += 1;
      return hits;
    },
    searchMany(qs, k) {
      const idx = ready();
      if (!Array.isArray(qs)) throw new TypeError(`search worker: searchMany wants an array of queries, got ${typeof qs}`);
      const t0 = performance.now();
      const hits = idx.searchMany(qs, k);
      searchMs += performance.now() - t0;
      queries += qs.length;
      return hits;
    },
    questions() {
      ready();
      return questionList;
    },
    connect(port) {
      expose(api, port);
    },
    stats() {
      return {
        pack: info,
        terms: index?.termCount ?? 0,
        queries,
        searchMs,
        cache: index?.cacheStats ?? { hits: 0, misses: 0, entries: 0, capacity: 0 },
      };
    },
  };
  return api;
}
