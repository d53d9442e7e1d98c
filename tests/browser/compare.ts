/**
 * Comparison of a WebGPU result with the CPU reference, as the parity tests state it:
 * element i passes when |gpu_i - cpu_i| <= rtol |cpu_i| + atol max_j |cpu_j| (a relative
 * tolerance plus an absolute one scaled to the output's magnitude); integer outputs must be
 * equal. `ratio` is the worst element's error over its allowance (pass: ratio <= 1).
 */

export interface Diff {
  output: string;
  size: number;
  /** Largest |gpu - cpu|. */
  maxAbsErr: number;
  /** Largest |cpu| (the scale of atol). */
  maxRef: number;
  /** Worst error / allowance; <= 1 passes. */
  ratio: number;
  /** Index of the worst element. */
  worst: number;
  ok: boolean;
}

export interface Tolerance {
  rtol: number;
  atol: number;
}

/** The default kernel tolerance: float32 kernels against a double-precision reference. */
export const KERNEL_TOL: Tolerance = { rtol: 1e-4, atol: 1e-5 };

export function compare(output: string, gpu: Float32Array | Int32Array, cpu: Float32Array | Int32Array, tol: Tolerance): Diff {
  if (gpu.length !== cpu.length) {
    return { output, size: cpu.length, maxAbsErr: Infinity, maxRef: 0, ratio: Infinity, worst: -1, ok: false };
  }
  let maxRef = 0;
  for (let i = 0; i < cpu.length; i++) maxRef = Math.max(maxRef, Math.abs(cpu[i]!));
  const exact = cpu instanceof Int32Array;
  let maxAbsErr = 0, ratio = 0, worst = -1;
  for (let i = 0; i < cpu.length; i++) {
    const c = cpu[i]!, g = gpu[i]!;
    const err = Number.isNaN(c) && Number.isNaN(g) ? 0 : Math.abs(g - c);
    const allow = exact ? 0 : tol.rtol * Math.abs(c) + tol.atol * maxRef;
    const r = err === 0 ? 0 : allow === 0 ? Infinity : err / allow;
    if (!(r <= ratio)) { ratio = Number.isNaN(r) ? Infinity : r; worst = i; }
    if (err > maxAbsErr || Number.isNaN(err)) maxAbsErr = Number.isNaN(err) ? Infinity : err;
  }
  return { output, size: cpu.length, maxAbsErr, maxRef, ratio, worst, ok: ratio <= 1 };
}
