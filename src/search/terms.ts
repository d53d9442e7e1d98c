/**
 * The search engine's analyzer: how documents and queries become index terms.
 *
 * One function serves both sides, so a query word matches a document word exactly when the
 * tokenizer would see the same word: text goes through `splitWords` (NFKC, lowercase,
 * punctuation split off, src/protocol/normalize.ts), then punctuation tokens and special tags
 * are dropped (neither says what a document is about, and a stray `.` would otherwise match
 * nearly every document).
 */
import { splitWords } from '../protocol/normalize.ts';
import { SPECIAL_TOKENS } from '../protocol/tags.ts';

const SPECIAL = new Set<string>(SPECIAL_TOKENS);
/** After normalization a word is a run of letters/digits/marks or a lone punctuation mark. */
const HAS_WORD_CHAR = /[\p{L}\p{N}]/u;

/** The index terms of a text, in text order, repeats kept (term frequency counts them). */
export function searchTerms(text: string): string[] {
  return splitWords(text).filter((w) => HAS_WORD_CHAR.test(w) && !SPECIAL.has(w));
}

/**
 * The terms of a query, repeats dropped (first occurrence kept). A query is a set of keywords:
 * a policy that stutters a word should not double that word's weight.
 */
export function queryTerms(query: string): string[] {
  return [...new Set(searchTerms(query))];
}
