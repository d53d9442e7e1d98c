/**
 * FlashRAG datasets (Jin et al., 2024; RUC-NLPIR/FlashRAG, the `FlashRAG_datasets` collection,
 * also the question files of Search-R1): JSON Lines `{id, question, golden_answers: [string],
 * metadata: {..}}`.
 *
 * `metadata` differs per dataset and is optional. Read where present: `type`; supporting
 * titles (and the sentence indices, kept on the question) from `supporting_facts` (the Hugging Face column form `{title: [..], sent_id: [..]}` or
 * the official `[[title, index], ..]`); paragraphs from `context` (`{title: [..], sentences:
 * [[..], ..]}` or `[[title, [sentences]], ..]`) or MuSiQue-style `paragraphs` (with
 * `is_supporting`). Metadata of another shape is ignored rather than refused: the question and
 * its answers are what the format promises.
 */
import { answerList, collapseSpace, isRecord, optionalId, optionalString, questionText } from './fields.ts';
import type { FormatReader, Paragraph, SourceQuestion, SupportingRef } from './types.ts';

const strings = (v: unknown): string[] | null => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : null);

/** Paragraphs from the metadata's `context` or `paragraphs`, [] when neither has a known shape. */
function metadataParagraphs(m: Record<string, unknown>): { contexts: Paragraph[]; marked: SupportingRef[] } {
  const contexts: Paragraph[] = [];
  const marked: SupportingRef[] = [];
  const add = (title: unknown, text: unknown, supporting = false) => {
    if (typeof title !== 'string' || typeof text !== 'string' || collapseSpace(text) === '') return;
    const p = { title: collapseSpace(title), text: collapseSpace(text) };
    contexts.push(p);
    if (supporting) marked.push(p);
  };
  const c = m.context;
  if (isRecord(c) && strings(c.title) && Array.isArray(c.sentences)) {
    strings(c.title)!.forEach((t, i) => add(t, strings((c.sentences as unknown[])[i])?.join(' ')));
  } else if (Array.isArray(c)) {
    for (const e of c) if (Array.isArray(e)) add(e[0], strings(e[1])?.join(' '));
  }
  if (Array.isArray(m.paragraphs)) {
    for (const p of m.paragraphs) if (isRecord(p)) add(p.title, p.paragraph_text ?? p.text, p.is_supporting === true);
  }
  return { contexts, marked };
}

/** Sentence-level supporting facts `(title, sentence index)` from `supporting_facts` in either known shape. */
function metadataSupportingFacts(m: Record<string, unknown>): { title: string; sentence: number }[] {
  const sf = m.supporting_facts;
  const pairs: [unknown, unknown][] = isRecord(sf) && Array.isArray(sf.title) && Array.isArray(sf.sent_id)
    ? sf.title.map((t, i) => [t, (sf.sent_id as unknown[])[i]])
    : Array.isArray(sf) ? sf.flatMap((f) => (Array.isArray(f) ? [[f[0], f[1]] as [unknown, unknown]] : [])) : [];
  return pairs.flatMap(([t, i]) => (typeof t === 'string' && Number.isSafeInteger(i) && (i as number) >= 0 ? [{ title: collapseSpace(t), sentence: i as number }] : []));
}

/** Supporting titles from `supporting_facts` in either known shape. */
function metadataSupportingTitles(m: Record<string, unknown>): string[] {
  const sf = m.supporting_facts;
  if (isRecord(sf)) return strings(sf.title) ?? [];
  if (Array.isArray(sf)) return sf.flatMap((f) => (Array.isArray(f) && typeof f[0] === 'string' ? [f[0]] : []));
  return [];
}

export const flashragDataset: FormatReader<SourceQuestion> = {
  format: 'flashrag-dataset',
  role: 'questions',
  container: 'jsonl',
  description: 'FlashRAG dataset JSON Lines {id, question, golden_answers, metadata}',
  matches: (r) => 'question' in r && 'golden_answers' in r,
  read(r) {
    const question = questionText(r, 'question');
    const answers = answerList(r, ['golden_answers']);
    const m = isRecord(r.metadata) ? r.metadata : {};
    const { contexts, marked } = metadataParagraphs(m);
    const supporting: SupportingRef[] = marked.length > 0 ? marked : [];
    for (const title of new Set(metadataSupportingTitles(m).map(collapseSpace))) {
      if (supporting.some((s) => s.title === title)) continue;
      const p = contexts.find((c) => c.title === title);
      supporting.push(p ? { title, text: p.text } : { title });
    }
    let type: string | undefined;
    try {
      type = optionalString(m, 'type');
    } catch {
      type = undefined; // metadata of an unknown shape is ignored (see the file comment)
    }
    const supportingFacts = metadataSupportingFacts(m);
    return { sourceId: optionalId(r, 'id'), question, answers, ...(type ? { type } : {}), supporting, contexts, ...(supportingFacts.length ? { supportingFacts } : {}) };
  },
};
