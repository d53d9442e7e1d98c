/**
 * Official HotpotQA (Yang et al., 2018; hotpotqa/hotpot) and 2WikiMultiHopQA (Ho et al., 2020;
 * Alab-NII/2wikimultihop) files: ONE JSON array of questions (`hotpot_dev_distractor_v1.json`,
 * 2Wiki's `dev.json`), each
 * `{_id, question, answer, type, context: [[title, [sentence, ..]], ..], supporting_facts:
 * [[title, sentence index], ..]}`, plus `level` (HotpotQA) or `evidences` / `entity_ids` (2Wiki),
 * which is how the dataset is told apart when the file name does not say.
 *
 * A paragraph's text is its sentences joined by spaces, whitespace collapsed (HotpotQA's
 * sentences carry their own leading space, 2Wiki's do not: both end up single-spaced). The
 * supporting paragraphs are the context paragraphs whose titles `supporting_facts` names; the
 * facts themselves (title, sentence index) are kept on the question, and so are 2Wiki's
 * `evidences` triples. Extra gold answers in `answer_aliases` (the field MuSiQue uses, which
 * 2Wiki repackagings with the dataset's `id_aliases.json` aliases also use) count as answers.
 * Records without an answer (HotpotQA's unlabeled test set) are refused as missing-answer.
 */
import { answerList, arrayField, collapseSpace, describe, optionalId, optionalString, paragraph, questionText } from './fields.ts';
import { RecordError, type FormatReader, type Paragraph, type SourceQuestion } from './types.ts';

/** `[title, [sentences]]` -> a paragraph. */
function contextParagraph(entry: unknown, i: number): Paragraph {
  if (!Array.isArray(entry) || entry.length < 2 || typeof entry[0] !== 'string' || !Array.isArray(entry[1])) {
    throw new RecordError('bad-field', `context[${i}] must be [title, [sentences]], got ${describe(entry)}`);
  }
  const sentences = entry[1] as unknown[];
  if (!sentences.every((s) => typeof s === 'string')) throw new RecordError('bad-field', `context[${i}] sentences must be strings`);
  return paragraph(entry[0], sentences.join(' '), `context[${i}]`, 'bad-field');
}

export const hotpotJson: FormatReader<SourceQuestion> = {
  format: 'hotpot-json',
  role: 'questions',
  container: 'json-array',
  description: 'official HotpotQA / 2WikiMultiHopQA JSON array {_id, question, answer, type, context, supporting_facts}',
  matches: (r) => 'question' in r && ('context' in r || 'supporting_facts' in r),
  read(r) {
    const question = questionText(r, 'question');
    const answers = answerList(r, ['answer', 'answer_aliases']);
    const contexts = arrayField(r, 'context').map(contextParagraph);
    const titles = new Set<string>();
    const supportingFacts: { title: string; sentence: number }[] = [];
    arrayField(r, 'supporting_facts').forEach((f, i) => {
      if (!Array.isArray(f) || typeof f[0] !== 'string') throw new RecordError('bad-field', `supporting_facts[${i}] must be [title, sentence index], got ${describe(f)}`);
      titles.add(f[0].trim());
      if (Number.isSafeInteger(f[1]) && (f[1] as number) >= 0) supportingFacts.push({ title: collapseSpace(f[0]), sentence: f[1] as number });
    });
    const evidences = arrayField(r, 'evidences').map((e, i) => {
      if (!Array.isArray(e) || e.length !== 3 || !e.every((x) => typeof x === 'string')) {
        throw new RecordError('bad-field', `evidences[${i}] must be [subject, relation, object] strings, got ${describe(e)}`);
      }
      return e.map((x: string) => collapseSpace(x)) as [string, string, string];
    });
    // The supporting paragraph's text is known when the context holds it.
    const supporting = [...titles].map((title) => {
      const p = contexts.find((c) => c.title === title);
      return p ? { title, text: p.text } : { title };
    });
    const type = optionalString(r, 'type');
    const dataset = 'evidences' in r || 'entity_ids' in r ? '2wiki' : 'level' in r ? 'hotpotqa' : undefined;
    return {
      sourceId: optionalId(r, '_id', 'id'), question, answers, ...(type ? { type } : {}), supporting, contexts, ...(dataset ? { dataset } : {}),
      ...(supportingFacts.length ? { supportingFacts } : {}), ...(evidences.length ? { evidences } : {}),
    };
  },
};
