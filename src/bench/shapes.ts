/**
 * The matmul shapes a training step of a model preset runs (src/model/llama.ts), in the three
 * layouts the forward and backward passes use, for a batch of `rows` token rows.
 *
 * Legend: N token rows, C hidden size, F MLP width, V vocabulary.
 *   forward  x W^T       (N, K) x (Nout, K)^T   layout NT (transB)
 *   backward dY W        (N, Nout) x (Nout, K)  layout NN
 *   weights  X^T dY      (K, N)^T x (N, Nout)   layout TN (transA), inner dimension N
 */
import type { MatmulOptions } from '../backend/backend.ts';

/** One product C (M, N) = op(A) op(B) with inner dimension K. */
export interface MatmulShape {
  /** e.g. `qkvo NT`, the layer and the layout. */
  name: string;
  M: number;
  N: number;
  K: number;
  opts: MatmulOptions;
  /** How many times one training step runs this product (all layers). */
  perStep: number;
}

/** Sizes that decide the shapes. */
export interface ShapeDims {
  C: number;
  F: number;
  V: number;
  layers: number;
}

/** The 12 products of a training step (4 weight groups x 3 layouts) for `rows` token rows. */
export function trainingMatmuls(d: ShapeDims, rows: number): MatmulShape[] {
  const { C, F, V, layers: L } = d;
  const NT: MatmulOptions = { transB: true }, NN: MatmulOptions = {}, TN: MatmulOptions = { transA: true, accumulate: true };
  return [
    { name: 'qkvo NT', M: rows, N: C, K: C, opts: NT, perStep: 4 * L },
    { name: 'gate/up NT', M: rows, N: F, K: C, opts: NT, perStep: 2 * L },
    { name: 'down NT', M: rows, N: C, K: F, opts: NT, perStep: L },
    { name: 'head NT', M: rows, N: V, K: C, opts: NT, perStep: 1 },
    { name: 'qkvo NN', M: rows, N: C, K: C, opts: NN, perStep: 4 * L },
    { name: 'down NN', M: rows, N: F, K: C, opts: NN, perStep: L },
    { name: 'gate/up NN', M: rows, N: C, K: F, opts: NN, perStep: 2 * L },
    { name: 'head NN', M: rows, N: C, K: V, opts: NN, perStep: 1 },
    { name: 'qkvo TN', M: C, N: C, K: rows, opts: TN, perStep: 4 * L },
    { name: 'down TN', M: C, N: F, K: rows, opts: TN, perStep: L },
    { name: 'gate/up TN', M: F, N: C, K: rows, opts: TN, perStep: 2 * L },
    { name: 'head TN', M: V, N: C, K: rows, opts: TN, perStep: 1 },
  ];
}

/** Shapes of A and B as stored for a product. */
export function operandShapes(s: MatmulShape): { a: [number, number]; b: [number, number] } {
  return {
    a: s.opts.transA ? [s.K, s.M] : [s.M, s.K],
    b: s.opts.transB ? [s.N, s.K] : [s.K, s.N],
  };
}
