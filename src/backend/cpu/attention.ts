/**
 * Reference causal attention over a ragged batch or a KV cache, forward beside backward.
 * Plain loops over typed arrays, accumulating in double precision (JavaScript numbers): these
 * are the numbers every faster backend is checked against. The backward accumulates (+=) into
 * dQ, dK and dV (see src/backend/backend.ts).
 * Same op family as wasm/kernels/attention.ts and webgpu/kernels/attention.ts.
 */

/**
 * Causal attention, one query row at a time: row n attends to kv rows kvStart[n]..kvStart[n]+pos[n].
 * q, out (N, H, D); k, v (R, H, D); lse (N, H).
 */
export function attentionForward(
  q: Float32Array, k: Float32Array, v: Float32Array, kvStart: Int32Array, pos: Int32Array,
  out: Float32Array, lse: Float32Array, H: number, D: number, scale: number,
): void {
  const C = H * D;
  const N = pos.length;
  const R = k.length / C;
  let scores = new Float64Array(64);
  const acc = new Float64Array(D);
  for (let n = 0; n < N; n++) {
    const s0 = kvStart[n]!, L = pos[n]! + 1;
    if (s0 < 0 || s0 + L > R || L < 1) throw new RangeError(`attention: row ${n} reads kv rows ${s0}..${s0 + L - 1}, cache has ${R}`);
    if (scores.length < L) scores = new Float64Array(2 * L);
    for (let h = 0; h < H; h++) {
      const qo = n * C + h * D;
      let max = -Infinity;
      for (let j = 0; j < L; j++) {
        const ko = (s0 + j) * C + h * D;
        let s = 0;
        for (let d = 0; d < D; d++) s += q[qo + d]! * k[ko + d]!;
        s *= scale;
        scores[j] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      acc.fill(0);
      for (let j = 0; j < L; j++) {
        const p = Math.exp(scores[j]! - max);
        sum += p;
        const vo = (s0 + j) * C + h * D;
        for (let d = 0; d < D; d++) acc[d] = acc[d]! + p * v[vo + d]!;
      }
      for (let d = 0; d < D; d++) out[qo + d] = acc[d]! / sum;
      lse[n * H + h] = max + Math.log(sum);
    }
  }
}

/**
 * With p_j = exp(s_j - lse): dV_j += p_j dO; dP_j = dO . v_j; dS_j = p_j (dP_j - dO . out);
 * dQ += scale sum_j dS_j k_j; dK_j += scale dS_j q.
 */
export function attentionBackward(
  q: Float32Array, k: Float32Array, v: Float32Array, kvStart: Int32Array, pos: Int32Array,
  out: Float32Array, lse: Float32Array, dOut: Float32Array,
  dQ: Float32Array, dK: Float32Array, dV: Float32Array, H: number, D: number, scale: number,
): void {
  const C = H * D;
  const N = pos.length;
  for (let n = 0; n < N; n++) {
    const s0 = kvStart[n]!, L = pos[n]! + 1;
    for (let h = 0; h < H; h++) {
      const qo = n * C + h * D;
      const l = lse[n * H + h]!;
      let dOutDotOut = 0;
      for (let d = 0; d < D; d++) dOutDotOut += dOut[qo + d]! * out[qo + d]!;
      for (let j = 0; j < L; j++) {
        const ko = (s0 + j) * C + h * D;
        let s = 0, dp = 0;
        for (let d = 0; d < D; d++) {
          s += q[qo + d]! * k[ko + d]!;
          dp += dOut[qo + d]! * v[ko + d]!;
        }
        const p = Math.exp(s * scale - l);
        const ds = p * (dp - dOutDotOut) * scale;
        for (let d = 0; d < D; d++) {
          dV[ko + d] = dV[ko + d]! + p * dOut[qo + d]!;
          dQ[qo + d] = dQ[qo + d]! + ds * k[ko + d]!;
          dK[ko + d] = dK[ko + d]! + ds * q[qo + d]!;
        }
      }
    }
  }
}
