/**
 * Importers (issue 7, parts 1-3): every format on small fixtures written here, format detection,
 * malformed input refused record by record with its reason, whole files refused, the import CLI
 * (atomic, never overwriting, interrupted = nothing stored), and the real multi-hop sample of
 * ../shared/data/multihop (skipped with a message when that folder is absent): counts, supporting
 * ids checked against the raw files, derived ids, and tokenizer round trips on the whole corpus.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as importCli } from '../../src/cli/commands/import.ts';
import { splitByHash } from '../../src/corpus/import/datasets.ts';
import { derivedDocumentId, sha1Hex } from '../../src/corpus/import/doc-id.ts';
import { importPack, type ImportInput } from '../../src/corpus/import/import-pack.ts';
import { ImportError, type RejectReason } from '../../src/corpus/import/types.ts';
import { fsSource, loadPack } from '../../src/corpus/pack-loader.ts';
import type { Pack, PackManifest } from '../../src/corpus/types.ts';
import { packSearchOptions } from '../../src/search/search-index.ts';
import { normalizeText, splitWords } from '../../src/protocol/normalize.ts';
import { buildPackTokenizer } from '../../src/tokenizer/pack-vocab.ts';

const SAMPLE_DIR = resolve(process.cwd(), '../shared/data/multihop');
const HAVE_SAMPLE = existsSync(join(SAMPLE_DIR, 'corpus_paragraphs.jsonl'));
if (!HAVE_SAMPLE) console.warn(`import.test: ${SAMPLE_DIR} is absent; the tests on the real multi-hop sample are skipped`);
const SAMPLE_QUESTION_FILES = ['hotpotqa_dev500.jsonl', '2wiki_dev500.jsonl', 'musique_dev292.jsonl', 'bamboogle.jsonl'];

const enc = (s: string) => new TextEncoder().encode(s);
const jsonl = (rows: unknown[]) => rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n';
const q = (name: string, rows: unknown[]): ImportInput => ({ name, bytes: enc(jsonl(rows)), role: 'questions' });
const c = (name: string, rows: unknown[]): ImportInput => ({ name, bytes: enc(jsonl(rows)), role: 'corpus' });
/** The derived id computed with node:crypto, independently of doc-id.ts. */
const nodeId = (title: string, text: string) => `p${createHash('sha1').update(`${title}\n${text}`).digest('hex').slice(0, 12)}`;

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'r1s-import-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('derived document ids', () => {
  it('SHA-1 matches the FIPS vector and node:crypto across padding boundaries', () => {
    expect(sha1Hex('abc')).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
    expect(sha1Hex('')).toBe('da39a3ee5e6b4b0d3255bfef95601890afd80709');
    for (const n of [55, 56, 63, 64, 65, 119, 120, 1000]) {
      const s = 'é'.repeat(n >> 1) + 'x'.repeat(n & 1);
      expect(sha1Hex(s)).toBe(createHash('sha1').update(s).digest('hex'));
    }
    expect(derivedDocumentId('Kovar', 'Kovar is a town.')).toBe(nodeId('Kovar', 'Kovar is a town.'));
  });
});

describe('each format on a small fixture', () => {
  const corpus = c('corpus.jsonl', [
    { id: 'd1', title: 'Miracle on 34th Street', text: 'Natalie Wood as Susan Walker.' },
    { id: 'd2', title: 'Miracle on 34th Street', text: 'The film was released in 1947.' },
    { id: 'd3', title: 'Miracle on 34th Street', text: 'A remake followed in 1994.' },
    { id: 'd4', title: 'Five Finger Exercise', text: 'Lana Wood, the sister of Natalie Wood, appears.', datasets: ['musique'] },
    { id: 'd5', title: 'Kovar', text: 'Kovar is a town.' },
  ]);
  const ctx = (id: string) => {
    const d = { d1: ['Miracle on 34th Street', 'Natalie Wood as Susan Walker.'], d2: ['Miracle on 34th Street', 'The film was released in 1947.'], d4: ['Five Finger Exercise', 'Lana Wood, the sister of Natalie Wood, appears.'], d5: ['Kovar', 'Kovar is a town.'] }[id]!;
    return { title: d[0], text: d[1] };
  };

  it('sample format: supporting titles name every own paragraph of that title; hops and template from the type', async () => {
    const { spec, report } = await importPack([corpus, q('musique_fixture.jsonl', [
      { id: '2hop__1_2', question: 'Who is the sibling of the actress who played Susan Walker?', answers: ['Lana Wood'], type: '2hop', contexts: ['d1', 'd2', 'd4', 'd5'].map(ctx), supporting_titles: ['Miracle on 34th Street', 'Five Finger Exercise'] },
      { id: '3hop1__9', question: 'Which town?', answers: ['Zembla'], type: '3hop1', contexts: [ctx('d5')], supporting_titles: ['Kovar'] },
      { id: 'x', question: 'Where?', answers: ['Nowhere Land'], contexts: [], supporting_titles: ['Unknown Title'] },
    ])], { name: 'fx' });
    expect(report.files.map((f) => [f.format, f.dataset])).toEqual([['sample-corpus', undefined], ['sample-questions', 'musique']]);
    expect(spec.documents.map((d) => d.id)).toEqual(['d1', 'd2', 'd3', 'd4', 'd5']);
    // d3 shares the title but is not among the question's paragraphs.
    expect(spec.questions).toEqual([
      { id: 'musique:2hop__1_2', question: 'Who is the sibling of the actress who played Susan Walker?', answers: ['Lana Wood'], hops: 2, template: 'musique/2hop', split: 'ood', supportingIds: ['d1', 'd2', 'd4'] },
      { id: 'musique:3hop1__9', question: 'Which town?', answers: ['Zembla'], hops: 3, template: 'musique/3hop1', split: 'ood', supportingIds: ['d5'], answerInCorpus: false },
      { id: 'musique:x', question: 'Where?', answers: ['Nowhere Land'], hops: 1, template: 'musique', split: 'ood', supportingIds: [], answerInCorpus: false },
    ]);
    expect(report.answerNotInCorpus).toBe(2);
    expect(report.unmatchedSupporting).toBe(1);
    expect(spec.generator?.search).toEqual(expect.objectContaining({ coordination: false, titleInText: true }));
    expect(spec.license).toBe('musique: CC BY 4.0; paragraphs: CC BY-SA (Wikipedia)');
  });

  it('official HotpotQA JSON array without a corpus: paragraphs become the documents, sentences joined', async () => {
    const hotpot = JSON.stringify([
      { _id: 'h1', question: 'Which city was Ann born in?', answer: 'Lomi', type: 'bridge', level: 'easy', supporting_facts: [['Ann Kor', 0], ['Lomi', 1]], context: [['Ann Kor', ['Ann Kor was born', ' in Lomi.']], ['Lomi', ['Lomi is a city.', ' It has   a port.']], ['Other', ['Nothing here.']]] },
      { _id: 'h2', question: 'Is Lomi a city?', answer: 'yes', type: 'comparison', level: 'hard', supporting_facts: [['Lomi', 0]], context: [['Lomi', ['Lomi is a city.', ' It has   a port.']]] },
    ]);
    const { spec, report } = await importPack([{ name: 'dev.json', bytes: enc(hotpot), role: 'questions' }], { name: 'fx' });
    expect(report.documentsFrom).toBe('contexts');
    expect(report.files[0]).toMatchObject({ format: 'hotpot-json', dataset: 'hotpotqa', records: 2, accepted: 2 });
    expect(spec.documents).toEqual([
      { id: nodeId('Ann Kor', 'Ann Kor was born in Lomi.'), title: 'Ann Kor', text: 'Ann Kor was born in Lomi.' },
      { id: nodeId('Lomi', 'Lomi is a city. It has a port.'), title: 'Lomi', text: 'Lomi is a city. It has a port.' },
      { id: nodeId('Other', 'Nothing here.'), title: 'Other', text: 'Nothing here.' },
    ]);
    const [h1, h2] = spec.questions;
    expect(h1).toMatchObject({ id: 'hotpotqa:h1', hops: 2, template: 'hotpotqa/bridge', supportingIds: [spec.documents[0]!.id, spec.documents[1]!.id] });
    expect(h2).toMatchObject({ id: 'hotpotqa:h2', template: 'hotpotqa/comparison', supportingIds: [spec.documents[1]!.id] });
    expect(h1!.answerInCorpus).toBeUndefined(); // "lomi" occurs
    expect(['train', 'test']).toContain(h1!.split);
    const forced = await importPack([{ name: 'dev.json', bytes: enc(hotpot), role: 'questions' }], { name: 'fx', splits: { hotpotqa: 'test' } });
    expect(forced.spec.questions.map((x) => x.split)).toEqual(['test', 'test']);
  });

  it('official 2WikiMultiHopQA is told apart by its evidences', async () => {
    const wiki = JSON.stringify([{ _id: 'w1', question: 'Who was born first?', answer: 'Ann', type: 'comparison', evidences: [], supporting_facts: [['Ann', 0]], context: [['Ann', ['Ann was born in 1900.']]] }]);
    const { spec } = await importPack([{ name: 'data.json', bytes: enc(wiki), role: 'questions' }], { name: 'fx' });
    expect(spec.questions[0]).toMatchObject({ id: '2wiki:w1', template: '2wiki/comparison', hops: 2 });
  });

  it('official MuSiQue: answer aliases, hops from the decomposition, exact supporting paragraphs, unanswerable refused', async () => {
    const { spec, report } = await importPack([q('dev.jsonl', [
      {
        id: '3hop1__1_2_3', question: 'Which town is it?', answer: 'Kovar', answer_aliases: ['Kovar Town', 'Kovar'], answerable: true, question_decomposition: [{}, {}, {}],
        paragraphs: [
          { idx: 0, title: 'A', paragraph_text: 'A text one.', is_supporting: false },
          { idx: 1, title: 'B', paragraph_text: 'B mentions Kovar.', is_supporting: true },
          { idx: 2, title: 'B', paragraph_text: 'B second.', is_supporting: false },
        ],
      },
      { id: '2hop__5', question: 'Unanswerable?', answer: 'x', answerable: false, paragraphs: [] },
    ])], { name: 'fx' });
    expect(spec.questions).toEqual([
      { id: 'musique:3hop1__1_2_3', question: 'Which town is it?', answers: ['Kovar', 'Kovar Town'], hops: 3, template: 'musique/3hop1', split: 'ood', supportingIds: [nodeId('B', 'B mentions Kovar.')] },
    ]);
    expect(report.rejected.records).toEqual([{ file: 'dev.jsonl', line: 2, reason: 'missing-answer', message: 'record is marked "answerable": false' }]);
  });

  it('FlashRAG dataset over a FlashRAG / Search-R1 corpus: quoted titles, supporting titles matched to documents', async () => {
    const { spec, report } = await importPack([
      c('wiki.jsonl', [{ id: '0', contents: '"Aaron"\nAaron is a prophet.' }, { id: 1, contents: '"Moses"\nMoses led   the people.' }, { id: '2', contents: '"Moses"\nMoses had a brother, Aaron.' }]),
      q('nq_test.jsonl', [{ id: 'test_0', question: 'who was the brother of moses?', golden_answers: ['Aaron'], metadata: { supporting_facts: { title: ['Moses'], sent_id: [0] } } }]),
    ], { name: 'fx' });
    expect(report.files.map((f) => f.format)).toEqual(['flashrag-corpus', 'flashrag-dataset']);
    expect(spec.documents).toEqual([
      { id: '0', title: 'Aaron', text: 'Aaron is a prophet.' },
      { id: '1', title: 'Moses', text: 'Moses led the people.' },
      { id: '2', title: 'Moses', text: 'Moses had a brother, Aaron.' },
    ]);
    expect(spec.questions[0]).toMatchObject({ id: 'nq_test:test_0', answers: ['Aaron'], template: 'nq_test', supportingIds: ['1', '2'], hops: 1 });
    expect(spec.license).toMatch(/^nq_test: unknown/);
  });

  it('R1-Searcher training files go to train, without hops or supporting ids', async () => {
    const { spec } = await importPack([corpus, q('stage_1.jsonl', [{ idx: 1, question: 'Q one?', answer: 'Kovar', pred_anses: ['x'] }, { idx: 2, question: 'Q two?', answer: 'A2' }])], { name: 'fx' });
    expect(spec.questions.map(({ id, split, hops, template, supportingIds }) => ({ id, split, hops, template, supportingIds }))).toEqual([
      { id: 'stage_1:1', split: 'train', hops: 0, template: 'stage_1', supportingIds: [] },
      { id: 'stage_1:2', split: 'train', hops: 0, template: 'stage_1', supportingIds: [] },
    ]);
  });

  it('detection refuses a corpus given as questions and an unknown format, naming the file', async () => {
    await expect(importPack([q('docs.jsonl', [{ id: 'd', title: 'T', text: 'x' }])], { name: 'fx' })).rejects.toThrow(/docs\.jsonl: looks like a corpus file .* given as --questions/);
    await expect(importPack([q('odd.jsonl', [{ foo: 1, bar: 2 }])], { name: 'fx' })).rejects.toThrow(/odd\.jsonl: unknown questions format .*fields: foo, bar/);
    await expect(importPack([{ name: 'a.json', bytes: enc('[{"_id": 1,'), role: 'questions' }], { name: 'fx' })).rejects.toThrow(/a\.json: refused as a whole: not a valid JSON array/);
  });

  it('the train/test hash is deterministic, about the asked fraction, and seeded', () => {
    const ids = Array.from({ length: 10000 }, (_, i) => `hotpotqa:${i}`);
    const test = ids.filter((id) => splitByHash(id, 1, 0.3) === 'test');
    expect(test.length / ids.length).toBeGreaterThan(0.28);
    expect(test.length / ids.length).toBeLessThan(0.32);
    expect(ids.filter((id) => splitByHash(id, 1, 0.3) === 'test')).toEqual(test);
    const other = ids.filter((id) => splitByHash(id, 2, 0.3) === 'test');
    expect(other).not.toEqual(test);
    expect(ids.every((id) => splitByHash(id, 1, 0) === 'train' && splitByHash(id, 1, 1) === 'test')).toBe(true);
  });
});

describe('malformed input is refused record by record, with file, line and reason', () => {
  const good = (id: string, extra: object = {}) => ({ id, question: `Question ${id}?`, answers: ['A'], contexts: [], supporting_titles: [], ...extra });
  const lines: (string | Uint8Array)[] = [
    JSON.stringify(good('q1')), // 1
    '{"id": "q2", "question": ', // 2 invalid-json
    '[1, 2]', // 3 not-an-object
    '42', // 4 not-an-object
    JSON.stringify({ id: 'q5', answers: ['A'], contexts: [] }), // 5 missing-question
    JSON.stringify(good('q6', { question: '   ' })), // 6 missing-question
    JSON.stringify({ id: 'q7', question: 'No answer?', contexts: [] }), // 7 missing-answer
    JSON.stringify(good('q8', { answers: [] })), // 8 missing-answer
    JSON.stringify(good('q9', { answers: ['  '] })), // 9 missing-answer
    JSON.stringify(good('q1', { question: 'Same id?' })), // 10 duplicate-id
    JSON.stringify(good('q11', { question: 'x'.repeat(3000) })), // 11 line-too-long
    Uint8Array.from([0x7b, 0x22, 0x69, 0x64, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), // 12 not-utf8: {"id":"\xff\xfe"}
    JSON.stringify(good('q13', { contexts: 'oops' })), // 13 bad-field
    JSON.stringify(good('q14', { answers: [{ a: 1 }] })), // 14 bad-field
    '   ', // 15 blank: skipped
    JSON.stringify(good('q16', { contexts: [{ title: 'T', text: '  ' }] })), // 16 bad-field (empty paragraph)
    `${JSON.stringify(good('q17'))}\r`, // 17 CRLF: fine
  ];
  const bytesOf = (parts: (string | Uint8Array)[], bom = false) => {
    const chunks = parts.map((p) => (typeof p === 'string' ? enc(p) : p));
    const out: number[] = bom ? [0xef, 0xbb, 0xbf] : [];
    for (const ch of chunks) out.push(...ch, 0x0a);
    return Uint8Array.from(out);
  };
  const corpusLines = [
    JSON.stringify({ id: 'd1', title: 'T', text: 'Good text A.' }), // 1 (after a BOM)
    JSON.stringify({ id: 'd2', title: 'T', text: '' }), // 2 empty-text
    JSON.stringify({ id: 'd1', title: 'T2', text: 'dup' }), // 3 duplicate-id
    JSON.stringify({ id: 'd4', title: 5, text: 'x' }), // 4 bad-field
    JSON.stringify({ title: 'No id', text: 'Derived id here.' }), // 5 fine, id derived
    JSON.stringify({ id: 'd6', contents: '"T"\n' }), // 6 bad-field (no title / text in a sample-corpus file)
  ];

  it('reports every refused line and keeps the rest', async () => {
    const { spec, report } = await importPack([
      { name: 'bad-corpus.jsonl', bytes: bytesOf(corpusLines, true), role: 'corpus' },
      { name: 'bad.jsonl', bytes: bytesOf(lines), role: 'questions' },
    ], { name: 'fx', maxLineBytes: 2048 });
    const got = report.rejected.records.map((r) => [r.file, r.line, r.reason]);
    const expected: [string, number, RejectReason][] = [
      ['bad-corpus.jsonl', 2, 'empty-text'], ['bad-corpus.jsonl', 4, 'bad-field'], ['bad-corpus.jsonl', 6, 'bad-field'], ['bad-corpus.jsonl', 3, 'duplicate-id'],
      ['bad.jsonl', 2, 'invalid-json'], ['bad.jsonl', 3, 'not-an-object'], ['bad.jsonl', 4, 'not-an-object'], ['bad.jsonl', 5, 'missing-question'],
      ['bad.jsonl', 6, 'missing-question'], ['bad.jsonl', 7, 'missing-answer'], ['bad.jsonl', 8, 'missing-answer'], ['bad.jsonl', 9, 'missing-answer'],
      ['bad.jsonl', 11, 'line-too-long'], ['bad.jsonl', 12, 'not-utf8'], ['bad.jsonl', 13, 'bad-field'], ['bad.jsonl', 14, 'bad-field'],
      ['bad.jsonl', 16, 'bad-field'], ['bad.jsonl', 10, 'duplicate-id'],
    ];
    expect(got).toEqual(expected);
    expect(report.rejected.total).toBe(18);
    expect(report.rejected.byReason).toMatchObject({ 'invalid-json': 1, 'not-an-object': 2, 'missing-question': 2, 'missing-answer': 3, 'line-too-long': 1, 'not-utf8': 1, 'bad-field': 5, 'duplicate-id': 2, 'empty-text': 1 });
    // Messages say what was wrong.
    const msg = (file: string, line: number) => report.rejected.records.find((r) => r.file === file && r.line === line)!.message;
    expect(msg('bad.jsonl', 10)).toBe('question id "bad:q1" was already used at bad.jsonl line 1');
    expect(msg('bad.jsonl', 11)).toMatch(/line is 30\d\d bytes, the limit is 2048/);
    expect(msg('bad-corpus.jsonl', 3)).toBe('document id "d1" was already used at bad-corpus.jsonl line 1');
    expect(msg('bad.jsonl', 13)).toBe('field "contexts" must be an array, got a string');
    expect(spec.questions.map((x) => x.id)).toEqual(['bad:q1', 'bad:q17']);
    expect(spec.documents.map((d) => d.id)).toEqual(['d1', nodeId('No id', 'Derived id here.')]);
    expect(report.files.map((f) => [f.file, f.records, f.accepted, f.rejected])).toEqual([['bad-corpus.jsonl', 6, 2, 4], ['bad.jsonl', 16, 2, 14]]);
  });

  it('a FlashRAG corpus line whose contents hold no text is empty-text', async () => {
    const { report } = await importPack([
      c('wiki.jsonl', [{ id: '0', contents: '"Aaron"\nAaron is a prophet.' }, { id: '1', contents: '"Moses"\n   ' }]),
      q('r.jsonl', [{ question: 'Q?', answer: 'Aaron' }]),
    ], { name: 'fx' });
    expect(report.rejected.records).toEqual([{ file: 'wiki.jsonl', line: 2, reason: 'empty-text', message: 'field "contents" has no text after its title line' }]);
  });

  it('a file with nothing usable is refused as a whole', async () => {
    await expect(importPack([q('junk.jsonl', ['{oops', '[1]'])], { name: 'fx' })).rejects.toThrow(/junk\.jsonl: refused as a whole: nothing usable \(2 records rejected; junk\.jsonl: line 1: invalid-json/);
    await expect(importPack([q('noans.jsonl', [{ question: 'Q?', answers: [], contexts: [] }, { question: 'R?', answers: [''], contexts: [] }])], { name: 'fx' }))
      .rejects.toThrow(/noans\.jsonl: refused as a whole: nothing usable as multi-hop sample questions .*2 records rejected; noans\.jsonl: line 1: missing-answer/);
    await expect(importPack([q('empty.jsonl', [])], { name: 'fx' })).rejects.toThrow(ImportError);
    await expect(importPack([c('c.jsonl', [{ id: 'd', title: 'T', text: 'x' }])], { name: 'fx' })).rejects.toThrow(/no question file/);
  });
});

describe('import CLI', () => {
  let fixtures: string;
  beforeAll(async () => {
    fixtures = join(root, 'fixtures');
    await import('node:fs/promises').then((fs) => fs.mkdir(fixtures));
    await writeFile(join(fixtures, 'corpus.jsonl'), jsonl([
      { id: 'd1', title: 'Kovar', text: 'Kovar is a town in Lomi.' },
      { id: 'd2', title: 'Lomi', text: 'Lomi is a country.' },
      { id: 'd3', title: 'Renta', text: 'Renta wrote a book.' },
    ]));
    await writeFile(join(fixtures, 'hotpotqa_mini.jsonl'), jsonl([
      { id: 'a', question: 'Where is Kovar?', answers: ['Lomi'], type: 'bridge', contexts: [{ title: 'Kovar', text: 'Kovar is a town in Lomi.' }], supporting_titles: ['Kovar'] },
      { id: 'b', question: 'What did Renta write?', answers: ['a poem'], contexts: [], supporting_titles: ['Renta'] },
      '{broken',
    ]));
    await writeFile(join(fixtures, 'bamboogle.jsonl'), jsonl([{ id: 'bamboogle_1', question: 'Who?', answers: ['Nobody Here'], contexts: [], supporting_titles: [] }]));
  });

  const capture = async (f: () => Promise<void>) => {
    const write = process.stdout.write.bind(process.stdout);
    let out = '';
    process.stdout.write = ((chunk: string | Uint8Array) => ((out += String(chunk)), true)) as typeof process.stdout.write;
    try {
      await f();
    } finally {
      process.stdout.write = write;
    }
    return out;
  };

  it('writes a loadable pack and prints the report; answerInCorpus and the search settings survive the round trip', async () => {
    const out = join(root, 'packs', 'mini');
    const text = await capture(() => importCli(['--questions', join(fixtures, 'hotpotqa_mini.jsonl'), join(fixtures, 'bamboogle.jsonl'), '--corpus', join(fixtures, 'corpus.jsonl'), '--out', out, '--shards', '2', '--json']));
    const report = JSON.parse(text);
    expect(report).toMatchObject({ name: 'mini', questions: 3, documents: 3, shards: 2, answerNotInCorpus: 2, rejected: { total: 1 } });
    expect(report.rejected.records[0]).toMatchObject({ line: 3, reason: 'invalid-json' });
    const pack = await loadPack(fsSource(out));
    expect(pack.manifest.shards.map((s) => s.documents)).toEqual([2, 1]);
    expect(pack.manifest.source).toBe('Imported from HotpotQA (Yang et al., 2018); Bamboogle (Press et al., 2022); paragraphs from corpus.jsonl (Wikipedia text, CC BY-SA)');
    expect(pack.manifest.license).toBe('hotpotqa: CC BY-SA 4.0; bamboogle: MIT; paragraphs: CC BY-SA (Wikipedia)');
    expect(pack.questions.map((x) => [x.id, x.supportingIds, x.answerInCorpus])).toEqual([
      ['hotpotqa:a', ['d1'], undefined], ['hotpotqa:b', ['d3'], false], ['bamboogle:bamboogle_1', [], false],
    ]);
    expect(packSearchOptions(pack.manifest)).toMatchObject({ titleBoost: 0.5, coordination: false, bm25: { k: 0.9, b: 0.4, d: 0 } });
    // The human-readable report names what was rejected.
    const human = await capture(() => importCli(['--questions', join(fixtures, 'hotpotqa_mini.jsonl'), '--corpus', join(fixtures, 'corpus.jsonl'), '--out', join(root, 'packs', 'mini2')]));
    expect(human).toMatch(/rejected: 1 \(invalid-json 1\)\n {4}.*hotpotqa_mini\.jsonl: line 3: invalid-json/);
  });

  it('never overwrites an existing pack unless asked, and a refused file stores nothing', async () => {
    const out = join(root, 'packs', 'keep');
    const args = ['--questions', join(fixtures, 'hotpotqa_mini.jsonl'), '--corpus', join(fixtures, 'corpus.jsonl'), '--out', out, '--json'];
    await capture(() => importCli(args));
    const before = await readFile(join(out, 'manifest.json'), 'utf8');
    await expect(importCli([...args, '--name', 'other'])).rejects.toThrow(/already exists and is not empty \(nothing was written; use --overwrite/);
    expect(await readFile(join(out, 'manifest.json'), 'utf8')).toBe(before);
    await capture(() => importCli([...args, '--name', 'other', '--overwrite']));
    expect(JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')).name).toBe('other');
    // A question file with nothing usable: refused, no folder.
    await writeFile(join(fixtures, 'junk.jsonl'), '{bad\n[1]\n');
    const junkOut = join(root, 'packs', 'junk');
    await expect(importCli(['--questions', join(fixtures, 'junk.jsonl'), '--corpus', join(fixtures, 'corpus.jsonl'), '--out', junkOut])).rejects.toThrow(/refused as a whole/);
    expect(existsSync(junkOut)).toBe(false);
    await expect(importCli(['--questions', join(fixtures, 'nope.jsonl'), '--out', junkOut])).rejects.toThrow(/--questions .*nope\.jsonl: cannot be read \(ENOENT\)/);
    await expect(importCli(['--questions', join(fixtures, 'junk.jsonl'), '--out', junkOut, '--split', 'musique=dev'])).rejects.toThrow(/--split must be DATASET=train\|test\|ood\|hash/);
    await expect(importCli(['--out', junkOut])).rejects.toThrow(/--questions FILE is required/);
  });

  it('an aborted import rejects before anything could be stored', async () => {
    const abort = new AbortController();
    await expect(importPack([c('c.jsonl', [{ id: 'd', title: 'T', text: 'x' }]), q('r.jsonl', [{ question: 'Q?', answer: 'x' }])], {
      name: 'fx', signal: abort.signal, onProgress: () => abort.abort(new Error('stop now')),
    })).rejects.toThrow('stop now');
  });

  it('Ctrl-C during a CLI import stores nothing', async () => {
    // A corpus big enough that the import is still running when the signal lands.
    const big = join(fixtures, 'big-corpus.jsonl');
    await writeFile(big, Array.from({ length: 150_000 }, (_, i) => `{"id":"b${i}","title":"T${i % 997}","text":"word${i % 5003} and word${i % 7919} here"}\n`).join(''));
    const out = join(root, 'packs', 'interrupted');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'import', '--questions', join(fixtures, 'hotpotqa_mini.jsonl'), '--corpus', big, '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('Ctrl-C stops without storing anything') && !child.killed) child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((res) => child.on('close', res));
    expect(stderr).toMatch(/error: import interrupted \(SIGINT\): nothing was stored/);
    expect(code).toBe(1);
    expect(existsSync(out)).toBe(false);
    const packs = join(root, 'packs');
    expect((existsSync(packs) ? await readdir(packs) : []).filter((n) => n.includes('interrupted'))).toEqual([]); // no temporary folder left
  }, 60_000);
});

describe.skipIf(!HAVE_SAMPLE)('the real multi-hop sample (../shared/data/multihop)', () => {
  let spec: Awaited<ReturnType<typeof importPack>>['spec'];
  let report: Awaited<ReturnType<typeof importPack>>['report'];
  const raw = new Map<string, { id: string; question: string; answers: string[]; contexts: { title: string; text: string }[]; supporting_titles: string[] }[]>();
  const corpusRows: { id: string; title: string; text: string }[] = [];
  beforeAll(async () => {
    const inputs: ImportInput[] = [{ name: 'corpus_paragraphs.jsonl', bytes: new Uint8Array(await readFile(join(SAMPLE_DIR, 'corpus_paragraphs.jsonl'))), role: 'corpus' }];
    for (const f of SAMPLE_QUESTION_FILES) {
      const bytes = new Uint8Array(await readFile(join(SAMPLE_DIR, f)));
      inputs.push({ name: f, bytes, role: 'questions' });
      raw.set(f, new TextDecoder().decode(bytes).trim().split('\n').map((l) => JSON.parse(l)));
    }
    corpusRows.push(...new TextDecoder().decode(inputs[0]!.bytes).trim().split('\n').map((l) => JSON.parse(l)));
    ({ spec, report } = await importPack(inputs, { name: 'multihop' }));
  });

  it('imports every question and paragraph, with the dataset rules', () => {
    expect(report.questions).toBe(1417);
    expect(report.documents).toBe(12705);
    expect(report.rejected.total).toBe(0);
    expect(report.files.map((f) => [f.format, f.dataset ?? null, f.accepted])).toEqual([
      ['sample-corpus', null, 12705], ['sample-questions', 'hotpotqa', 500], ['sample-questions', '2wiki', 500], ['sample-questions', 'musique', 292], ['sample-questions', 'bamboogle', 125],
    ]);
    expect(report.splits).toEqual({ train: 699, test: 301, ood: 417 });
    // Bamboogle ships no paragraphs: 74 of its 125 answers occur nowhere. The one 2Wiki answer
    // ("Martaban") occurs only inside "Martaban–Hanthawaddy" (an en dash is not a word break).
    expect(Object.fromEntries(Object.entries(report.datasets).map(([d, s]) => [d, s.answerNotInCorpus]))).toEqual({ hotpotqa: 0, '2wiki': 1, musique: 0, bamboogle: 74 });
    expect(spec.questions.find((x) => x.id === '2wiki:4c0e9cbe0bde11eba7f7acde48001122')).toMatchObject({ answers: ['Martaban'], answerInCorpus: false });
    const hops = (prefix: string) => [...new Set(spec.questions.filter((x) => x.id.startsWith(prefix)).map((x) => x.hops))].sort();
    expect(hops('hotpotqa:')).toEqual([2]);
    expect(hops('musique:')).toEqual([2, 3, 4]);
  });

  it('supporting ids are exactly the paragraphs of the supporting titles among each question\'s contexts', () => {
    const idOf = new Map(corpusRows.map((d) => [`${d.title}\u0000${d.text}`, d.id]));
    const byId = new Map(spec.questions.map((x) => [x.id, x]));
    const prefix: Record<string, string> = { 'hotpotqa_dev500.jsonl': 'hotpotqa', '2wiki_dev500.jsonl': '2wiki', 'musique_dev292.jsonl': 'musique', 'bamboogle.jsonl': 'bamboogle' };
    let multi = 0;
    for (const [file, rows] of raw) {
      for (const r of rows) {
        const sup = new Set(r.supporting_titles);
        const want = r.contexts.filter((x) => sup.has(x.title)).map((x) => idOf.get(`${x.title}\u0000${x.text}`));
        const got = byId.get(`${prefix[file]}:${r.id}`)!.supportingIds;
        expect(new Set(got)).toEqual(new Set(want));
        if (got.length > sup.size) multi++;
      }
    }
    expect(multi).toBe(94); // MuSiQue questions whose supporting title names several paragraphs
  });

  it('without the corpus file, the contexts rebuild the same corpus with the same derived ids', async () => {
    const inputs = SAMPLE_QUESTION_FILES.map((f) => ({ name: f, bytes: enc(jsonl(raw.get(f)!)), role: 'questions' as const }));
    const { spec: fromContexts } = await importPack(inputs, { name: 'ctx' });
    expect(fromContexts.documents.length).toBe(12705);
    expect(new Set(fromContexts.documents.map((d) => d.id))).toEqual(new Set(corpusRows.map((d) => d.id)));
  });

  it('tokenizer round trips on the whole corpus: lossless with the full vocabulary, <unk> for rare words under a cap', () => {
    const pack: Pack = { manifest: {} as PackManifest, documents: [...spec.documents], questions: [...spec.questions] };
    const texts = spec.documents.map((d) => normalizeText(`${d.title} ${d.text}`));
    const full = buildPackTokenizer(pack);
    expect(full.size).toBe(61472);
    for (const t of texts) expect(full.decode(full.encode(t))).toBe(t);
    for (const x of spec.questions) expect(full.countUnknown(`${x.question} ${x.answers.join(' ')}`)).toBe(0);

    const capped = buildPackTokenizer(pack, { maxWords: 8000 });
    // Independent count: corpus + question words by frequency; the top 8,000 must all be known.
    const counts = new Map<string, number>();
    for (const t of [...texts, ...spec.questions.map((x) => `${x.question} ${x.answers.join(' ')}`)]) for (const w of splitWords(t)) counts.set(w, (counts.get(w) ?? 0) + 1);
    const ranked = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([w]) => w);
    expect(ranked.slice(0, 8000).every((w) => capped.idOf(w) !== undefined)).toBe(true);
    let words = 0, unknown = 0;
    for (const t of texts) {
      const ids = capped.encode(t);
      const expected = t.split(' ').map((w) => (capped.idOf(w) === undefined ? '<unk>' : w)).join(' ');
      expect(capped.decode(ids)).toBe(expected);
      words += ids.length;
      unknown += ids.filter((id) => id === capped.unkId).length;
    }
    expect(words).toBe(1296514);
    expect(unknown / words).toBeCloseTo(0.0998, 3); // 129,336 unknown words of 1,296,514 with 8,000 words kept
  });
});
