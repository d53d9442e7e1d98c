/**
 * The search engine of recipe.md section 3: ONE BM25 index over every document of a pack.
 *
 * Why one index: BM25 scores depend on corpus-wide statistics (how many documents hold a term,
 * the average field length). Separate per-shard indexes each see their own statistics, so
 * merging their hits by score gives a different ranking (the issue measured 55% of top-5
 * lists differing; tests/node/search.test.ts shows it on a fixture). Shards are only a
 * storage detail here.
 *
 * Built on MiniSearch, whose scoring is BM25+ (k = 1.2, b = 0.7, delta = 0.5) summed over the
 * query terms and fields, each field's part multiplied by its boost, and the sum multiplied
 * by the number of distinct query terms the document matched; a field's length is its number
 * of distinct terms (tests/node/search.test.ts recomputes scores by hand). MiniSearch keeps those
 * statistics global and updates them on every `add`, so adding shard after shard (in pack
 * order) yields exactly the index, and exactly the scores, of adding all documents at once.
 * The order matters only down to the last bit: the running average field length is a float.
 */
import MiniSearch from 'minisearch';
import type { Bm25Params, CorpusDocument, PackSearchSettings } from '../corpus/types.ts';
import { queryTerms, searchTerms } from './terms.ts';

/** One retrieved document with its score (higher is better; comparable within one query). */
export interface SearchHit {
  id: string;
  title: string;
  text: string;
  score: number;
}

/** How a SearchIndex ranks: the pack's recorded settings plus the result cache. */
export interface SearchIndexOptions extends PackSearchSettings {
  /**
   * Number of recent (query terms, k) results kept, least recently used dropped first; 0
   * disables the cache. Default 4096. Rollouts of one prompt often issue the same query, and
   * a query over common words costs about a millisecond on 2,000 documents (measured), while
   * a cache hit costs a few microseconds. The cache is emptied whenever documents are added.
   */
  cacheSize?: number;
}

export const DEFAULT_TITLE_BOOST = 3;
export const DEFAULT_CACHE_SIZE = 4096;
/** MiniSearch 7's BM25+ defaults. */
export const DEFAULT_BM25: Readonly<Bm25Params> = Object.freeze({ k: 1.2, b: 0.7, d: 0.5 });

/**
 * A BM25 index over corpus documents with a deterministic top-k search.
 *
 * Ranking: score descending, ties broken by pack order (the order documents were added), so
 * the same pack and query always give the same list. No fuzzy or prefix matching: a query
 * term matches a document term only when identical after normalization (`terms.ts`); terms
 * are OR-combined.
 */
export class SearchIndex {
  private readonly mini: MiniSearch<CorpusDocument>;
  /** Documents in pack order; position = ordinal used for tie-breaking. */
  private readonly docs: CorpusDocument[] = [];
  private readonly ordinal = new Map<string, number>();
  /** LRU cache: key `k + ' ' + query terms`, value the hits (Map iteration order = recency). */
  private readonly cache = new Map<string, SearchHit[]>();
  private readonly cacheSize: number;
  private cacheHits = 0;
  private cacheMisses = 0;
  readonly titleBoost: number;
  readonly bm25: Readonly<Bm25Params>;
  readonly coordination: boolean;
  private readonly stopWords: ReadonlySet<string>;

  constructor(opts: SearchIndexOptions = {}) {
    const titleBoost = opts.titleBoost ?? DEFAULT_TITLE_BOOST;
    if (!(Number.isFinite(titleBoost) && titleBoost > 0)) {
      throw new RangeError(`SearchIndex: titleBoost must be a positive number, got ${titleBoost}`);
    }
    const cacheSize = opts.cacheSize ?? DEFAULT_CACHE_SIZE;
    if (!(Number.isSafeInteger(cacheSize) && cacheSize >= 0)) {
      throw new RangeError(`SearchIndex: cacheSize must be a non-negative integer, got ${cacheSize}`);
    }
    const bm25 = opts.bm25 ?? DEFAULT_BM25;
    if (!(Number.isFinite(bm25.k) && bm25.k >= 0 && Number.isFinite(bm25.b) && bm25.b >= 0 && bm25.b <= 1 && Number.isFinite(bm25.d) && bm25.d >= 0)) {
      throw new RangeError(`SearchIndex: bm25 must have k >= 0, b in [0, 1] and d >= 0, got ${JSON.stringify(bm25)}`);
    }
    this.titleBoost = titleBoost;
    this.cacheSize = cacheSize;
    this.bm25 = Object.freeze({ k: bm25.k, b: bm25.b, d: bm25.d });
    this.coordination = opts.coordination ?? true;
    this.stopWords = new Set(opts.stopWords ?? []);
    this.mini = new MiniSearch<CorpusDocument>({
      fields: ['title', 'text'],
      storeFields: [], // documents are kept in `docs`; no second copy inside MiniSearch
      // MiniSearch reads the id through extractField too.
      ...(opts.titleInText ? { extractField: (doc: CorpusDocument, field: string) => (field === 'text' ? `${doc.title} ${doc.text}` : field === 'title' ? doc.title : doc.id) } : {}),
      tokenize: (text) => searchTerms(text),
      processTerm: (term) => term, // searchTerms already lowercased and normalized
      autoVacuum: false, // documents are never removed
      searchOptions: {
        boost: { title: titleBoost },
        bm25: { ...this.bm25 },
        combineWith: 'OR',
        prefix: false,
        fuzzy: false,
        // search() hands MiniSearch the already analyzed terms joined by spaces.
        tokenize: (joinedTerms) => (joinedTerms === '' ? [] : joinedTerms.split(' ')),
        processTerm: (term) => term,
      },
    });
  }

  /** An index over `documents`, added in the given order (pack order). */
  static fromDocuments(documents: readonly CorpusDocument[], opts?: SearchIndexOptions): SearchIndex {
    const index = new SearchIndex(opts);
    index.addShard(documents);
    return index;
  }

  /**
   * Adds documents (one shard, in line order) to the index. Adding shards one after another in
   * manifest order gives the same ranking and scores as one `fromDocuments` call over all of them.
   * @throws Error when an id is empty, repeated within `documents` or already indexed, or a
   *   title or text is not a string; nothing is added then.
   */
  addShard(documents: readonly CorpusDocument[]): void {
    const fresh = new Set<string>();
    for (const doc of documents) {
      if (typeof doc.id !== 'string' || doc.id === '') {
        throw new Error(`SearchIndex.addShard: document id must be a non-empty string, got ${JSON.stringify(doc.id)}`);
      }
      if (typeof doc.title !== 'string' || typeof doc.text !== 'string') {
        throw new Error(`SearchIndex.addShard: document "${doc.id}" needs string title and text`);
      }
      if (this.ordinal.has(doc.id) || fresh.has(doc.id)) {
        throw new Error(`SearchIndex.addShard: duplicate document id "${doc.id}"`);
      }
      fresh.add(doc.id);
    }
    for (const doc of documents) {
      this.ordinal.set(doc.id, this.docs.length);
      this.docs.push(doc);
    }
    this.mini.addAll(documents);
    this.cache.clear();
  }

  /** Number of documents indexed. */
  get size(): number {
    return this.docs.length;
  }

  /** Number of distinct terms in the index. */
  get termCount(): number {
    return this.mini.termCount;
  }

  /** Cache counters since construction (for the worker's stats and benchmarks). */
  get cacheStats(): { hits: number; misses: number; entries: number; capacity: number } {
    return { hits: this.cacheHits, misses: this.cacheMisses, entries: this.cache.size, capacity: this.cacheSize };
  }

  /**
   * The top `k` documents for `query`, best first (score descending, ties by pack order).
   * The query is analyzed like the documents (`terms.ts`), repeated terms counted once.
   * A query with no index term (empty, blank, punctuation only) returns []; so does a query
   * whose terms occur nowhere. Returns fresh objects on every call (cached or not).
   * @throws RangeError when k is not a positive integer.
   */
  search(query: string, k: number): SearchHit[] {
    if (!(Number.isSafeInteger(k) && k > 0)) throw new RangeError(`SearchIndex.search: k must be a positive integer, got ${k}`);
    if (typeof query !== 'string') throw new TypeError(`SearchIndex.search: query must be a string, got ${typeof query}`);
    const joined = this.analyzeQuery(query).join(' '); // analyzed once; terms never contain spaces
    if (joined === '') return [];
    if (this.cacheSize === 0) return this.rank(joined, k);
    const key = `${k} ${joined}`;
    let hits = this.cache.get(key);
    if (hits) {
      this.cacheHits++;
      this.cache.delete(key); // re-insert: most recently used goes last
    } else {
      this.cacheMisses++;
      hits = this.rank(joined, k);
      if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    }
    this.cache.set(key, hits);
    // Copies, so a caller that edits a hit cannot change what later queries get.
    return hits.map((h) => ({ ...h }));
  }

  /** The query's terms without stop words (all of them when nothing else is left). */
  private analyzeQuery(query: string): string[] {
    const terms = queryTerms(query);
    if (this.stopWords.size === 0) return terms;
    const kept = terms.filter((t) => !this.stopWords.has(t));
    return kept.length > 0 ? kept : terms;
  }

  /** Ranks for analyzed query terms joined by single spaces (non-empty). */
  private rank(joinedTerms: string, k: number): SearchHit[] {
    const results = this.mini.search(joinedTerms);
    if (results.length === 0) return [];
    if (!this.coordination) {
      // Undo MiniSearch's multiplication by the number of matched query terms, then re-sort.
      for (const r of results) r.score /= r.queryTerms.length || 1;
      results.sort((a, b) => b.score - a.score);
    }
    // MiniSearch sorts by score only, and its order among equal scores follows internal map
    // order. Take the first k plus everything tied with the k-th, then order that small set
    // by (score, pack order).
    let end = Math.min(k, results.length);
    const kth = results[end - 1]!.score;
    while (end < results.length && results[end]!.score === kth) end++;
    const top = results.slice(0, end).map((r) => ({ ord: this.ordinal.get(r.id as string)!, score: r.score }));
    top.sort((a, b) => b.score - a.score || a.ord - b.ord);
    return top.slice(0, k).map(({ ord, score }) => {
      const doc = this.docs[ord]!;
      return { id: doc.id, title: doc.title, text: doc.text, score };
    });
  }

  /** `search` for each query, in order (what one RL step's batch of rollouts issues). */
  searchMany(queries: readonly string[], k: number): SearchHit[][] {
    return queries.map((q) => this.search(q, k));
  }
}

/**
 * The search settings a pack asks for: `manifest.generator.search` (written by the importer,
 * src/corpus/import/search-settings.ts), or `{}` (every default) when the pack has none, as the
 * world pack. Every place that indexes a pack should pass these to the SearchIndex, so that the
 * CLI, the search worker and `serve-search` rank alike.
 * @throws Error naming the field when the recorded settings are malformed.
 */
export function packSearchOptions(manifest: { generator?: Record<string, unknown> }): SearchIndexOptions {
  const raw = manifest.generator?.search;
  if (raw === undefined) return {};
  const fail = (what: string): never => {
    throw new Error(`pack manifest: generator.search.${what}`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('must be an object');
  const r = raw as Record<string, unknown>;
  const out: SearchIndexOptions = {};
  if (r.titleBoost !== undefined) out.titleBoost = typeof r.titleBoost === 'number' ? r.titleBoost : fail('titleBoost must be a number');
  if (r.coordination !== undefined) out.coordination = typeof r.coordination === 'boolean' ? r.coordination : fail('coordination must be a boolean');
  if (r.titleInText !== undefined) out.titleInText = typeof r.titleInText === 'boolean' ? r.titleInText : fail('titleInText must be a boolean');
  if (r.stopWords !== undefined) {
    out.stopWords = Array.isArray(r.stopWords) && r.stopWords.every((w) => typeof w === 'string') ? (r.stopWords as string[]) : fail('stopWords must be an array of strings');
  }
  if (r.bm25 !== undefined) {
    const b = r.bm25 as Record<string, unknown> | null;
    if (!b || typeof b !== 'object' || !['k', 'b', 'd'].every((x) => typeof b[x] === 'number')) fail('bm25 must be {k, b, d} numbers');
    out.bm25 = { k: b!.k as number, b: b!.b as number, d: b!.d as number };
  }
  return out; // ranges are checked by the SearchIndex constructor
}
