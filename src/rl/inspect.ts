/**
 * Per-token view of a sequence under a policy, for the page's rollout inspector: at every
 * position t the probability of the token that is there, p(tokens[t] | tokens[<t]), and the
 * most likely alternatives. Probabilities are at temperature 1 over the whole vocabulary, the
 * distribution whose log-probability `Backend.sample` records as the old policy's (recipe.md
 * section 7, the ratio's denominator), so a generated token's probability here equals
 * exp(logProbs[t]) of its rollout when scored with the policy that sampled it.
 *
 * Shapes: T tokens of one sequence, V vocabulary, M = T - from scored positions.
 */
import type { Llama } from '../model/llama.ts';

/** One candidate next token. */
export interface TokenAlternative {
  id: number;
  /** Probability at temperature 1, in [0, 1]. */
  p: number;
  /** The token's text (filled in by the session for the page). */
  token?: string;
}

/** What the policy thought at one position. */
export interface TokenScore {
  /** Probability of the token actually at this position. */
  p: number;
  /** The `topN` most likely tokens, most likely first (ties: lower id first). */
  top: TokenAlternative[];
}

/**
 * Softmax of one logits row (`logits[offset .. offset + V)`) reduced to what the inspector
 * shows: the probability of `chosen` and the `topN` most likely tokens.
 * @throws RangeError when `chosen` is outside [0, V) or the row runs past the array.
 */
export function softmaxTop(logits: ArrayLike<number>, offset: number, V: number, chosen: number, topN: number): TokenScore {
  if (!Number.isInteger(chosen) || chosen < 0 || chosen >= V) throw new RangeError(`softmaxTop: token id ${chosen} outside [0, ${V})`);
  if (offset < 0 || offset + V > logits.length) throw new RangeError(`softmaxTop: row [${offset}, ${offset + V}) outside the ${logits.length} logits`);
  let max = -Infinity;
  for (let v = 0; v < V; v++) max = Math.max(max, logits[offset + v]!);
  let sum = 0;
  for (let v = 0; v < V; v++) sum += Math.exp(logits[offset + v]! - max);
  // Keep a small sorted list instead of sorting V entries: topN is 5, V a few thousand.
  const top: TokenAlternative[] = [];
  for (let v = 0; v < V; v++) {
    const p = Math.exp(logits[offset + v]! - max) / sum;
    if (top.length < topN || p > top[top.length - 1]!.p) {
      let i = top.length;
      while (i > 0 && top[i - 1]!.p < p) i--;
      top.splice(i, 0, { id: v, p });
      if (top.length > topN) top.pop();
    }
  }
  return { p: Math.exp(logits[offset + chosen]! - max) / sum, top };
}

/**
 * Scores every position t in [from, T) of `tokens` with `model` (one forward pass through a
 * one-sequence KV cache, no gradients). Returns M = T - from scores, index i for position from + i.
 * @throws Error when `from` < 1 (position 0 has no context) or `tokens` is longer than the
 *   model's maxPositions.
 */
export async function scoreTokens(model: Llama, tokens: readonly number[], from: number, topN = 5): Promise<TokenScore[]> {
  const T = tokens.length;
  if (!Number.isInteger(from) || from < 1) throw new Error(`scoreTokens: from must be an integer >= 1, got ${from}`);
  if (from >= T) return [];
  if (T > model.config.maxPositions) throw new Error(`scoreTokens: ${T} tokens exceed the model's maxPositions ${model.config.maxPositions}`);
  const b = model.backend, V = model.V, M = T - from;
  const cache = model.createCache(1, T);
  try {
    // Row t - 1 predicts token t; the last token is never fed.
    const N = T - 1;
    const batch = {
      tokens: Int32Array.from(tokens.slice(0, N)),
      slots: new Int32Array(N),
      positions: Int32Array.from({ length: N }, (_, i) => i),
      outRows: Int32Array.from({ length: M }, (_, i) => from - 1 + i),
    };
    const logits = model.forwardInfer(cache, batch);
    const host = (await b.read(logits)) as Float32Array;
    b.dispose(logits);
    return Array.from({ length: M }, (_, i) => softmaxTop(host, i * V, V, tokens[from + i]!, topN));
  } finally {
    model.disposeCache(cache);
  }
}
