/**
 * What a rollout's searches did, beyond the reward (issue 15's diagnosis; the paper's claim is
 * "as many searches as the question needs", section 4 of R1-Searcher): how many searches, whether
 * the answer was in the documents of the first and of the last search, and, for a multi-hop
 * question, whether a later query named a bridge entity (an answer of a hop before the last: the
 * author and the employer of a 3-hop chain). Shared by the trainer's per-step metrics and the
 * evaluation, so both count the same way.
 */
import { containsAnswer, normalizeAnswer } from '../protocol/answer-metrics.ts';

/** One search of a rollout: the query and the text of each document it returned, as spliced. */
export interface SearchTrace {
  query: string;
  documents: readonly string[];
}

/** What {@link diagnoseSearches} measures for one rollout. */
export interface SearchDiagnosis {
  searches: number;
  /** The first search's documents hold a gold answer (false when there was no search). */
  answerInFirstDocs: boolean;
  /** The last search's documents hold a gold answer (false when there was no search). */
  answerInLastDocs: boolean;
  /** A query after the first names a bridge entity; null when the question has no bridge. */
  bridgeQueried: boolean | null;
}

/**
 * The document ids of a question's bridge entities: the supporting documents after the first, up
 * to its hop count, in hop order (for "the city of the company the author of B worked for": the
 * author's and the employer's). Empty for a 1-hop question or one without supporting ids.
 */
export function bridgeIdsOf(q: { hops: number; supportingIds?: readonly string[] }): string[] {
  return q.hops >= 2 ? (q.supportingIds ?? []).slice(1, q.hops) : [];
}

/**
 * Diagnoses the searches of one rollout. `bridges` are the names of the question's bridge
 * entities (the titles of {@link bridgeIdsOf}), empty for 1-hop questions. A query names one when
 * its normalized words contain that name's normalized words in order.
 */
export function diagnoseSearches(trace: readonly SearchTrace[], answers: readonly string[], bridges: readonly string[] = []): SearchDiagnosis {
  const holds = (t: SearchTrace | undefined) => !!t && t.documents.some((d) => containsAnswer(d, answers));
  const names = bridges.map(normalizeAnswer).filter((n) => n !== '').map((n) => ` ${n} `);
  const bridgeQueried = names.length === 0 ? null
    : trace.slice(1).some((t) => names.some((name) => ` ${normalizeAnswer(t.query)} `.includes(name)));
  return { searches: trace.length, answerInFirstDocs: holds(trace[0]), answerInLastDocs: holds(trace[trace.length - 1]), bridgeQueried };
}

/** Means of {@link SearchDiagnosis} over a set of rollouts (one hop count, one template, ...). */
export interface SearchSummary {
  n: number;
  /** Mean searches per rollout. */
  searches: number;
  /** Share of rollouts with two or more searches. */
  multiSearch: number;
  answerInFirstDocs: number;
  answerInLastDocs: number;
  /** Share of multi-hop rollouts whose later query named a bridge; NaN when none has a bridge. */
  bridgeQueried: number;
}

/** Summarizes diagnoses (NaN means for an empty set). */
export function summarizeSearches(ds: readonly SearchDiagnosis[]): SearchSummary {
  const n = ds.length;
  const mean = (f: (d: SearchDiagnosis) => number) => (n === 0 ? NaN : ds.reduce((a, d) => a + f(d), 0) / n);
  const bridged = ds.filter((d) => d.bridgeQueried !== null);
  return {
    n,
    searches: mean((d) => d.searches),
    multiSearch: mean((d) => +(d.searches >= 2)),
    answerInFirstDocs: mean((d) => +d.answerInFirstDocs),
    answerInLastDocs: mean((d) => +d.answerInLastDocs),
    bridgeQueried: bridged.length === 0 ? NaN : bridged.reduce((a, d) => a + +d.bridgeQueried!, 0) / bridged.length,
  };
}

/** Where a wrong answer came from, when the documents held the right one. */
export type AnswerSource = 'empty' | 'documents' | 'question' | 'nowhere';

/**
 * Where a prediction's words come from: `documents` when every normalized word of it occurs in
 * the retrieved text, else `question` when every word occurs in the question, else `nowhere`
 * (recalled or made up); `empty` for no answer.
 */
export function answerSource(prediction: string, documentsText: string, question: string): AnswerSource {
  const words = normalizeAnswer(prediction).split(' ').filter(Boolean);
  if (words.length === 0) return 'empty';
  const inText = (text: string) => {
    const set = new Set(normalizeAnswer(text).split(' '));
    return words.every((w) => set.has(w));
  };
  if (inText(documentsText)) return 'documents';
  if (inText(question)) return 'question';
  return 'nowhere';
}
