/**
 * The importers on records in each public format that issue 17 names, built from the datasets'
 * and trainers' documented fields:
 * - R1-Searcher's corpus TSV (RUCAIBox/R1-Searcher `wiki_corpus_index_bulid/samples/*.tsv`): a
 *   byte-order mark on line 1, CSV quoting, `Title: .. Text:` frames and KILT's `title   text`;
 * - Search-R1's verl rows in parquet (PeterGriffinJin/Search-R1 `scripts/data_process/nq_search.py`,
 *   `qa_search_train_merge.py`: `data_source`, `prompt`, `ability`, `reward_model`, `extra_info`),
 *   written here with hyparquet-writer and read with hyparquet, with only verl's columns, and
 *   `data_source` per row (an `nq` row of an nq_hotpotqa file is 1-hop nq);
 * - MuSiQue's `question_decomposition` (StonyBrookNLP/musique: `{id, question, answer,
 *   paragraph_support_idx}`), 2WikiMultiHopQA's `evidences` and answer aliases, HotpotQA's
 *   sentence-level `supporting_facts` kept on the question (src/corpus/types.ts), through the pack
 *   files and back;
 * - aliases are gold answers for the metrics (src/protocol/answer-metrics.ts takes the best over `answers`).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ByteWriter, parquetWrite } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importPack, type ImportInput } from '../../src/corpus/import/import-pack.ts';
import { derivedDocumentId } from '../../src/corpus/import/doc-id.ts';
import { fsSource, loadPack } from '../../src/corpus/pack-loader.ts';
import { writePack } from '../../src/corpus/pack-writer.ts';
import { coverExactMatch, exactMatch, f1Score } from '../../src/protocol/answer-metrics.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const q = (name: string, rows: unknown[]): ImportInput => ({ name, bytes: enc(jsonl(rows)), role: 'questions' });

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'r1s-import-formats-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('R1-Searcher corpus TSV', () => {
  it('reads every line shape of their sample files, with the TSV id as the document id', async () => {
    const tsv = [
      '\ufeff0\t"Title: Professional Football League of Ukraine Text:  The PFL (Ukrainian: ""\u041f\u0424\u041b"") is a sport organization."',
      '1\tTitle: Lucy Mair Text:  Lucy Philip Mair (28 January 1901 \u2013 1 April 1986) was a British anthropologist.',
      '2\tA   also found in italic type. In English, "a" is an indefinite article.',
      'no tab on this line',
      '3\tKovar is a town without a title.',
      '',
    ].join('\r\n');
    const { spec, report } = await importPack([
      { name: 'wiki.tsv', bytes: enc(tsv), role: 'corpus' },
      q('stage_2.jsonl', [{ idx: 1, question: 'Who was Lucy Mair?', answer: 'a British anthropologist', gen_text_store: '' }]),
    ], { name: 'fx' });
    expect(report.files[0]).toMatchObject({ format: 'r1-searcher-corpus', records: 5, accepted: 4, rejected: 1 });
    expect(report.rejected.records).toEqual([{ file: 'wiki.tsv', line: 4, reason: 'bad-field', message: 'a TSV line must be id<TAB>document, found no tab' }]);
    expect(spec.documents).toEqual([
      { id: '0', title: 'Professional Football League of Ukraine', text: 'The PFL (Ukrainian: "\u041f\u0424\u041b") is a sport organization.' },
      { id: '1', title: 'Lucy Mair', text: 'Lucy Philip Mair (28 January 1901 \u2013 1 April 1986) was a British anthropologist.' },
      { id: '2', title: 'A', text: 'also found in italic type. In English, "a" is an indefinite article.' },
      { id: '3', title: '', text: 'Kovar is a town without a title.' },
    ]);
    expect(spec.questions[0]).toMatchObject({ id: 'stage_2:1', split: 'train', answers: ['a British anthropologist'] });
  });
});

/** A parquet file of verl rows with ONLY verl's columns, nested as `datasets.to_parquet` writes them. */
function verlParquet(rows: { data_source: string; question: string; target: string[]; split: string; index: number }[]): Uint8Array {
  const S = { type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' } as const;
  const prefix = (question: string) => 'Answer the given question. You must conduct reasoning inside <think> and </think> first every time you get new information. ' +
    'After reasoning, if you find you lack some knowledge, you can call a search engine by <search> query </search> and it will return the top searched results between <information> and </information>. ' +
    'You can search as many times as your want. If you find no further external knowledge needed, you can directly provide the answer inside <answer> and </answer>, without detailed illustrations. ' +
    `For example, <answer> Beijing </answer>. Question: ${question}\n`;
  const writer = new ByteWriter();
  parquetWrite({
    writer,
    columnData: [
      { name: 'data_source', data: rows.map((r) => r.data_source) },
      { name: 'prompt', data: rows.map((r) => [{ content: prefix(r.question), role: 'user' }]) },
      { name: 'ability', data: rows.map(() => 'fact-reasoning') },
      { name: 'reward_model', data: rows.map((r) => ({ ground_truth: { target: r.target }, style: 'rule' })) },
      { name: 'extra_info', data: rows.map((r) => ({ index: BigInt(r.index), split: r.split })) },
    ],
    schema: [
      { name: 'root', num_children: 5 },
      { name: 'data_source', ...S },
      { name: 'prompt', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', repetition_type: 'OPTIONAL', num_children: 2 },
      { name: 'content', ...S },
      { name: 'role', ...S },
      { name: 'ability', ...S },
      { name: 'reward_model', repetition_type: 'OPTIONAL', num_children: 2 },
      { name: 'ground_truth', repetition_type: 'OPTIONAL', num_children: 1 },
      { name: 'target', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', ...S },
      { name: 'style', ...S },
      { name: 'extra_info', repetition_type: 'OPTIONAL', num_children: 2 },
      { name: 'index', type: 'INT64', repetition_type: 'OPTIONAL' },
      { name: 'split', ...S },
    ],
  });
  return new Uint8Array(writer.getBuffer());
}

describe('Search-R1 parquet (verl rows)', () => {
  it('reads question, answers, dataset and split from verl\'s columns alone; data_source is per row', async () => {
    const bytes = verlParquet([
      { data_source: 'nq', question: 'who got the first nobel prize in physics?', target: ['Wilhelm Conrad R\u00f6ntgen'], split: 'train', index: 0 },
      { data_source: 'hotpotqa', question: 'Were Scott Derrickson and Ed Wood of the same nationality?', target: ['yes'], split: 'train', index: 1 },
      { data_source: '2wikimultihopqa', question: 'Who is the mother of the director of film Polish-Russian War?', target: ['Ma\u0142gorzata Braunek'], split: 'test', index: 2 },
    ]);
    const { spec, report } = await importPack([
      { name: 'nq_hotpotqa_train/train.parquet', bytes, role: 'questions' },
      { name: 'wiki.jsonl', bytes: enc(jsonl([{ id: '0', contents: '"Wilhelm R\u00f6ntgen"\nWilhelm Conrad R\u00f6ntgen won the first Nobel Prize in Physics.' }])), role: 'corpus' },
    ], { name: 'fx' });
    expect(report.files[1]).toMatchObject({ format: 'search-r1-verl', records: 3, accepted: 3 });
    expect(spec.questions.map(({ id, question, answers, hops, template, split }) => ({ id, question, answers, hops, template, split }))).toEqual([
      { id: 'nq:0', question: 'who got the first nobel prize in physics?', answers: ['Wilhelm Conrad R\u00f6ntgen'], hops: 1, template: 'nq', split: 'train' },
      { id: 'hotpotqa:1', question: 'Were Scott Derrickson and Ed Wood of the same nationality?', answers: ['yes'], hops: 2, template: 'hotpotqa', split: 'train' },
      { id: '2wiki:2', question: 'Who is the mother of the director of film Polish-Russian War?', answers: ['Ma\u0142gorzata Braunek'], hops: 2, template: '2wiki', split: 'test' },
    ]);
    expect(Object.keys(report.datasets)).toEqual(['nq', 'hotpotqa', '2wiki']);
    expect(report.splitRule).toContain('nq: the split each record names');
  });

  it('a file that starts like parquet but is not is refused as a whole, naming it', async () => {
    const bytes = new Uint8Array([0x50, 0x41, 0x52, 0x31, 1, 2, 3, 4, 5, 6, 7, 8, 0x50, 0x41, 0x52, 0x31]);
    await expect(importPack([{ name: 'broken.parquet', bytes, role: 'questions' }], { name: 'fx' })).rejects.toThrow(/broken\.parquet: refused as a whole: not a readable parquet file/);
  });
});

describe('dataset structure kept on the question', () => {
  it('MuSiQue decomposition, 2Wiki evidences and aliases, HotpotQA sentence indices survive the pack files', async () => {
    const musique = {
      id: '2hop__13548_13529', question: 'When was the person who Messi\'s goals in Copa del Rey compared to get signed by Barcelona?', answer: 'June 1982',
      answer_aliases: ['1982'], answerable: true,
      paragraphs: [
        { idx: 0, title: 'Copa del Rey', paragraph_text: 'Messi\'s goals were compared to Diego Maradona\'s.', is_supporting: true },
        { idx: 1, title: 'Diego Maradona', paragraph_text: 'Barcelona signed Maradona in June 1982.', is_supporting: true },
        { idx: 2, title: 'Other', paragraph_text: 'Unrelated text.', is_supporting: false },
      ],
      question_decomposition: [
        { id: 13548, question: 'To whom was Messi\'s goal in the first leg of the Copa del Rey compared?', answer: 'Diego Maradona', paragraph_support_idx: 0 },
        { id: 13529, question: 'When did #1 get signed by Barcelona?', answer: 'June 1982', paragraph_support_idx: 1 },
      ],
    };
    const wiki = [{
      _id: '8813f87c0bdd11eba7f7acde48001122', type: 'compositional', question: 'Who is the mother of the director of film Polish-Russian War (Film)?',
      context: [['Polish-Russian War (film)', ['Polish-Russian War is a 2009 film.', 'It was directed by Xawery \u017bu\u0142awski.']], ['Xawery \u017bu\u0142awski', ['He is the son of Ma\u0142gorzata Braunek.']]],
      supporting_facts: [['Polish-Russian War (film)', 1], ['Xawery \u017bu\u0142awski', 0]],
      evidences: [['Polish-Russian War', 'director', 'Xawery \u017bu\u0142awski'], ['Xawery \u017bu\u0142awski', 'mother', 'Ma\u0142gorzata Braunek']],
      answer: 'Ma\u0142gorzata Braunek', answer_aliases: ['Malgorzata Braunek'],
    }];
    const hotpot = [{
      _id: '5a8b57f25542995d1e6f1371', type: 'comparison', level: 'hard', question: 'Were Scott Derrickson and Ed Wood of the same nationality?', answer: 'yes',
      supporting_facts: [['Scott Derrickson', 0], ['Ed Wood', 0]],
      context: [['Scott Derrickson', ['Scott Derrickson is an American director.']], ['Ed Wood', ['Edward Davis Wood Jr. was an American filmmaker.']]],
    }];
    const { spec } = await importPack([
      q('musique_dev.jsonl', [musique]),
      { name: 'dev.json', bytes: enc(JSON.stringify(wiki)), role: 'questions' },
      { name: 'hotpot_dev_distractor_v1.json', bytes: enc(JSON.stringify(hotpot)), role: 'questions' },
    ], { name: 'fx' });
    const dir = join(root, 'structured');
    await writePack(dir, spec);
    const pack = await loadPack(fsSource(dir));
    const byId = new Map(pack.questions.map((x) => [x.id, x]));
    const m = byId.get('musique:2hop__13548_13529')!;
    expect(m.hops).toBe(2);
    expect(m.answers).toEqual(['June 1982', '1982']);
    expect(m.decomposition).toEqual([
      { question: 'To whom was Messi\'s goal in the first leg of the Copa del Rey compared?', answer: 'Diego Maradona', supportingId: derivedDocumentId('Copa del Rey', 'Messi\'s goals were compared to Diego Maradona\'s.') },
      { question: 'When did #1 get signed by Barcelona?', answer: 'June 1982', supportingId: derivedDocumentId('Diego Maradona', 'Barcelona signed Maradona in June 1982.') },
    ]);
    const w = byId.get('2wiki:8813f87c0bdd11eba7f7acde48001122')!;
    expect(w.answers).toEqual(['Ma\u0142gorzata Braunek', 'Malgorzata Braunek']);
    expect(w.evidences).toEqual([['Polish-Russian War', 'director', 'Xawery \u017bu\u0142awski'], ['Xawery \u017bu\u0142awski', 'mother', 'Ma\u0142gorzata Braunek']]);
    expect(w.supportingFacts).toEqual([{ title: 'Polish-Russian War (film)', sentence: 1 }, { title: 'Xawery \u017bu\u0142awski', sentence: 0 }]);
    // FlashRAG's HotpotQA (Search-R1's source): metadata.supporting_facts in the Hugging Face column form.
    const { spec: fr } = await importPack([q('hotpotqa_flashrag.jsonl', [{
      id: 'train_1', question: 'Were Scott Derrickson and Ed Wood of the same nationality?', golden_answers: ['yes'],
      metadata: { type: 'comparison', supporting_facts: { title: ['Scott Derrickson', 'Ed Wood'], sent_id: [0, 0] } },
    }]), { name: 'wiki.jsonl', bytes: enc(jsonl([{ id: '0', contents: '"Ed Wood"\nEdward Davis Wood Jr. was an American filmmaker.' }])), role: 'corpus' }], { name: 'fx' });
    expect(fr.questions[0]!.supportingFacts).toEqual([{ title: 'Scott Derrickson', sentence: 0 }, { title: 'Ed Wood', sentence: 0 }]);
    const h = byId.get('hotpotqa:5a8b57f25542995d1e6f1371')!;
    expect(h.supportingFacts).toEqual([{ title: 'Scott Derrickson', sentence: 0 }, { title: 'Ed Wood', sentence: 0 }]);
    expect(h.decomposition).toBeUndefined();
    expect(h.evidences).toBeUndefined();

    // The aliases are gold answers: the metrics take the best over the question's answers.
    expect(exactMatch('Malgorzata Braunek', w.answers)).toBe(true);
    expect(exactMatch('Malgorzata Braunek', [w.answers[0]!])).toBe(false);
    expect(f1Score('1982', m.answers).f1).toBe(1);
    expect(coverExactMatch('in 1982', m.answers)).toBe(true);
  });
});
