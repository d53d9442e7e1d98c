/**
 * The corpus pack: what a search engine serves and what RL trains and evaluates on.
 *
 * On disk (and under `public/corpus/<pack>/`):
 * - `manifest.json`: a {@link PackManifest};
 * - shard files: JSON Lines, one {@link CorpusDocument} per line;
 * - a questions file: JSON Lines, one {@link Question} per line.
 * Every file's SHA-256 is in the manifest; a loader refuses a file whose hash differs.
 */

/** One searchable document (an encyclopedia paragraph). */
export interface CorpusDocument {
  /** Unique within the pack, e.g. `"d0042"`. */
  id: string;
  /** Title, usually the entity the paragraph is about. */
  title: string;
  /** The paragraph text (plain text; may hold any characters: render as text, never HTML). */
  text: string;
}

/** Dataset split of a question. `ood`: held-out templates (recipe.md section 8). */
export type Split = 'train' | 'test' | 'ood';

/** One question with its gold answers. */
export interface Question {
  id: string;
  question: string;
  /** Gold answers; metrics take the maximum over them (recipe.md section 4). */
  answers: string[];
  /** Number of documents the answer chain needs (1-3); 0 when unknown (imported data). */
  hops: number;
  /** Question template, e.g. `"birthplace"`, `"author_birthplace"`; the source name for imports. */
  template: string;
  split: Split;
  /** Ids of the documents that together support the answer (empty when unknown). */
  supportingIds: string[];
  /**
   * False when no gold answer occurs anywhere in the corpus (imported data, e.g. Bamboogle:
   * src/corpus/import/answer-presence.ts); absent when it does or was not checked.
   */
  answerInCorpus?: boolean;
  /**
   * The source's decomposition into single-hop steps, in order (MuSiQue's
   * `question_decomposition`): what a multi-hop search should find, hop by hop. Absent when the
   * source has none. Every field below is optional, so packs written before it load unchanged.
   */
  decomposition?: HopStep[];
  /** 2WikiMultiHopQA's evidence triples `[subject, relation, object]`, one per hop. */
  evidences?: [string, string, string][];
  /**
   * Supporting facts at sentence level (HotpotQA / 2Wiki `supporting_facts`): the paragraph's
   * title and the 0-based index of the sentence in the source's sentence list.
   */
  supportingFacts?: SupportingFact[];
}

/** One step of a question's decomposition. */
export interface HopStep {
  /** The single-hop sub-question (MuSiQue writes `#1` for the answer of step 1). */
  question: string;
  answer: string;
  /** The document that answers the step, when the source names one and it is in the corpus. */
  supportingId?: string;
}

/** One supporting sentence: `[title, sentence index]` in HotpotQA's form. */
export interface SupportingFact {
  title: string;
  /** 0-based index into the paragraph's sentences as the source lists them. */
  sentence: number;
}

/** A file of the pack with its integrity data. */
export interface PackFile {
  /** File name relative to the manifest. */
  file: string;
  /** Size in bytes. */
  bytes: number;
  /** Lowercase hex SHA-256 of the file's bytes. */
  sha256: string;
}

/** A corpus shard: a file of documents. */
export interface ShardInfo extends PackFile {
  /** Number of documents (lines) in the shard. */
  documents: number;
}

/** `manifest.json` of a corpus pack. */
export interface PackManifest {
  /** Always `"r1s-pack"`. */
  format: 'r1s-pack';
  /** Format version; currently 1. */
  version: 1;
  /** Short name, e.g. `"world"`. */
  name: string;
  description: string;
  /** Where the content comes from (shown wherever the pack is shown). */
  source: string;
  /** Licence line of the content. */
  license: string;
  shards: ShardInfo[];
  questions: PackFile & { count: number };
  /** Generator settings for generated packs (the world's seed and sizes). */
  generator?: Record<string, unknown>;
  /** Other files of the pack folder (not read by the loader), each with its size and hash. */
  extraFiles?: PackFile[];
}

/** A loaded pack: manifest, every document in manifest order, and the questions. */
export interface Pack {
  manifest: PackManifest;
  documents: CorpusDocument[];
  questions: Question[];
  /** Lowercase hex SHA-256 of manifest.json's bytes (the pack's identity; set by the loader). */
  manifestSha256?: string;
}

/**
 * The search settings a pack records in its manifest (`generator.search`), so that the CLI, the
 * search worker and `serve-search` rank its documents alike (src/search/search-index.ts reads them).
 */
export interface PackSearchSettings {
  /**
   * Score multiplier of the title field (text has 1). Default 3: a document is about the
   * entity in its title, and questions name entities, so the page titled with a query's
   * entity should beat pages that only mention it. Measured on the world pack (seed 1, whole
   * questions as queries; supporting document in the top 3): boost 1: 1-hop .952, first hop
   * of multi-hop .475; 2: .978 / .681; 3: .996 / .888; 5: 1.000 / .971. Not higher than 3:
   * a text matching three query terms should still beat a title matching one (checked in
   * tests/node/search.test.ts), or text would only break ties among title matches.
   */
  titleBoost?: number;
  /**
   * BM25+ parameters (MiniSearch's names: k = k1, b, d = delta). Default {@link DEFAULT_BM25},
   * MiniSearch's own, with which the world pack was tuned.
   */
  bm25?: Bm25Params;
  /**
   * Whether a document's score is multiplied by the number of distinct query terms it matched
   * (MiniSearch's "quality", the classic coordination factor). Default true. On long natural
   * questions over real paragraphs it favours documents that match many common words; imported
   * corpora turn it off (figures in src/corpus/import/search-settings.ts).
   */
  coordination?: boolean;
  /**
   * Query terms to ignore (analyzed form: lowercase, as `terms.ts` produces them). The index
   * still holds them; a query made of stop words only keeps all its terms. Default none.
   */
  stopWords?: Iterable<string>;
  /**
   * Index the title inside the text field as well (as BM25 baselines over Wikipedia passages
   * do with their single `"title"\ntext` field), besides the boosted title field. Default false.
   */
  titleInText?: boolean;
}

/** BM25+ parameters: k1 (term-frequency saturation), b (length normalization), delta (floor per matched term). */
export interface Bm25Params {
  k: number;
  b: number;
  d: number;
}
