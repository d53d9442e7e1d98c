/**
 * FlashRAG / Search-R1 retrieval corpora (e.g. `wiki-18.jsonl` of Search-R1, FlashRAG's
 * `wiki18_100w.jsonl`): JSON Lines `{id, contents}` where `contents` is the title in double
 * quotes on the first line, then the passage text: `"Aaron"\nAaron is a prophet ...`.
 *
 * The title loses its surrounding quotes (only a matching pair is removed); the text is the rest
 * with whitespace collapsed. Contents without a newline are all text, with an empty title.
 */
import { collapseSpace, describe, optionalId } from './fields.ts';
import { RecordError, type FormatReader, type SourceDocument } from './types.ts';

/** Search-R1's `contents` of a document: `"<title>"\n<text>` (the inverse of {@link splitContents}). */
export function formatSearchR1Contents(doc: { title: string; text: string }): string {
  return `"${doc.title}"\n${doc.text}`;
}

/** Splits Search-R1 `contents` into title and text (see the file comment). */
export function splitContents(contents: string): { title: string; text: string } {
  const nl = contents.indexOf('\n');
  if (nl < 0) return { title: '', text: collapseSpace(contents) };
  let title = contents.slice(0, nl).trim();
  if (title.length >= 2 && title.startsWith('"') && title.endsWith('"')) title = title.slice(1, -1);
  return { title: collapseSpace(title), text: collapseSpace(contents.slice(nl + 1)) };
}

export const flashragCorpus: FormatReader<SourceDocument> = {
  format: 'flashrag-corpus',
  role: 'corpus',
  container: 'jsonl',
  description: 'FlashRAG / Search-R1 corpus {id, contents: "\\"title\\"\\ntext"}',
  matches: (r) => 'contents' in r && !('question' in r),
  read(r) {
    if (typeof r.contents !== 'string') throw new RecordError('bad-field', `field "contents" must be a string, got ${describe(r.contents)}`);
    const { title, text } = splitContents(r.contents);
    if (text === '') throw new RecordError('empty-text', 'field "contents" has no text after its title line');
    const id = optionalId(r, 'id');
    return { ...(id ? { id } : {}), title, text };
  },
};
