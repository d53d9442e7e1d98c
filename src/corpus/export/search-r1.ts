/**
 * A pack in Search-R1's files (Jin et al., 2025; PeterGriffinJin/Search-R1):
 *
 * - `train.parquet`, `test.parquet`: the rows its `scripts/data_process/nq_search.py` and
 *   `qa_search_train_merge.py` write with `datasets.Dataset.to_parquet` and its verl trainer
 *   reads (`verl/utils/dataset/rl_dataset.py`: `prompt`; `verl/trainer/main_ppo.py`:
 *   `data_source`, `reward_model.ground_truth`; `extra_info.index`). Columns: the FlashRAG ones
 *   the script starts from and keeps (`id`, `question`, `golden_answers`, `metadata`), then
 *   `data_source`, `prompt` (one user message: the search prompt of `make_prefix`, template
 *   `base`, with the question), `ability` (`fact-reasoning`), `reward_model` (`{style: "rule",
 *   ground_truth: {target: [answers]}}`) and `extra_info` (`{split, index}`). Test and
 *   out-of-domain questions both go to test.parquet (`extra_info.split` says which).
 * - `corpus.jsonl`: the retriever's corpus, `{id, contents}` with `contents` = `"title"\ntext`
 *   (its `example/corpus.jsonl`, wiki-18). The id is the row number: their BM25 server, over an
 *   index without stored documents, looks a hit up as `corpus[int(docid)]`.
 *
 * Parquet is written with hyparquet-writer (snappy, as pyarrow's default), nested columns as
 * pyarrow lays out lists and structs. `data_source` must be one its `_select_rm_score_fn`
 * knows (`nq`, `triviaqa`, `popqa`, `hotpotqa`, `2wikimultihopqa`, `musique`, `bamboogle`, all
 * the same exact-match reward), else its trainer stops with NotImplementedError: a question of
 * any other dataset (a generated world) is written as `nq` (or `dataSource`), and
 * `metadata.dataset` keeps its own name for our import.
 */
import { ByteWriter, parquetWrite } from 'hyparquet-writer';
import type { Pack, Question } from '../types.ts';
import { formatSearchR1Contents } from '../import/flashrag-corpus.ts';
import { inSplit, jsonLines, oneLine, questionDataset, rowNumbers, supportingRows, type PackExportOptions } from './common.ts';

/** The `data_source` names Search-R1's `verl/trainer/main_ppo.py` gives a reward function. */
export const SEARCH_R1_DATA_SOURCES: readonly string[] = ['nq', 'triviaqa', 'popqa', 'hotpotqa', '2wikimultihopqa', 'musique', 'bamboogle'];

/** Our dataset names that Search-R1 spells differently. */
const OUR_TO_SEARCH_R1: Readonly<Record<string, string>> = { '2wiki': '2wikimultihopqa' };

/**
 * Search-R1's search prompt (template `base` of `make_prefix` in its
 * `scripts/data_process/nq_search.py`, the prompt of the paper): the instruction, then
 * `Question: <question>\n`. Data the trained model is conditioned on, so it is kept word for word.
 */
export function searchR1Prompt(question: string): string {
  return 'Answer the given question. ' +
    'You must conduct reasoning inside <think> and </think> first every time you get new information. ' +
    'After reasoning, if you find you lack some knowledge, you can call a search engine by <search> query </search> and it will return the top searched results between <information> and </information>. ' +
    'You can search as many times as your want. ' +
    'If you find no further external knowledge needed, you can directly provide the answer inside <answer> and </answer>, without detailed illustrations. For example, <answer> Beijing </answer>. ' +
    `Question: ${question}\n`;
}

/** The question as their script puts it in the prompt: stripped, with a `?` added when it does not end in one. */
export function searchR1Question(question: string): string {
  const q = question.trim();
  return q.endsWith('?') ? q : `${q}?`;
}

/** One row of train.parquet / test.parquet, as plain data (INT64 as bigint). */
export interface SearchR1Row {
  id: string;
  question: string;
  golden_answers: string[];
  data_source: string;
  prompt: { content: string; role: string }[];
  ability: string;
  reward_model: { ground_truth: { target: string[] }; style: string };
  extra_info: { index: bigint; split: string };
  metadata: { dataset: string; hops: bigint; supporting_ids: string[]; template: string };
}

/** The rows of one file; `index` counts within the file, as `with_indices` does in their script. */
export function searchR1Rows(questions: readonly Question[], packName: string, rowOf: ReadonlyMap<string, number>, opts: Pick<PackExportOptions, 'dataSource'> = {}): SearchR1Row[] {
  const fallback = opts.dataSource ?? 'nq';
  return questions.map((q, i) => {
    const dataset = questionDataset(q, packName);
    const mapped = OUR_TO_SEARCH_R1[dataset] ?? dataset;
    return {
      id: q.id,
      question: q.question,
      golden_answers: [...q.answers],
      data_source: SEARCH_R1_DATA_SOURCES.includes(mapped) ? mapped : fallback,
      prompt: [{ content: searchR1Prompt(searchR1Question(q.question)), role: 'user' }],
      ability: 'fact-reasoning',
      reward_model: { ground_truth: { target: [...q.answers] }, style: 'rule' },
      extra_info: { index: BigInt(i), split: q.split },
      metadata: { dataset, hops: BigInt(q.hops), supporting_ids: supportingRows(q, rowOf), template: q.template },
    };
  });
}

const STRING = { type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' } as const;
const INT64 = { type: 'INT64', repetition_type: 'OPTIONAL' } as const;

/** The parquet schema of the rows (lists as `LIST` > repeated `list` > `element`, as pyarrow writes them). */
const SCHEMA = [
  { name: 'root', num_children: 9 },
  { name: 'id', ...STRING },
  { name: 'question', ...STRING },
  { name: 'golden_answers', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  { name: 'element', ...STRING },
  { name: 'data_source', ...STRING },
  { name: 'prompt', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  { name: 'element', repetition_type: 'OPTIONAL', num_children: 2 },
  { name: 'content', ...STRING },
  { name: 'role', ...STRING },
  { name: 'ability', ...STRING },
  { name: 'reward_model', repetition_type: 'OPTIONAL', num_children: 2 },
  { name: 'ground_truth', repetition_type: 'OPTIONAL', num_children: 1 },
  { name: 'target', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  { name: 'element', ...STRING },
  { name: 'style', ...STRING },
  { name: 'extra_info', repetition_type: 'OPTIONAL', num_children: 2 },
  { name: 'index', ...INT64 },
  { name: 'split', ...STRING },
  { name: 'metadata', repetition_type: 'OPTIONAL', num_children: 4 },
  { name: 'dataset', ...STRING },
  { name: 'hops', ...INT64 },
  { name: 'supporting_ids', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  { name: 'element', ...STRING },
  { name: 'template', ...STRING },
];

const COLUMNS = ['id', 'question', 'golden_answers', 'data_source', 'prompt', 'ability', 'reward_model', 'extra_info', 'metadata'] as const;

/** The rows as one parquet file's bytes. */
export function searchR1Parquet(rows: readonly SearchR1Row[]): Uint8Array {
  const writer = new ByteWriter();
  parquetWrite({
    writer,
    columnData: COLUMNS.map((name) => ({ name, data: rows.map((r) => r[name]) })),
    schema: SCHEMA as Parameters<typeof parquetWrite>[0]['schema'],
    kvMetadata: [{ key: 'writer', value: 'r1-searcher-playground export-pack (Search-R1 verl rows)' }],
  });
  return new Uint8Array(writer.getBuffer());
}

/** corpus.jsonl: `{id: row number, contents: "title"\ntext}` per document, in pack order. */
export function searchR1Corpus(pack: Pack): Uint8Array {
  return jsonLines(pack.documents.map((d, i) => ({ id: String(i), contents: formatSearchR1Contents({ title: oneLine(d.title), text: oneLine(d.text) }) })));
}

/** Every Search-R1 file of the pack, name -> bytes (the README is added by export-pack.ts). */
export function searchR1Files(pack: Pack, opts: Pick<PackExportOptions, 'dataSource'> = {}): Map<string, Uint8Array> {
  const name = pack.manifest.name;
  const rowOf = rowNumbers(pack.documents);
  const test = [...inSplit(pack.questions, 'test'), ...inSplit(pack.questions, 'ood')];
  return new Map([
    ['train.parquet', searchR1Parquet(searchR1Rows(inSplit(pack.questions, 'train'), name, rowOf, opts))],
    ['test.parquet', searchR1Parquet(searchR1Rows(test, name, rowOf, opts))],
    ['corpus.jsonl', searchR1Corpus(pack)],
  ]);
}
