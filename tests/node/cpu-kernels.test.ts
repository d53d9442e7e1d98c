/**
 * The CPU backend's kernels against hand-computed values and finite differences.
 * Every backward kernel is checked against central differences of its forward kernel on a
 * random scalar projection L = sum(out * R) (so dOut = R).
 */
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.ts';
import type { Tensor } from '../../src/backend/backend.ts';
import { Rng } from '../../src/util/rng.ts';
import { expectClose, fdGrad, randn } from './helpers/fd.ts';

const b = new CpuBackend();
const data = (t: Tensor) => b.view(t) as Float32Array;
const dot = (x: Float32Array, y: Float32Array) => x.reduce((s, v, i) => s + v * y[i]!, 0);

/** Checks analytic gradients of inputs against finite differences at a few sampled indices. */
function checkGrads(
  inputs: Tensor[], forward: () => Float32Array, R: Float32Array, grads: Tensor[], rng: Rng, samples = 12, h = 1e-2,
  atol = 2e-3, rtol = 2e-2,
) {
  const loss = () => dot(forward(), R);
  inputs.forEach((x, k) => {
    const xd = data(x);
    const idx = Array.from({ length: Math.min(samples, xd.length) }, () => rng.int(xd.length));
    const fd = idx.map((i) => fdGrad(xd, i, loss, h));
    const an = idx.map((i) => data(grads[k]!)[i]!);
    expectClose(an, fd, atol, rtol, `input ${k}`);
  });
}

describe('cpu matmul', () => {
  it('matches a hand-computed product in every layout', () => {
    const A = b.fromArray(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]); // [[1,2,3],[4,5,6]]
    const B = b.fromArray(new Float32Array([7, 8, 9, 10, 11, 12]), [3, 2]); // [[7,8],[9,10],[11,12]]
    const out = b.zeros([2, 2]);
    b.matmul(A, B, out);
    expect(Array.from(data(out))).toEqual([58, 64, 139, 154]);
    const Bt = b.fromArray(new Float32Array([7, 9, 11, 8, 10, 12]), [2, 3]);
    b.matmul(A, Bt, out, { transB: true });
    expect(Array.from(data(out))).toEqual([58, 64, 139, 154]);
    const At = b.fromArray(new Float32Array([1, 4, 2, 5, 3, 6]), [3, 2]);
    b.matmul(At, B, out, { transA: true, accumulate: true });
    expect(Array.from(data(out))).toEqual([116, 128, 278, 308]);
    expect(() => b.matmul(A, A, out)).toThrow(/inner dimensions/);
  });

  it('agrees with a naive triple loop on awkward shapes', () => {
    const rng = new Rng(1);
    for (const [M, K, N] of [[1, 1, 1], [5, 7, 3], [13, 17, 9], [8, 4, 12], [33, 65, 31]] as const) {
      const a = randn(M * K, rng), bb = randn(K * N, rng);
      const out = b.zeros([M, N]);
      b.matmul(b.fromArray(a, [M, K]), b.fromArray(bb, [K, N]), out);
      const ref = new Float32Array(M * N);
      for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) { let s = 0; for (let k = 0; k < K; k++) s += a[i * K + k]! * bb[k * N + j]!; ref[i * N + j] = s; }
      expectClose(data(out), ref, 1e-5, 1e-5, `${M}x${K}x${N}`);
    }
  });
});

describe('cpu layer kernels: forward values and finite-difference gradients', () => {
  it('embedding', () => {
    const table = b.fromArray(new Float32Array([0, 1, 10, 11, 20, 21]), [3, 2]);
    const ids = b.fromArray(new Int32Array([2, 0, 2]), [3]);
    const out = b.zeros([3, 2]);
    b.embeddingForward(ids, table, out);
    expect(Array.from(data(out))).toEqual([20, 21, 0, 1, 20, 21]);
    const dT = b.zeros([3, 2]);
    b.embeddingBackward(ids, b.fromArray(new Float32Array([1, 2, 3, 4, 5, 6]), [3, 2]), dT);
    expect(Array.from(data(dT))).toEqual([3, 4, 0, 0, 6, 8]);
    expect(() => b.embeddingForward(b.fromArray(new Int32Array([3]), [1]), table, b.zeros([1, 2]))).toThrow(/outside/);
  });

  it('rmsnorm', () => {
    const rng = new Rng(2);
    const N = 5, C = 7;
    const x = b.fromArray(randn(N * C, rng), [N, C]), w = b.fromArray(randn(C, rng), [C]);
    const out = b.zeros([N, C]), rstd = b.zeros([N]);
    // Hand check of row 0: out = x / sqrt(mean x^2 + eps) * w.
    b.rmsnormForward(x, w, out, rstd, 1e-5);
    const x0 = data(x).subarray(0, C);
    const r = 1 / Math.sqrt(x0.reduce((s, v) => s + v * v, 0) / C + 1e-5);
    expectClose(data(out).subarray(0, C), x0.map((v, c) => v * r * data(w)[c]!), 1e-6, 1e-5, 'row 0');
    const R = randn(N * C, rng), dX = b.zeros([N, C]), dW = b.zeros([C]);
    b.rmsnormBackward(x, w, rstd, b.fromArray(R, [N, C]), dX, dW);
    checkGrads([x, w], () => { b.rmsnormForward(x, w, out, rstd, 1e-5); return data(out); }, R, [dX, dW], rng);
  });

  it('rope: rotate-half convention, norm-preserving, and its transpose', () => {
    const rng = new Rng(3);
    const N = 4, H = 3, D = 6;
    // Position 0 is the identity; hand-check one pair at position 1 for head 0, i = 0 (freq 1).
    const x = b.fromArray(randn(N * H * D, rng), [N, H * D]);
    const pos = b.fromArray(new Int32Array([0, 1, 5, 17]), [N]);
    const out = b.zeros([N, H * D]);
    b.ropeForward(x, pos, out, H, 10000);
    expectClose(data(out).subarray(0, H * D), data(x).subarray(0, H * D), 0, 0, 'position 0');
    const o = H * D; // row 1, head 0
    const x1 = data(x)[o]!, x2 = data(x)[o + 3]!;
    expect(data(out)[o]).toBeCloseTo(x1 * Math.cos(1) - x2 * Math.sin(1), 6);
    expect(data(out)[o + 3]).toBeCloseTo(x2 * Math.cos(1) + x1 * Math.sin(1), 6);
    const norm = (a: Float32Array) => Math.hypot(...a);
    expect(norm(data(out))).toBeCloseTo(norm(data(x)), 4);
    const R = randn(N * H * D, rng), dX = b.zeros([N, H * D]);
    b.ropeBackward(b.fromArray(R, [N, H * D]), pos, dX, H, 10000);
    checkGrads([x], () => { b.ropeForward(x, pos, out, H, 10000); return data(out); }, R, [dX], rng);
  });

  it('attention: causal, ragged, against a naive softmax and finite differences', () => {
    const rng = new Rng(4);
    const H = 2, D = 4, C = H * D;
    // Two sequences of lengths 3 and 2 laid end to end.
    const kvStartArr = new Int32Array([0, 0, 0, 3, 3]), posArr = new Int32Array([0, 1, 2, 0, 1]);
    const N = 5;
    const q = b.fromArray(randn(N * C, rng), [N, C]), k = b.fromArray(randn(N * C, rng), [N, C]), v = b.fromArray(randn(N * C, rng), [N, C]);
    const kvStart = b.fromArray(kvStartArr, [N]), pos = b.fromArray(posArr, [N]);
    const out = b.zeros([N, C]), lse = b.zeros([N, H]);
    const scale = 1 / Math.sqrt(D);
    b.attentionForward(q, k, v, kvStart, pos, out, lse, H, scale);
    // Naive check for row 4 (sequence 2, position 1), head 1: attends to rows 3 and 4 only.
    const qd = data(q), kd = data(k), vd = data(v);
    const s = [3, 4].map((j) => scale * [0, 1, 2, 3].reduce((acc, d) => acc + qd[4 * C + D + d]! * kd[j * C + D + d]!, 0));
    const e = s.map((x) => Math.exp(x)), Z = e[0]! + e[1]!;
    for (let d = 0; d < D; d++) expect(data(out)[4 * C + D + d]).toBeCloseTo((e[0]! * vd[3 * C + D + d]! + e[1]! * vd[4 * C + D + d]!) / Z, 5);
    expect(data(lse)[4 * H + 1]).toBeCloseTo(Math.log(Z), 5);
    // Row 0 sees only itself: output = v row 0.
    expectClose(data(out).subarray(0, C), vd.subarray(0, C), 1e-6, 1e-6, 'row 0');
    const R = randn(N * C, rng), dQ = b.zeros([N, C]), dK = b.zeros([N, C]), dV = b.zeros([N, C]);
    b.attentionBackward(q, k, v, kvStart, pos, out, lse, b.fromArray(R, [N, C]), dQ, dK, dV, H, scale);
    checkGrads([q, k, v], () => { b.attentionForward(q, k, v, kvStart, pos, out, lse, H, scale); return data(out); }, R, [dQ, dK, dV], rng, 20);
  });

  it('swiglu', () => {
    const rng = new Rng(5);
    const n = 3 * 5;
    const g = b.fromArray(randn(n, rng, 2), [3, 5]), u = b.fromArray(randn(n, rng), [3, 5]), out = b.zeros([3, 5]);
    b.swigluForward(g, u, out);
    const g0 = data(g)[0]!;
    expect(data(out)[0]).toBeCloseTo((g0 / (1 + Math.exp(-g0))) * data(u)[0]!, 6);
    const R = randn(n, rng), dG = b.zeros([3, 5]), dU = b.zeros([3, 5]);
    b.swigluBackward(g, u, b.fromArray(R, [3, 5]), dG, dU);
    checkGrads([g, u], () => { b.swigluForward(g, u, out); return data(out); }, R, [dG, dU], rng);
  });

  it('log-softmax gather', () => {
    const rng = new Rng(6);
    const M = 4, V = 9;
    const logits = b.fromArray(randn(M * V, rng, 3), [M, V]);
    const targets = b.fromArray(new Int32Array([0, 8, 3, 3]), [M]);
    const lp = b.zeros([M]), lse = b.zeros([M]);
    b.logSoftmaxGatherForward(logits, targets, lp, lse);
    const row = Array.from(data(logits).subarray(V, 2 * V));
    expect(data(lp)[1]).toBeCloseTo(row[8]! - Math.log(row.reduce((s, x) => s + Math.exp(x), 0)), 5);
    const R = randn(M, rng), dL = b.zeros([M, V]);
    b.logSoftmaxGatherBackward(logits, targets, lse, b.fromArray(R, [M]), dL);
    checkGrads([logits], () => { b.logSoftmaxGatherForward(logits, targets, lp, lse); return data(lp); }, R, [dL], rng, 20);
  });
});

describe('cpu losses, optimizer and sampling', () => {
  it('policy loss: clipped surrogate values and gradient (recipe.md section 7)', () => {
    // ratios: exp(0)=1, exp(0.5)=1.65 (clipped for A>0), exp(-0.5)=0.61 (clipped for A<0), exp(0.1) unclipped for A<0.
    const lp = b.fromArray(new Float32Array([0, 0.5, -0.5, 0.1]), [4]);
    const old = b.zeros([4]);
    const adv = b.fromArray(new Float32Array([1, 2, -1, -3]), [4]);
    const w = b.fromArray(new Float32Array([0.25, 0.25, 0.25, 0.25]), [4]);
    const loss = b.zeros([1]), d = b.zeros([4]), stats = b.zeros([1]);
    b.policyLoss(lp, old, adv, w, 0.2, loss, d, stats);
    const r = [1, Math.exp(0.5), Math.exp(-0.5), Math.exp(0.1)];
    const expected = -0.25 * (1 * 1 + 1.2 * 2 + 0.8 * -1 + r[3]! * -3);
    expect(data(loss)[0]).toBeCloseTo(expected, 5);
    expect(Array.from(data(d)).map((x) => +x.toFixed(5))).toEqual([-0.25, 0, 0, +(0.25 * 3 * r[3]!).toFixed(5)]);
    expect(data(stats)[0]).toBeCloseTo(0.5, 6);
  });

  it('adamw: one step by hand', () => {
    const p = b.fromArray(new Float32Array([1, -2]), [2]);
    const g = b.fromArray(new Float32Array([0.5, -1]), [2]);
    const m = b.zeros([2]), v = b.zeros([2]);
    const scale = b.fromArray(new Float32Array([0.5]), [1]);
    b.adamw(p, g, m, v, scale, { lr: 0.1, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, step: 1 });
    // Bias-corrected first step: update = lr * sign(g); decay multiplies by (1 - lr wd).
    expect(data(p)[0]).toBeCloseTo(1 * 0.99 - 0.1, 6);
    expect(data(p)[1]).toBeCloseTo(-2 * 0.99 + 0.1, 6);
    expect(data(m)[0]).toBeCloseTo(0.1 * 0.25, 7);
    expect(data(v)[1]).toBeCloseTo(0.05 * 0.25, 7);
  });

  it('gradient clipping scale', () => {
    const g = b.fromArray(new Float32Array([3, 4]), [2]);
    const ss = b.zeros([1]), sc = b.zeros([1]);
    b.sumSquares(g, ss, false);
    b.clipScale(ss, 1, sc);
    expect(data(sc)[0]).toBeCloseTo(0.2, 6);
    b.clipScale(ss, 10, sc);
    expect(data(sc)[0]).toBe(1);
  });

  it('sampling: greedy, top-p, inverse-CDF draw, policy log-prob', () => {
    const logits = b.fromArray(new Float32Array([Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)]), [1, 4]);
    const tok = b.zeros([1], 'i32'), lp = b.zeros([1]);
    const draw = (u: number, temperature: number, topP: number) => {
      b.sample(logits, b.fromArray(new Float32Array([u]), [1]), tok, lp, { temperature, topP });
      return (b.view(tok) as Int32Array)[0];
    };
    expect(draw(0.99, 0, 1)).toBe(0);
    expect(draw(0.49, 1, 1)).toBe(0);
    expect(draw(0.51, 1, 1)).toBe(1);
    expect(draw(0.81, 1, 1)).toBe(2);
    expect(draw(0.96, 1, 1)).toBe(3);
    // top-p 0.75 keeps {0, 1} (mass 0.8): u = 0.7 -> 0.7 * 0.8 = 0.56 > 0.5 -> token 1.
    expect(draw(0.7, 1, 0.75)).toBe(1);
    expect(draw(0.99, 1, 0.75)).toBe(1);
    expect(data(lp)[0]).toBeCloseTo(Math.log(0.3), 5);
    // top-p 0.5 keeps token 0 alone.
    expect(draw(0.99, 1, 0.5)).toBe(0);
  });
});
