/**
 * R1-Searcher's retrieval corpus (Song et al., 2025; RUCAIBox/R1-Searcher): a TSV file, one
 * document per line, `id<TAB>document`. Its `train/wiki_corpus_load.py` serves each line as it
 * stands (so a `/queries` answer is the same string, id and tab included), and its rollout
 * strips a leading row number with `re.sub(r'^\d+\s+', '', doc)`.
 *
 * The document part comes in two shapes, both in the repository's `wiki_corpus_index_bulid/samples/`:
 * - the HotpotQA abstracts (`train_np_title_abs_sample_100.tsv`): `Title: <title> Text: <text>`,
 *   CSV-quoted when the text holds a double quote (`"Title: .. ""quoted"" .."`); the file
 *   starts with a UTF-8 byte-order mark;
 * - the KILT 100-word passages (`split_kilt_to_100.py`, `train_kilt_full_page_sample_100.tsv`):
 *   `<title>   <text>`, the title and the passage joined by three spaces.
 * A string in neither shape is all text, with an empty title.
 */
import { collapseSpace, describe } from './fields.ts';
import { RecordError, type FormatReader, type SourceDocument } from './types.ts';

/**
 * Title and text of one R1-Searcher document string (a corpus line, or one `/queries` answer):
 * a byte-order mark, a leading row number (`123<TAB>` or `123 `) and CSV quoting are removed
 * first. Whitespace in the text is collapsed.
 */
export function parseR1SearcherDocument(doc: string): { title: string; text: string } {
  let s = doc.replace(/^\ufeff/, '').replace(/^\d+\s+/, '').trim();
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) s = s.slice(1, -1).replace(/""/g, '"');
  const framed = s.match(/^Title:\s*(.*?)\s+Text:\s*([\s\S]*)$/);
  if (framed) return { title: collapseSpace(framed[1]!), text: collapseSpace(framed[2]!) };
  // KILT passages: exactly the three spaces split_kilt_to_100.py writes between title and text
  // (its text is re-joined with single spaces, so the first run of three is the boundary).
  const kilt = s.indexOf('   ');
  if (kilt > 0) return { title: collapseSpace(s.slice(0, kilt)), text: collapseSpace(s.slice(kilt + 3)) };
  return { title: '', text: collapseSpace(s) };
}

/** R1-Searcher's document string, as the corpus TSV and `/queries` carry it: `Title: <title> Text: <text>`. */
export function formatR1SearcherDocument(doc: { title: string; text: string }): string {
  return `Title: ${doc.title} Text: ${doc.text}`;
}

/**
 * A TSV line as the record the reader takes: `{id, document}` (what is before the first tab,
 * and the rest). Made by `tsvRecords` (records.ts).
 */
export const r1SearcherCorpus: FormatReader<SourceDocument> = {
  format: 'r1-searcher-corpus',
  role: 'corpus',
  container: 'tsv',
  description: 'R1-Searcher corpus TSV (id<TAB>Title: .. Text: .., or id<TAB>title   text)',
  matches: (r) => typeof r.id === 'string' && typeof r.document === 'string',
  read(r) {
    if (typeof r.document !== 'string') throw new RecordError('bad-field', `the document must be a string, got ${describe(r.document)}`);
    const { title, text } = parseR1SearcherDocument(r.document);
    if (text === '') throw new RecordError('empty-text', 'the document has no text');
    const id = typeof r.id === 'string' ? r.id.replace(/^\ufeff/, '').trim() : '';
    return { ...(id ? { id } : {}), title, text };
  },
};
