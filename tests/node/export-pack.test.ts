/**
 * `export-pack` (issue 20): a pack in the files of Search-R1 (verl) and R1-Searcher (OpenRLHF-RAG),
 * read back the way their code reads them, and imported back into the same pack.
 *
 * What their code reads (field lists copied from their source):
 * - Search-R1 (PeterGriffinJin/Search-R1): `scripts/data_process/nq_search.py` writes `data_source`,
 *   `prompt: [{role: "user", content: make_prefix(..)}]`, `ability: "fact-reasoning"`,
 *   `reward_model: {style: "rule", ground_truth: {target: golden_answers}}`, `extra_info: {split,
 *   index}` beside FlashRAG's `id`, `question`, `golden_answers`; `verl/utils/dataset/rl_dataset.py`
 *   reads `row_dict[prompt_key]` (`chat[0]['content']` without a chat template) and
 *   `row_dict.get("extra_info", {}).get("index", 0)`; `verl/trainer/main_ppo.py` reads
 *   `non_tensor_batch['reward_model']['ground_truth']` and `['data_source']`, which
 *   `_select_rm_score_fn` must know; `verl/utils/reward_score/qa_em.py` reads `ground_truth['target']`.
 *   Its BM25 server splits a corpus row's `contents` as `content.split("\n")[0].strip("\"")` (title)
 *   and the rest (text), and looks a hit up as `corpus[int(docid)]`.
 * - R1-Searcher (RUCAIBox/R1-Searcher): `OpenRLHF-RAG/openrlhf/datasets/prompts_dataset.py` reads
 *   `data["question"]` and `data["idx"]`; `train/reward_server_*.py` reads `item["question"]` and
 *   `item["answer"]` (one string); `evaluation/eval_search_loacl.py` reads `question`, `answer` and
 *   `gen_text_store`; `wiki_corpus_index_bulid/build_corpus_embedding.py` embeds
 *   `line.split('\t')[1]` of each corpus line, and the rollout shows `re.sub(r'^\d+\s+', '', line)`.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetMetadata, parquetReadObjects, parquetSchema } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as exportPackCli } from '../../src/cli/commands/export-pack.ts';
import { runSettingsSummary } from '../../src/rl/settings.ts';
import { exportPack } from '../../src/corpus/export/export-pack.ts';
import { importPack, type ImportInput } from '../../src/corpus/import/import-pack.ts';
import { fsSource, loadPack } from '../../src/corpus/pack-loader.ts';
import type { Pack, Question } from '../../src/corpus/types.ts';
import { defaultRlSettings } from '../../src/rl/settings.ts';

const WORLD = 'public/corpus/world';
const settings = runSettingsSummary(defaultRlSettings(1), defaultRlSettings(2));

/** Search-R1's `make_prefix(dp, 'base')` (scripts/data_process/nq_search.py), as a literal. */
const makePrefix = (question: string) =>
  'Answer the given question. You must conduct reasoning inside <think> and </think> first every time you get new information. After reasoning, if you find you lack some knowledge, you can call a search engine by <search> query </search> and it will return the top searched results between <information> and </information>. You can search as many times as your want. If you find no further external knowledge needed, you can directly provide the answer inside <answer> and </answer>, without detailed illustrations. For example, <answer> Beijing </answer>. ' +
  `Question: ${question}\n`;
/** `_select_rm_score_fn` of verl/trainer/main_ppo.py. */
const KNOWN_SOURCES = ['nq', 'triviaqa', 'popqa', 'hotpotqa', '2wikimultihopqa', 'musique', 'bamboogle'];

const ab = (b: Uint8Array) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
const lines = (b: Uint8Array) => new TextDecoder().decode(b).split('\n').filter((l) => l !== '');
const jsonlRows = (b: Uint8Array) => lines(b).map((l) => JSON.parse(l) as Record<string, unknown>);

let root: string;
let world: Pack;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'r1s-export-pack-'));
  world = await loadPack(fsSource(WORLD));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The pack's content with document ids replaced by row numbers (what both exports write). */
function byRows(pack: Pack) {
  const row = new Map(pack.documents.map((d, i) => [d.id, String(i)]));
  return {
    documents: pack.documents.map((d, i) => ({ id: String(i), title: d.title, text: d.text })),
    questions: pack.questions.map((q) => ({ ...q, supportingIds: q.supportingIds.map((id) => row.get(id)!) })),
  };
}

/** The imported question of `q` (ids gain the dataset prefix; a prefixed id stays as it is). */
function expectSameQuestions(imported: readonly Question[], original: readonly Question[], dataset: (q: Question) => string) {
  const byId = new Map(imported.map((q) => [q.id, q]));
  expect(imported).toHaveLength(original.length);
  for (const q of original) {
    const id = q.id.includes(':') ? q.id : `${dataset(q)}:${q.id}`;
    const back = byId.get(id);
    expect(back, id).toBeDefined();
    expect({ question: back!.question, answers: back!.answers, split: back!.split, hops: back!.hops, template: back!.template, supportingIds: back!.supportingIds })
      .toEqual({ question: q.question, answers: q.answers, split: q.split, hops: q.hops, template: q.template, supportingIds: q.supportingIds });
  }
}

async function importFolder(dir: string, questionFiles: string[], corpus: string) {
  const read = async (name: string, role: ImportInput['role']): Promise<ImportInput> => ({ name, bytes: new Uint8Array(await readFile(join(dir, name))), role });
  return importPack([...(await Promise.all(questionFiles.map((f) => read(f, 'questions')))), await read(corpus, 'corpus')], { name: 'back' });
}

describe('export-pack search-r1', () => {
  it('writes the parquet columns and corpus rows Search-R1 reads, and imports back into the same pack', async () => {
    const out = join(root, 'sr1');
    await exportPackCli(['--pack', WORLD, '--format', 'search-r1', '--out', out, '--json']);
    expect((await readdir(out)).sort()).toEqual(['README.md', 'corpus.jsonl', 'test.parquet', 'train.parquet']);
    await expect(exportPackCli(['--pack', WORLD, '--format', 'search-r1', '--out', out])).rejects.toThrow(/already exists and is not empty \(nothing was written; pass --overwrite/);
    // --overwrite replaces an earlier export (even of the other format), never a folder of other files.
    const mine = join(root, 'mine');
    await mkdir(mine);
    await writeFile(join(mine, 'notes.txt'), 'keep');
    await expect(exportPackCli(['--pack', WORLD, '--format', 'search-r1', '--out', mine, '--overwrite'])).rejects.toThrow(/is not a pack export folder: it has no README.md/);
    expect(await readFile(join(mine, 'notes.txt'), 'utf8')).toBe('keep');
    await exportPackCli(['--pack', WORLD, '--format', 'r1-searcher', '--out', out, '--overwrite']);
    expect((await readdir(out)).sort()).toEqual(['README.md', 'corpus.tsv', 'data']);
    await exportPackCli(['--pack', WORLD, '--format', 'search-r1', '--out', out, '--overwrite']);

    const train = new Uint8Array(await readFile(join(out, 'train.parquet')));
    // Types as pyarrow writes a datasets row: lists as LIST, index as INT64, strings as UTF8.
    const tree = parquetSchema(parquetMetadata(ab(train)));
    const col = (name: string) => tree.children.find((c) => c.element.name === name)!;
    expect(tree.children.map((c) => c.element.name)).toEqual(['id', 'question', 'golden_answers', 'data_source', 'prompt', 'ability', 'reward_model', 'extra_info', 'metadata']);
    expect(col('prompt').element.converted_type).toBe('LIST');
    expect(col('prompt').children[0]!.children[0]!.children.map((c) => c.element.name)).toEqual(['content', 'role']);
    expect(col('extra_info').children.map((c) => [c.element.name, c.element.type])).toEqual([['index', 'INT64'], ['split', 'BYTE_ARRAY']]);
    expect(col('data_source').element.converted_type).toBe('UTF8');
    const rows = await parquetReadObjects({ file: ab(train) });
    expect(Object.keys(rows[0]!)).toEqual(['id', 'question', 'golden_answers', 'data_source', 'prompt', 'ability', 'reward_model', 'extra_info', 'metadata']);
    const trainQs = world.questions.filter((q) => q.split === 'train');
    expect(rows).toHaveLength(trainQs.length);
    rows.forEach((r, i) => {
      const q = trainQs[i]!;
      // rl_dataset.py: the prompt is a list of chat messages; without a chat template, chat[0]['content'].
      expect(r.prompt).toEqual([{ content: makePrefix(q.question.endsWith('?') ? q.question : `${q.question}?`), role: 'user' }]);
      expect(KNOWN_SOURCES).toContain(r.data_source);
      expect(r.ability).toBe('fact-reasoning');
      expect(r.reward_model).toEqual({ ground_truth: { target: q.answers }, style: 'rule' });
      expect(r.extra_info).toEqual({ index: BigInt(i), split: 'train' }); // INT64, as with_indices gives
    });
    expect(rows[0]).toMatchObject({ id: 'q00000', question: 'Where was Kreimpon born?', golden_answers: ['Shorhy'], data_source: 'nq', metadata: { dataset: 'world', hops: 1n, template: 'birthplace', supporting_ids: ['1'] } });
    const test = await parquetReadObjects({ file: ab(new Uint8Array(await readFile(join(out, 'test.parquet')))) });
    expect(test.map((r) => (r.extra_info as { split: string }).split)).toEqual(world.questions.filter((q) => q.split !== 'train').map((q) => q.split));

    // corpus.jsonl: {id, contents}; id = row number (their BM25: corpus[int(docid)]); their title/text split.
    const corpus = jsonlRows(new Uint8Array(await readFile(join(out, 'corpus.jsonl'))));
    expect(corpus).toHaveLength(world.documents.length);
    corpus.forEach((row, i) => {
      expect(Object.keys(row)).toEqual(['id', 'contents']);
      expect(Number.parseInt(row.id as string, 10)).toBe(i);
      const content = row.contents as string;
      expect(content.split('\n')[0]!.replace(/^"+|"+$/g, '')).toBe(world.documents[i]!.title);
      expect(content.split('\n').slice(1).join('\n')).toBe(world.documents[i]!.text);
    });

    const { spec } = await importFolder(out, ['train.parquet', 'test.parquet'], 'corpus.jsonl');
    const want = byRows(world);
    expect(spec.documents).toEqual(want.documents);
    expectSameQuestions(spec.questions, want.questions, () => 'world');
  }, 60_000);
});

describe('export-pack r1-searcher', () => {
  it('writes the question files and corpus TSV R1-Searcher reads, and imports back into the same pack', async () => {
    const files = exportPack(world, 'r1-searcher', { settings });
    expect([...files.keys()]).toEqual(['data/training_set/stage_1.jsonl', 'data/training_set/stage_2.jsonl', 'data/eval_set/world_test.jsonl', 'data/eval_set/world_ood.jsonl', 'corpus.tsv', 'README.md']);
    const stage1 = jsonlRows(files.get('data/training_set/stage_1.jsonl')!);
    const stage2 = jsonlRows(files.get('data/training_set/stage_2.jsonl')!);
    const train = world.questions.filter((q) => q.split === 'train');
    expect(stage2).toHaveLength(train.length);
    // The default Stage 1 draws every hop count, so its file holds every train question ...
    expect(settings.stage1Hops).toEqual([1, 2, 3]);
    expect(stage1).toHaveLength(train.length);
    // ... and a Stage 1 on fewer hop counts writes only those.
    const s12 = defaultRlSettings(1);
    s12.curriculum = [{ fromStep: 0, hops: [1, 2] }];
    const only12 = jsonlRows(exportPack(world, 'r1-searcher', { settings: runSettingsSummary(s12, defaultRlSettings(2)) }).get('data/training_set/stage_1.jsonl')!);
    const want12 = train.filter((q) => q.hops === 1 || q.hops === 2).length;
    expect(want12).toBeLessThan(train.length);
    expect(only12).toHaveLength(want12);
    // Each stage's script line carries that stage's KL coefficient (Stage 1 keeps a KL to the base).
    const readme = new TextDecoder().decode(files.get('README.md')!);
    const klOf = (script: string) => readme.split('\n').find((l) => l.includes(`${script}.sh: DATA_PATH`))?.match(/ KL=(\S+)/)?.[1];
    expect([klOf('llama_reinforce_plus_train_stage1'), klOf('llama_reinforce_plus_train_stage2')]).toEqual([String(settings.stage1KlCoef), String(settings.klCoef)]);
    expect(settings.stage1KlCoef).not.toBe(settings.klCoef);
    // Stage 2's reward names the ungrounded-answer penalty only where a run set one.
    expect(settings.ungroundedPenalty).toBe(0);
    expect(readme).not.toMatch(/found in neither the documents nor the question/);
    const s2u = defaultRlSettings(2);
    s2u.reward.ungroundedPenalty = -0.5;
    for (const format of ['r1-searcher', 'search-r1'] as const) {
      const text = new TextDecoder().decode(exportPack(world, format, { settings: runSettingsSummary(defaultRlSettings(1), s2u) }).get('README.md')!);
      expect(text).toMatch(/format penalty -2 when not well-formed \+ -0\.5 for a wrong answer found in neither the documents nor the question/);
    }
    for (const [rows, genText] of [[stage1, false], [stage2, true], [jsonlRows(files.get('data/eval_set/world_test.jsonl')!), true]] as const) {
      rows.forEach((r, i) => {
        expect(r.idx).toBe(i + 1); // prompts_dataset.py: str(idx) + "<|idx_prompt_split|>" + prompt
        expect(typeof r.question).toBe('string');
        expect(typeof r.answer).toBe('string'); // reward servers: f1_score(pred, item["answer"])
        if (genText) expect(r.gen_text_store).toBe('');
        else expect(r).not.toHaveProperty('gen_text_store');
      });
    }
    expect(stage2[0]).toEqual({ idx: 1, question: 'Where was Kreimpon born?', answer: 'Shorhy', gen_text_store: '', id: 'q00000', split: 'train', template: 'birthplace', hops: 1, dataset: 'world', supporting_ids: ['1'] });
    const tsv = lines(files.get('corpus.tsv')!);
    expect(tsv).toHaveLength(world.documents.length);
    tsv.forEach((line, i) => {
      const d = world.documents[i]!;
      expect(line.split('\t')[1]).toBe(`Title: ${d.title} Text: ${d.text}`); // build_corpus_embedding.py
      expect(line.replace(/^\d+\s+/, '')).toBe(`Title: ${d.title} Text: ${d.text}`); // the rollout's re.sub
    });

    const out = join(root, 'r1s');
    await exportPackCli(['--pack', WORLD, '--format', 'r1-searcher', '--out', out, '--json']);
    const { spec } = await importFolder(out, ['data/training_set/stage_2.jsonl', 'data/eval_set/world_test.jsonl', 'data/eval_set/world_ood.jsonl'], 'corpus.tsv');
    const want = byRows(world);
    expect(spec.documents).toEqual(want.documents);
    expectSameQuestions(spec.questions, want.questions, () => 'world');
  }, 60_000);
});

describe('export-pack of an imported pack', () => {
  it('maps datasets to Search-R1 data_source names, keeps aliases, and round-trips both formats', async () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    const wiki = [{
      _id: 'w1', type: 'compositional', question: 'Who is the mother of the director of film Polish-Russian War (Film)?', answer: 'Ma\u0142gorzata Braunek', answer_aliases: ['Malgorzata Braunek'],
      context: [['Polish-Russian War (film)', ['It was directed by Xawery \u017bu\u0142awski.']], ['Xawery \u017bu\u0142awski', ['He is the son of Ma\u0142gorzata Braunek.']]],
      supporting_facts: [['Polish-Russian War (film)', 0], ['Xawery \u017bu\u0142awski', 0]], evidences: [],
    }];
    const nq = [{ id: 'train_0', question: 'who is the son of braunek', golden_answers: ['Xawery \u017bu\u0142awski'] }];
    const { spec } = await importPack([
      { name: 'dev.json', bytes: enc(JSON.stringify(wiki)), role: 'questions' },
      { name: 'nq.jsonl', bytes: enc(`${JSON.stringify(nq[0])}\n`), role: 'questions' },
    ], { name: 'mix', splits: { '2wiki': 'train', nq: 'test' } });
    const pack: Pack = { manifest: { name: 'mix' } as Pack['manifest'], documents: [...spec.documents], questions: [...spec.questions] };
    const sr1 = exportPack(pack, 'search-r1', { settings });
    const trainRows = await parquetReadObjects({ file: ab(sr1.get('train.parquet')!) });
    expect(trainRows.map((r) => [r.id, r.data_source, (r.reward_model as { ground_truth: { target: string[] } }).ground_truth.target])).toEqual([
      ['2wiki:w1', '2wikimultihopqa', ['Ma\u0142gorzata Braunek', 'Malgorzata Braunek']],
    ]);
    const testRows = await parquetReadObjects({ file: ab(sr1.get('test.parquet')!) });
    expect(testRows.map((r) => [r.id, r.data_source])).toEqual([['nq:train_0', 'nq']]);
    const r1s = exportPack(pack, 'r1-searcher', { settings });
    expect(jsonlRows(r1s.get('data/training_set/stage_2.jsonl')!)[0]).toMatchObject({ answer: 'Ma\u0142gorzata Braunek', answer_aliases: ['Malgorzata Braunek'], dataset: '2wiki' });

    const want = byRows(pack);
    for (const [files, questionFiles, corpus] of [
      [sr1, ['train.parquet', 'test.parquet'], 'corpus.jsonl'],
      [r1s, ['data/training_set/stage_2.jsonl', 'data/eval_set/mix_test.jsonl'], 'corpus.tsv'],
    ] as const) {
      const { spec: back } = await importPack([
        ...questionFiles.map((f) => ({ name: f, bytes: files.get(f)!, role: 'questions' as const })),
        { name: corpus, bytes: files.get(corpus)!, role: 'corpus' as const },
      ], { name: 'back' });
      expect(back.documents).toEqual(want.documents);
      expectSameQuestions(back.questions, want.questions, () => 'unused');
    }
  });
});
