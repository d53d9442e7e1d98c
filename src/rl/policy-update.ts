/**
 * The policy update of REINFORCE++ (recipe.md section 7, steps 5-6): one epoch over a rollout
 * batch, split into mini-batches (one optimizer step each), each split into micro-batches
 * that fit in memory (gradients accumulate). Loss: the PPO clipped surrogate on tokens the
 * policy generated outside document blocks.
 */
import type { Llama } from '../model/llama.ts';
import { packSequences } from '../model/llama.ts';
import type { AdamW } from '../model/optimizer.ts';
import type { ParamSet } from '../model/params.ts';
import type { Rng } from '../util/rng.ts';

/** A sequence to train on. Arrays are indexed by token position (T). */
export interface TrainSequence {
  tokens: readonly number[];
  /** 1 where the token is in the loss (generated, not a document token). */
  lossMask: Uint8Array;
  /** log pi_old per token (T). */
  oldLogProbs: Float32Array;
  /** Advantage per token (T). */
  advantages: Float32Array;
}

export interface UpdateSettings {
  /** PPO clip epsilon (recipe.md section 7: 0.2). */
  clipEps: number;
  /** Optimizer steps per rollout batch (paper: 4). */
  miniBatches: number;
  /** Upper bound on tokens per forward/backward pass (memory). */
  microBatchTokens: number;
  /**
   * How token losses are averaged: per sequence then over sequences (OpenRLHF's masked_mean
   * over each sequence, then the batch mean), or over every token of the mini-batch.
   */
  lossAggregation: 'sequence-mean' | 'token-mean';
}

export interface UpdateStats {
  /** Mean policy loss over mini-batches. */
  loss: number;
  /** Share of loss weight whose ratio was clipped. */
  clipFraction: number;
  /** Mean gradient norm before clipping. */
  gradNorm: number;
  /** Tokens passed through forward and backward. */
  tokens: number;
  /**
   * Optimizer steps skipped because their loss or gradient was not finite (parameters and
   * moments left as they were; such mini-batches add nothing to loss, clipFraction, gradNorm).
   */
  skipped: number;
}

/** Throws naming the first impossible setting. */
export function validateUpdateSettings(s: UpdateSettings): UpdateSettings {
  if (!(s.clipEps > 0 && s.clipEps < 1)) throw new Error(`update: clipEps must be in (0, 1), got ${s.clipEps}`);
  if (!Number.isInteger(s.miniBatches) || s.miniBatches < 1) throw new Error(`update: miniBatches must be a positive integer, got ${s.miniBatches}`);
  if (!Number.isInteger(s.microBatchTokens) || s.microBatchTokens < 16) throw new Error(`update: microBatchTokens must be an integer >= 16, got ${s.microBatchTokens}`);
  if (s.lossAggregation !== 'sequence-mean' && s.lossAggregation !== 'token-mean') throw new Error(`update: unknown lossAggregation "${s.lossAggregation}"`);
  return s;
}

/**
 * One epoch of clipped-surrogate updates over `seqs` (shuffled with `rng`, split into
 * `miniBatches` optimizer steps). Sequences without loss tokens are skipped. Each optimizer
 * step is checked before it writes (AdamW.updateIfFinite): a mini-batch whose loss or gradient
 * is not finite leaves the parameters and moments untouched and is counted in `skipped`.
 * @throws NonFiniteError (src/model/optimizer.ts) after too many skipped steps in a row.
 */
export async function policyUpdate(
  model: Llama, optimizer: AdamW, grads: ParamSet, seqs: readonly TrainSequence[], lr: number, s: UpdateSettings, rng: Rng,
): Promise<UpdateStats> {
  validateUpdateSettings(s);
  const b = model.backend;
  const order = rng.shuffle(seqs.map((_, i) => i).filter((i) => seqs[i]!.lossMask.some((m) => m === 1)));
  const stats: UpdateStats = { loss: 0, clipFraction: 0, gradNorm: 0, tokens: 0, skipped: 0 };
  if (order.length === 0) return stats;
  const nMini = Math.min(s.miniBatches, order.length);
  const lossT = b.zeros([1]), clipT = b.zeros([1]);
  for (let mb = 0; mb < nMini; mb++) {
    const members = order.slice(Math.floor((mb * order.length) / nMini), Math.floor(((mb + 1) * order.length) / nMini));
    const weights = lossWeights(members, seqs, s.lossAggregation);
    b.fill(lossT, 0);
    b.fill(clipT, 0);
    for (const micro of microBatches(members, (i) => seqs[i]!.tokens.length, s.microBatchTokens)) {
      const batchSeqs = micro.map((i) => seqs[i]!);
      const batch = packSequences(batchSeqs.map((q) => q.tokens), (k, t) => batchSeqs[k]!.lossMask[t] === 1);
      const M = batch.lossRows.length;
      const old = new Float32Array(M), adv = new Float32Array(M), w = new Float32Array(M);
      let m = 0;
      micro.forEach((i) => {
        const q = seqs[i]!;
        for (let t = 1; t < q.tokens.length; t++) {
          if (q.lossMask[t] !== 1) continue;
          old[m] = q.oldLogProbs[t]!;
          adv[m] = q.advantages[t]!;
          w[m] = weights.get(i)!;
          m++;
        }
      });
      const st = model.forward(batch);
      const oldT = b.fromArray(old, [M]), advT = b.fromArray(adv, [M]), wT = b.fromArray(w, [M]), dLp = b.zeros([M]);
      b.policyLoss(st.logProbs, oldT, advT, wT, s.clipEps, lossT, dLp, clipT);
      model.backward(st, dLp, grads);
      for (const t of [oldT, advT, wT, dLp]) b.dispose(t);
      stats.tokens += batch.tokens.length;
    }
    let upd;
    try {
      upd = await optimizer.updateIfFinite(model.params, grads, lr, lossT, [clipT]);
    } catch (e) {
      b.dispose(lossT);
      b.dispose(clipT);
      throw e;
    }
    if (!upd.applied) {
      stats.skipped++;
      continue;
    }
    stats.loss += upd.loss / nMini;
    stats.clipFraction += upd.extra[0]! / nMini;
    stats.gradNorm += Math.sqrt(upd.gradNormSq) / nMini;
  }
  b.dispose(lossT);
  b.dispose(clipT);
  return stats;
}

/** Per-sequence token weight so that the weighted sum of token losses is the chosen mean. */
function lossWeights(members: readonly number[], seqs: readonly TrainSequence[], agg: UpdateSettings['lossAggregation']): Map<number, number> {
  const count = (i: number) => seqs[i]!.lossMask.reduce((n, m) => n + m, 0);
  const out = new Map<number, number>();
  if (agg === 'sequence-mean') {
    for (const i of members) out.set(i, 1 / (count(i) * members.length));
  } else {
    const total = members.reduce((n, i) => n + count(i), 0);
    for (const i of members) out.set(i, 1 / total);
  }
  return out;
}

/** Splits indices into consecutive groups of at most `maxTokens` tokens (one long sequence alone if needed). */
export function microBatches(indices: readonly number[], length: (i: number) => number, maxTokens: number): number[][] {
  const out: number[][] = [];
  let cur: number[] = [], tokens = 0;
  for (const i of indices) {
    const n = length(i);
    if (cur.length > 0 && tokens + n > maxTokens) {
      out.push(cur);
      cur = [];
      tokens = 0;
    }
    cur.push(i);
    tokens += n;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
