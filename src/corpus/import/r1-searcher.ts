/**
 * R1-Searcher's question files (Song et al., 2025; RUCAIBox/R1-Searcher `data/training_set/
 * stage_1.jsonl`, `stage_2.jsonl` and `data/eval_set/*.jsonl`): JSON Lines `{idx, question,
 * answer}` (extra fields such as `pred_anses` or `gen_text_store` ignored). `answer` is one
 * string (a list is accepted too). No paragraphs, types or supporting facts: hops and supporting
 * ids stay unknown unless the dataset rules of the driver say otherwise.
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
    return { sourceId: optionalId(r, 'idx', 'id'), question: questionText(r, 'question'), answers: answerList(r, ['answer']), supporting: [], contexts: [] };
  },
};
