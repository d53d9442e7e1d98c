/**
 * Reference token sampling: temperature, top-p and the draw, in a canonical order that the wasm
 * (wasm/kernels/sampling.ts) and WebGPU (webgpu/kernels/sampling.ts) backends follow so that
 * they draw the same token from the same uniform.
 */
import { rowLogSumExp } from './softmax.ts';

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
