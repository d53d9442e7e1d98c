/**
 * One rollout as every view of it shows it: the page's inspector, Compare and live mode, the
 * export check, the rollouts kept in `rollouts.json` and the shipped run. This is the one record
 * (OpenRLHF's `Experience`, flattened to plain arrays so JSON and comlink carry it); the views
 * add what they know besides (the question and reward in training, the decoding in a sample, the
 * token texts for display). `rolloutTrace` is the one function from a decoded sequence to it.
 */
import type { FinishReason } from './decode-step.ts';

/** A search hit as a rollout lists it: the text is left out (it is in the spliced tokens). */
export interface ListedHit {
  id: string;
  title: string;
  /** The retriever's score (BM25 for the built-in index). */
  score: number;
}

/** One search call as a rollout lists it: the query and its hits, in rank order. */
export interface SearchListing {
  query: string;
  hits: ListedHit[];
}

/** One rollout, token by token (T = tokens.length). */
export interface RolloutTrace {
  // The sequence.
  /** Prompt, generated tokens and spliced documents, as ids (T). */
  tokens: number[];
  /** Number of prompt tokens (BOS included). */
  promptLength: number;
  // The masks (recipe.md section 4).
  /** 1 where the policy generated the token (T). */
  actionMask: number[];
  /** 0 on the tokens of document blocks, 1 elsewhere (T). */
  retrieveMask: number[];
  // The sampler.
  /** log pi_old of each generated token at temperature 1, 0 elsewhere (T). */
  logProbs: number[];
  // The searches and the end.
  searches: SearchListing[];
  finishReason: FinishReason;
}

/** The listing of a search call (only id, title and score of each hit are kept). */
export function searchListing(call: { query: string; hits: readonly ListedHit[] }): SearchListing {
  return { query: call.query, hits: call.hits.map((h) => ({ id: h.id, title: h.title, score: h.score })) };
}

/** What {@link rolloutTrace} reads: a finished rollout (src/rl/rollout.ts) or decoding sequence. */
export interface TraceSource {
  tokens: readonly number[];
  promptLength: number;
  actionMask: ArrayLike<number>;
  retrieveMask: ArrayLike<number>;
  logProbs: ArrayLike<number>;
  searches: readonly { query: string; hits: readonly ListedHit[] }[];
}

/** The trace of a rollout that ended with `finishReason` (arrays copied). */
export function rolloutTrace(r: TraceSource, finishReason: FinishReason): RolloutTrace {
  return {
    tokens: [...r.tokens], promptLength: r.promptLength, actionMask: Array.from(r.actionMask), retrieveMask: Array.from(r.retrieveMask),
    logProbs: Array.from(r.logProbs), searches: r.searches.map(searchListing), finishReason,
  };
}
