/**
 * The search settings an imported (real, Wikipedia) corpus records in its manifest
 * (`generator.search`, read back by `packSearchOptions` in src/search/search-index.ts).
 *
 * The world pack's defaults (title boost 3, MiniSearch's BM25+ with its matched-terms
 * multiplier, no stop words) were tuned on short keyword queries over invented names. Real
 * questions are long sentences full of function words, and real paragraphs mention many
 * entities. Measured on the imported multi-hop sample (12,705 paragraphs; the question text as
 * the query; share of questions with a supporting paragraph in the top 5, HotpotQA / 2Wiki /
 * MuSiQue; query time p50 on 2 busy cores):
 *
 * | settings | HotpotQA | 2Wiki | MuSiQue | p50 |
 * |---|---|---|---|---|
 * | world defaults | .944 | .992 | .818 | 114 ms |
 * | + no matched-terms multiplier, k1 1.2, b .75, delta 0, boost 1, stop words | .964 | 1.000 | .925 | 7 ms |
 * | + title also in the text field, boost .5, k1 .9, b .4 (chosen) | .978 | 1.000 | .949 | 4 ms |
 * | chosen, but with the multiplier | .956 | .998 | .890 | 4 ms |
 * | chosen, but without stop words | .978 | 1.000 | .925 | 87 ms |
 *
 * A plain BM25 over the same paragraphs (the reference) reaches .95 / .99 / .93.
 * Stop words matter twice: their posting lists are most of the work of a query (hence the
 * latency), and with the multiplier they reward documents for matching "the", "of", "was".
 */
import type { PackSearchSettings } from '../types.ts';

/**
 * Function words dropped from queries over real corpora: articles, auxiliaries, pronouns,
 * prepositions and question words (a question's "who" or "when" says what kind of answer is
 * wanted, not which paragraph holds it). `s` is the possessive split off by the analyzer.
 * Kept short on purpose: a longer list measured slightly worse on MuSiQue (.914).
 */
export const QUERY_STOP_WORDS: readonly string[] = [
  'a', 'an', 'the', 'of', 'in', 'on', 'at', 'to', 'for', 'by', 'with', 'from', 'and', 'or', 'is', 'was', 'are', 'were', 'be',
  'been', 'what', 'which', 'who', 'whom', 'whose', 'where', 'when', 'how', 'why', 'that', 'this', 'these', 'those', 'it',
  'its', 'as', 'did', 'does', 'do', 'his', 'her', 'their', 'he', 'she', 'they', 's',
];

/** The settings recorded in an imported pack's manifest (see the table above). */
export const REAL_CORPUS_SEARCH: Readonly<Required<Omit<PackSearchSettings, 'stopWords'>> & { stopWords: readonly string[] }> = Object.freeze({
  titleBoost: 0.5,
  titleInText: true,
  bm25: Object.freeze({ k: 0.9, b: 0.4, d: 0 }),
  coordination: false,
  stopWords: QUERY_STOP_WORDS,
});
