/**
 * Highlighting the words of a document that match a query, for the Corpus step's search box.
 * The text is split into segments that the element renders as text (`<mark>` around matches):
 * never as HTML, since corpus text may hold anything.
 *
 * A word matches when it normalizes (src/protocol/normalize.ts, as the search index does) to
 * one of the query's index terms (src/search/terms.ts): the highlighted words are exactly the
 * ones BM25 scored.
 */
import { splitWords } from '../protocol/normalize.ts';
import { queryTerms } from '../search/terms.ts';

/** A piece of text, marked when it is a query term. */
export interface HighlightSegment {
  text: string;
  match: boolean;
}

/** Runs of letters, digits and marks: the words of a text (everything else stays unmarked). */
const WORD = /[\p{L}\p{N}\p{M}]+/gu;

/** Splits `text` into segments whose concatenation is `text`, marking words that are terms of `query`. */
export function highlightSegments(text: string, query: string): HighlightSegment[] {
  const terms = new Set(queryTerms(query));
  if (terms.size === 0 || text === '') return text ? [{ text, match: false }] : [];
  const out: HighlightSegment[] = [];
  let last = 0;
  const push = (s: string, match: boolean) => {
    if (!s) return;
    const prev = out[out.length - 1];
    if (prev && prev.match === match) prev.text += s;
    else out.push({ text: s, match });
  };
  for (const m of text.matchAll(WORD)) {
    push(text.slice(last, m.index), false);
    const norm = splitWords(m[0]);
    push(m[0], norm.length === 1 && terms.has(norm[0]!));
    last = m.index + m[0].length;
  }
  push(text.slice(last), false);
  return out;
}
