/** Finite-difference helpers for gradient tests. */
import { Rng } from '../../../src/util/rng.ts';

export function randn(n: number, rng: Rng, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return a;
}

/**
 * Central-difference derivative of `loss()` with respect to x[i], perturbing x in place.
 * Float32 storage limits precision, so h is fairly large.
 */
export function fdGrad(x: Float32Array, i: number, loss: () => number, h = 1e-2): number {
  const x0 = x[i]!;
  x[i] = x0 + h;
  const lp = loss();
  x[i] = x0 - h;
  const lm = loss();
  x[i] = x0;
  return (lp - lm) / (2 * h);
}

/** Asserts |a - b| <= atol + rtol * |b| for every pair; reports the worst index. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol: number, what = ''): void {
  if (actual.length !== expected.length) throw new Error(`${what}: lengths ${actual.length} vs ${expected.length}`);
  let worst = -1, worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!, e = expected[i]!;
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) { worst = i; worstExcess = excess; }
  }
  if (worst >= 0) throw new Error(`${what}: element ${worst}: got ${actual[worst]}, expected ${expected[worst]} (atol ${atol}, rtol ${rtol})`);
}
