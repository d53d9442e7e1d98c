/** Log-softmax, token log-probabilities and sampling on the CPU (reference). */

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

/**
 * One draw per row (recipe.md section 3 sampling). The procedure is canonical so that every
 * backend gets the same token from the same uniform:
 * 1. p = softmax(logits / temperature);
 * 2. top-p keeps the k most likely tokens (ties by lower id), k minimal with their mass >= topP;
 * 3. walking the kept tokens in id order, the draw is the first whose running mass exceeds
 *    u * (kept mass).
 * Temperature 0: argmax (lowest id on ties). logProbs gets log softmax(logits)[token] at
 * temperature 1 (the policy's own probability).
 */
export function sampleRows(
  logits: Float32Array, uniforms: Float32Array, tokens: Int32Array, logProbs: Float32Array,
  V: number, temperature: number, topP: number,
): void {
  const M = tokens.length;
  const probs = new Float64Array(V);
  const order = new Int32Array(V);
  for (let m = 0; m < M; m++) {
    const o = m * V;
    let tok = 0;
    if (temperature === 0) {
      let best = -Infinity;
      for (let j = 0; j < V; j++) if (logits[o + j]! > best) { best = logits[o + j]!; tok = j; }
    } else {
      let max = -Infinity;
      for (let j = 0; j < V; j++) if (logits[o + j]! > max) max = logits[o + j]!;
      let sum = 0;
      for (let j = 0; j < V; j++) { const e = Math.exp((logits[o + j]! - max) / temperature); probs[j] = e; sum += e; }
      for (let j = 0; j < V; j++) probs[j] = probs[j]! / sum;
      let threshold = 0; // keep tokens with p >= threshold (and, at the threshold, ids up to lastId)
      let lastId = V - 1;
      if (topP < 1) {
        for (let j = 0; j < V; j++) order[j] = j;
        order.sort((a, b) => probs[b]! - probs[a]! || a - b);
        let mass = 0;
        let k = 0;
        while (k < V) { mass += probs[order[k]!]!; k++; if (mass >= topP) break; }
        threshold = probs[order[k - 1]!]!;
        // Among tokens tied at the threshold, only those sorted within the first k are kept.
        lastId = order[k - 1]!;
      }
      const kept = (j: number) => probs[j]! > threshold || (probs[j] === threshold && j <= lastId) || topP >= 1;
      let keptMass = 0;
      for (let j = 0; j < V; j++) if (kept(j)) keptMass += probs[j]!;
      const target = uniforms[m]! * keptMass;
      let run = 0;
      tok = -1;
      for (let j = 0; j < V; j++) {
        if (!kept(j)) continue;
        run += probs[j]!;
        tok = j;
        if (run > target) break;
      }
    }
    tokens[m] = tok;
    logProbs[m] = logits[o + tok]! - rowLogSumExp(logits, m, V);
  }
}
