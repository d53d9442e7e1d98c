/**
 * The CPU backend: plain TypeScript, synchronous, single-threaded. It is slow and meant to be
 * obviously right: every other backend's kernels are tested against it, and it runs the whole
 * pipeline headless in Node. Kernels live in one file per op family, named as in
 * wasm/kernels/ and webgpu/kernels/ (matmul, rows, norm, rope, attention, swiglu, softmax,
 * loss, optimizer, sampling, elementwise); this class only checks shapes and dispatches.
 */
import {
  checkReshape, expectShape, shapeSize,
  type AdamWParams, type Backend, type DType, type MatmulOptions, type RopeScaling, type SampleParams, type Tensor,
} from '../backend.ts';
import { CpuTensor, f32, i32 } from './tensor.ts';
import { matmulNT, transpose } from './matmul.ts';
import * as EW from './elementwise.ts';
import * as ROWS from './rows.ts';
import * as NORM from './norm.ts';
import * as ROPE from './rope.ts';
import * as ATT from './attention.ts';
import * as SWIGLU from './swiglu.ts';
import * as SM from './softmax.ts';
import * as LOSS from './loss.ts';
import * as OPT from './optimizer.ts';
import { sampleRows } from './sampling.ts';

export class CpuBackend implements Backend {
  readonly name = 'cpu';

  zeros(shape: readonly number[], dtype: DType = 'f32'): Tensor {
    const n = shapeSize(shape);
    return new CpuTensor([...shape], dtype, dtype === 'f32' ? new Float32Array(n) : new Int32Array(n));
  }

  /** Zeros: a fresh typed array costs nothing more. */
  empty(shape: readonly number[], dtype: DType = 'f32'): Tensor {
    return this.zeros(shape, dtype);
  }

  fromArray(data: Float32Array | Int32Array, shape: readonly number[]): Tensor {
    const dtype: DType = data instanceof Int32Array ? 'i32' : 'f32';
    return new CpuTensor([...shape], dtype, data.slice());
  }

  write(t: Tensor, data: Float32Array | Int32Array, offset = 0): void {
    const d = (t as CpuTensor).data;
    if ((data instanceof Int32Array) !== (d instanceof Int32Array)) throw new Error(`write: dtype mismatch (tensor is ${t.dtype})`);
    if (offset + data.length > d.length) throw new RangeError(`write: ${data.length} elements at ${offset} overflow a tensor of ${d.length}`);
    d.set(data, offset);
  }

  async read(t: Tensor): Promise<Float32Array | Int32Array> {
    return (t as CpuTensor).data.slice();
  }

  /** Synchronous read (CPU only): the tensor's own array, not a copy. */
  view(t: Tensor): Float32Array | Int32Array {
    return (t as CpuTensor).data;
  }

  fill(t: Tensor, value: number): void {
    (t as CpuTensor).data.fill(value);
  }

  copy(src: Tensor, dst: Tensor, srcOffset = 0, dstOffset = 0, count = src.size - srcOffset): void {
    const s = (src as CpuTensor).data, d = (dst as CpuTensor).data;
    if (srcOffset + count > s.length || dstOffset + count > d.length) throw new RangeError('copy: range out of bounds');
    d.set(s.subarray(srcOffset, srcOffset + count), dstOffset);
  }

  dispose(t: Tensor): void {
    (t as CpuTensor).data = new Float32Array(0);
  }

  reshape(t: Tensor, shape: readonly number[]): Tensor {
    checkReshape(t, shape);
    const c = t as CpuTensor;
    return new CpuTensor([...shape], c.dtype, c.data);
  }

  async sync(): Promise<void> {}

  axpy(y: Tensor, x: Tensor, alpha: number): void {
    EW.axpy(f32(y, 'axpy y'), f32(x, 'axpy x'), alpha);
  }

  sumSquares(x: Tensor, out: Tensor, accumulate: boolean): void {
    OPT.sumSquares(f32(x), f32(out), accumulate);
  }

  clipScale(sumSq: Tensor, maxNorm: number, scale: Tensor, guard?: Tensor): void {
    OPT.clipScale(f32(sumSq), maxNorm, f32(scale), guard && f32(guard));
  }

  matmul(a: Tensor, b: Tensor, out: Tensor, opts: MatmulOptions = {}): void {
    const [ar, ac] = dims2(a, 'matmul A'), [br, bc] = dims2(b, 'matmul B');
    const M = opts.transA ? ac : ar, K = opts.transA ? ar : ac;
    const N = opts.transB ? br : bc, Kb = opts.transB ? bc : br;
    if (K !== Kb) throw new Error(`matmul: inner dimensions differ (A gives K=${K}, B gives K=${Kb})`);
    expectShape(out, [M, N], 'matmul out');
    const A = opts.transA ? transpose(f32(a), ar, ac) : f32(a);
    const B = opts.transB ? f32(b) : transpose(f32(b), br, bc);
    matmulNT(A, B, f32(out), M, N, K, !!opts.accumulate);
  }

  gatherRows(src: Tensor, idx: Tensor, out: Tensor): void {
    const s = f32(src), ix = i32(idx), o = f32(out);
    const C = rowWidth(src);
    ROWS.gatherRows(s, ix, o, C, src.size / C);
  }

  scatterAddRows(src: Tensor, idx: Tensor, dst: Tensor): void {
    ROWS.scatterAddRows(f32(src), i32(idx), f32(dst), rowWidth(dst));
  }

  scatterRows(src: Tensor, idx: Tensor, dst: Tensor): void {
    const s = f32(src), ix = i32(idx), d = f32(dst);
    const C = rowWidth(dst);
    ROWS.scatterRows(s, ix, d, C, dst.size / C);
  }

  embeddingForward(ids: Tensor, table: Tensor, out: Tensor): void {
    ROWS.embeddingForward(i32(ids, 'ids'), f32(table), f32(out), rowWidth(table));
  }

  embeddingBackward(ids: Tensor, dOut: Tensor, dTable: Tensor): void {
    ROWS.embeddingBackward(i32(ids, 'ids'), f32(dOut), f32(dTable), rowWidth(dTable));
  }

  rmsnormForward(x: Tensor, w: Tensor, out: Tensor, rstd: Tensor, eps: number): void {
    NORM.rmsnormForward(f32(x), f32(w), f32(out), f32(rstd), w.size, eps);
  }

  rmsnormBackward(x: Tensor, w: Tensor, rstd: Tensor, dOut: Tensor, dX: Tensor, dW: Tensor): void {
    NORM.rmsnormBackward(f32(x), f32(w), f32(rstd), f32(dOut), f32(dX), f32(dW), w.size);
  }

  ropeForward(x: Tensor, positions: Tensor, out: Tensor, heads: number, theta: number, scaling?: RopeScaling): void {
    const D = rowWidth(x) / heads;
    ROPE.ropeApply(f32(x), i32(positions, 'positions'), f32(out), heads, D, theta, 1, false, scaling);
  }

  ropeBackward(dOut: Tensor, positions: Tensor, dX: Tensor, heads: number, theta: number, scaling?: RopeScaling): void {
    const D = rowWidth(dOut) / heads;
    ROPE.ropeApply(f32(dOut), i32(positions, 'positions'), f32(dX), heads, D, theta, -1, true, scaling);
  }

  attentionForward(
    q: Tensor, k: Tensor, v: Tensor, kvStart: Tensor, pos: Tensor, out: Tensor, lse: Tensor, heads: number, scale: number,
  ): void {
    const D = rowWidth(q) / heads;
    ATT.attentionForward(f32(q), f32(k), f32(v), i32(kvStart), i32(pos), f32(out), f32(lse), heads, D, scale);
  }

  attentionBackward(
    q: Tensor, k: Tensor, v: Tensor, kvStart: Tensor, pos: Tensor, out: Tensor, lse: Tensor,
    dOut: Tensor, dQ: Tensor, dK: Tensor, dV: Tensor, heads: number, scale: number,
  ): void {
    const D = rowWidth(q) / heads;
    ATT.attentionBackward(
      f32(q), f32(k), f32(v), i32(kvStart), i32(pos), f32(out), f32(lse), f32(dOut), f32(dQ), f32(dK), f32(dV), heads, D, scale,
    );
  }

  swigluForward(gate: Tensor, up: Tensor, out: Tensor): void {
    SWIGLU.swigluForward(f32(gate), f32(up), f32(out));
  }

  swigluBackward(gate: Tensor, up: Tensor, dOut: Tensor, dGate: Tensor, dUp: Tensor): void {
    SWIGLU.swigluBackward(f32(gate), f32(up), f32(dOut), f32(dGate), f32(dUp));
  }

  logSoftmaxGatherForward(logits: Tensor, targets: Tensor, logProbs: Tensor, lse: Tensor): void {
    SM.logSoftmaxGatherForward(f32(logits), i32(targets, 'targets'), f32(logProbs), f32(lse), rowWidth(logits));
  }

  logSoftmaxGatherBackward(logits: Tensor, targets: Tensor, lse: Tensor, dLogProbs: Tensor, dLogits: Tensor): void {
    SM.logSoftmaxGatherBackward(f32(logits), i32(targets), f32(lse), f32(dLogProbs), f32(dLogits), rowWidth(logits));
  }

  policyLoss(
    logProbs: Tensor, oldLogProbs: Tensor, advantages: Tensor, weights: Tensor, clipEps: number,
    loss: Tensor, dLogProbs: Tensor, stats: Tensor,
  ): void {
    LOSS.policyLoss(f32(logProbs), f32(oldLogProbs), f32(advantages), f32(weights), clipEps, f32(loss), f32(dLogProbs), f32(stats));
  }

  nllLoss(logProbs: Tensor, weights: Tensor, loss: Tensor, dLogProbs: Tensor): void {
    LOSS.nllLoss(f32(logProbs), f32(weights), f32(loss), f32(dLogProbs));
  }

  adamw(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, gradScale: Tensor, p: AdamWParams): void {
    OPT.adamw(f32(param), f32(grad), f32(m), f32(v), f32(gradScale), p);
  }

  sample(logits: Tensor, uniforms: Tensor, tokens: Tensor, logProbs: Tensor, p: SampleParams): void {
    sampleRows(f32(logits), f32(uniforms), i32(tokens), f32(logProbs), rowWidth(logits), p.temperature, p.topP);
  }
}

function dims2(t: Tensor, what: string): [number, number] {
  if (t.shape.length !== 2) throw new Error(`${what}: expected a 2-D tensor, got shape [${t.shape.join(', ')}]`);
  return [t.shape[0]!, t.shape[1]!];
}

/** Width of a row: the product of every dimension after the first. */
function rowWidth(t: Tensor): number {
  return t.shape.length <= 1 ? 1 : t.size / t.shape[0]!;
}
