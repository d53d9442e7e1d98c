/**
 * Reference rotary position embedding (rotate-half, as Hugging Face Llama), forward and
 * backward in one function. Plain loops over typed arrays, accumulating in double precision
 * (JavaScript numbers): these are the numbers every faster backend is checked against.
 * ropeInvFreq is also what the wasm and WebGPU backends and the ONNX export build their angle
 * tables from, so every backend rotates by the same float32 angles.
 * Same op family as wasm/kernels/rope.ts and webgpu/kernels/rope.ts.
 */
import type { RopeScaling } from '../backend.ts';

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
