/**
 * How retrieved documents are written into a rollout (recipe.md section 3): one per line as
 * `(i) Title: text`, each cut to its first `maxWords` words, the block enclosed in
 * `<|begin_of_documents|>` ... `<|end_of_documents|>`; `None` when nothing was found.
 * Stage 0's reading passages use the same formatting, so the reading skill transfers.
 */
import { splitWords } from '../tokenizer/normalize.ts';

/** A document as the rollout sees it. */
export interface SplicedDocument {
  title: string;
  text: string;
}

/** The text placed for no hits (recipe.md section 3). */
export const NO_HITS = 'None';

/** `(1) Title: first words (2) ...` with each text cut to `maxWords` words; `None` for no documents. */
export function formatDocuments(docs: readonly SplicedDocument[], maxWords: number): string {
  if (docs.length === 0) return NO_HITS;
  return docs.map((d, i) => `(${i + 1}) ${d.title}: ${cutWords(d.text, maxWords)}`).join('\n');
}

/** The first `maxWords` normalized words of a text. */
export function cutWords(text: string, maxWords: number): string {
  return splitWords(text).slice(0, Math.max(0, maxWords)).join(' ');
}
