/**
 * Matrix multiply on the CPU: every layout is reduced to one kernel, C = A B^T, whose inner
 * loop reads two contiguous rows. The other layouts transpose their operands first; the
 * transposes cost O(MK + NK), small next to the O(MNK) product at the model's shapes.
 */

/**
 * c (M, N) (+)= a (M, K) b(N, K)^T. 4x4 register blocking: sixteen running sums per block
 * keep each loaded element in use four times.
 */
export function matmulNT(
  a: Float32Array, b: Float32Array, c: Float32Array, M: number, N: number, K: number, accumulate: boolean,
): void {
  const M4 = M - (M % 4);
  const N4 = N - (N % 4);
  for (let i = 0; i < M4; i += 4) {
    const a0 = i * K, a1 = a0 + K, a2 = a1 + K, a3 = a2 + K;
    for (let j = 0; j < N4; j += 4) {
      const b0 = j * K, b1 = b0 + K, b2 = b1 + K, b3 = b2 + K;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0;
      let s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0;
      let s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let k = 0; k < K; k++) {
        const x0 = a[a0 + k]!, x1 = a[a1 + k]!, x2 = a[a2 + k]!, x3 = a[a3 + k]!;
        const y0 = b[b0 + k]!, y1 = b[b1 + k]!, y2 = b[b2 + k]!, y3 = b[b3 + k]!;
        s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
        s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
        s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3;
        s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3;
      }
      store4(c, i * N + j, s00, s01, s02, s03, accumulate);
      store4(c, (i + 1) * N + j, s10, s11, s12, s13, accumulate);
      store4(c, (i + 2) * N + j, s20, s21, s22, s23, accumulate);
      store4(c, (i + 3) * N + j, s30, s31, s32, s33, accumulate);
    }
    for (let j = N4; j < N; j++) {
      for (let r = 0; r < 4; r++) c[(i + r) * N + j] = dot(a, (i + r) * K, b, j * K, K) + (accumulate ? c[(i + r) * N + j]! : 0);
    }
  }
  for (let i = M4; i < M; i++) {
    for (let j = 0; j < N; j++) c[i * N + j] = dot(a, i * K, b, j * K, K) + (accumulate ? c[i * N + j]! : 0);
  }
}

function store4(c: Float32Array, o: number, s0: number, s1: number, s2: number, s3: number, acc: boolean): void {
  if (acc) {
    c[o] = c[o]! + s0; c[o + 1] = c[o + 1]! + s1; c[o + 2] = c[o + 2]! + s2; c[o + 3] = c[o + 3]! + s3;
  } else {
    c[o] = s0; c[o + 1] = s1; c[o + 2] = s2; c[o + 3] = s3;
  }
}

function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, K: number): number {
  let s = 0;
  for (let k = 0; k < K; k++) s += a[ao + k]! * b[bo + k]!;
  return s;
}

/** out (C, R) = x (R, C)^T. */
export function transpose(x: Float32Array, R: number, C: number, out = new Float32Array(R * C)): Float32Array {
  // Blocked so that both reads and writes stay within a few cache lines.
  const BS = 32;
  for (let r0 = 0; r0 < R; r0 += BS) {
    const r1 = Math.min(R, r0 + BS);
    for (let c0 = 0; c0 < C; c0 += BS) {
      const c1 = Math.min(C, c0 + BS);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) out[c * R + r] = x[r * C + c]!;
    }
  }
  return out;
}
