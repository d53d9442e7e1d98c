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
 * in their paragraphs.
 */
import { answerList, arrayField, describe, isRecord, optionalId, paragraph, questionText } from './fields.ts';
import { RecordError, type FormatReader, type SourceQuestion } from './types.ts';

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
    const contexts = [];
    const supporting = [];
    for (const [i, p] of arrayField(r, 'paragraphs').entries()) {
      if (!isRecord(p)) throw new RecordError('bad-field', `paragraphs[${i}] must be an object, got ${describe(p)}`);
      const para = paragraph(p.title, p.paragraph_text, `paragraphs[${i}]`, 'bad-field');
      contexts.push(para);
      if (p.is_supporting === true) supporting.push({ title: para.title, text: para.text });
    }
    const sourceId = optionalId(r, 'id');
    const prefix = sourceId?.match(/^(\d)hop\d*/);
    const steps = Array.isArray(r.question_decomposition) ? r.question_decomposition.length : 0;
    const hops = steps > 0 ? steps : prefix ? Number(prefix[1]) : undefined;
    return {
      sourceId, question, answers, ...(prefix ? { type: prefix[0] } : {}), ...(hops ? { hops } : {}), supporting, contexts, dataset: 'musique',
    };
  },
};
