/**
 * R1-Searcher's question files (Song et al., 2025; RUCAIBox/R1-Searcher `data/training_set/
 * stage_1.jsonl`, `stage_2.jsonl` and `data/eval_set/*.jsonl`): JSON Lines `{idx, question,
 * answer}` (extra fields such as `pred_anses` or `gen_text_store` ignored). `answer` is one
 * string (a list is accepted too). No paragraphs, types or supporting facts: hops and supporting
 * ids stay unknown unless the dataset rules of the driver say otherwise.
 *
 * Fields their code does not read, which our own export (src/corpus/export/) adds so that a
 * pack comes back whole: `id` (the pack's question id, preferred over `idx`), `answer_aliases`
 * (the other gold answers), `split`, `template`, `hops`, `dataset`, `supporting_ids` (corpus
 * ids of the supporting documents).
 */
import { answerList, optionalId, questionText } from './fields.ts';
import type { FormatReader, SourceQuestion } from './types.ts';

export const r1SearcherQuestions: FormatReader<SourceQuestion> = {
  format: 'r1-searcher',
  role: 'questions',
  container: 'jsonl',
  description: 'R1-Searcher question file {idx, question, answer}',
  matches: (r) => 'question' in r && 'answer' in r,
  read(r) {
    const split = r.split === 'train' || r.split === 'test' || r.split === 'ood' ? r.split : undefined;
    const template = typeof r.template === 'string' && r.template !== '' ? r.template : undefined;
    const hops = Number.isSafeInteger(r.hops) && (r.hops as number) >= 0 ? (r.hops as number) : undefined;
    const supportingIds = Array.isArray(r.supporting_ids) ? r.supporting_ids.filter((x): x is string => typeof x === 'string') : [];
    const dataset = typeof r.dataset === 'string' && /^[a-z0-9_-]+$/.test(r.dataset) ? r.dataset : undefined;
    return {
      ...(dataset ? { dataset } : {}),
      sourceId: optionalId(r, 'id', 'idx'), question: questionText(r, 'question'), answers: answerList(r, ['answer', 'answer_aliases']), supporting: [], contexts: [],
      ...(split ? { split } : {}), ...(template ? { template } : {}), ...(hops !== undefined ? { hops } : {}),
      ...(supportingIds.length ? { supportingIds } : {}),
    };
  },
};
