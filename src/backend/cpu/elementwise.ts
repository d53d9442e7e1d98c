/**
 * Reference elementwise ops that are not a layer (fill and copy are one typed-array call each
 * and stay in cpu-backend.ts). Same op family as wasm/kernels/elementwise.ts and
 * webgpu/kernels/elementwise.ts.
 */

/** y += alpha x, elementwise. Throws if the lengths differ. */
export function axpy(yd: Float32Array, xd: Float32Array, alpha: number): void {
  if (yd.length !== xd.length) throw new Error(`axpy: sizes differ (${yd.length} vs ${xd.length})`);
  for (let i = 0; i < yd.length; i++) yd[i] = yd[i]! + alpha * xd[i]!;
}
