/**
 * Official MuSiQue (Trivedi et al., 2022; StonyBrookNLP/musique) JSON Lines, e.g.
 * `musique_ans_v1.0_dev.jsonl`: `{id, question, answer, answer_aliases, answerable,
 * paragraphs: [{idx, title, paragraph_text, is_supporting}], question_decomposition}`.
 *
 * The answer and its aliases are all gold answers. The hop count is the number of steps in
 * `question_decomposition`, else the digit of the id's prefix (`2hop__...`, `3hop1__...`), and
 * the type is that prefix. Supporting paragraphs are those marked `is_supporting`, with their
 * text, so they match exactly even where several paragraphs share a title. Unanswerable records
 * (`answerable: false`, the full set's contrast questions) are refused: they have no gold answer
 * in their paragraphs. The decomposition (`[{id, question, answer, paragraph_support_idx}]`,
 * sub-questions that refer to earlier answers as `#1`) is kept step by step, each step's
 * supporting paragraph found by its `idx`.
 */
import { answerList, arrayField, collapseSpace, describe, isRecord, optionalId, paragraph, questionText } from './fields.ts';
import { RecordError, type FormatReader, type Paragraph, type SourceQuestion } from './types.ts';

export const musiqueJsonl: FormatReader<SourceQuestion> = {
  format: 'musique-jsonl',
  role: 'questions',
  container: 'jsonl',
  description: 'official MuSiQue JSON Lines {id, question, answer, answer_aliases, answerable, paragraphs}',
  matches: (r) => 'question' in r && 'paragraphs' in r,
  read(r) {
    const question = questionText(r, 'question');
    if (r.answerable === false) throw new RecordError('missing-answer', 'record is marked "answerable": false');
    const answers = answerList(r, ['answer', 'answer_aliases']);
    const contexts: Paragraph[] = [];
    const supporting = [];
    const byIdx = new Map<number, Paragraph>(); // a paragraph's own `idx` (its position when absent)
    for (const [i, p] of arrayField(r, 'paragraphs').entries()) {
      if (!isRecord(p)) throw new RecordError('bad-field', `paragraphs[${i}] must be an object, got ${describe(p)}`);
      const para = paragraph(p.title, p.paragraph_text, `paragraphs[${i}]`, 'bad-field');
      contexts.push(para);
      byIdx.set(Number.isSafeInteger(p.idx) ? (p.idx as number) : i, para);
      if (p.is_supporting === true) supporting.push({ title: para.title, text: para.text });
    }
    const sourceId = optionalId(r, 'id');
    const prefix = sourceId?.match(/^(\d)hop\d*/);
    // Steps count as hops whatever they hold; the decomposition is kept when every step has its
    // sub-question and sub-answer (a trimmed record may carry bare placeholders).
    const rawSteps = arrayField(r, 'question_decomposition');
    const steps = rawSteps.flatMap((step) => {
      if (!isRecord(step) || typeof step.question !== 'string' || typeof step.answer !== 'string') return [];
      const at = step.paragraph_support_idx;
      const para = Number.isSafeInteger(at) ? byIdx.get(at as number) : undefined;
      return [{ question: collapseSpace(step.question), answer: collapseSpace(step.answer), ...(para ? { paragraph: para } : {}) }];
    });
    const decomposition = steps.length === rawSteps.length ? steps : [];
    const hops = rawSteps.length > 0 ? rawSteps.length : prefix ? Number(prefix[1]) : undefined;
    return {
      sourceId, question, answers, ...(prefix ? { type: prefix[0] } : {}), ...(hops ? { hops } : {}), supporting, contexts, dataset: 'musique',
      ...(decomposition.length > 0 ? { decomposition } : {}),
    };
  },
};
