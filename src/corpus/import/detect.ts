/**
 * Format detection: which importer reads a file, from its container (JSON array or JSON Lines)
 * and the fields of its first records. Each format module says what its records look like
 * (`matches`); the first module, in the order below, that matches the first record that is a
 * JSON object wins. Order matters where shapes overlap: MuSiQue and FlashRAG records also have a
 * `question`, so they are tried before the catch-all R1-Searcher `{question, answer}`; Search-R1's
 * verl rows keep FlashRAG's columns beside their own, so they are tried before FlashRAG.
 */
import { flashragCorpus } from './flashrag-corpus.ts';
import { flashragDataset } from './flashrag.ts';
import { hotpotJson } from './hotpot-json.ts';
import { musiqueJsonl } from './musique.ts';
import { r1SearcherQuestions } from './r1-searcher.ts';
import { r1SearcherCorpus } from './r1-searcher-corpus.ts';
import { sampleCorpus, sampleQuestions } from './sample.ts';
import { searchR1Verl } from './search-r1-verl.ts';
import { ImportError, type FileRole, type FormatReader, type RecordContainer, type SourceDocument, type SourceQuestion } from './types.ts';

/** Question readers in detection order. */
export const QUESTION_READERS: readonly FormatReader<SourceQuestion>[] = [hotpotJson, musiqueJsonl, searchR1Verl, flashragDataset, sampleQuestions, r1SearcherQuestions];
/** Corpus readers in detection order. */
export const CORPUS_READERS: readonly FormatReader<SourceDocument>[] = [flashragCorpus, sampleCorpus, r1SearcherCorpus];

type Container = RecordContainer;

/** How many leading records detection looks at for a first JSON object. */
const PROBE_RECORDS = 50;

/**
 * The reader for a file given as `role`, judged on its first object record among `records`
 * (the first {@link PROBE_RECORDS} are enough).
 * @throws ImportError naming the file when no record is an object, when the records belong to
 *   the other role (a corpus file given as questions, or the reverse), or when no format fits
 *   (the message lists the fields seen).
 */
export function detectReader(file: string, role: 'questions', container: Container, records: readonly Record<string, unknown>[]): FormatReader<SourceQuestion>;
export function detectReader(file: string, role: 'corpus', container: Container, records: readonly Record<string, unknown>[]): FormatReader<SourceDocument>;
export function detectReader(file: string, role: FileRole, container: Container, records: readonly Record<string, unknown>[]): FormatReader<unknown> {
  const first = records.slice(0, PROBE_RECORDS)[0];
  if (!first) throw new ImportError(`${file}: refused as a whole: no line is a JSON object (nothing usable)`);
  const own: readonly FormatReader<unknown>[] = role === 'questions' ? QUESTION_READERS : CORPUS_READERS;
  const other: readonly FormatReader<unknown>[] = role === 'questions' ? CORPUS_READERS : QUESTION_READERS;
  const found = own.find((r) => r.container === container && r.matches(first));
  if (found) return found;
  const wrongRole = other.find((r) => r.container === container && r.matches(first));
  const flag = role === 'questions' ? '--questions' : '--corpus';
  if (wrongRole) {
    throw new ImportError(`${file}: looks like ${wrongRole.role === 'corpus' ? 'a corpus' : 'a question'} file (${wrongRole.description}) but was given as ${flag}`);
  }
  const fields = Object.keys(first).slice(0, 12).join(', ');
  const known = own.filter((r) => r.container === container).map((r) => r.description).join('; ') || 'none for this container';
  throw new ImportError(`${file}: unknown ${role} format (${container === 'json-array' ? 'a JSON array' : container === 'tsv' ? 'TSV lines' : 'JSON Lines or parquet'} whose first record has fields: ${fields}); known: ${known}`);
}
