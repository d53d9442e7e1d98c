/**
 * Kernel parity cases: each builds its inputs from a seeded generator (so both backends get
 * the same numbers), runs one forward or backward op family, and reads every output. Shapes
 * are deliberately awkward: no dimension is a multiple of the matmul tile (32), of 4, or of a
 * workgroup size, and index tensors repeat rows, so edge and remainder paths run.
 */
import type { Backend, Tensor } from '../../src/backend/backend.ts';
import { Rng } from '../../src/util/rng.ts';
import type { Tolerance } from './compare.ts';

export type Outputs = Record<string, Float32Array | Int32Array>;

export interface KernelCase {
  name: string;
  tol?: Tolerance;
  run(b: Backend, rng: Rng): Promise<Outputs>;
}

function randn(rng: Rng, n: number, std = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * std;
  return a;
}

function randInts(rng: Rng, n: number, lo: number, hi: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + rng.int(hi - lo);
  return a;
}

async function readAll(b: Backend, ts: Record<string, Tensor>): Promise<Outputs> {
  const out: Outputs = {};
  for (const [k, t] of Object.entries(ts)) out[k] = await b.read(t);
  return out;
}

/** A ragged batch: sequences of the given lengths end to end (kvStart, pos per row). */
function ragged(lengths: number[]): { kvStart: Int32Array; pos: Int32Array } {
  const N = lengths.reduce((a, b) => a + b, 0);
  const kvStart = new Int32Array(N), pos = new Int32Array(N);
  let n = 0;
  for (const L of lengths) {
    const s = n;
    for (let t = 0; t < L; t++, n++) { kvStart[n] = s; pos[n] = t; }
  }
  return { kvStart, pos };
}

function matmulCase(M: number, N: number, K: number, transA: boolean, transB: boolean, accumulate: boolean): KernelCase {
  return {
    name: `matmul M${M} N${N} K${K}${transA ? ' transA' : ''}${transB ? ' transB' : ''}${accumulate ? ' accumulate' : ''}`,
    async run(b, rng) {
      const a = b.fromArray(randn(rng, M * K), transA ? [K, M] : [M, K]);
      const bb = b.fromArray(randn(rng, K * N), transB ? [N, K] : [K, N]);
      const out = b.fromArray(randn(rng, M * N), [M, N]);
      b.matmul(a, bb, out, { transA, transB, accumulate });
      return readAll(b, { out });
    },
  };
}

export const KERNEL_CASES: KernelCase[] = [
  matmulCase(37, 29, 45, false, false, false),
  matmulCase(37, 29, 45, false, true, true),
  matmulCase(29, 37, 45, true, false, true),
  matmulCase(70, 33, 67, true, true, false),
  matmulCase(1, 41, 17, false, true, false),
  matmulCase(33, 5, 1, false, false, true),
  {
    name: 'fill, copy (offsets, within one tensor, overlapping), axpy',
    async run(b, rng) {
      const x = b.fromArray(randn(rng, 301), [301]);
      const y = b.fromArray(randn(rng, 301), [301]);
      b.axpy(y, x, -0.37);
      const z = b.zeros([7, 43]);
      b.copy(y, z, 5, 11, 250);
      b.copy(z, z, 11, 190, 60); // disjoint ranges of one tensor
      b.copy(z, z, 20, 27, 100); // overlapping ranges
      const f = b.zeros([13]);
      b.fill(f, 2.5);
      const i = b.zeros([9], 'i32');
      b.fill(i, -3);
      return readAll(b, { y, z, f, i });
    },
  },
  {
    // On a GPU backend, uploads run at once while kernels wait in a command buffer: a write
    // to a tensor that recorded kernels read, or a freed buffer handed to a new upload, must
    // not change what those kernels see.
    name: 'uploads never overtake recorded kernels; an input that is also the output',
    async run(b, rng) {
      const n = 45;
      const x = b.fromArray(randn(rng, n), [n]), y = b.zeros([n]);
      b.axpy(y, x, 1);
      b.write(x, randn(rng, n));
      b.axpy(y, x, 1); // y = x_old + x_new
      const z = b.zeros([n]);
      for (let i = 0; i < 3; i++) {
        const t = b.fromArray(randn(rng, n), [n]);
        b.axpy(z, t, i + 1);
        b.dispose(t); // the next upload may not land in this buffer before the axpy runs
      }
      b.axpy(z, z, 2); // z = 3 z
      return readAll(b, { y, z });
    },
  },
  {
    name: 'sumSquares, clipScale',
    async run(b, rng) {
      const x = b.fromArray(randn(rng, 1037), [1037]);
      const y = b.fromArray(randn(rng, 45, 0.01), [45]);
      const s1 = b.zeros([1]), s2 = b.zeros([1]), c1 = b.zeros([1]), c2 = b.zeros([1]);
      b.sumSquares(x, s1, false);
      b.sumSquares(y, s1, true);
      b.sumSquares(y, s2, false);
      b.clipScale(s1, 1.0, c1); // clips
      b.clipScale(s2, 1.0, c2); // does not
      return readAll(b, { s1, s2, c1, c2 });
    },
  },
  {
    name: 'gatherRows, scatterRows, scatterAddRows (repeated rows)',
    async run(b, rng) {
      const R = 23, C = 13, M = 31;
      const src = b.fromArray(randn(rng, R * C), [R, C]);
      const idx = b.fromArray(randInts(rng, M, 0, R), [M]);
      const g = b.zeros([M, C]);
      b.gatherRows(src, idx, g);
      const rows = b.fromArray(randn(rng, M * C), [M, C]);
      const acc = b.fromArray(randn(rng, R * C), [R, C]);
      b.scatterAddRows(rows, idx, acc);
      const put = b.fromArray(randn(rng, R * C), [R, C]);
      b.scatterRows(rows, idx, put); // repeated rows: the last write wins
      return readAll(b, { g, acc, put });
    },
  },
  {
    name: 'embedding forward and backward (repeated ids)',
    async run(b, rng) {
      const V = 41, C = 13, N = 29;
      const table = b.fromArray(randn(rng, V * C), [V, C]);
      const ids = b.fromArray(randInts(rng, N, 0, V), [N]);
      const out = b.zeros([N, C]);
      b.embeddingForward(ids, table, out);
      const dOut = b.fromArray(randn(rng, N * C), [N, C]);
      const dTable = b.fromArray(randn(rng, V * C), [V, C]);
      b.embeddingBackward(ids, dOut, dTable);
      return readAll(b, { out, dTable });
    },
  },
  {
    name: 'rmsnorm forward and backward',
    async run(b, rng) {
      const N = 19, C = 70;
      const x = b.fromArray(randn(rng, N * C, 2), [N, C]);
      const w = b.fromArray(randn(rng, C), [C]);
      const out = b.zeros([N, C]), rstd = b.zeros([N]);
      b.rmsnormForward(x, w, out, rstd, 1e-5);
      const dOut = b.fromArray(randn(rng, N * C), [N, C]);
      const dX = b.fromArray(randn(rng, N * C), [N, C]);
      const dW = b.fromArray(randn(rng, C), [C]);
      b.rmsnormBackward(x, w, rstd, dOut, dX, dW);
      return readAll(b, { out, rstd, dX, dW });
    },
  },
  {
    name: 'rope forward (in place and not) and backward, positions past 1024',
    async run(b, rng) {
      const N = 23, H = 3, D = 10;
      const pos = randInts(rng, N, 0, 3000);
      pos[0] = 0;
      pos[1] = 1;
      const positions = b.fromArray(pos, [N]);
      const xData = randn(rng, N * H * D);
      const x = b.fromArray(xData, [N, H * D]);
      const out = b.zeros([N, H * D]);
      b.ropeForward(x, positions, out, H, 10000);
      const y = b.fromArray(xData, [N, H * D]);
      b.ropeForward(y, positions, y, H, 10000);
      const dOut = b.fromArray(randn(rng, N * H * D), [N, H * D]);
      const dX = b.fromArray(randn(rng, N * H * D), [N, H * D]);
      b.ropeBackward(dOut, positions, dX, H, 500);
      return readAll(b, { out, inPlace: y, dX });
    },
  },
  {
    name: 'attention forward and backward, ragged training batch',
    async run(b, rng) {
      const lengths = [1, 7, 40, 12], H = 3, D = 10, C = H * D;
      const { kvStart, pos } = ragged(lengths);
      const N = pos.length;
      const q = b.fromArray(randn(rng, N * C), [N, C]), k = b.fromArray(randn(rng, N * C), [N, C]);
      const v = b.fromArray(randn(rng, N * C), [N, C]);
      const ks = b.fromArray(kvStart, [N]), ps = b.fromArray(pos, [N]);
      const out = b.zeros([N, C]), lse = b.zeros([N, H]);
      const scale = 1 / Math.sqrt(D);
      b.attentionForward(q, k, v, ks, ps, out, lse, H, scale);
      const dOut = b.fromArray(randn(rng, N * C), [N, C]);
      const dQ = b.fromArray(randn(rng, N * C), [N, C]), dK = b.fromArray(randn(rng, N * C), [N, C]);
      const dV = b.fromArray(randn(rng, N * C), [N, C]);
      b.attentionBackward(q, k, v, ks, ps, out, lse, dOut, dQ, dK, dV, H, scale);
      return readAll(b, { out, lse, dQ, dK, dV });
    },
  },
  {
    name: 'attention forward and backward, rows reading a KV cache',
    async run(b, rng) {
      const slots = 3, maxLen = 45, H = 2, D = 6, C = H * D, R = slots * maxLen;
      const kvStart = Int32Array.from([0, 45, 45, 90, 0]), pos = Int32Array.from([44, 3, 17, 0, 9]);
      const N = pos.length;
      const q = b.fromArray(randn(rng, N * C), [N, C]);
      const k = b.fromArray(randn(rng, R * C), [R, C]), v = b.fromArray(randn(rng, R * C), [R, C]);
      const ks = b.fromArray(kvStart, [N]), ps = b.fromArray(pos, [N]);
      const out = b.zeros([N, C]), lse = b.zeros([N, H]);
      b.attentionForward(q, k, v, ks, ps, out, lse, H, 0.3);
      const dOut = b.fromArray(randn(rng, N * C), [N, C]);
      const dQ = b.zeros([N, C]), dK = b.zeros([R, C]), dV = b.zeros([R, C]);
      b.attentionBackward(q, k, v, ks, ps, out, lse, dOut, dQ, dK, dV, H, 0.3);
      return readAll(b, { out, lse, dQ, dK, dV });
    },
  },
  {
    name: 'swiglu forward and backward',
    async run(b, rng) {
      const n = 17 * 23;
      const g = randn(rng, n, 3);
      g[0] = -100; // silu's limit on the far negative side
      g[1] = 100;
      const gate = b.fromArray(g, [17, 23]), up = b.fromArray(randn(rng, n), [17, 23]);
      const out = b.zeros([17, 23]);
      b.swigluForward(gate, up, out);
      const dOut = b.fromArray(randn(rng, n), [17, 23]);
      const dGate = b.fromArray(randn(rng, n), [17, 23]), dUp = b.fromArray(randn(rng, n), [17, 23]);
      b.swigluBackward(gate, up, dOut, dGate, dUp);
      return readAll(b, { out, dGate, dUp });
    },
  },
  {
    name: 'log-softmax gather forward and backward',
    async run(b, rng) {
      const M = 13, V = 301;
      const logits = b.fromArray(randn(rng, M * V, 3), [M, V]);
      const targets = b.fromArray(randInts(rng, M, 0, V), [M]);
      const logProbs = b.zeros([M]), lse = b.zeros([M]);
      b.logSoftmaxGatherForward(logits, targets, logProbs, lse);
      const g = randn(rng, M);
      g[3] = 0; // rows with no gradient are skipped
      const dLogProbs = b.fromArray(g, [M]);
      const dLogits = b.fromArray(randn(rng, M * V), [M, V]);
      b.logSoftmaxGatherBackward(logits, targets, lse, dLogProbs, dLogits);
      return readAll(b, { logProbs, lse, dLogits });
    },
  },
  {
    name: 'policy loss (clipped surrogate) and nll loss',
    async run(b, rng) {
      const M = 301;
      const lp = randn(rng, M, 0.5);
      const old = lp.map((x) => x + rng.normal() * 0.3);
      const w = new Float32Array(M).map(() => (rng.next() < 0.2 ? 0 : rng.next() / 50));
      const logProbs = b.fromArray(lp, [M]), oldLogProbs = b.fromArray(old, [M]);
      const advantages = b.fromArray(randn(rng, M), [M]), weights = b.fromArray(w, [M]);
      const loss = b.fromArray(Float32Array.of(0.25), [1]), stats = b.fromArray(Float32Array.of(0.5), [1]);
      const dLogProbs = b.fromArray(randn(rng, M), [M]);
      b.policyLoss(logProbs, oldLogProbs, advantages, weights, 0.2, loss, dLogProbs, stats);
      const nll = b.zeros([1]), dNll = b.zeros([M]);
      b.nllLoss(logProbs, weights, nll, dNll);
      return readAll(b, { loss, stats, dLogProbs, nll, dNll });
    },
  },
  {
    name: 'adamw with a gradient scale and weight decay',
    async run(b, rng) {
      const n = 1037;
      const param = b.fromArray(randn(rng, n), [n]), grad = b.fromArray(randn(rng, n, 0.1), [n]);
      const m = b.fromArray(randn(rng, n, 0.01), [n]);
      const v = b.fromArray(randn(rng, n, 0.01).map((x) => x * x), [n]);
      const scale = b.fromArray(Float32Array.of(0.5), [1]);
      b.adamw(param, grad, m, v, scale, { lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, step: 3 });
      return readAll(b, { param, m, v });
    },
  },
  {
    name: 'a non-finite gradient norm or guard makes clipScale -1 and adamw write nothing (issue 18)',
    async run(b, rng) {
      const n = 1037;
      const param = b.fromArray(randn(rng, n), [n]), grad = b.fromArray(randn(rng, n, 0.1), [n]);
      const m = b.fromArray(randn(rng, n, 0.01), [n]);
      const v = b.fromArray(randn(rng, n, 0.01).map((x) => x * x), [n]);
      const finite = b.fromArray(Float32Array.of(4), [1]);
      const p = { lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, step: 3 };
      for (const [sq, guard] of [[NaN, 1], [Infinity, 1], [4, NaN], [4, -Infinity]]) {
        const sumSq = b.fromArray(Float32Array.of(sq!), [1]), g = b.fromArray(Float32Array.of(guard!), [1]), scale = b.zeros([1]);
        b.clipScale(sumSq, 1.0, scale, g);
        b.adamw(param, grad, m, v, scale, p);
      }
      const ok = b.zeros([1]), skip = b.zeros([1]);
      b.clipScale(finite, 1.0, ok, finite); // a finite guard changes nothing: 1 / (2 + 1e-6)
      b.clipScale(b.fromArray(Float32Array.of(Infinity), [1]), 1.0, skip);
      return readAll(b, { param, m, v, ok, skip });
    },
  },
  {
    name: 'sampling: greedy (with ties), temperature and top-p, tied rows',
    async run(b, rng) {
      const M = 40, V = 301;
      const data = randn(rng, M * V, 2);
      for (let j = 0; j < V; j++) data[V + j] = 0.5; // row 1: every logit tied
      data[2 * V + 7] = data[2 * V + 250] = 9; // row 2: two tied maxima
      const logits = b.fromArray(data, [M, V]);
      const u = new Float32Array(M).map(() => rng.next());
      const uniforms = b.fromArray(u, [M]);
      const out: Outputs = {};
      for (const [key, p] of [['greedy', { temperature: 0, topP: 1 }], ['t0.7 p0.9', { temperature: 0.7, topP: 0.9 }],
        ['t1 p1', { temperature: 1, topP: 1 }], ['t1.3 p0.5', { temperature: 1.3, topP: 0.5 }]] as const) {
        const tokens = b.zeros([M], 'i32'), logProbs = b.zeros([M]);
        b.sample(logits, uniforms, tokens, logProbs, p);
        out[`${key} tokens`] = await b.read(tokens);
        out[`${key} logProbs`] = await b.read(logProbs);
      }
      return out;
    },
  },
];

export { ragged, randn, randInts };
