/**
 * A pack in R1-Searcher's files (Song et al., 2025; RUCAIBox/R1-Searcher):
 *
 * - `data/training_set/stage_1.jsonl`, `stage_2.jsonl`: JSON Lines as in its `data/training_set/`,
 *   `{idx, question, answer}` (stage 2 also `gen_text_store: ""`). Its trainer reads `question`
 *   and `idx` (`OpenRLHF-RAG/openrlhf/datasets/prompts_dataset.py`, `--input_key question`), its
 *   reward servers `question` and `answer` (`train/reward_server_*.py`, one answer string).
 *   Stage 1 holds the training questions of our Stage-1 curriculum's hop counts, Stage 2 every
 *   training question (the paper: 350 medium, then 8,148 medium and hard questions).
 * - `data/eval_set/<pack>_test.jsonl`, `<pack>_ood.jsonl`: as its `data/eval_set/*.jsonl`,
 *   `{idx, question, answer, gen_text_store: ""}` (`evaluation/eval_search_loacl.py` reads all four).
 * - `corpus.tsv`: its retriever's corpus, `id<TAB>Title: <title> Text: <text>` per line
 *   (`wiki_corpus_index_bulid/samples/train_np_title_abs_sample_100.tsv`). The id is the row
 *   number: their server returns whole lines and their rollout strips only a numeric row number
 *   (`re.sub(r'^\d+\s+', '', doc)`).
 *
 * Fields their code does not read keep the rest of the pack for our import
 * (src/corpus/import/r1-searcher.ts): `id` (the pack's question id), `answer_aliases` (the other
 * gold answers: their format has one answer), `split`, `template`, `hops`, `dataset`, `supporting_ids` (the
 * supporting documents' row numbers in corpus.tsv).
 */
import type { Pack, Question } from '../types.ts';
import { formatR1SearcherDocument } from '../import/r1-searcher-corpus.ts';
import { inSplit, jsonLines, oneLine, questionDataset, rowNumbers, supportingRows, type RunSettingsSummary } from './common.ts';

/** One question line; `gen_text_store` only in Stage-2 and evaluation files, as theirs. */
export interface R1SearcherRow {
  idx: number;
  question: string;
  answer: string;
  gen_text_store?: string;
  id: string;
  answer_aliases?: string[];
  split: string;
  template: string;
  hops: number;
  dataset: string;
  supporting_ids: string[];
}

/** Lines of one question file; `idx` counts from 1, as in their files. */
export function r1SearcherRows(questions: readonly Question[], packName: string, withGenText: boolean, rowOf: ReadonlyMap<string, number>): R1SearcherRow[] {
  return questions.map((q, i) => ({
    idx: i + 1,
    question: q.question,
    answer: q.answers[0]!,
    ...(withGenText ? { gen_text_store: '' } : {}),
    id: q.id,
    ...(q.answers.length > 1 ? { answer_aliases: q.answers.slice(1) } : {}),
    split: q.split,
    template: q.template,
    hops: q.hops,
    dataset: questionDataset(q, packName),
    supporting_ids: supportingRows(q, rowOf),
  }));
}

/** corpus.tsv: `row<TAB>Title: <title> Text: <text>` per document, in pack order. */
export function r1SearcherCorpus(pack: Pack): Uint8Array {
  return new TextEncoder().encode(pack.documents.map((d, i) => `${i}\t${formatR1SearcherDocument({ title: oneLine(d.title), text: oneLine(d.text) })}\n`).join(''));
}

/** The file names of the evaluation sets of a pack. */
export const r1SearcherEvalFile = (packName: string, split: 'test' | 'ood') => `data/eval_set/${packName}_${split}.jsonl`;

/** Every R1-Searcher file of the pack, name -> bytes (the README is added by export-pack.ts). */
export function r1SearcherFiles(pack: Pack, settings: Pick<RunSettingsSummary, 'stage1Hops'>): Map<string, Uint8Array> {
  const name = pack.manifest.name;
  const rowOf = rowNumbers(pack.documents);
  const train = inSplit(pack.questions, 'train');
  // hops 0 = unknown (imported sets without a hop count): kept in Stage 1 rather than dropped.
  const stage1 = train.filter((q) => q.hops === 0 || settings.stage1Hops.includes(q.hops));
  const files = new Map<string, Uint8Array>([
    ['data/training_set/stage_1.jsonl', jsonLines(r1SearcherRows(stage1, name, false, rowOf))],
    ['data/training_set/stage_2.jsonl', jsonLines(r1SearcherRows(train, name, true, rowOf))],
  ]);
  for (const split of ['test', 'ood'] as const) {
    const qs = inSplit(pack.questions, split);
    if (qs.length > 0) files.set(r1SearcherEvalFile(name, split), jsonLines(r1SearcherRows(qs, name, true, rowOf)));
  }
  files.set('corpus.tsv', r1SearcherCorpus(pack));
  return files;
}
