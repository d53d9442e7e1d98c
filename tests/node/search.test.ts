import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expose, proxy, wrap } from 'comlink';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fsSource, loadPack, type PackProgress } from '../../src/corpus/pack-loader.ts';
import type { CorpusDocument, Pack } from '../../src/corpus/types.ts';
import { run as searchCli } from '../../src/cli/commands/search.ts';
import { LocalRetriever } from '../../src/search/retriever.ts';
import { SearchIndex, type SearchHit } from '../../src/search/search-index.ts';
import { queryTerms, searchTerms } from '../../src/search/terms.ts';
import { createSearchWorkerApi, type SearchWorkerApi } from '../../src/search/worker-api.ts';
import { Rng } from '../../src/util/rng.ts';

// ---------------------------------------------------------------------------------------------
// Fixture pack writer (node:crypto hashes; the loader checks them with WebCrypto).

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'search-test-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function writePack(name: string, shards: CorpusDocument[][]): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir);
  const enc = (s: string) => new TextEncoder().encode(s);
  const shardInfo = [];
  for (let i = 0; i < shards.length; i++) {
    const file = `shard-${i}.jsonl`;
    const bytes = enc(jsonl(shards[i]!));
    await writeFile(join(dir, file), bytes);
    shardInfo.push({ file, bytes: bytes.byteLength, sha256: sha(bytes), documents: shards[i]!.length });
  }
  const q = enc('');
  await writeFile(join(dir, 'questions.jsonl'), q);
  const manifest = {
    format: 'r1s-pack', version: 1, name, description: 'test', source: 'test', license: 'CC0',
    shards: shardInfo, questions: { file: 'questions.jsonl', bytes: 0, sha256: sha(q), count: 0 },
  };
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return dir;
}

// ---------------------------------------------------------------------------------------------
// BM25+ as MiniSearch 7 computes it (k1 = 1.2, b = 0.7, delta = 0.5), written out to check
// scores by hand: idf = ln(1 + (N - df + 0.5) / (df + 0.5)),
// part = idf * (delta + tf (k1 + 1) / (tf + k1 (1 - b + b len / avgLen))) * fieldBoost,
// score = (sum of parts) * (number of distinct query terms matched). MiniSearch measures a
// field's length `len` in DISTINCT terms, and averages that over all documents.
function bm25Part(tf: number, df: number, n: number, len: number, avgLen: number, boost = 1): number {
  const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
  return boost * idf * (0.5 + (tf * 2.2) / (tf + 1.2 * (0.3 + (0.7 * len) / avgLen)));
}

// Text lengths in distinct terms (punctuation dropped; d2 repeats lomi): 5, 7, 4, 5, average
// 5.25; every title is 1 term.
const TINY: CorpusDocument[] = [
  { id: 'd1', title: 'Kavor', text: 'Kavor was born in Lomi.' },
  { id: 'd2', title: 'Lomi', text: 'Lomi is a city; Kavor lives in Lomi.' },
  { id: 'd3', title: 'Renta', text: 'Renta wrote a book.' },
  { id: 'd4', title: 'Tusva', text: 'Tusva was born in Renta.' },
];

describe('analysis', () => {
  it('normalizes like the tokenizer and drops punctuation and tags', () => {
    expect(searchTerms('Kavor\'s CITY, “Lomi”! <think> x')).toEqual(['kavor', 's', 'city', 'lomi', 'x']);
    expect(queryTerms('lomi Lomi LOMI city')).toEqual(['lomi', 'city']);
    expect(searchTerms(' ?! ... ')).toEqual([]);
  });
});

describe('SearchIndex ranking (hand-checked)', () => {
  const index = SearchIndex.fromDocuments(TINY);

  it('puts the document titled with the query term first, with the BM25+ scores (title boost 3)', () => {
    const hits = index.search('kavor', 5);
    expect(hits.map((h) => h.id)).toEqual(['d1', 'd2']);
    // d1: title (tf 1, df 1, len 1, avg 1, boost 3) + text (tf 1, df 2, len 5, avg 5.25).
    // By hand: 3 * ln(1 + 3.5/1.5) * (0.5 + 1) = 5.417878; ln 2 * (0.5 + 2.2/2.16) = 1.052559.
    expect(hits[0]!.score).toBeCloseTo(6.470437, 4);
    expect(hits[0]!.score).toBeCloseTo(bm25Part(1, 1, 4, 1, 1, 3) + bm25Part(1, 2, 4, 5, 5.25), 12);
    // d2: text only (tf 1, len 7): ln 2 * (0.5 + 2.2/2.48) = 0.961462.
    expect(hits[1]!.score).toBeCloseTo(0.961462, 5);
    expect(hits[0]).toEqual({ id: 'd1', title: 'Kavor', text: 'Kavor was born in Lomi.', score: hits[0]!.score });
  });

  it('prefers a title match over one text term, but not over three matched terms', () => {
    // "born lomi": d2 (title Lomi + lomi twice in text) beats d1 (born, lomi in text, x2).
    let hits = index.search('born lomi', 5);
    expect(hits.map((h) => h.id)).toEqual(['d2', 'd1', 'd4']);
    const d2 = bm25Part(1, 1, 4, 1, 1, 3) + bm25Part(2, 2, 4, 7, 5.25);
    const d1 = 2 * (bm25Part(1, 2, 4, 5, 5.25) + bm25Part(1, 2, 4, 5, 5.25));
    expect(hits[0]!.score).toBeCloseTo(d2, 12);
    expect(hits[1]!.score).toBeCloseTo(d1, 12);
    // By hand: 5.417878 + ln 2 * (0.5 + 4.4/3.48) = 6.640844 against 2 * 2 * 1.052559 = 4.210236.
    expect(hits[0]!.score).toBeCloseTo(6.640844, 5);
    expect(hits[1]!.score).toBeCloseTo(4.210227, 4);
    // "born lomi was": d1 matches all three terms (x3) and overtakes the title match.
    hits = index.search('born lomi was', 5);
    expect(hits.map((h) => h.id)).toEqual(['d1', 'd2', 'd4']);
    expect(hits[0]!.score).toBeCloseTo(3 * 3 * bm25Part(1, 2, 4, 5, 5.25), 12); // 9.473011
    expect(hits[0]!.score).toBeCloseTo(9.473011, 5);
  });

  it('matches whole normalized words only (no prefix, no fuzzy)', () => {
    expect(index.search('KAVOR!', 5).map((h) => h.id)).toEqual(['d1', 'd2']);
    expect(index.search('kav', 5)).toEqual([]);
    expect(index.search('kavorr', 5)).toEqual([]);
  });

  it('cuts at k and counts a repeated query term once', () => {
    expect(index.search('born lomi', 2).map((h) => h.id)).toEqual(['d2', 'd1']);
    expect(index.search('lomi lomi born', 5)).toEqual(index.search('born lomi', 5));
  });

  it('answers [] for empty, blank, punctuation-only and unknown queries', () => {
    for (const q of ['', '   ', '?!.', '<|begin_of_query|>', 'zzz']) expect(index.search(q, 3)).toEqual([]);
  });

  it('refuses a k that is not a positive integer', () => {
    for (const k of [0, -1, 1.5, Number.NaN]) expect(() => index.search('kavor', k)).toThrow(/k must be a positive integer/);
  });
});

describe('SearchIndex ties and cache', () => {
  it('breaks equal scores by pack order, not by the order terms were looked up', () => {
    // Same lengths and document frequencies: p0 (only "beta") and p1 (only "alpha") score the
    // same for "alpha beta"; MiniSearch itself lists p1 first (alpha is looked up first).
    const docs: CorpusDocument[] = [
      { id: 'p0', title: 'one', text: 'beta gamma' },
      { id: 'p1', title: 'two', text: 'alpha gamma' },
      { id: 'p2', title: 'six', text: 'delta gamma' },
    ];
    const index = SearchIndex.fromDocuments(docs);
    const hits = index.search('alpha beta', 5);
    expect(hits[0]!.score).toBe(hits[1]!.score);
    expect(hits.map((h) => h.id)).toEqual(['p0', 'p1']);
    // A tie across the cut at k: the earlier document in pack order is kept.
    expect(index.search('gamma', 2).map((h) => h.id)).toEqual(['p0', 'p1']);
    expect(index.search('gamma beta alpha', 1).map((h) => h.id)).toEqual(['p0']);
  });

  it('gives the same answers with and without the cache, and hands out copies', () => {
    const cached = SearchIndex.fromDocuments(TINY, { cacheSize: 2 });
    const plain = SearchIndex.fromDocuments(TINY, { cacheSize: 0 });
    const qs = ['kavor', 'born lomi', 'kavor', 'renta', 'born lomi', 'born  LOMI', 'kavor'];
    for (const q of qs) expect(cached.search(q, 3)).toEqual(plain.search(q, 3));
    expect(cached.cacheStats).toMatchObject({ hits: 2, misses: 5, entries: 2, capacity: 2 });
    const first = cached.search('kavor', 3);
    first[0]!.title = 'edited';
    expect(cached.search('kavor', 3)[0]!.title).toBe('Kavor');
  });

  it('empties the cache when documents are added', () => {
    const index = new SearchIndex();
    index.addShard(TINY.slice(0, 2));
    expect(index.search('renta', 3)).toEqual([]);
    index.addShard(TINY.slice(2));
    expect(index.search('renta', 3).map((h) => h.id)).toEqual(['d3', 'd4']);
  });

  it('refuses a duplicate id and adds nothing then', () => {
    const index = SearchIndex.fromDocuments(TINY);
    expect(() => index.addShard([{ id: 'd9', title: 'x', text: 'x' }, { id: 'd2', title: 'y', text: 'y' }])).toThrow(
      'SearchIndex.addShard: duplicate document id "d2"',
    );
    expect(index.size).toBe(4);
    expect(index.search('x', 3)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// One index over all shards vs. per-shard indexes, on a random fixture whose shards differ in
// vocabulary (as a generator that writes one entity type per shard would produce).

const VOCAB = Array.from({ length: 150 }, (_, i) => `w${i}`);
function randomShards(seed: number): CorpusDocument[][] {
  const rng = new Rng(seed);
  const zipf = () => VOCAB[Math.floor(VOCAB.length * rng.next() ** 2)]!;
  return [0, 1, 2, 3].map((s) => {
    const topic = VOCAB.slice(s * 30, s * 30 + 40); // overlapping topic words per shard
    return Array.from({ length: 60 + 20 * s }, (_, i) => {
      const word = () => (rng.next() < 0.5 ? rng.pick(topic) : zipf());
      const len = 8 + rng.int(30);
      return { id: `s${s}-${i}`, title: `${word()} ${rng.next() < 0.5 ? word() : ''}`.trim(), text: Array.from({ length: len }, word).join(' ') + '.' };
    });
  });
}

function randomQueries(seed: number, n: number): string[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => Array.from({ length: 1 + rng.int(4) }, () => rng.pick(VOCAB)).join(' '));
}

/** What per-shard indexes merged by score would answer (ties by pack order). */
function mergedPerShard(indexes: SearchIndex[], offsets: number[], query: string, k: number): SearchHit[] {
  const all = indexes.flatMap((ix, s) => ix.search(query, k).map((h, r) => ({ h, ord: offsets[s]! + r })));
  return all.sort((a, b) => b.h.score - a.h.score || a.ord - b.ord).slice(0, k).map((x) => x.h);
}

describe('one index over all shards', () => {
  const shards = randomShards(11);
  const concatenated = shards.flat();
  const queries = randomQueries(12, 400);
  let pack: Pack;
  beforeAll(async () => {
    pack = await loadPack(fsSource(await writePack('random', shards)));
  });

  it('ranks a sharded pack exactly like one index over the concatenated documents', () => {
    expect(pack.documents).toHaveLength(concatenated.length);
    const fromPack = SearchIndex.fromDocuments(pack.documents, { cacheSize: 0 });
    const incremental = new SearchIndex({ cacheSize: 0 });
    for (const shard of shards) incremental.addShard(shard);
    const atOnce = SearchIndex.fromDocuments(concatenated, { cacheSize: 0 });
    let nonEmpty = 0;
    for (const q of queries) {
      const want = atOnce.search(q, 5);
      if (want.length > 0) nonEmpty++;
      // Exact scores (toEqual compares numbers with Object.is), exact ids and order.
      expect(fromPack.search(q, 5)).toEqual(want);
      expect(incremental.search(q, 5)).toEqual(want);
    }
    expect(nonEmpty).toBeGreaterThan(390);
  });

  it('differs from per-shard indexes merged by score (why the index must be one)', () => {
    const single = SearchIndex.fromDocuments(pack.documents, { cacheSize: 0 });
    const perShard = shards.map((s) => SearchIndex.fromDocuments(s, { cacheSize: 0 }));
    const offsets = shards.map((_, s) => shards.slice(0, s).reduce((n, x) => n + x.length, 0));
    let differ = 0;
    for (const q of queries) {
      const a = single.search(q, 5).map((h) => h.id);
      const b = mergedPerShard(perShard, offsets, q, 5).map((h) => h.id);
      if (a.join() !== b.join()) differ++;
    }
    // Measured on this fixture: 374 of 400 top-5 lists (94%) differ.
    expect(differ / queries.length).toBeGreaterThan(0.5);
  });
});

// ---------------------------------------------------------------------------------------------

describe('Retriever and the search worker API', () => {
  it('LocalRetriever answers what the index answers', async () => {
    const index = SearchIndex.fromDocuments(TINY);
    const r = new LocalRetriever(index);
    expect(await r.search('kavor', 2)).toEqual(index.search('kavor', 2));
    expect(await r.searchMany(['kavor', '', 'renta'], 2)).toEqual([index.search('kavor', 2), [], index.search('renta', 2)]);
  });

  it('serves the same ranking through comlink, with progress per shard', async () => {
    const shards = randomShards(21);
    const dir = await writePack('worker', shards);
    const { port1, port2 } = new MessageChannel();
    expose(createSearchWorkerApi(fsSource), port1 as unknown as Parameters<typeof expose>[1]);
    const remote = wrap<SearchWorkerApi>(port2 as unknown as Parameters<typeof wrap>[0]);
    try {
      await expect(remote.search('w1', 3)).rejects.toThrow('no pack loaded');
      const progress: PackProgress[] = [];
      const info = await remote.loadPack(dir, proxy((p: PackProgress) => void progress.push(p)));
      expect(info.documents).toBe(shards.flat().length);
      expect(info.manifest.shards).toHaveLength(4);
      await vi.waitFor(() => expect(progress).toHaveLength(4));
      expect(progress.map((p) => p.loaded).sort()).toEqual([1, 2, 3, 4]);

      const local = SearchIndex.fromDocuments(shards.flat());
      const qs = randomQueries(22, 30);
      expect(await remote.searchMany(qs, 3)).toEqual(qs.map((q) => local.search(q, 3)));
      expect(await remote.search(qs[0]!, 5)).toEqual(local.search(qs[0]!, 5));
      const stats = await remote.stats();
      expect(stats.queries).toBe(31);
      expect(stats.pack?.documents).toBe(info.documents);
      expect(stats.terms).toBe(local.termCount);
    } finally {
      port1.close();
      port2.close();
    }
  });
});

describe('search CLI', () => {
  it('prints the ranked hits as JSON and as a list, and refuses bad flags', async () => {
    const dir = await writePack('cli', [TINY.slice(0, 2), TINY.slice(2)]);
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    try {
      await searchCli(['--pack', dir, '--query', 'born lomi', '--k', '2', '--json']);
      const hits = JSON.parse(out.join('')) as SearchHit[];
      expect(hits).toEqual(SearchIndex.fromDocuments(TINY).search('born lomi', 2));
      expect(Object.keys(hits[0]!)).toEqual(['id', 'title', 'text', 'score']);
      out.length = 0;
      await searchCli(['--pack', dir, '--query', 'kavor']);
      expect(out.join('')).toMatch(/^query: "kavor" {2}\(2 hits among 4 documents\)\n {1}1\. Kavor \[d1\] {2}score 6\.470\n/);
    } finally {
      spy.mockRestore();
    }
    await expect(searchCli(['--query', 'x'])).rejects.toThrow('--pack DIR is required');
    await expect(searchCli(['--pack', dir])).rejects.toThrow('--query TEXT is required');
    await expect(searchCli(['--pack', dir, '--query', 'x', '--k', '0'])).rejects.toThrow('--k must be a positive integer, got "0"');
    await expect(searchCli(['--pack', dir, '--query', 'x', '--top', '3'])).rejects.toThrow(/Unknown option '--top'/);
  });
});
