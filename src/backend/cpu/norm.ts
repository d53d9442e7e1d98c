/**
 * Reference RMSNorm (Llama's), forward beside backward. Plain loops over typed arrays,
 * accumulating in double precision (JavaScript numbers): these are the numbers every faster
 * backend is checked against. The backward accumulates (+=) into dX and dW (see
 * src/backend/backend.ts). Same op family as wasm/kernels/norm.ts and webgpu/kernels/norm.ts.
 */

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
