/**
 * The multi-hop sample format of `../shared/data/multihop` (its README): dev-set samples of
 * HotpotQA, 2WikiMultiHopQA, MuSiQue and Bamboogle repackaged one question per line, and the
 * union of their paragraphs as a corpus file.
 *
 * Questions (JSON Lines): `{id, question, answers: [string], type?, contexts: [{title, text}],
 * supporting_titles: [string]}`; `type` is the source's question type (HotpotQA bridge /
 * comparison, 2Wiki compositional / comparison / inference / bridge_comparison, MuSiQue
 * 2hop / 3hop1 / ... ). Supporting paragraphs are named by title only: a title that several
 * contexts share (MuSiQue splits articles) names all of them.
 *
 * Corpus (JSON Lines): `{id, title, text}`, extra fields (the sample's `datasets`) ignored.
 */
import { answerList, arrayField, describe, isRecord, optionalId, optionalString, paragraph, questionText } from './fields.ts';
import { RecordError, type FormatReader, type SourceDocument, type SourceQuestion } from './types.ts';

export const sampleQuestions: FormatReader<SourceQuestion> = {
  format: 'sample-questions',
  role: 'questions',
  container: 'jsonl',
  description: 'multi-hop sample questions {id, question, answers, type?, contexts, supporting_titles}',
  matches: (r) => 'question' in r && 'answers' in r && ('contexts' in r || 'supporting_titles' in r),
  read(r) {
    const question = questionText(r, 'question');
    const answers = answerList(r, ['answers']);
    const contexts = arrayField(r, 'contexts').map((c, i) => {
      if (!isRecord(c)) throw new RecordError('bad-field', `contexts[${i}] must be an object {title, text}, got ${describe(c)}`);
      return paragraph(c.title, c.text, `contexts[${i}]`, 'bad-field');
    });
    const supporting = arrayField(r, 'supporting_titles').map((t, i) => {
      if (typeof t !== 'string') throw new RecordError('bad-field', `supporting_titles[${i}] must be a string, got ${describe(t)}`);
      return { title: t.trim() };
    });
    const type = optionalString(r, 'type');
    return { sourceId: optionalId(r, 'id'), question, answers, ...(type ? { type } : {}), supporting, contexts };
  },
};

export const sampleCorpus: FormatReader<SourceDocument> = {
  format: 'sample-corpus',
  role: 'corpus',
  container: 'jsonl',
  description: 'paragraph corpus {id, title, text}',
  matches: (r) => 'title' in r && 'text' in r && !('question' in r),
  read(r) {
    const p = paragraph(r.title, r.text, 'document');
    const id = optionalId(r, 'id');
    return { ...(id ? { id } : {}), title: p.title, text: p.text };
  },
};
