/**
 * The one decoding step of a RAG rollout (recipe.md section 3): append a generated token, stop at
 * the rules below, and when the token closes a query, splice the search's documents in.
 *
 * Three drivers share it: the batched rollout (src/rl/rollout.ts), the page's one-token live
 * view (src/rl/live-rollout.ts) and greedy decoding over any next-logits function (the ONNX
 * export check, src/onnx/decode.ts). So the stop rules, the query extraction and the document
 * splice are written once, and the three produce the same tokens from the same draws.
 *
 * A sequence stops at `</answer>` (a stop in training too: recipe.md section 10), at
 * end-of-sequence, at the length limits, at an empty query, at a query beyond the search limit,
 * and when a document block would not fit; the checks run in that order.
 */
import { formatDocuments, type SplicedDocument } from './splice.ts';

/** The token ids the step reacts to (src/tokenizer/text-tokenizer.ts `tagIds` looks them up). */
export interface TagIds {
  queryOpen: number; queryClose: number; docsOpen: number; docsClose: number; answerClose: number; eos: number;
  /** pad, bos, eos, unk (where the vocabulary has one) and the eight tags. */
  special: Set<number>;
}

/** What the step needs of a tokenizer (every TextTokenizer has it). */
export interface TokenCodec {
  /** Token ids of a text (normalized first). */
  encode(text: string): number[];
  /** The text of token ids. */
  decode(ids: ArrayLike<number>): string;
}

/** The limits of one rollout; src/rl/rollout.ts `RolloutSettings` adds the sampler's. */
export interface DecodeLimits {
  /** Tokens the policy may generate per rollout (documents not counted). */
  maxNewTokens: number;
  /** Searches per rollout (paper: 8; small models: 2-4). A query beyond it ends the rollout. */
  maxSearches: number;
  /** Documents per search (paper: 3 in training, 5 in evaluation). */
  topK: number;
  /** Each document is cut to this many words when spliced (prototype: 40). */
  docMaxWords: number;
  /** Longest whole sequence (prompt + completion + documents) in tokens; <= model maxPositions. */
  maxLength: number;
}

/** Why a rollout ended. */
export type FinishReason = 'answer' | 'eos' | 'length' | 'empty-query' | 'search-limit';

/** One search call inside a rollout; `H` is the retriever's hit (title and text at least). */
export interface SearchCall<H extends SplicedDocument = SplicedDocument> {
  /** The query as sent to the search engine. */
  query: string;
  hits: H[];
  /** Token range [start, end) of the spliced block, `<|begin_of_documents|>`..`<|end_of_documents|>`. */
  start: number;
  end: number;
}

/** A sequence being decoded. Arrays are indexed by token position (T = tokens.length). */
export interface DecodeSequence<H extends SplicedDocument = SplicedDocument> {
  /** Number of prompt tokens. */
  promptLength: number;
  /** Prompt, generated tokens and spliced documents, in order (T). */
  tokens: number[];
  /** 1 where the policy generated the token (T). */
  actionMask: number[];
  /** 0 on the tokens of document blocks, 1 elsewhere (T). */
  retrieveMask: number[];
  /** log pi_old of each generated token, 0 elsewhere (T). */
  logProbs: number[];
  /** Tokens generated so far (documents not counted). */
  generated: number;
  searches: SearchCall<H>[];
  /** Why it ended; null while it goes on. */
  finish: FinishReason | null;
}

/** A sequence holding only its prompt (token ids, BOS first). */
export function startSequence<H extends SplicedDocument = SplicedDocument>(prompt: readonly number[]): DecodeSequence<H> {
  return {
    promptLength: prompt.length, tokens: [...prompt], actionMask: prompt.map(() => 0), retrieveMask: prompt.map(() => 1),
    logProbs: prompt.map(() => 0), generated: 0, searches: [], finish: null,
  };
}

/**
 * Appends the generated `token` (with its sampling log-probability) and applies the stop rules.
 * Returns the query to search when the token closed a non-empty query within the search limit;
 * null otherwise (the sequence goes on, or `seq.finish` says why it ended).
 */
export function stepSequence(seq: DecodeSequence<SplicedDocument>, token: number, logProb: number, ids: TagIds, codec: TokenCodec, limits: DecodeLimits): string | null {
  seq.tokens.push(token);
  seq.actionMask.push(1);
  seq.retrieveMask.push(1);
  seq.logProbs.push(logProb);
  seq.generated++;
  if (token === ids.answerClose) seq.finish = 'answer';
  else if (token === ids.eos) seq.finish = 'eos';
  else if (seq.generated >= limits.maxNewTokens || seq.tokens.length >= limits.maxLength) seq.finish = 'length';
  else if (token === ids.queryClose) {
    const query = extractQuery(seq.tokens, seq.promptLength, ids, codec);
    if (query === '') seq.finish = 'empty-query';
    else if (seq.searches.length >= limits.maxSearches) seq.finish = 'search-limit';
    else return query;
  }
  return null;
}

/**
 * Splices the documents `hits` found for `query` after the sequence's `<|end_of_query|>`, masked
 * (actionMask 0, retrieveMask 0, log-prob 0), and records the call. When the block would reach
 * `maxLength`, nothing is appended and the sequence ends with 'length'.
 * @returns the recorded call, or null when the block did not fit.
 */
export function spliceSearch<H extends SplicedDocument>(seq: DecodeSequence<H>, query: string, hits: H[], ids: TagIds, codec: TokenCodec, limits: DecodeLimits): SearchCall<H> | null {
  const block = [ids.docsOpen, ...codec.encode(formatDocuments(hits, limits.docMaxWords)), ids.docsClose];
  if (seq.tokens.length + block.length >= limits.maxLength) {
    seq.finish = 'length';
    return null;
  }
  const start = seq.tokens.length;
  for (const t of block) {
    seq.tokens.push(t);
    seq.actionMask.push(0);
    seq.retrieveMask.push(0);
    seq.logProbs.push(0);
  }
  const call: SearchCall<H> = { query, hits, start, end: seq.tokens.length };
  seq.searches.push(call);
  return call;
}

/**
 * The query of a sequence that just emitted `<|end_of_query|>`: the words after the last
 * `<|begin_of_query|>` that follows the last document block (recipe.md section 3), special
 * tokens and quotes removed. Empty when the completion opened no new query.
 */
export function extractQuery(tokens: readonly number[], promptLength: number, ids: Pick<TagIds, 'queryOpen' | 'docsClose' | 'special'>, codec: TokenCodec): string {
  const end = tokens.length - 1; // the <|end_of_query|>
  let open = -1;
  for (let i = end - 1; i >= promptLength; i--) {
    if (tokens[i] === ids.docsClose) break;
    if (tokens[i] === ids.queryOpen) { open = i; break; }
  }
  if (open < 0) return '';
  const words = tokens.slice(open + 1, end).filter((t) => !ids.special.has(t));
  return codec.decode(words).replace(/["'`]/g, ' ').replace(/\s+/g, ' ').trim();
}
