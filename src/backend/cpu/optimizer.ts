/**
 * Reference optimizer step (recipe.md section 7, step 6): the squared gradient norm and the
 * clip factor of global gradient-norm clipping, then the AdamW update. The wasm backend runs
 * sumSquares and clipScale on views of its memory. Same op family as wasm/kernels/optimizer.ts
 * and webgpu/kernels/optimizer.ts.
 */
import { appliesScale, SKIP_SCALE, type AdamWParams } from '../backend.ts';

/** out[0] = (accumulate ? out[0] : 0) + sum of x^2, summed in double precision. */
export function sumSquares(xd: Float32Array, o: Float32Array, accumulate: boolean): void {
  let s = 0;
  for (let i = 0; i < xd.length; i++) s += xd[i]! * xd[i]!;
  o[0] = (accumulate ? o[0]! : 0) + s;
}

/**
 * scale[0] = min(1, maxNorm / (sqrt(sumSq[0]) + 1e-6)), or SKIP_SCALE (which makes adamw skip
 * the step) when sumSq[0] or guard[0] is not finite.
 */
export function clipScale(sumSq: Float32Array, maxNorm: number, scale: Float32Array, guard?: Float32Array): void {
  const sq = sumSq[0]!;
  if (!Number.isFinite(sq) || (guard && !Number.isFinite(guard[0]!))) {
    scale[0] = SKIP_SCALE; // adamw skips the step
    return;
  }
  scale[0] = Math.min(1, maxNorm / (Math.sqrt(sq) + 1e-6));
}

/**
 * One AdamW update of param (decoupled weight decay first, then the bias-corrected Adam step)
 * with the gradient scaled by gradScale[0]. A gradScale that does not apply (SKIP_SCALE, see
 * Backend.adamw) writes nothing. param, grad, m, v have the same length; gradScale (1).
 */
export function adamw(
  w: Float32Array, g: Float32Array, md: Float32Array, vd: Float32Array, gradScale: Float32Array, p: AdamWParams,
): void {
  const s = gradScale[0]!;
  if (!appliesScale(s)) return; // a skipped step: nothing is written
  const bc1 = 1 - Math.pow(p.beta1, p.step), bc2 = 1 - Math.pow(p.beta2, p.step);
  for (let i = 0; i < w.length; i++) {
    const gi = g[i]! * s;
    const mi = p.beta1 * md[i]! + (1 - p.beta1) * gi;
    const vi = p.beta2 * vd[i]! + (1 - p.beta2) * gi * gi;
    md[i] = mi;
    vd[i] = vi;
    const wi = w[i]! * (1 - p.lr * p.weightDecay);
    w[i] = wi - (p.lr * (mi / bc1)) / (Math.sqrt(vi / bc2) + p.eps);
  }
}
