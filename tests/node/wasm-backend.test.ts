/**
 * The wasm backend against the CPU reference: every op on awkward shapes (not multiples of the
 * 4x8 matmul tile, of the f32x4 width or of the cache blocks), forward and backward, on one
 * thread and on two threads with every kernel split (minParallelWork 0) and NaN written into
 * every freed block (poisonFreed: an empty() output a kernel leaves partly unwritten shows);
 * then a whole training step of a tiny model, greedy decoding through the KV cache, and the
 * allocator.
 *
 * Tolerances (|wasm - cpu| <= atol + rtol |cpu|): the reference accumulates in float64, the
 * kernels in float32 with a different summation order and polynomial exp/log (~2 ulp), so
 * errors grow like sqrt(K) eps for sums of K products:
 *   matmul rtol 1e-4, atol 1e-4 sqrt(K) (inputs ~N(0,1), outputs ~sqrt(K));
 *   row kernels (RMSNorm, SwiGLU, log-softmax, AdamW) 2e-5 .. 1e-4; attention 1e-4;
 *   ops that run the reference code on memory views must match exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.ts';
import type { Backend, Tensor } from '../../src/backend/backend.ts';
import { WasmBackend, splitRange } from '../../src/backend/wasm/wasm-backend.ts';
import { buildKernelModule, relaxedSimdSupported, simdSupported } from '../../src/backend/wasm/kernel-module.ts';
import { execFileSync } from 'node:child_process';
import { ThreadPool } from '../../src/backend/wasm/thread-pool.ts';
import { createBackend, destroyBackend } from '../../src/backend/select.ts';
import { sampleRowsExact } from '../../src/backend/wasm/kernels/sampling.ts';
import { sampleRows } from '../../src/backend/cpu/sampling.ts';
import { Llama, packSequences } from '../../src/model/llama.ts';
import { initParams, paramSpecs, zerosLike, type ParamSet } from '../../src/model/params.ts';
import { presetConfig, validateConfig, type ModelConfig } from '../../src/model/config.ts';
import { Rng } from '../../src/util/rng.ts';
import { expectClose, randn } from './helpers/fd.ts';

const cpu = new CpuBackend();
const cview = (t: Tensor) => cpu.view(t);

/** The backends under test: one thread, and two threads splitting every kernel. */
const configs = [
  { label: '1 thread', opts: { threads: 1 } },
  { label: '2 threads', opts: { threads: 2, minParallelWork: 0, poisonFreed: true } },
];
const backends = new Map<string, WasmBackend>();

beforeAll(async () => {
  for (const c of configs) backends.set(c.label, await WasmBackend.create(c.opts));
});
afterAll(() => {
  for (const b of backends.values()) b.destroy();
});

/** A pair of tensors with equal contents, one per backend. */
function pair(w: WasmBackend, data: Float32Array | Int32Array, shape: number[]): [Tensor, Tensor] {
  return [cpu.fromArray(data, shape), w.fromArray(data, shape)];
}

function expectSame(w: WasmBackend, tw: Tensor, tc: Tensor, atol: number, rtol: number, what: string): void {
  expectClose(w.view(tw), cview(tc), atol, rtol, what);
}

describe('wasm backend: setup', () => {
  it('detects SIMD, selects backends by name and starts the threads it is asked for', async () => {
    expect(simdSupported()).toBe(true);
    const auto = await createBackend('auto', { threads: 1 });
    expect(auto.name).toBe('wasm');
    destroyBackend(auto);
    expect((await createBackend('cpu')).name).toBe('cpu');
    await expect(createBackend('gpu' as 'cpu')).rejects.toThrow(/unknown backend "gpu"/);
    await expect(WasmBackend.create({ threads: 0 })).rejects.toThrow(/threads must be a positive integer/);
    expect(backends.get('1 thread')!.threads).toBe(1);
    expect(backends.get('2 threads')!.threads).toBe(2);
  });

  it('reports a kernel that traps in a worker instead of hanging, and keeps working', async () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 16, shared: true });
    const km = await buildKernelModule({ shared: true, maximumPages: 16 });
    const local = (await WebAssembly.instantiate(km.module, { env: { memory } })).exports.fill_f32 as (...a: number[]) => void;
    const pool = await ThreadPool.create(km.module, memory, km.exportNames, 2);
    try {
      // Job 1 writes past the 64 KiB memory. The caller takes job 0 first, then whichever
      // thread takes job 1 traps; either way the error must surface.
      const jobs = [[0, 1, 4], [65536 - 16, 1, 8]];
      expect(() => pool.run('fill_f32', jobs, local)).toThrow(/out of bounds/);
      pool.run('fill_f32', [[0, 3, 2], [32, 3, 2]], local);
      expect(Array.from(new Float32Array(memory.buffer, 0, 16))).toEqual([3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3]);
    } finally {
      pool.dispose();
    }
    expect(() => pool.run('fill_f32', [[0, 1, 1]], local)).toThrow(/disposed/);
  });

  it('hands the first job to workers that are still starting (no lost wake-up)', async () => {
    // Regression: a worker that read the round counter after the caller had already posted
    // round 1 skipped it, and the caller waited forever.
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 16, shared: true });
    const km = await buildKernelModule({ shared: true, maximumPages: 16 });
    const local = (await WebAssembly.instantiate(km.module, { env: { memory } })).exports.fill_f32 as (...a: number[]) => void;
    for (let i = 0; i < 8; i++) {
      const pool = await ThreadPool.create(km.module, memory, km.exportNames, 3);
      pool.run('fill_f32', [[0, i, 1], [16, i, 1], [32, i, 1], [48, i, 1]], local);
      pool.dispose();
      expect(new Float32Array(memory.buffer, 0, 16)[15]).toBe(i);
    }
  });

  it('splits ranges into aligned, covering pieces', () => {
    expect(splitRange(10, 2, 4)).toEqual([[0, 4], [4, 10]]);
    expect(splitRange(3, 4, 1)).toEqual([[0, 1], [1, 2], [2, 3]]);
    expect(splitRange(1024, 2, 4)).toEqual([[0, 512], [512, 1024]]);
  });
});

for (const { label } of configs) {
  describe(`wasm kernels vs cpu (${label})`, () => {
    const W = () => backends.get(label)!;

    it('matmul: hand-computed product in every layout', () => {
      const w = W();
      const A = w.fromArray(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
      const B = w.fromArray(new Float32Array([7, 8, 9, 10, 11, 12]), [3, 2]);
      const out = w.zeros([2, 2]);
      w.matmul(A, B, out);
      expect(Array.from(w.view(out))).toEqual([58, 64, 139, 154]);
      const Bt = w.fromArray(new Float32Array([7, 9, 11, 8, 10, 12]), [2, 3]);
      w.matmul(A, Bt, out, { transB: true });
      expect(Array.from(w.view(out))).toEqual([58, 64, 139, 154]);
      const At = w.fromArray(new Float32Array([1, 4, 2, 5, 3, 6]), [3, 2]);
      w.matmul(At, B, out, { transA: true, accumulate: true });
      expect(Array.from(w.view(out))).toEqual([116, 128, 278, 308]);
      expect(() => w.matmul(A, A, out)).toThrow(/inner dimensions/);
      for (const t of [A, B, Bt, At, out]) w.dispose(t);
    });

    it('matmul: every layout and accumulate on awkward shapes, K past the depth block, N past the width block', () => {
      const w = W(), rng = new Rng(1);
      const shapes: [number, number, number][] = [[1, 1, 1], [5, 7, 3], [13, 17, 9], [33, 65, 31], [6, 130, 300], [67, 9, 700], [9, 600, 20], [37, 41, 4096]];
      for (const [M, N, K] of shapes) {
        for (const transA of [false, true]) for (const transB of [false, true]) {
          const accumulate = (M + N + (transA ? 1 : 0)) % 2 === 0;
          const [ac, aw] = pair(w, randn(M * K, rng), transA ? [K, M] : [M, K]);
          const [bc, bw] = pair(w, randn(K * N, rng), transB ? [N, K] : [K, N]);
          const [oc, ow] = pair(w, randn(M * N, rng), [M, N]);
          cpu.matmul(ac, bc, oc, { transA, transB, accumulate });
          w.matmul(aw, bw, ow, { transA, transB, accumulate });
          expectSame(w, ow, oc, 1e-4 * Math.sqrt(K), 1e-4, `${M}x${N}x${K} transA=${transA} transB=${transB} acc=${accumulate}`);
          for (const t of [aw, bw, ow]) w.dispose(t);
        }
      }
    });

    it('rmsnorm forward and backward (accumulating), widths with and without a tail', () => {
      const w = W(), rng = new Rng(2);
      for (const [N, C] of [[37, 13], [300, 128], [5, 4]] as const) {
        const [xc, xw] = pair(w, randn(N * C, rng, 2), [N, C]);
        const [wc, ww] = pair(w, randn(C, rng), [C]);
        const [oc, ow] = pair(w, new Float32Array(N * C), [N, C]);
        const [rc, rw] = pair(w, new Float32Array(N), [N]);
        cpu.rmsnormForward(xc, wc, oc, rc, 1e-5);
        w.rmsnormForward(xw, ww, ow, rw, 1e-5);
        expectSame(w, ow, oc, 1e-5, 2e-5, `rmsnorm out ${N}x${C}`);
        expectSame(w, rw, rc, 0, 2e-5, `rmsnorm rstd ${N}x${C}`);
        const [dyc, dyw] = pair(w, randn(N * C, rng), [N, C]);
        const [dxc, dxw] = pair(w, randn(N * C, rng), [N, C]);
        const [dwc, dww] = pair(w, randn(C, rng), [C]);
        cpu.rmsnormBackward(xc, wc, rc, dyc, dxc, dwc);
        w.rmsnormBackward(xw, ww, rw, dyw, dxw, dww);
        expectSame(w, dxw, dxc, 1e-5, 1e-4, `rmsnorm dX ${N}x${C}`);
        expectSame(w, dww, dwc, 1e-4, 1e-4, `rmsnorm dW ${N}x${C}`);
      }
    });

    it('swiglu forward and backward (accumulating), sizes not a multiple of 4', () => {
      const w = W(), rng = new Rng(3);
      for (const n of [3, 1001, 70001]) {
        const [gc, gw] = pair(w, randn(n, rng, 4), [n]);
        const [uc, uw] = pair(w, randn(n, rng), [n]);
        const [oc, ow] = pair(w, new Float32Array(n), [n]);
        cpu.swigluForward(gc, uc, oc);
        w.swigluForward(gw, uw, ow);
        expectSame(w, ow, oc, 1e-6, 2e-5, `swiglu out ${n}`);
        const [dyc, dyw] = pair(w, randn(n, rng), [n]);
        const [dgc, dgw] = pair(w, randn(n, rng), [n]);
        const [duc, duw] = pair(w, randn(n, rng), [n]);
        cpu.swigluBackward(gc, uc, dyc, dgc, duc);
        w.swigluBackward(gw, uw, dyw, dgw, duw);
        expectSame(w, dgw, dgc, 1e-6, 2e-5, `swiglu dGate ${n}`);
        expectSame(w, duw, duc, 1e-6, 2e-5, `swiglu dUp ${n}`);
      }
    });

    it('log-softmax gather forward and backward, wide and narrow rows, a skipped row, bad targets', () => {
      const w = W(), rng = new Rng(4);
      for (const [M, V] of [[9, 13], [70, 2701], [3, 4]] as const) {
        const [xc, xw] = pair(w, randn(M * V, rng, 5), [M, V]);
        const tgt = Int32Array.from({ length: M }, () => rng.int(V));
        const [tc, tw] = pair(w, tgt, [M]);
        const [lpc, lpw] = pair(w, new Float32Array(M), [M]);
        const [lc, lw] = pair(w, new Float32Array(M), [M]);
        cpu.logSoftmaxGatherForward(xc, tc, lpc, lc);
        w.logSoftmaxGatherForward(xw, tw, lpw, lw);
        expectSame(w, lpw, lpc, 2e-5, 2e-5, `logProbs ${M}x${V}`);
        expectSame(w, lw, lc, 2e-5, 2e-5, `lse ${M}x${V}`);
        const g = randn(M, rng);
        g[1] = 0; // a row without gradient is skipped
        const [gc, gw] = pair(w, g, [M]);
        const [dc, dw] = pair(w, randn(M * V, rng), [M, V]);
        cpu.logSoftmaxGatherBackward(xc, tc, lc, gc, dc);
        w.logSoftmaxGatherBackward(xw, tw, lw, gw, dw);
        // lse is a float32 near 10-20 here (ulp ~1e-6), and p = exp(x - lse) inherits that error.
        expectSame(w, dw, dc, 1e-5, 2e-5, `dLogits ${M}x${V}`);
      }
      const x = w.zeros([2, 5]), lp = w.zeros([2]), l = w.zeros([2]);
      expect(() => w.logSoftmaxGatherForward(x, w.fromArray(Int32Array.from([1, 5]), [2]), lp, l)).toThrow(/target 5 at row 1 is outside \[0, 5\)/);
    });

    it('attention forward and backward on a ragged batch (SIMD head sizes and the reference fallback)', () => {
      const w = W(), rng = new Rng(5);
      const lens = [1, 5, 37, 130, 3];
      const N = lens.reduce((a, b) => a + b, 0);
      const kvStart = new Int32Array(N), pos = new Int32Array(N);
      let n = 0;
      for (const T of lens) { const s = n; for (let t = 0; t < T; t++, n++) { kvStart[n] = s; pos[n] = t; } }
      for (const [H, D] of [[3, 8], [2, 36], [4, 32], [2, 6]] as const) {
        const C = H * D, scale = 1 / Math.sqrt(D);
        const [qc, qw] = pair(w, randn(N * C, rng), [N, C]);
        const [kc, kw] = pair(w, randn(N * C, rng), [N, C]);
        const [vc, vw] = pair(w, randn(N * C, rng), [N, C]);
        const [sc, sw] = pair(w, kvStart, [N]);
        const [pc, pw] = pair(w, pos, [N]);
        const [oc, ow] = pair(w, new Float32Array(N * C), [N, C]);
        const [lc, lw] = pair(w, new Float32Array(N * H), [N, H]);
        cpu.attentionForward(qc, kc, vc, sc, pc, oc, lc, H, scale);
        w.attentionForward(qw, kw, vw, sw, pw, ow, lw, H, scale);
        expectSame(w, ow, oc, 1e-5, 1e-4, `attention out H=${H} D=${D}`);
        expectSame(w, lw, lc, 1e-5, 1e-5, `attention lse H=${H} D=${D}`);
        const [dyc, dyw] = pair(w, randn(N * C, rng), [N, C]);
        const grads = [0, 1, 2].map(() => pair(w, randn(N * C, rng), [N, C]));
        cpu.attentionBackward(qc, kc, vc, sc, pc, oc, lc, dyc, grads[0]![0], grads[1]![0], grads[2]![0], H, scale);
        w.attentionBackward(qw, kw, vw, sw, pw, ow, lw, dyw, grads[0]![1], grads[1]![1], grads[2]![1], H, scale);
        ['dQ', 'dK', 'dV'].forEach((name, i) => expectSame(w, grads[i]![1], grads[i]![0], 1e-4, 1e-4, `attention ${name} H=${H} D=${D}`));
      }
      const bad = w.fromArray(Int32Array.from([0, 0]), [2]), badPos = w.fromArray(Int32Array.from([0, 2]), [2]);
      const q2 = w.zeros([2, 8]);
      expect(() => w.attentionForward(q2, q2, q2, bad, badPos, w.zeros([2, 8]), w.zeros([2, 2]), 2, 1)).toThrow(/row 1 reads kv rows 0..2, cache has 2/);
    });

    it('attention over a KV cache (query rows apart from their keys)', () => {
      const w = W(), rng = new Rng(6);
      const H = 2, D = 16, C = H * D, slots = 3, maxLen = 20, R = slots * maxLen;
      const kvStart = Int32Array.from([0, 20, 40, 40]), pos = Int32Array.from([7, 0, 19, 3]);
      const M = pos.length;
      const [qc, qw] = pair(w, randn(M * C, rng), [M, C]);
      const [kc, kw] = pair(w, randn(R * C, rng), [R, C]);
      const [vc, vw] = pair(w, randn(R * C, rng), [R, C]);
      const [sc, sw] = pair(w, kvStart, [M]);
      const [pc, pw] = pair(w, pos, [M]);
      const [oc, ow] = pair(w, new Float32Array(M * C), [M, C]);
      const [lc, lw] = pair(w, new Float32Array(M * H), [M, H]);
      cpu.attentionForward(qc, kc, vc, sc, pc, oc, lc, H, 0.25);
      w.attentionForward(qw, kw, vw, sw, pw, ow, lw, H, 0.25);
      expectSame(w, ow, oc, 1e-5, 1e-4, 'cache attention out');
      expectSame(w, lw, lc, 1e-5, 1e-5, 'cache attention lse');
    });

    it('rope forward (in place) and backward (accumulating), positions past the first table size', () => {
      const w = W(), rng = new Rng(13);
      for (const [N, H, D] of [[7, 3, 8], [300, 4, 32], [5, 2, 12]] as const) {
        const C = H * D;
        const pos = Int32Array.from({ length: N }, (_, n) => (n * 37) % 1500);
        const [xc, xw] = pair(w, randn(N * C, rng), [N, C]);
        const [pc, pw] = pair(w, pos, [N]);
        cpu.ropeForward(xc, pc, xc, H, 10000);
        w.ropeForward(xw, pw, xw, H, 10000);
        expectSame(w, xw, xc, 1e-5, 1e-5, `rope forward N=${N} D=${D}`);
        const [dc, dw] = pair(w, randn(N * C, rng), [N, C]);
        cpu.ropeBackward(xc, pc, dc, H, 10000);
        w.ropeBackward(xw, pw, dw, H, 10000);
        expectSame(w, dw, dc, 1e-5, 1e-5, `rope backward N=${N} D=${D}`);
      }
    });

    it('adamw: one step with gradient scale, weight decay and bias correction', () => {
      const w = W(), rng = new Rng(7);
      for (const n of [1003, 80001]) {
        const [pc, pw] = pair(w, randn(n, rng), [n]);
        const [gc, gw] = pair(w, randn(n, rng), [n]);
        const [mc, mw] = pair(w, randn(n, rng, 0.1), [n]);
        const [vc, vw] = pair(w, randn(n, rng, 0.1).map(Math.abs), [n]);
        const [sc, sw] = pair(w, Float32Array.of(0.5), [1]);
        const p = { lr: 3e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, step: 3 };
        cpu.adamw(pc, gc, mc, vc, sc, p);
        w.adamw(pw, gw, mw, vw, sw, p);
        expectSame(w, pw, pc, 1e-6, 1e-5, `adamw param ${n}`);
        expectSame(w, mw, mc, 1e-7, 1e-5, `adamw m ${n}`);
        expectSame(w, vw, vc, 1e-9, 1e-5, `adamw v ${n}`);
      }
    });

    it('host-side ops (reference code on memory views) and sampling match exactly', () => {
      const w = W(), rng = new Rng(8);
      const N = 11, C = 12, V = 7, H = 3;
      const [tc, tw] = pair(w, randn(V * C, rng), [V, C]);
      const [ic, iw] = pair(w, Int32Array.from({ length: N }, () => rng.int(V)), [N]);
      const [oc, ow] = pair(w, new Float32Array(N * C), [N, C]);
      cpu.embeddingForward(ic, tc, oc); w.embeddingForward(iw, tw, ow);
      expectSame(w, ow, oc, 0, 0, 'embedding');
      cpu.embeddingBackward(ic, oc, tc); w.embeddingBackward(iw, ow, tw);
      expectSame(w, tw, tc, 0, 0, 'embedding backward');
      const [posc, posw] = pair(w, Int32Array.from({ length: N }, (_, i) => i * 3), [N]);
      cpu.ropeForward(oc, posc, oc, H, 10000); w.ropeForward(ow, posw, ow, H, 10000);
      expectSame(w, ow, oc, 0, 0, 'rope (head size 4: the reference fallback)');
      cpu.ropeBackward(oc, posc, oc, H, 10000); w.ropeBackward(ow, posw, ow, H, 10000);
      expectSame(w, ow, oc, 0, 0, 'rope backward');
      const [gc, gw] = pair(w, new Float32Array(4 * C), [4, C]);
      const [rc, rw] = pair(w, Int32Array.from([3, 0, 10, 3]), [4]);
      cpu.gatherRows(oc, rc, gc); w.gatherRows(ow, rw, gw);
      expectSame(w, gw, gc, 0, 0, 'gatherRows');
      cpu.scatterAddRows(gc, rc, oc); w.scatterAddRows(gw, rw, ow);
      expectSame(w, ow, oc, 0, 0, 'scatterAddRows');
      const [s1c, s1w] = pair(w, new Float32Array(1), [1]);
      cpu.sumSquares(oc, s1c, false); w.sumSquares(ow, s1w, false);
      expectSame(w, s1w, s1c, 0, 0, 'sumSquares');
      const [xc, xw] = pair(w, Float32Array.of(0, 0), [2]);
      cpu.clipScale(s1c, 1, xc); w.clipScale(s1w, 1, xw);
      expectSame(w, xw, xc, 0, 0, 'clipScale');
      const M = 6;
      const lp = randn(M, rng, 0.3).map((x) => x - 2), old = lp.map((x) => x + 0.3 * Math.sin(x * 7));
      const args = [lp, old, randn(M, rng), Float32Array.from({ length: M }, (_, i) => (i % 3) / M)].map((a) => pair(w, a, [M]));
      const outs = [1, M, 1].map((k) => pair(w, new Float32Array(k), [k]));
      cpu.policyLoss(args[0]![0], args[1]![0], args[2]![0], args[3]![0], 0.2, outs[0]![0], outs[1]![0], outs[2]![0]);
      w.policyLoss(args[0]![1], args[1]![1], args[2]![1], args[3]![1], 0.2, outs[0]![1], outs[1]![1], outs[2]![1]);
      outs.forEach(([c, ww], i) => expectSame(w, ww, c, 0, 0, `policyLoss output ${i}`));
      const [lg, lgw] = pair(w, randn(3 * V, rng, 2), [3, V]);
      const [uc, uw] = pair(w, Float32Array.of(0.1, 0.5, 0.99), [3]);
      const [kc, kw] = pair(w, new Int32Array(3), [3]);
      const [pc, pw] = pair(w, new Float32Array(3), [3]);
      cpu.sample(lg, uc, kc, pc, { temperature: 1, topP: 0.9 }); w.sample(lgw, uw, kw, pw, { temperature: 1, topP: 0.9 });
      expect(Array.from(w.view(kw))).toEqual(Array.from(cview(kc)));
      expectSame(w, pw, pc, 0, 0, 'sample logProbs');
    });
  });
}

/**
 * Matmul parity in every layout with fused multiply-adds (relaxed SIMD). Returns the worst
 * |wasm - cpu| / (1 + |cpu|) over the cases and whether FMA kernels ran. Runs as-is in an engine
 * with relaxed SIMD; in Node 20 the test runs it in a child process started with the flag.
 */
const FMA_CHECK = `
const { WasmBackend } = await import(BACKEND);
const { CpuBackend } = await import(CPU);
const cpu = new CpuBackend();
const w = await WasmBackend.create({ threads: 2, fma: true, minParallelWork: 0 });
let worst = 0;
for (const [M, N, K, transA, transB] of [[37, 41, 300, false, true], [2, 50, 77, false, true], [6, 130, 300, true, false], [67, 9, 700, false, false], [13, 17, 9, true, true]]) {
  const a = Float32Array.from({ length: M * K }, (_, i) => Math.sin(i)), b = Float32Array.from({ length: N * K }, (_, i) => Math.cos(i * 1.3));
  const sa = transA ? [K, M] : [M, K], sb = transB ? [N, K] : [K, N];
  const oc = cpu.zeros([M, N]), ow = w.zeros([M, N]);
  cpu.matmul(cpu.fromArray(a, sa), cpu.fromArray(b, sb), oc, { transA, transB });
  w.matmul(w.fromArray(a, sa), w.fromArray(b, sb), ow, { transA, transB });
  const x = w.view(ow), y = cpu.view(oc);
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]) / (1 + Math.abs(y[i])));
}
const result = { fma: w.fma, worst };
w.destroy();
`;

describe('wasm matmul with fused multiply-adds (relaxed SIMD)', () => {
  it('matches the reference in every layout', async () => {
    const BACKEND = new URL('../../src/backend/wasm/wasm-backend.ts', import.meta.url).href;
    const CPU = new URL('../../src/backend/cpu/cpu-backend.ts', import.meta.url).href;
    let result: { fma: boolean; worst: number };
    if (relaxedSimdSupported()) {
      const run = new Function('BACKEND', 'CPU', `return (async () => { ${FMA_CHECK}; return result; })();`);
      result = await run(BACKEND, CPU);
    } else {
      const out = execFileSync(process.execPath, [
        '--experimental-wasm-relaxed-simd', '--import', 'tsx', '--input-type=module',
        '-e', `const BACKEND = ${JSON.stringify(BACKEND)}, CPU = ${JSON.stringify(CPU)};${FMA_CHECK}; console.log(JSON.stringify(result));`,
      ], { encoding: 'utf8' });
      result = JSON.parse(out.trim().split('\n').pop()!);
    }
    expect(result.fma).toBe(true);
    expect(result.worst).toBeLessThan(2e-5);
  });
});

describe('wasm sampling', () => {
  it('draws exactly the reference tokens and log-probs, ties and every temperature / top-p included', () => {
    const rng = new Rng(12);
    let draws = 0;
    const distinct = new Set<number>();
    for (const V of [1, 2, 7, 300, 2701]) {
      const M = V > 1000 ? 8 : 40;
      // A third of the rows have logits rounded to halves, so many probabilities tie exactly;
      // a third are peaked like a trained model's (only a few tokens reach the top-p cut).
      const logits = Float32Array.from({ length: M * V }, (_, i) => {
        const x = rng.normal() * 3, kind = Math.floor(i / V) % 3;
        return kind === 0 ? Math.round(x * 2) / 2 : kind === 1 ? x : x * 5;
      });
      const u = Float32Array.from({ length: M }, (_, m) => (m === 0 ? 0 : m === 1 ? 0.99999994 : rng.next()));
      for (const temperature of [0, 0.7, 1, 1.5]) for (const topP of [0.05, 0.5, 0.95, 1]) {
        const [t1, t2] = [new Int32Array(M), new Int32Array(M)];
        const [l1, l2] = [new Float32Array(M), new Float32Array(M)];
        sampleRows(logits, u, t1, l1, V, temperature, topP);
        sampleRowsExact(logits, u, t2, l2, V, temperature, topP);
        expect(Array.from(t2), `V=${V} T=${temperature} p=${topP}`).toEqual(Array.from(t1));
        expect(Array.from(l2)).toEqual(Array.from(l1));
        draws += M;
        t1.forEach((t) => distinct.add(t));
      }
    }
    expect(draws).toBeGreaterThan(1000);
    expect(distinct.size).toBeGreaterThan(100); // the draws are spread, not one constant token
  });
});

describe('wasm memory', () => {
  it('reuses freed blocks, merges neighbours, refuses use after dispose', async () => {
    const w = await WasmBackend.create({ threads: 1 });
    try {
      const rng = new Rng(9);
      const keep = w.zeros([1000]);
      const base = w.memoryStats().topBytes;
      // A training-like pattern: many temporaries of varying size, all freed.
      for (let step = 0; step < 20; step++) {
        const ts = Array.from({ length: 30 }, () => w.zeros([1 + rng.int(5000)]));
        rng.shuffle(ts).forEach((t) => w.dispose(t));
      }
      const s = w.memoryStats();
      expect(s.liveBytes).toBe(4032); // only `keep` (1000 floats rounded to 64 bytes)
      expect(s.topBytes).toBe(base); // everything above it was given back
      expect(s.freeBlocks).toBe(0);
      const a = w.fromArray(Float32Array.of(1, 2, 3), [3]);
      w.dispose(a);
      w.dispose(a); // a second dispose is a no-op
      expect(() => w.view(a)).toThrow(/used after dispose/);
      expect(() => w.fromArray(new Float32Array(2), [3])).toThrow(/needs 3/);
      // Large tensors make the memory grow; earlier views stay usable through view().
      const big = w.zeros([40_000_000]);
      w.fill(big, 2);
      expect(w.view(big)[39_999_999]).toBe(2);
      expect(w.view(keep)[999]).toBe(0);
      w.dispose(big);
    } finally {
      w.destroy();
    }
  });
});

// ---------------------------------------------------------------- the model on both backends

const tiny: ModelConfig = validateConfig({
  vocabSize: 37, hiddenSize: 16, intermediateSize: 26, numLayers: 2, numHeads: 2,
  maxPositions: 64, rmsEps: 1e-5, ropeTheta: 10000, tieEmbeddings: true,
});

/** The same initial weights on another backend. */
function copyParams(from: ParamSet, to: Backend): ParamSet {
  const out: ParamSet = new Map();
  for (const [name, t] of from) out.set(name, to.fromArray(cview(t) as Float32Array, [...t.shape]));
  return out;
}

for (const { label } of configs) {
  describe(`model on wasm vs cpu (${label})`, () => {
    const W = () => backends.get(label)!;

    it('a full training step: log-probs, loss and every gradient, then an AdamW step', () => {
      const w = W(), rng = new Rng(10);
      const pc = initParams(cpu, tiny, 4);
      for (const t of pc.values()) { const d = cview(t); for (let i = 0; i < d.length; i++) if (d[i] !== 1) d[i] = d[i]! * 10; }
      const pw = copyParams(pc, w);
      const seqs = [40, 7, 23, 2].map((T) => Array.from({ length: T }, () => rng.int(tiny.vocabSize)));
      const batch = packSequences(seqs, (s, t) => (s + t) % 4 !== 0);
      const M = batch.lossRows.length;
      const weights = randn(M, rng);
      const results = ([[cpu, pc], [w, pw]] as const).map(([b, params]) => {
        const model = new Llama(b, tiny, params);
        const grads = zerosLike(b, tiny);
        const st = model.forward(batch);
        const logProbs = Float32Array.from(b === cpu ? cview(st.logProbs) : w.view(st.logProbs));
        const loss = b.zeros([1]), dLp = b.zeros([M]);
        b.nllLoss(st.logProbs, b.fromArray(weights, [M]), loss, dLp);
        model.backward(st, dLp, grads);
        return { logProbs, loss, grads };
      });
      const [rc, rw] = results as [typeof results[0], typeof results[0]];
      expectClose(rw.logProbs, rc.logProbs, 1e-4, 1e-4, 'logProbs');
      expectSame(w, rw.loss, rc.loss, 1e-4, 1e-4, 'loss');
      for (const spec of paramSpecs(tiny)) {
        const gc = rc.grads.get(spec.name)!, gw = rw.grads.get(spec.name)!;
        const scale = Math.max(...Array.from(cview(gc), Math.abs));
        expectSame(w, gw, gc, 1e-4 * scale, 1e-3, `gradient ${spec.name}`);
      }
      // One optimizer step on every parameter.
      const step = { lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, step: 1 };
      const one = [cpu.fromArray(Float32Array.of(1), [1]), w.fromArray(Float32Array.of(1), [1])] as const;
      const mc = zerosLike(cpu, tiny), vc = zerosLike(cpu, tiny), mw = zerosLike(w, tiny), vw = zerosLike(w, tiny);
      for (const spec of paramSpecs(tiny)) {
        cpu.adamw(pc.get(spec.name)!, rc.grads.get(spec.name)!, mc.get(spec.name)!, vc.get(spec.name)!, one[0], step);
        w.adamw(pw.get(spec.name)!, rw.grads.get(spec.name)!, mw.get(spec.name)!, vw.get(spec.name)!, one[1], step);
        // A first Adam step moves each weight by about lr sign(g); gradients that are tiny
        // and differ in the last bits may flip the sign, so compare with an lr-sized slack.
        expectSame(w, pw.get(spec.name)!, pc.get(spec.name)!, 2.1 * step.lr, 0, `param after AdamW ${spec.name}`);
      }
    });

    it('the nano preset (C 128, F 344, 4 heads of 32): log-probs and gradients', () => {
      const w = W(), rng = new Rng(14);
      const cfg = presetConfig('nano', 301);
      const pc = initParams(cpu, cfg, 5);
      const pw = copyParams(pc, w);
      const seqs = [70, 33].map((T) => Array.from({ length: T }, () => rng.int(cfg.vocabSize)));
      const batch = packSequences(seqs, () => true);
      const M = batch.lossRows.length, weights = randn(M, rng);
      const run = (b: Backend, params: ParamSet, view: (t: Tensor) => Float32Array | Int32Array) => {
        const model = new Llama(b, cfg, params), grads = zerosLike(b, cfg);
        const st = model.forward(batch);
        const logProbs = Float32Array.from(view(st.logProbs));
        const loss = b.zeros([1]), dLp = b.zeros([M]);
        b.nllLoss(st.logProbs, b.fromArray(weights, [M]), loss, dLp);
        model.backward(st, dLp, grads);
        return { logProbs, grads };
      };
      const rc = run(cpu, pc, cview), rw = run(w, pw, (t) => w.view(t));
      expectClose(rw.logProbs, rc.logProbs, 1e-4, 1e-4, 'nano logProbs');
      for (const spec of paramSpecs(cfg)) {
        const gc = rc.grads.get(spec.name)!;
        const scale = Math.max(...Array.from(cview(gc), Math.abs));
        expectSame(w, rw.grads.get(spec.name)!, gc, 1e-4 * scale, 1e-3, `nano gradient ${spec.name}`);
      }
    });

    it('greedy decoding through the KV cache gives the same tokens', async () => {
      const w = W(), rng = new Rng(11);
      const pc = initParams(cpu, tiny, 12);
      for (const t of pc.values()) { const d = cview(t); for (let i = 0; i < d.length; i++) if (d[i] !== 1) d[i] = d[i]! * 25; }
      const pw = copyParams(pc, w);
      const prompts = [[1, 5, 9, 2], [7, 3]];
      const decode = async (b: Backend, params: ParamSet) => {
        const model = new Llama(b, tiny, params);
        const cache = model.createCache(prompts.length, 40);
        const out: number[][] = prompts.map(() => []);
        // Prefill both prompts in one call, then one token per slot per call.
        const tokens = prompts.flat(), slots = prompts.flatMap((p, s) => p.map(() => s)), positions = prompts.flatMap((p) => p.map((_, i) => i));
        const lastRows = prompts.map((_, s) => prompts.slice(0, s + 1).reduce((a, p) => a + p.length, 0) - 1);
        let logits = model.forwardInfer(cache, { tokens: Int32Array.from(tokens), slots: Int32Array.from(slots), positions: Int32Array.from(positions), outRows: Int32Array.from(lastRows) });
        for (let t = 0; t < 24; t++) {
          const u = b.fromArray(Float32Array.from(prompts, () => rng.next()), [prompts.length]);
          const tok = b.zeros([prompts.length], 'i32'), lp = b.zeros([prompts.length]);
          b.sample(logits, u, tok, lp, { temperature: 0, topP: 1 });
          const next = Array.from(await b.read(tok));
          next.forEach((x, s) => out[s]!.push(x));
          b.dispose(logits);
          logits = model.forwardInfer(cache, {
            tokens: Int32Array.from(next), slots: Int32Array.from(prompts.keys()),
            positions: Int32Array.from(prompts, (p) => p.length + t), outRows: Int32Array.from(prompts.keys()),
          });
        }
        model.disposeCache(cache);
        return out;
      };
      const ref = await decode(cpu, pc);
      const got = await decode(w, pw);
      expect(got).toEqual(ref);
      expect(new Set(ref.flat()).size).toBeGreaterThan(3); // not a degenerate constant output
    });
  });
}

describe('wasm training step: job counts and leftover memory change nothing', () => {
  it('the same bits with 1, 2, 4 or 8 matmul/attention jobs per thread, and with NaN in every freed block', async () => {
    // Matmul and attention-backward jobs own whole output rows/columns (attention: whole
    // sequences of a head), so the count must not change a bit; forward outputs come from
    // empty() (unfilled memory), so NaN left in freed blocks must never reach a result.
    const cfg = presetConfig('nano', 301), rng = new Rng(15);
    const pc = initParams(cpu, cfg, 6);
    const seqs = [70, 2, 33, 50].map((T) => Array.from({ length: T }, () => rng.int(cfg.vocabSize)));
    const batch = packSequences(seqs, (s, t) => (s + t) % 3 !== 0);
    const weights = randn(batch.lossRows.length, rng);
    const step = async (matmulJobsPerThread: number, poison: boolean) => {
      const w = await WasmBackend.create({ threads: 2, minParallelWork: 0, matmulJobsPerThread, poisonFreed: poison });
      try {
        const params = copyParams(pc, w), model = new Llama(w, cfg, params), grads = zerosLike(w, cfg);
        const st = model.forward(batch);
        const logProbs = Float32Array.from(w.view(st.logProbs));
        const loss = w.zeros([1]), dLp = w.zeros([batch.lossRows.length]);
        w.nllLoss(st.logProbs, w.fromArray(weights, [weights.length]), loss, dLp);
        model.backward(st, dLp, grads);
        return [logProbs, ...paramSpecs(cfg).map((s) => Float32Array.from(w.view(grads.get(s.name)!)))];
      } finally {
        w.destroy();
      }
    };
    const bits = (xs: Float32Array[]) => xs.map((x) => Array.from(new Uint32Array(x.buffer)));
    const ref = await step(1, false);
    expect(ref.every((x) => x.every(Number.isFinite))).toBe(true);
    expect(ref.slice(1).some((g) => g.some((x) => x !== 0))).toBe(true);
    for (const [jobs, poison] of [[2, false], [4, true], [8, true]] as const) {
      expect(bits(await step(jobs, poison)), `${jobs} jobs per thread, poisoned ${poison}`).toEqual(bits(ref));
    }
  }, 60_000);
});
