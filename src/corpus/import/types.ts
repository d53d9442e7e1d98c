/**
 * Shapes shared by the importers (one module per source format in this folder) and the import
 * driver (`import-pack.ts`), which turns what they read into a corpus pack (src/corpus/types.ts).
 *
 * A format module reads ONE record (a JSON Lines line or a JSON array item) into a
 * {@link SourceQuestion} or a {@link SourceDocument}, or throws a {@link RecordError} saying
 * why the record is refused. Everything here is plain data: the same code runs in Node (the
 * CLI) and in the page's import worker.
 */
import type { Split } from '../types.ts';

/** The formats the importer reads; `detect.ts` says which one a file is. */
export type ImportFormat =
  | 'sample-questions'
  | 'sample-corpus'
  | 'hotpot-json'
  | 'musique-jsonl'
  | 'flashrag-dataset'
  | 'flashrag-corpus'
  | 'r1-searcher'
  | 'r1-searcher-corpus'
  | 'search-r1-verl';

/**
 * How a file holds its records, as format detection sees it: JSON Lines (and parquet, whose rows
 * are read as the same objects), one JSON array, or TSV lines (`{id, document}` per line).
 */
export type RecordContainer = 'jsonl' | 'json-array' | 'tsv';

/** What a file holds: questions, or documents to search. */
export type FileRole = 'questions' | 'corpus';

/** Why a record (line or array item) was refused. */
export type RejectReason =
  | 'not-utf8'
  | 'line-too-long'
  | 'invalid-json'
  | 'not-an-object'
  | 'missing-question'
  | 'missing-answer'
  | 'empty-text'
  | 'bad-field'
  | 'duplicate-id';

/** Every reason, in the order reports list them. */
export const REJECT_REASONS: readonly RejectReason[] = [
  'not-utf8', 'line-too-long', 'invalid-json', 'not-an-object', 'missing-question', 'missing-answer', 'empty-text', 'bad-field', 'duplicate-id',
];

/**
 * One refused record. JSON Lines files give its 1-based `line`; JSON array files (official
 * HotpotQA / 2Wiki, usually a single line) give its 1-based `item` instead.
 */
export interface RejectedRecord {
  file: string;
  line?: number;
  item?: number;
  reason: RejectReason;
  /** What exactly was wrong, for people. */
  message: string;
}

/** Thrown by a format module for a record it refuses. */
export class RecordError extends Error {
  constructor(readonly reason: RejectReason, message: string) {
    super(message);
    this.name = 'RecordError';
  }
}

/**
 * Thrown by the import driver when an import cannot go on as a whole: a file whose format is
 * not recognized, a file with nothing usable, no documents at all, an abort. Nothing is stored.
 */
export class ImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportError';
  }
}

/** A paragraph as a source gives it. */
export interface Paragraph {
  title: string;
  text: string;
}

/** A supporting paragraph named by a source: always a title, the text when the source has it. */
export interface SupportingRef {
  title: string;
  text?: string;
}

/** A question as read from a source, before ids, splits and corpus matching. */
export interface SourceQuestion {
  /** The source's id; absent when the source has none (the driver then uses the line number). */
  sourceId?: string;
  question: string;
  /** Gold answers, non-empty strings, aliases included. */
  answers: string[];
  /** The source's question type (HotpotQA "bridge", MuSiQue "3hop1", ...), if any. */
  type?: string;
  /** Hop count when the source says it (MuSiQue); the driver fills in dataset rules otherwise. */
  hops?: number;
  supporting: SupportingRef[];
  /** Paragraphs shipped with the question (distractor setting); [] when none. */
  contexts: Paragraph[];
  /** Dataset named by the record itself (FlashRAG metadata, Search-R1's `data_source`), overriding the file's. */
  dataset?: string;
  /** Split named by the record itself (Search-R1's `extra_info.split`, our exports), overriding the dataset rule. */
  split?: Split;
  /** Template named by the record (our own exports carry it), replacing `dataset/type`. */
  template?: string;
  /** Supporting documents named by corpus id (our own exports carry them); ids the corpus lacks are counted unmatched. */
  supportingIds?: string[];
  /** Single-hop steps (MuSiQue); `paragraph` is the step's supporting paragraph when known. */
  decomposition?: { question: string; answer: string; paragraph?: Paragraph }[];
  /** Evidence triples (2WikiMultiHopQA). */
  evidences?: [string, string, string][];
  /** Sentence-level supporting facts `[title, sentence index]` (HotpotQA, 2Wiki). */
  supportingFacts?: { title: string; sentence: number }[];
}

/** A corpus document as read from a source. */
export interface SourceDocument {
  /** The source's id; absent -> derived from title and text (`doc-id.ts`). */
  id?: string;
  title: string;
  text: string;
}

/** A format module: how one record of its format becomes a question or a document. */
export interface FormatReader<T> {
  format: ImportFormat;
  role: FileRole;
  /** `jsonl`: one record per line (or parquet row); `json-array`: the file is one JSON array of records; `tsv`: `{id, document}` lines. */
  container: RecordContainer;
  /** Where the format comes from and which fields it reads (shown in reports). */
  description: string;
  /** True when a parsed record looks like this format (used by detection only). */
  matches(record: Record<string, unknown>): boolean;
  /** The record as a question or document. @throws RecordError naming what is wrong. */
  read(record: Record<string, unknown>): T;
}
