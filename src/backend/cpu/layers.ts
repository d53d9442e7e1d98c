/**
 * Reference kernels of the per-token layers, each forward beside its backward.
 * Plain loops over typed arrays, accumulating in double precision (JavaScript numbers):
 * these are the numbers every faster backend is checked against.
 * Backward kernels accumulate (+=) into gradient outputs (see src/backend/backend.ts).
 */
import type { RopeScaling } from '../backend.ts';

// ---------------------------------------------------------------- embedding

/** out (N, C) = table (V, C)[ids (N)]. Throws on an id outside [0, V). */
export function embeddingForward(ids: Int32Array, table: Float32Array, out: Float32Array, C: number): void {
  const V = table.length / C;
  for (let n = 0; n < ids.length; n++) {
    const id = ids[n]!;
    if (id < 0 || id >= V) throw new RangeError(`embedding: token id ${id} at row ${n} is outside [0, ${V})`);
    out.set(table.subarray(id * C, id * C + C), n * C);
  }
}

/** dTable[ids[n]] += dOut[n]. */
export function embeddingBackward(ids: Int32Array, dOut: Float32Array, dTable: Float32Array, C: number): void {
  for (let n = 0; n < ids.length; n++) {
    const t = ids[n]! * C, o = n * C;
    for (let c = 0; c < C; c++) dTable[t + c] = dTable[t + c]! + dOut[o + c]!;
  }
}

// ---------------------------------------------------------------- RMSNorm

/** out = x * rstd * w, rstd = 1/sqrt(mean(x^2) + eps), per row of C. */
export function rmsnormForward(
  x: Float32Array, w: Float32Array, out: Float32Array, rstd: Float32Array, C: number, eps: number,
): void {
  const N = x.length / C;
  for (let n = 0; n < N; n++) {
    const o = n * C;
    let ss = 0;
    for (let c = 0; c < C; c++) ss += x[o + c]! * x[o + c]!;
    const r = 1 / Math.sqrt(ss / C + eps);
    rstd[n] = r;
    for (let c = 0; c < C; c++) out[o + c] = x[o + c]! * r * w[c]!;
  }
}

/**
 * y_c = x_c r w_c with r = (mean x^2 + eps)^(-1/2):
 * dx_c = r w_c dy_c - (r^3 / C) x_c sum_j dy_j w_j x_j;  dw_c = sum_n dy_c x_c r.
 */
export function rmsnormBackward(
  x: Float32Array, w: Float32Array, rstd: Float32Array, dOut: Float32Array,
  dX: Float32Array, dW: Float32Array, C: number,
): void {
  const N = x.length / C;
  for (let n = 0; n < N; n++) {
    const o = n * C;
    const r = rstd[n]!;
    let dot = 0;
    for (let c = 0; c < C; c++) dot += dOut[o + c]! * w[c]! * x[o + c]!;
    const k = (r * r * r * dot) / C;
    for (let c = 0; c < C; c++) {
      dX[o + c] = dX[o + c]! + r * w[c]! * dOut[o + c]! - k * x[o + c]!;
      dW[c] = dW[c]! + dOut[o + c]! * x[o + c]! * r;
    }
  }
}

// ---------------------------------------------------------------- RoPE

/**
 * Inverse frequencies theta^(-2i/D), i < D/2, as Hugging Face Llama computes them (float32),
 * rescaled by Llama 3's rule when `scaling` is given (RopeScaling in backend.ts).
 */
export function ropeInvFreq(D: number, theta: number, scaling?: RopeScaling): Float32Array {
  const inv = new Float32Array(D / 2);
  for (let i = 0; i < D / 2; i++) inv[i] = 1 / Math.pow(theta, (2 * i) / D);
  if (scaling) {
    const { factor, lowFreqFactor: lo, highFreqFactor: hi, originalMaxPositions: old } = scaling;
    const lowWavelen = old / lo, highWavelen = old / hi;
    for (let i = 0; i < D / 2; i++) {
      const f = inv[i]!, wavelen = (2 * Math.PI) / f;
      if (wavelen < highWavelen) continue;
      if (wavelen > lowWavelen) inv[i] = f / factor;
      else {
        const smooth = (old / wavelen - lo) / (hi - lo);
        inv[i] = (1 - smooth) * (f / factor) + smooth * f;
      }
    }
  }
  return inv;
}

/**
 * Rotate-half RoPE. x, out (N, H, D) (may alias); positions (N). `sign` = +1 rotates forward,
 * -1 by the opposite angle (the transpose of the rotation, i.e. the backward pass), and
 * `accumulate` adds into out instead of overwriting.
 */
export function ropeApply(
  x: Float32Array, positions: Int32Array, out: Float32Array, H: number, D: number, theta: number,
  sign: 1 | -1, accumulate: boolean, scaling?: RopeScaling,
): void {
  const half = D / 2;
  const inv = ropeInvFreq(D, theta, scaling);
  const N = positions.length;
  for (let n = 0; n < N; n++) {
    const p = positions[n]!;
    for (let i = 0; i < half; i++) {
      // Math.fround keeps the angle in float32 like the reference implementation.
      const ang = Math.fround(p * inv[i]!);
      const cos = Math.cos(ang), sin = sign * Math.sin(ang);
      for (let h = 0; h < H; h++) {
        const o = (n * H + h) * D;
        const x1 = x[o + i]!, x2 = x[o + i + half]!;
        const y1 = x1 * cos - x2 * sin;
        const y2 = x2 * cos + x1 * sin;
        if (accumulate) {
          out[o + i] = out[o + i]! + y1;
          out[o + i + half] = out[o + i + half]! + y2;
        } else {
          out[o + i] = y1;
          out[o + i + half] = y2;
        }
      }
    }
  }
}

// ---------------------------------------------------------------- attention

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

// ---------------------------------------------------------------- SwiGLU

/** out = silu(gate) * up, silu(g) = g * sigmoid(g). */
export function swigluForward(gate: Float32Array, up: Float32Array, out: Float32Array): void {
  for (let i = 0; i < gate.length; i++) {
    const g = gate[i]!;
    out[i] = (g / (1 + Math.exp(-g))) * up[i]!;
  }
}

/** silu'(g) = sigmoid(g) (1 + g (1 - sigmoid(g))). */
export function swigluBackward(
  gate: Float32Array, up: Float32Array, dOut: Float32Array, dGate: Float32Array, dUp: Float32Array,
): void {
  for (let i = 0; i < gate.length; i++) {
    const g = gate[i]!;
    const sig = 1 / (1 + Math.exp(-g));
    const silu = g * sig;
    dGate[i] = dGate[i]! + dOut[i]! * up[i]! * sig * (1 + g * (1 - sig));
    dUp[i] = dUp[i]! + dOut[i]! * silu;
  }
}
