import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  fetchSource,
  fsSource,
  loadPack,
  PackError,
  parseManifest,
  sha256Hex,
  type PackProgress,
  type PackSource,
} from '../../src/corpus/pack-loader.ts';
import type { CorpusDocument, PackManifest, Question } from '../../src/corpus/types.ts';

// ---------------------------------------------------------------------------------------------
// Fixture: a tiny pack written with node:crypto hashes (independent of the loader's WebCrypto).

const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

const SHARDS: CorpusDocument[][] = [
  [
    { id: 'd0', title: 'Kavor', text: 'Kavor was born in Lomi.' },
    { id: 'd1', title: 'Lomi', text: 'Lomi is a city by the river Ulsa.' },
  ],
  [
    { id: 'd2', title: 'Renta', text: 'Renta wrote “The Book of Salt”.' },
    { id: 'd3', title: 'Ulsa', text: 'The Ulsa is a river.' },
    { id: 'd4', title: 'Tusva', text: 'Tusva lives in Lomi.' },
  ],
  [{ id: 'd5', title: 'Mira', text: 'Mira is the mother of Kavor.' }],
];

const QUESTIONS: Question[] = [
  { id: 'q0', question: 'Where was Kavor born?', answers: ['Lomi'], hops: 1, template: 'birthplace', split: 'train', supportingIds: ['d0'] },
  { id: 'q1', question: 'Where was the son of Mira born?', answers: ['Lomi'], hops: 2, template: 'mother_birthplace', split: 'ood', supportingIds: ['d5', 'd0'] },
];

interface FixtureFiles {
  manifest: Record<string, unknown>;
  files: Record<string, Uint8Array>;
}

/** Files of a valid pack; tests edit them before writing. */
function fixture(shards = SHARDS, questions = QUESTIONS): FixtureFiles {
  const files: Record<string, Uint8Array> = {};
  const shardInfo = shards.map((docs, i) => {
    const file = `shard-${String(i).padStart(3, '0')}.jsonl`;
    files[file] = new TextEncoder().encode(jsonl(docs));
    return { file, bytes: files[file]!.byteLength, sha256: sha(files[file]!), documents: docs.length };
  });
  files['questions.jsonl'] = new TextEncoder().encode(jsonl(questions));
  const manifest = {
    format: 'r1s-pack',
    version: 1,
    name: 'tiny',
    description: 'test fixture',
    source: 'hand-written',
    license: 'CC0',
    shards: shardInfo,
    questions: { file: 'questions.jsonl', bytes: files['questions.jsonl']!.byteLength, sha256: sha(files['questions.jsonl']!), count: questions.length },
    generator: { seed: 1 },
  };
  return { manifest, files };
}

/** Replaces a file's bytes and updates its size and hash in the manifest (a "valid" edit). */
function rewrite(f: FixtureFiles, file: string, text: string): void {
  const bytes = new TextEncoder().encode(text);
  f.files[file] = bytes;
  const m = f.manifest as unknown as PackManifest;
  const entry = file === m.questions.file ? m.questions : m.shards.find((s) => s.file === file)!;
  entry.bytes = bytes.byteLength;
  entry.sha256 = sha(bytes);
}

let root: string;
let counter = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pack-loader-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function writePack(f: FixtureFiles): Promise<string> {
  const dir = await mkdtemp(join(root, `p${counter++}-`));
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(f.manifest, null, 2));
  for (const [name, bytes] of Object.entries(f.files)) await writeFile(join(dir, name), bytes);
  return dir;
}

/** An in-memory source (manifest serialized from the object). */
function memSource(f: FixtureFiles): PackSource {
  return {
    async readFile(name) {
      if (name === 'manifest.json') return new TextEncoder().encode(JSON.stringify(f.manifest));
      const b = f.files[name];
      if (!b) throw new Error(`no such file ${name}`);
      return b;
    },
  };
}

async function refusal(p: Promise<unknown>): Promise<PackError> {
  const e = await p.then(
    () => {
      throw new Error('expected the pack to be refused');
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(PackError);
  return e as PackError;
}

// ---------------------------------------------------------------------------------------------

describe('sha256Hex', () => {
  it('matches the FIPS 180-2 test vector and node:crypto', async () => {
    expect(await sha256Hex(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const big = new Uint8Array(100_000).map((_, i) => (i * 31) & 255);
    expect(await sha256Hex(big)).toBe(sha(big));
    // A view into a larger buffer hashes only its own bytes.
    expect(await sha256Hex(big.subarray(10, 20))).toBe(sha(big.subarray(10, 20)));
  });
});

describe('loadPack happy path', () => {
  it('loads a pack from a directory: manifest, documents in order, questions', async () => {
    const f = fixture();
    const pack = await loadPack(fsSource(await writePack(f)));
    expect(pack.manifest).toEqual(f.manifest);
    expect(pack.documents.map((d) => d.id)).toEqual(['d0', 'd1', 'd2', 'd3', 'd4', 'd5']);
    expect(pack.documents[2]).toEqual({ id: 'd2', title: 'Renta', text: 'Renta wrote “The Book of Salt”.' });
    expect(pack.questions).toEqual(QUESTIONS);
  });

  it('keeps only id, title and text of a document', async () => {
    const f = fixture();
    rewrite(f, 'shard-002.jsonl', jsonl([{ id: 'd5', title: 'Mira', text: 'Mira.', extra: [1, 2, 3] }]));
    const pack = await loadPack(memSource(f));
    expect(pack.documents[5]).toEqual({ id: 'd5', title: 'Mira', text: 'Mira.' });
  });

  it('reports progress once per shard, counting up to the total bytes', async () => {
    const f = fixture();
    const seen: PackProgress[] = [];
    await loadPack(memSource(f), { onProgress: (p) => seen.push({ ...p }) });
    const shards = (f.manifest as unknown as PackManifest).shards;
    const totalBytes = shards.reduce((s, x) => s + x.bytes, 0);
    expect(seen.map((p) => p.loaded)).toEqual([1, 2, 3]);
    expect(seen.every((p) => p.total === 3 && p.totalBytes === totalBytes)).toBe(true);
    expect(seen[2]!.bytes).toBe(totalBytes);
    expect(new Set(seen.map((p) => p.file))).toEqual(new Set(shards.map((s) => s.file)));
  });

  it('returns documents in manifest order when reads finish in reverse order', async () => {
    const f = fixture();
    const base = memSource(f);
    const finished: string[] = [];
    const order = ['shard-000.jsonl', 'shard-001.jsonl', 'shard-002.jsonl'];
    const reversed: PackSource = {
      async readFile(name) {
        const bytes = await base.readFile(name);
        const i = order.indexOf(name);
        // shard 0 waits longest, shard 2 returns first.
        if (i >= 0) await new Promise((r) => setTimeout(r, (order.length - i) * 15));
        finished.push(name);
        return bytes;
      },
    };
    const progressFiles: string[] = [];
    const pack = await loadPack(reversed, { onProgress: (p) => progressFiles.push(p.file) });
    expect(finished.filter((n) => order.includes(n))).toEqual([...order].reverse()); // the reads really were reversed
    expect(progressFiles).toEqual([...order].reverse());
    expect(pack.documents.map((d) => d.id)).toEqual(['d0', 'd1', 'd2', 'd3', 'd4', 'd5']);
  });

  it('accepts a last line without a trailing newline', async () => {
    const f = fixture();
    rewrite(f, 'shard-000.jsonl', jsonl(SHARDS[0]!).trimEnd());
    const pack = await loadPack(memSource(f));
    expect(pack.documents).toHaveLength(6);
  });
});

describe('loadPack refuses a damaged shard', () => {
  it('refuses a shard with one byte changed, naming the shard', async () => {
    const f = fixture();
    const dir = await writePack(f);
    const path = join(dir, 'shard-001.jsonl');
    const bytes = await readFile(path);
    bytes[20] = bytes[20]! ^ 0x01; // same size, different content
    await writeFile(path, bytes);
    const e = await refusal(loadPack(fsSource(dir)));
    expect(e.file).toBe('shard-001.jsonl');
    expect(e.message).toContain('shard-001.jsonl');
    expect(e.message).toContain('SHA-256');
  });

  it('refuses a truncated shard, naming the shard', async () => {
    const f = fixture();
    const dir = await writePack(f);
    const path = join(dir, 'shard-002.jsonl');
    const bytes = await readFile(path);
    await writeFile(path, bytes.subarray(0, bytes.byteLength - 7));
    const e = await refusal(loadPack(fsSource(dir)));
    expect(e.file).toBe('shard-002.jsonl');
    expect(e.message).toMatch(/size is \d+ bytes, the manifest says \d+/);
  });

  it('refuses a shard whose document count differs from the manifest', async () => {
    const f = fixture();
    (f.manifest as unknown as PackManifest).shards[1]!.documents = 4;
    const e = await refusal(loadPack(memSource(f)));
    expect(e.file).toBe('shard-001.jsonl');
    expect(e.message).toContain('holds 3 documents, the manifest says 4');
  });

  it('names file and line of a line that is not JSON', async () => {
    const f = fixture();
    const lines = jsonl(SHARDS[1]!).split('\n');
    lines[1] = '{"id": "d3", "title": "Ulsa", "text": "unterminated}';
    rewrite(f, 'shard-001.jsonl', lines.join('\n'));
    const e = await refusal(loadPack(memSource(f)));
    expect(e.file).toBe('shard-001.jsonl');
    expect(e.line).toBe(2);
    expect(e.message).toMatch(/^pack file shard-001\.jsonl line 2: is not valid JSON/);
  });

  it('refuses an empty line inside a shard and a line that is not an object', async () => {
    const f = fixture();
    rewrite(f, 'shard-000.jsonl', `${JSON.stringify(SHARDS[0]![0])}\n\n${JSON.stringify(SHARDS[0]![1])}\n`);
    let e = await refusal(loadPack(memSource(f)));
    expect([e.file, e.line]).toEqual(['shard-000.jsonl', 2]);

    const g = fixture();
    rewrite(g, 'shard-000.jsonl', `${JSON.stringify(SHARDS[0]![0])}\n[1,2]\n`);
    e = await refusal(loadPack(memSource(g)));
    expect([e.file, e.line]).toEqual(['shard-000.jsonl', 2]);
    expect(e.message).toContain('must be a JSON object');
  });

  it('refuses a document with a missing or mistyped field, naming it', async () => {
    const f = fixture();
    rewrite(f, 'shard-002.jsonl', jsonl([{ id: 'd5', title: 7, text: 'x' }]));
    let e = await refusal(loadPack(memSource(f)));
    expect([e.file, e.line]).toEqual(['shard-002.jsonl', 1]);
    expect(e.message).toContain('field "title" must be a string');

    const g = fixture();
    rewrite(g, 'shard-002.jsonl', jsonl([{ title: 'Mira', text: 'x' }]));
    e = await refusal(loadPack(memSource(g)));
    expect(e.message).toContain('field "id" is missing');
  });

  it('refuses a document id used in two shards, naming both places', async () => {
    const shards = [SHARDS[0]!, [...SHARDS[1]!.slice(0, 2), { id: 'd0', title: 'Again', text: 'dup' }], SHARDS[2]!];
    const e = await refusal(loadPack(memSource(fixture(shards))));
    expect(e.file).toBe('shard-001.jsonl');
    expect(e.line).toBe(3);
    expect(e.message).toContain('duplicate document id "d0" (first at shard-000.jsonl line 1)');
  });

  it('refuses bytes that are not UTF-8', async () => {
    const f = fixture();
    const bytes = new Uint8Array([...new TextEncoder().encode('{"id":"d5","title":"M","text":"y"}\n{"id":"d6","title":"M'), 0xff, ...new TextEncoder().encode('","text":"x"}\n')]);
    f.files['shard-002.jsonl'] = bytes;
    const s = (f.manifest as unknown as PackManifest).shards[2]!;
    s.bytes = bytes.byteLength;
    s.sha256 = sha(bytes);
    const e = await refusal(loadPack(memSource(f)));
    // The line of the bad byte is named too (issue 18, item 9).
    expect(e.message).toBe('pack file shard-002.jsonl line 2: is not valid UTF-8');
    expect(e.line).toBe(2);
  });

  it('wraps a failed read in an error naming the file and the location', async () => {
    const f = fixture();
    const dir = await writePack(f);
    await rm(join(dir, 'shard-001.jsonl'));
    const e = await refusal(loadPack(fsSource(dir)));
    expect(e.file).toBe('shard-001.jsonl');
    expect(e.message).toContain(`cannot be read from ${dir}`);
  });

  it('rejects with the reason when aborted', async () => {
    const controller = new AbortController();
    const f = fixture();
    const slow: PackSource = {
      async readFile(name, signal) {
        if (name !== 'manifest.json') {
          await new Promise<void>((res, rej) => {
            const t = setTimeout(res, 5_000);
            signal?.addEventListener('abort', () => (clearTimeout(t), rej(signal.reason)));
          });
        }
        return memSource(f).readFile(name);
      },
    };
    const p = loadPack(slow, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('user cancelled')), 10);
    await expect(p).rejects.toThrow('user cancelled');
  });
});

describe('loadPack questions file', () => {
  it('refuses a changed questions file', async () => {
    const f = fixture();
    f.files['questions.jsonl'] = new TextEncoder().encode(jsonl(QUESTIONS).replace('Lomi', 'Lomy'));
    const e = await refusal(loadPack(memSource(f)));
    expect(e.file).toBe('questions.jsonl');
    expect(e.message).toContain('SHA-256');
  });

  it.each([
    [{ split: 'dev' }, 'field "split" must be one of train, test, ood, got "dev"'],
    [{ answers: [] }, 'field "answers" must hold at least one answer'],
    [{ answers: 'Lomi' }, 'field "answers" must be an array of strings'],
    [{ hops: 1.5 }, 'field "hops" must be a non-negative integer'],
    [{ supportingIds: ['d9'] }, 'field "supportingIds" names unknown document "d9"'],
    [{ id: 'q0' }, 'duplicate question id "q0" (first at line 1)'],
  ])('refuses a question with %j on its line', async (patch, message) => {
    const f = fixture();
    rewrite(f, 'questions.jsonl', jsonl([QUESTIONS[0], { ...QUESTIONS[1], ...patch }]));
    const e = await refusal(loadPack(memSource(f)));
    expect([e.file, e.line]).toEqual(['questions.jsonl', 2]);
    expect(e.message).toContain(message);
  });

  it('refuses a question count that differs from the manifest', async () => {
    const f = fixture();
    (f.manifest as unknown as PackManifest).questions.count = 3;
    const e = await refusal(loadPack(memSource(f)));
    expect(e.message).toBe('pack file questions.jsonl: holds 2 questions, the manifest says 3');
  });
});

describe('manifest validation', () => {
  const valid = () => fixture().manifest as Record<string, any>;
  it.each<[string, (m: Record<string, any>) => void, string]>([
    ['wrong format', (m) => (m.format = 'zip'), 'field "format" must be "r1s-pack", got "zip"'],
    ['unknown version', (m) => (m.version = 2), 'field "version" must be 1'],
    ['empty name', (m) => (m.name = ''), 'field "name" must be a non-empty string'],
    ['missing license', (m) => delete m.license, 'field "license" is missing'],
    ['no shards', (m) => (m.shards = []), 'field "shards" must be a non-empty array'],
    ['bad hash', (m) => (m.shards[1].sha256 = 'ABC'), 'field "shards[1].sha256" must be 64 lowercase hex digits'],
    ['negative count', (m) => (m.shards[0].documents = -1), 'field "shards[0].documents" must be a non-negative integer'],
    ['bytes as text', (m) => (m.shards[2].bytes = '12'), 'field "shards[2].bytes" must be a non-negative integer'],
    ['path escape', (m) => (m.shards[0].file = '../secret'), 'field "shards[0].file" must be a relative path inside the pack'],
    ['absolute url', (m) => (m.shards[0].file = 'https://x.org/a'), 'must be a relative path inside the pack'],
    ['file used twice', (m) => (m.shards[1].file = m.shards[0].file), 'field "shards[1].file" names "shard-000.jsonl", which is already used'],
    ['questions count', (m) => (m.questions.count = 'two'), 'field "questions.count" must be a non-negative integer'],
    ['questions missing', (m) => delete m.questions, 'field "questions" must be an object'],
    ['generator not object', (m) => (m.generator = 3), 'field "generator" must be an object when present'],
  ])('refuses %s', (_label, edit, message) => {
    const m = valid();
    edit(m);
    let err: unknown;
    try {
      parseManifest(JSON.stringify(m));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PackError);
    expect((err as PackError).file).toBe('manifest.json');
    expect((err as PackError).message).toContain(message);
  });

  it('refuses a manifest that is not JSON, through loadPack too', async () => {
    const src: PackSource = { readFile: async () => new TextEncoder().encode('{"format": ') };
    const e = await refusal(loadPack(src));
    expect(e.message).toMatch(/^pack file manifest\.json: is not valid JSON/);
  });
});

describe('fetchSource', () => {
  it('fetches files relative to the base URL and names the file on a 404', async () => {
    const f = fixture();
    const requested: string[] = [];
    vi.stubGlobal('fetch', async (url: URL) => {
      requested.push(url.href);
      const name = url.pathname.split('/').pop()!;
      const body = name === 'manifest.json' ? new TextEncoder().encode(JSON.stringify(f.manifest)) : f.files[name];
      return body ? new Response(new Uint8Array(body)) : new Response('nope', { status: 404, statusText: 'Not Found' });
    });
    try {
      const pack = await loadPack(fetchSource('http://example.test/corpus/tiny')); // no trailing slash
      expect(pack.documents).toHaveLength(6);
      expect(requested).toContain('http://example.test/corpus/tiny/manifest.json');
      expect(requested).toContain('http://example.test/corpus/tiny/shard-002.jsonl');

      delete f.files['shard-001.jsonl'];
      const e = await refusal(loadPack(fetchSource('http://example.test/corpus/tiny/')));
      expect(e.file).toBe('shard-001.jsonl');
      expect(e.message).toContain('GET http://example.test/corpus/tiny/shard-001.jsonl answered 404 Not Found');
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
