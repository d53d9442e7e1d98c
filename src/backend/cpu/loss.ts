/**
 * Reference per-token losses with their gradients (recipe.md section 7, step 5): the PPO
 * clipped surrogate of the RL step and the weighted negative log-likelihood of pretraining.
 * Inputs are per-token scalars (M); the loss is summed in double precision and added to
 * loss[0], so several calls can accumulate one step's loss. The wasm backend runs these on
 * views of its memory. Same op family as webgpu/kernels/loss.ts.
 */

/**
 * The PPO clipped surrogate (Backend.policyLoss). With r = exp(logProbs - oldLogProbs) and A the
 * advantage, each token with weight w != 0 adds -w min(r A, clip(r, 1 - clipEps, 1 + clipEps) A)
 * to loss[0]; the unclipped branch adds -w A r to dLogProbs (the clipped one is constant in
 * logp) and the clipped branch adds w to stats[0] (the clipped weight). All arrays (M) but
 * loss and stats (1).
 */
export function policyLoss(
  lp: Float32Array, old: Float32Array, adv: Float32Array, w: Float32Array, clipEps: number,
  loss: Float32Array, d: Float32Array, stats: Float32Array,
): void {
  let total = 0, clipped = 0;
  for (let m = 0; m < lp.length; m++) {
    const wm = w[m]!;
    if (wm === 0) continue;
    const r = Math.exp(lp[m]! - old[m]!);
    const a = adv[m]!;
    const surr1 = r * a;
    const surr2 = Math.min(Math.max(r, 1 - clipEps), 1 + clipEps) * a;
    if (surr1 <= surr2) {
      total -= wm * surr1;
      d[m] = d[m]! - wm * a * r; // d(r a)/d logp = r a
    } else {
      total -= wm * surr2; // clipped branch: constant in logp
      clipped += wm;
    }
  }
  loss[0] = loss[0]! + total;
  stats[0] = stats[0]! + clipped;
}

/** Weighted negative log-likelihood: loss[0] += -sum w logProbs, dLogProbs += -w. Arrays (M), loss (1). */
export function nllLoss(lp: Float32Array, w: Float32Array, loss: Float32Array, d: Float32Array): void {
  let total = 0;
  for (let m = 0; m < lp.length; m++) {
    total -= w[m]! * lp[m]!;
    d[m] = d[m]! - w[m]!;
  }
  loss[0] = loss[0]! + total;
}
