/**
 * The CPU backend: plain TypeScript, synchronous, single-threaded. It is slow and meant to be
 * obviously right: every other backend's kernels are tested against it, and it runs the whole
 * pipeline headless in Node. Kernels live in matmul.ts, layers.ts and softmax.ts; this class
 * only checks shapes and dispatches.
 */
import {
  appliesScale, checkReshape, expectShape, shapeSize, SKIP_SCALE,
  type AdamWParams, type Backend, type DType, type MatmulOptions, type RopeScaling, type SampleParams, type Tensor,
} from '../backend.ts';
import { CpuTensor, f32, i32 } from './tensor.ts';
import { matmulNT, transpose } from './matmul.ts';
import * as L from './layers.ts';
import * as S from './softmax.ts';

export class CpuBackend implements Backend {
  readonly name = 'cpu';

  zeros(shape: readonly number[], dtype: DType = 'f32'): Tensor {
    const n = shapeSize(shape);
    return new CpuTensor([...shape], dtype, dtype === 'f32' ? new Float32Array(n) : new Int32Array(n));
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
    const yd = f32(y, 'axpy y'), xd = f32(x, 'axpy x');
    if (yd.length !== xd.length) throw new Error(`axpy: sizes differ (${yd.length} vs ${xd.length})`);
    for (let i = 0; i < yd.length; i++) yd[i] = yd[i]! + alpha * xd[i]!;
  }

  sumSquares(x: Tensor, out: Tensor, accumulate: boolean): void {
    const xd = f32(x), o = f32(out);
    let s = 0;
    for (let i = 0; i < xd.length; i++) s += xd[i]! * xd[i]!;
    o[0] = (accumulate ? o[0]! : 0) + s;
  }

  clipScale(sumSq: Tensor, maxNorm: number, scale: Tensor, guard?: Tensor): void {
    const sq = f32(sumSq)[0]!;
    if (!Number.isFinite(sq) || (guard && !Number.isFinite(f32(guard)[0]!))) {
      f32(scale)[0] = SKIP_SCALE; // adamw skips the step
      return;
    }
    f32(scale)[0] = Math.min(1, maxNorm / (Math.sqrt(sq) + 1e-6));
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
    const C = rowWidth(src), R = src.size / C;
    for (let m = 0; m < ix.length; m++) {
      const r = ix[m]!;
      if (r < 0 || r >= R) throw new RangeError(`gatherRows: row ${r} outside [0, ${R})`);
      o.set(s.subarray(r * C, r * C + C), m * C);
    }
  }

  scatterAddRows(src: Tensor, idx: Tensor, dst: Tensor): void {
    const s = f32(src), ix = i32(idx), d = f32(dst);
    const C = rowWidth(dst);
    for (let m = 0; m < ix.length; m++) {
      const o = ix[m]! * C;
      for (let c = 0; c < C; c++) d[o + c] = d[o + c]! + s[m * C + c]!;
    }
  }

  scatterRows(src: Tensor, idx: Tensor, dst: Tensor): void {
    const s = f32(src), ix = i32(idx), d = f32(dst);
    const C = rowWidth(dst), R = dst.size / C;
    for (let m = 0; m < ix.length; m++) {
      const r = ix[m]!;
      if (r < 0 || r >= R) throw new RangeError(`scatterRows: row ${r} outside [0, ${R})`);
      d.set(s.subarray(m * C, m * C + C), r * C);
    }
  }

  embeddingForward(ids: Tensor, table: Tensor, out: Tensor): void {
    L.embeddingForward(i32(ids, 'ids'), f32(table), f32(out), rowWidth(table));
  }

  embeddingBackward(ids: Tensor, dOut: Tensor, dTable: Tensor): void {
    L.embeddingBackward(i32(ids, 'ids'), f32(dOut), f32(dTable), rowWidth(dTable));
  }

  rmsnormForward(x: Tensor, w: Tensor, out: Tensor, rstd: Tensor, eps: number): void {
    L.rmsnormForward(f32(x), f32(w), f32(out), f32(rstd), w.size, eps);
  }

  rmsnormBackward(x: Tensor, w: Tensor, rstd: Tensor, dOut: Tensor, dX: Tensor, dW: Tensor): void {
    L.rmsnormBackward(f32(x), f32(w), f32(rstd), f32(dOut), f32(dX), f32(dW), w.size);
  }

  ropeForward(x: Tensor, positions: Tensor, out: Tensor, heads: number, theta: number, scaling?: RopeScaling): void {
    const D = rowWidth(x) / heads;
    L.ropeApply(f32(x), i32(positions, 'positions'), f32(out), heads, D, theta, 1, false, scaling);
  }

  ropeBackward(dOut: Tensor, positions: Tensor, dX: Tensor, heads: number, theta: number, scaling?: RopeScaling): void {
    const D = rowWidth(dOut) / heads;
    L.ropeApply(f32(dOut), i32(positions, 'positions'), f32(dX), heads, D, theta, -1, true, scaling);
  }

  attentionForward(
    q: Tensor, k: Tensor, v: Tensor, kvStart: Tensor, pos: Tensor, out: Tensor, lse: Tensor, heads: number, scale: number,
  ): void {
    const D = rowWidth(q) / heads;
    L.attentionForward(f32(q), f32(k), f32(v), i32(kvStart), i32(pos), f32(out), f32(lse), heads, D, scale);
  }

  attentionBackward(
    q: Tensor, k: Tensor, v: Tensor, kvStart: Tensor, pos: Tensor, out: Tensor, lse: Tensor,
    dOut: Tensor, dQ: Tensor, dK: Tensor, dV: Tensor, heads: number, scale: number,
  ): void {
    const D = rowWidth(q) / heads;
    L.attentionBackward(
      f32(q), f32(k), f32(v), i32(kvStart), i32(pos), f32(out), f32(lse), f32(dOut), f32(dQ), f32(dK), f32(dV), heads, D, scale,
    );
  }

  swigluForward(gate: Tensor, up: Tensor, out: Tensor): void {
    L.swigluForward(f32(gate), f32(up), f32(out));
  }

  swigluBackward(gate: Tensor, up: Tensor, dOut: Tensor, dGate: Tensor, dUp: Tensor): void {
    L.swigluBackward(f32(gate), f32(up), f32(dOut), f32(dGate), f32(dUp));
  }

  logSoftmaxGatherForward(logits: Tensor, targets: Tensor, logProbs: Tensor, lse: Tensor): void {
    S.logSoftmaxGatherForward(f32(logits), i32(targets, 'targets'), f32(logProbs), f32(lse), rowWidth(logits));
  }

  logSoftmaxGatherBackward(logits: Tensor, targets: Tensor, lse: Tensor, dLogProbs: Tensor, dLogits: Tensor): void {
    S.logSoftmaxGatherBackward(f32(logits), i32(targets), f32(lse), f32(dLogProbs), f32(dLogits), rowWidth(logits));
  }

  policyLoss(
    logProbs: Tensor, oldLogProbs: Tensor, advantages: Tensor, weights: Tensor, clipEps: number,
    loss: Tensor, dLogProbs: Tensor, stats: Tensor,
  ): void {
    const lp = f32(logProbs), old = f32(oldLogProbs), adv = f32(advantages), w = f32(weights);
    const d = f32(dLogProbs);
    let total = 0, clipped = 0;
    for (let m = 0; m < lp.length; m++) {
      const wm = w[m]!;
      if (wm === 0) continue;
      const r = Math.exp(lp[m]! - old[m]!);
      const a = adv[m]!;
      const surr1 = r * a;
      const surr2 = Math.min(Math.max(r, 1 - clipEps), 1 + clipEps) * a;
      if (surr1 <= surr2) {
        total -= wm * surr1;
        d[m] = d[m]! - wm * a * r; // d(r a)/d logp = r a
      } else {
        total -= wm * surr2; // clipped branch: constant in logp
        clipped += wm;
      }
    }
    f32(loss)[0] = f32(loss)[0]! + total;
    f32(stats)[0] = f32(stats)[0]! + clipped;
  }

  nllLoss(logProbs: Tensor, weights: Tensor, loss: Tensor, dLogProbs: Tensor): void {
    const lp = f32(logProbs), w = f32(weights), d = f32(dLogProbs);
    let total = 0;
    for (let m = 0; m < lp.length; m++) {
      total -= w[m]! * lp[m]!;
      d[m] = d[m]! - w[m]!;
    }
    f32(loss)[0] = f32(loss)[0]! + total;
  }

  adamw(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, gradScale: Tensor, p: AdamWParams): void {
    const w = f32(param), g = f32(grad), md = f32(m), vd = f32(v);
    const s = f32(gradScale)[0]!;
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

  sample(logits: Tensor, uniforms: Tensor, tokens: Tensor, logProbs: Tensor, p: SampleParams): void {
    S.sampleRows(f32(logits), f32(uniforms), i32(tokens), f32(logProbs), rowWidth(logits), p.temperature, p.topP);
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
