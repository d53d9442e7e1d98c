/**
 * Splits a completion (tags written out as text) into segments for display: generated text,
 * tags, and document blocks (spliced by the search engine, masked out of the loss). Pure
 * string work; the elements render each segment as text, never as HTML.
 */
import { DOCS_CLOSE, DOCS_OPEN, TAGS } from '../protocol/tags.ts';

export interface Segment {
  kind: 'text' | 'tag' | 'documents';
  text: string;
}

/** Segments in order; an unclosed document block runs to the end. */
export function completionSegments(completion: string): Segment[] {
  const out: Segment[] = [];
  let rest = completion;
  while (rest.length > 0) {
    const open = rest.indexOf(DOCS_OPEN);
    const before = open < 0 ? rest : rest.slice(0, open);
    pushTextAndTags(before, out);
    if (open < 0) break;
    const close = rest.indexOf(DOCS_CLOSE, open + DOCS_OPEN.length);
    const end = close < 0 ? rest.length : close + DOCS_CLOSE.length;
    out.push({ kind: 'documents', text: rest.slice(open, end) });
    rest = rest.slice(end);
  }
  return out.filter((s) => s.text.trim().length > 0);
}

function pushTextAndTags(text: string, out: Segment[]): void {
  const re = new RegExp(`(${TAGS.map((t) => t.replace(/[|]/g, '\\|')).join('|')})`, 'g');
  text.split(re).forEach((piece, i) => {
    if (piece.trim()) out.push({ kind: i % 2 === 1 ? 'tag' : 'text', text: piece.trim() });
  });
}
