/**
 * How retrieved documents are written into a rollout (recipe.md section 3): `(i) Title: text`
 * for each hit, each text cut to its first `maxWords` words, enclosed by the rollout in
 * `<|begin_of_documents|>` ... `<|end_of_documents|>`; `None` when nothing was found.
 * Stage 0's reading passages (src/stage0/world-mix.ts) use the same function, so that what the base
 * model learns to read is exactly what search returns.
 */
import { SPECIAL_RE, splitWords } from './normalize.ts';
import { ANSWER_CLOSE, ANSWER_OPEN, DOCS_CLOSE, DOCS_OPEN, QUERY_CLOSE, QUERY_OPEN, THINK_CLOSE, THINK_OPEN } from './tags.ts';

/** A document as the rollout sees it. */
export interface SplicedDocument {
  title: string;
  text: string;
}

/** What the block holds when search finds nothing (recipe.md section 3: "None"), normalized. */
export const NO_HITS = 'none';

/** Documents are cut to this many words (recipe.md section 11: "documents cut to 40 tokens"). */
export const DOCUMENT_WORDS = 40;

/** At most this many documents are numbered in one block (the paper's evaluation uses 5). */
export const MAX_SPLICED_DOCUMENTS = 10;

/** The normalized words of a text with every special token removed. */
function plainWords(text: string): string[] {
  // A document could contain a tag written out as text ("<answer>"); spliced in, it would
  // become a real tag and break the format check (recipe.md section 5, rule 1). Drop it.
  return splitWords(text.replace(SPECIAL_RE, ' '));
}

/**
 * `( 1 ) title : text ( 2 ) ...` in normalized form (what the tokenizer produces anyway), each
 * text cut to its first `maxWords` words; {@link NO_HITS} for no documents.
 * @throws Error if `maxWords` is not a positive integer or there are more than 10 documents.
 */
export function formatDocuments(docs: readonly SplicedDocument[], maxWords: number = DOCUMENT_WORDS): string {
  if (!Number.isInteger(maxWords) || maxWords < 1) throw new Error(`formatDocuments: maxWords must be a positive integer, got ${maxWords}`);
  if (docs.length > MAX_SPLICED_DOCUMENTS) throw new Error(`formatDocuments: at most ${MAX_SPLICED_DOCUMENTS} documents, got ${docs.length}`);
  if (docs.length === 0) return NO_HITS;
  return docs
    .map((d, i) => ['(', String(i + 1), ')', ...plainWords(d.title), ':', ...plainWords(d.text).slice(0, maxWords)].join(' '))
    .join(' ');
}

/** The first `maxWords` normalized words of a text (special tokens removed), as spliced. */
export function cutWords(text: string, maxWords: number): string {
  return plainWords(text).slice(0, Math.max(0, maxWords)).join(' ');
}

/**
 * A retrieved document as the reward and the diagnosis read it: `title: text`, the text cut to
 * the `maxWords` words the rollout spliced (so an answer beyond the cut does not count as found).
 */
export function documentText(doc: SplicedDocument, maxWords: number): string {
  return `${doc.title}: ${cutWords(doc.text, maxWords)}`;
}

/** A document block as a rollout splices it: `<|begin_of_documents|> (1) ... <|end_of_documents|>`. */
export function documentBlock(docs: readonly SplicedDocument[], maxWords: number = DOCUMENT_WORDS): string {
  return `${DOCS_OPEN} ${formatDocuments(docs, maxWords)} ${DOCS_CLOSE}`;
}

/**
 * A Stage-0 reading passage in the layout of a rollout after its searches (issue 15): an
 * opening (a rendered prompt, which ends with the opened `<think>`; by default
 * `question : <q> <think>`), the document blocks in order (from {@link documentBlock}), then
 * `</think> <answer> A </answer>`. No query is shown: which documents to fetch is left to RL.
 * Every part must already be normalized.
 */
export function readingPassage(question: string, blocks: readonly string[], answer: string, opening = `question : ${question} ${THINK_OPEN}`): string {
  return `${opening} ${blocks.join(' ')} ${THINK_CLOSE} ${ANSWER_OPEN} ${answer} ${ANSWER_CLOSE}`;
}

/** The half-open word range of the last `<answer> ... </answer>` in a space-separated text (the span Stage 0 weights). */
export function answerSpanOf(text: string): { start: number; end: number } {
  const words = text.split(' ');
  return { start: words.lastIndexOf(ANSWER_OPEN), end: words.lastIndexOf(ANSWER_CLOSE) + 1 };
}

/**
 * The word ranges [start, end) of the document blocks in a space-separated text, tags included
 * (what the retrieve mask covers in a rollout); an unclosed block runs to the end.
 */
export function documentSpansOf(text: string): { start: number; end: number }[] {
  const words = text.split(' ');
  const spans: { start: number; end: number }[] = [];
  for (let i = 0; i < words.length; i++) {
    if (words[i] !== DOCS_OPEN) continue;
    let j = i + 1;
    while (j < words.length && words[j] !== DOCS_CLOSE) j++;
    spans.push({ start: i, end: Math.min(words.length, j + 1) });
    i = j;
  }
  return spans;
}

/**
 * The word ranges [start, end) of the follow-up queries of a space-separated rollout-layout
 * text: the words of every query that comes right after a document block, past the last
 * `<think>` (so a rendered prompt's skeleton before it is left out). Tags are not included.
 * Stage 0 can weight these like the answer (issue 15): a name copied out of the block before.
 */
export function followUpQuerySpansOf(text: string): { start: number; end: number }[] {
  const words = text.split(' ');
  const spans: { start: number; end: number }[] = [];
  for (let i = words.lastIndexOf(THINK_OPEN) + 1; i < words.length; i++) {
    if (words[i] !== QUERY_OPEN || words[i - 1] !== DOCS_CLOSE) continue;
    let j = i + 1;
    while (j < words.length && words[j] !== QUERY_CLOSE) j++;
    spans.push({ start: i + 1, end: j });
    i = j;
  }
  return spans;
}
