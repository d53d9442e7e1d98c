/**
 * Reference log-softmax: the token log-probabilities of the loss and their gradient, summed in
 * double precision. Same op family as wasm/kernels/softmax.ts and webgpu/kernels/softmax.ts;
 * sampling (which also normalizes logits) is its own family, sampling.ts.
 */

/** Log-sum-exp of row `m` of logits (M, V). */
export function rowLogSumExp(logits: Float32Array, m: number, V: number): number {
  const o = m * V;
  let max = -Infinity;
  for (let j = 0; j < V; j++) if (logits[o + j]! > max) max = logits[o + j]!;
  let s = 0;
  for (let j = 0; j < V; j++) s += Math.exp(logits[o + j]! - max);
  return max + Math.log(s);
}

/** logProbs[m] = logits[m, targets[m]] - lse[m]. */
export function logSoftmaxGatherForward(
  logits: Float32Array, targets: Int32Array, logProbs: Float32Array, lse: Float32Array, V: number,
): void {
  for (let m = 0; m < targets.length; m++) {
    const t = targets[m]!;
    if (t < 0 || t >= V) throw new RangeError(`log-probs: target ${t} at row ${m} is outside [0, ${V})`);
    const l = rowLogSumExp(logits, m, V);
    lse[m] = l;
    logProbs[m] = logits[m * V + t]! - l;
  }
}

/** dLogits[m, j] += g_m ([j == t_m] - softmax_j). */
export function logSoftmaxGatherBackward(
  logits: Float32Array, targets: Int32Array, lse: Float32Array, dLogProbs: Float32Array, dLogits: Float32Array, V: number,
): void {
  for (let m = 0; m < targets.length; m++) {
    const g = dLogProbs[m]!;
    if (g === 0) continue;
    const o = m * V, l = lse[m]!;
    for (let j = 0; j < V; j++) dLogits[o + j] = dLogits[o + j]! - g * Math.exp(logits[o + j]! - l);
    dLogits[o + targets[m]!] = dLogits[o + targets[m]!]! + g;
  }
}
