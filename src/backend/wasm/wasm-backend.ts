/**
 * The wasm backend: the Backend interface on WebAssembly 128-bit SIMD kernels, optionally
 * spread over worker threads that share one linear memory.
 *
 * What runs where:
 * - generated SIMD kernels (src/backend/wasm/kernels/): matmul in every layout, attention
 *   forward/backward, RMSNorm, RoPE, SwiGLU, log-softmax gather, AdamW, fills: the ops that
 *   cost time;
 * - sampling: the reference's exact arithmetic without its comparator sort (kernels/sampling.ts);
 * - everything else (embedding, row gather/scatter, losses over per-token scalars,
 *   norms for clipping) runs the CPU reference kernels directly on views of the wasm
 *   memory (zero-copy CpuTensor wrappers), so those ops are the reference by construction.
 * Every kernel is checked against the CPU backend in tests/node/wasm-backend.test.ts.
 *
 * Tensors are blocks of the module's memory (src/backend/wasm/heap.ts); `dispose` returns the
 * block for reuse. The API is synchronous: with threads, the calling thread cuts a kernel's
 * work into a few jobs per thread (rows, columns or heads, depending on the op), works on them
 * alongside the workers and blocks until all are done (src/backend/wasm/thread-pool.ts).
 * Small kernels (below `minParallelWork`) stay on the calling thread.
 */
import {
  appliesScale, checkReshape, expectShape, ropeKey, shapeSize,
  type AdamWParams, type Backend, type DType, type MatmulOptions, type RopeScaling, type SampleParams, type Tensor,
} from '../backend.ts';
import { CpuBackend } from '../cpu/cpu-backend.ts';
import { CpuTensor } from '../cpu/tensor.ts';
import { ropeInvFreq } from '../cpu/rope.ts';
import * as SWIGLU from '../cpu/swiglu.ts';
import { buildKernelModule, PAGE_BYTES, relaxedSimdSupported, sharedMemorySupported, simdSupported, type KernelModule } from './kernel-module.ts';
import { matmulScratchBytes, type MatmulTile } from './kernels/matmul.ts';
import { Heap } from './heap.ts';
import { canBlock, ThreadPool } from './thread-pool.ts';
import { sampleRowsExact } from './kernels/sampling.ts';

/** Options of WasmBackend.create. */
export interface WasmBackendOptions {
  /** Threads that run kernels, the calling one included. Default: the machine's cores. */
  threads?: number;
  /** Largest wasm memory in MiB (at most 4096, the wasm32 limit). Default 4096. */
  maxMemoryMiB?: number;
  /** Matmul register tile (default: kernels/matmul.ts DEFAULT_TILE). */
  tile?: MatmulTile;
  /**
   * Fused multiply-adds (relaxed SIMD) in the matmul kernels. Default: when the engine has
   * them (Chromium; Node 20 only with --experimental-wasm-relaxed-simd). Throws if asked for
   * where they are missing.
   */
  fma?: boolean;
  /** Matmul cache blocking: depth KC and width NC of the packed B block. Default 256 x 512. */
  kcBlock?: number;
  ncBlock?: number;
  /**
   * Kernels with less work than this (in flop-equivalents) run on the calling thread alone,
   * because handing work to a worker and waiting for it costs ~10-30 us. Default 2e6; tests
   * pass 0 to split every kernel that can be split.
   */
  minParallelWork?: number;
  /** Jobs per thread of a parallel kernel (default 2; see thread-pool.ts). */
  jobsPerThread?: number;
  /**
   * Jobs per thread of a parallel matmul (default 4). Unlike `jobsPerThread` it never changes
   * a result: each job owns whole rows or columns of the output, computed in the same order.
   */
  matmulJobsPerThread?: number;
  /**
   * Tests: every disposed tensor's memory is filled with NaN, so that a tensor from empty()
   * that a kernel does not overwrite whole shows up as NaN in the results. Default false.
   */
  poisonFreed?: boolean;
}

/** A tensor of the wasm backend: `bytes` bytes at byte address `ptr` of the module memory. */
class WasmTensor implements Tensor {
  readonly size: number;
  disposed = false;
  /** A reshape view: shares another tensor's memory, so disposing it frees nothing. */
  isView = false;
  constructor(readonly shape: readonly number[], readonly dtype: DType, readonly ptr: number, readonly bytes: number) {
    this.size = shapeSize(shape);
  }
}

const DEFAULT_MIN_PARALLEL_WORK = 2e6;
/**
 * A parallel kernel is cut into this many jobs per thread, taken from a shared queue, so that a
 * faster core takes more of them (see thread-pool.ts).
 */
const JOBS_PER_THREAD = 2;
/**
 * Matmuls (and the attention backward) are cut finer: a job that ends late (one core slower,
 * or the machine's other load taking it for a while) keeps the other threads waiting, and the
 * smaller the jobs the less that costs, up to the packing each job repeats. Measured on the
 * 2-core machine, a nano Stage-0 step of about 240 ms: the caller waited 16.7 ms in matmuls with
 * 2 jobs per thread, 6.9 ms with 4. Results are the same bit for bit whatever the count.
 */
const MATMUL_JOBS_PER_THREAD = 4;

/** The number of hardware threads (navigator.hardwareConcurrency or os.availableParallelism()). */
export async function defaultThreadCount(): Promise<number> {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  if (nav?.hardwareConcurrency) return nav.hardwareConcurrency;
  if (typeof process === 'object' && process.versions?.node) {
    const os = (await import(/* @vite-ignore */ ['node', 'os'].join(':'))) as typeof import('node:os');
    return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  }
  return 1;
}

export class WasmBackend implements Backend {
  readonly name = 'wasm';
  /** Why fewer threads than asked for are used (empty when none). */
  readonly threadNote: string;

  private readonly cpu = new CpuBackend();
  private readonly exports: Record<string, (...args: number[]) => number | void>;
  private readonly heap: Heap;
  private buffer: ArrayBuffer | SharedArrayBuffer;
  private f32: Float32Array;
  private i32: Int32Array;
  private scratchPtr = 0;
  private scratchBytes = 0; // per job
  private scratchCount = 0;
  private readonly kc: number;
  private readonly nc: number;
  private readonly tile: MatmulTile;
  private readonly kernelsFma: boolean;
  private readonly minWork: number;
  private readonly jobsPerThread: number;
  private readonly matmulJobsPerThread: number;
  private readonly poisonFreed: boolean;
  private readonly ropeTables = new Map<string, { ptr: number; positions: number }>();

  private constructor(
    private readonly memory: WebAssembly.Memory,
    kernels: KernelModule,
    instance: WebAssembly.Instance,
    private readonly maximumPages: number,
    private readonly pool: ThreadPool | undefined,
    opts: WasmBackendOptions,
    note: string,
  ) {
    this.exports = instance.exports as unknown as Record<string, (...args: number[]) => number | void>;
    this.heap = new Heap(memory, 1024, maximumPages);
    this.buffer = memory.buffer;
    this.f32 = new Float32Array(this.buffer);
    this.i32 = new Int32Array(this.buffer);
    this.tile = kernels.tile;
    this.kernelsFma = kernels.fma;
    this.kc = opts.kcBlock ?? 256;
    this.nc = opts.ncBlock ?? 512;
    this.minWork = opts.minParallelWork ?? DEFAULT_MIN_PARALLEL_WORK;
    this.jobsPerThread = opts.jobsPerThread ?? JOBS_PER_THREAD;
    this.matmulJobsPerThread = opts.matmulJobsPerThread ?? MATMUL_JOBS_PER_THREAD;
    this.poisonFreed = opts.poisonFreed ?? false;
    this.threadNote = note;
  }

  /**
   * A wasm backend with `opts.threads` threads (default: all cores). Throws if this engine
   * lacks WebAssembly SIMD (see src/backend/select.ts for the fallback to `cpu`). Threads
   * need SharedArrayBuffer and a thread that may block; without them it runs on one thread
   * and says why in `threadNote`.
   */
  static async create(opts: WasmBackendOptions = {}): Promise<WasmBackend> {
    if (!simdSupported()) throw new Error('wasm backend: this JavaScript engine does not support WebAssembly SIMD');
    let threads = opts.threads ?? (await defaultThreadCount());
    if (!Number.isInteger(threads) || threads < 1) throw new Error(`wasm backend: threads must be a positive integer, got ${threads}`);
    let note = '';
    if (threads > 1 && !sharedMemorySupported()) { note = 'no SharedArrayBuffer (a page needs cross-origin isolation): 1 thread'; threads = 1; }
    if (threads > 1 && !canBlock()) { note = 'this thread may not block in Atomics.wait (a page main thread?): 1 thread'; threads = 1; }
    const shared = threads > 1 || sharedMemorySupported();
    const maxMiB = opts.maxMemoryMiB ?? 4096;
    if (!(maxMiB >= 16 && maxMiB <= 4096)) throw new Error(`wasm backend: maxMemoryMiB must be in [16, 4096], got ${maxMiB}`);
    // Some engines cannot reserve a 4 GiB shared memory; halve until one can be made.
    let maximumPages = Math.floor((maxMiB * 2 ** 20) / PAGE_BYTES);
    let memory: WebAssembly.Memory | undefined;
    while (!memory) {
      try {
        memory = new WebAssembly.Memory({ initial: 256, maximum: maximumPages, shared });
      } catch (e) {
        if (maximumPages <= 256) throw new Error(`wasm backend: could not create a WebAssembly memory: ${e instanceof Error ? e.message : String(e)}`);
        maximumPages = Math.floor(maximumPages / 2);
      }
    }
    const fma = opts.fma ?? relaxedSimdSupported();
    if (fma && !relaxedSimdSupported()) throw new Error('wasm backend: fma needs relaxed SIMD, which this engine lacks');
    const kernels = await buildKernelModule({ shared, maximumPages, tile: opts.tile, fma });
    const instance = await WebAssembly.instantiate(kernels.module, { env: { memory } });
    let pool: ThreadPool | undefined;
    if (threads > 1) {
      try {
        pool = await ThreadPool.create(kernels.module, memory, kernels.exportNames, threads);
      } catch (e) {
        note = `${e instanceof Error ? e.message : String(e)}: 1 thread`;
      }
    }
    return new WasmBackend(memory, kernels, instance, maximumPages, pool, opts, note);
  }

  /** Whether the matmul kernels use fused multiply-adds (relaxed SIMD). */
  get fma(): boolean {
    return this.kernelsFma;
  }

  /** Threads that run kernels (the calling one included). */
  get threads(): number {
    return this.pool?.size ?? 1;
  }

  /** Stops the worker threads; the backend and its tensors must not be used afterwards. */
  destroy(): void {
    this.pool?.dispose();
  }

  /** Allocator figures, in bytes. */
  memoryStats() {
    return this.heap.stats();
  }

  // ================================================================ memory

  zeros(shape: readonly number[], dtype: DType = 'f32'): Tensor {
    const t = this.alloc(shape, dtype);
    this.fill(t, 0);
    return t;
  }

  /** Heap memory as it was left: the fill is what makes zeros() cost (about 5% of a step). */
  empty(shape: readonly number[], dtype: DType = 'f32'): Tensor {
    return this.alloc(shape, dtype);
  }

  fromArray(data: Float32Array | Int32Array, shape: readonly number[]): Tensor {
    const dtype: DType = data instanceof Int32Array ? 'i32' : 'f32';
    const t = this.alloc(shape, dtype);
    if (data.length !== t.size) {
      this.dispose(t);
      throw new Error(`tensor data has ${data.length} elements, shape [${shape.join(', ')}] needs ${t.size}`);
    }
    this.view(t).set(data);
    return t;
  }

  write(t: Tensor, data: Float32Array | Int32Array, offset = 0): void {
    const d = this.view(t);
    if ((data instanceof Int32Array) !== (d instanceof Int32Array)) throw new Error(`write: dtype mismatch (tensor is ${t.dtype})`);
    if (offset + data.length > d.length) throw new RangeError(`write: ${data.length} elements at ${offset} overflow a tensor of ${d.length}`);
    d.set(data, offset);
  }

  async read(t: Tensor): Promise<Float32Array | Int32Array> {
    return this.view(t).slice();
  }

  /**
   * Synchronous access: the tensor's elements as a view of the wasm memory (not a copy). Valid
   * until the next allocation (which may grow the memory); for tests and host-side kernels.
   */
  view(t: Tensor): Float32Array | Int32Array {
    const w = this.live(t);
    this.refresh();
    return w.dtype === 'f32' ? this.f32.subarray(w.ptr >>> 2, (w.ptr >>> 2) + w.size) : this.i32.subarray(w.ptr >>> 2, (w.ptr >>> 2) + w.size);
  }

  fill(t: Tensor, value: number): void {
    const w = this.live(t);
    // Large f32 fills (zeros() of gradients and logits) are split over the threads. A vector
    // store counts as 10 flop-equivalents (memory, not arithmetic, is what a fill waits on): the
    // (N, C) gradients of a training step are split, the few rows of a decoding step are not.
    const n4 = w.size >> 2, perVec = 10;
    if (w.dtype === 'f32' && this.threads > 1 && perVec * n4 >= this.minWork) {
      this.run('fill_f32', this.vectorJobs(n4, perVec, (v0, v1) => [w.ptr + 16 * v0, value, v1 - v0]));
      this.view(t).fill(value, n4 * 4);
    } else {
      this.view(t).fill(value);
    }
  }

  copy(src: Tensor, dst: Tensor, srcOffset = 0, dstOffset = 0, count = src.size - srcOffset): void {
    const s = this.live(src), d = this.live(dst);
    if (s.dtype !== d.dtype) throw new Error(`copy: dtype mismatch (${s.dtype} to ${d.dtype})`);
    if (srcOffset < 0 || dstOffset < 0 || count < 0 || srcOffset + count > s.size || dstOffset + count > d.size) {
      throw new RangeError('copy: range out of bounds');
    }
    this.refresh();
    // Int32 view: a bit-exact memmove whatever the dtype.
    const from = (s.ptr >>> 2) + srcOffset;
    this.i32.copyWithin((d.ptr >>> 2) + dstOffset, from, from + count);
  }

  dispose(t: Tensor): void {
    const w = t as WasmTensor;
    if (!(w instanceof WasmTensor)) throw new Error('dispose: not a wasm tensor');
    if (w.disposed) return;
    w.disposed = true;
    if (w.isView) return;
    if (this.poisonFreed) {
      this.refresh();
      this.f32.fill(NaN, w.ptr >>> 2, (w.ptr + w.bytes) >>> 2);
    }
    this.heap.release(w.ptr, w.bytes);
  }

  /** The most memory this backend may grow to, in bytes (wasm32: at most 4 GiB). */
  get memoryLimitBytes(): number {
    return this.maximumPages * PAGE_BYTES;
  }

  /** The memory it holds now (it only grows), in bytes: the high-water mark of a run. */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  reshape(t: Tensor, shape: readonly number[]): Tensor {
    const w = t as WasmTensor;
    if (!(w instanceof WasmTensor)) throw new Error('reshape: not a wasm tensor');
    checkReshape(t, shape);
    const v = new WasmTensor([...shape], w.dtype, w.ptr, w.bytes);
    v.isView = true;
    return v;
  }

  async sync(): Promise<void> {}

  // ================================================================ elementwise and reductions (reference code on views)

  axpy(y: Tensor, x: Tensor, alpha: number): void {
    this.cpu.axpy(this.c(y), this.c(x), alpha);
  }

  sumSquares(x: Tensor, out: Tensor, accumulate: boolean): void {
    this.cpu.sumSquares(this.c(x), this.c(out), accumulate);
  }

  clipScale(sumSq: Tensor, maxNorm: number, scale: Tensor, guard?: Tensor): void {
    this.cpu.clipScale(this.c(sumSq), maxNorm, this.c(scale), guard && this.c(guard));
  }

  // ================================================================ matmul

  matmul(a: Tensor, b: Tensor, out: Tensor, opts: MatmulOptions = {}): void {
    const A = this.f32t(a, 'matmul A'), B = this.f32t(b, 'matmul B'), O = this.f32t(out, 'matmul out');
    const [ar, ac] = dims2(A, 'matmul A'), [br, bc] = dims2(B, 'matmul B');
    const M = opts.transA ? ac : ar, K = opts.transA ? ar : ac;
    const N = opts.transB ? br : bc, Kb = opts.transB ? bc : br;
    if (K !== Kb) throw new Error(`matmul: inner dimensions differ (A gives K=${K}, B gives K=${Kb})`);
    expectShape(out, [M, N], 'matmul out');
    const acc = opts.accumulate ? 1 : 0;
    if (M === 0 || N === 0) return;
    if (K === 0) { if (!acc) this.fill(out, 0); return; }
    if (opts.transB && !opts.transA) {
      const T = this.parts(2 * M * N * K, this.matmulJobsPerThread);
      // x W^T (every forward Linear layer, and decoding): dot products of contiguous rows, no
      // packing; measured 5-10% faster than the packed kernel at 1024 rows and 3-10x at the
      // few rows of a decoding step. Threads split rows (each reads all of W) unless W is the
      // larger operand.
      const jobs = M >= 2 * N || N < 4 * T
        ? splitRange(M, T, 2).map(([i0, i1]) => [A.ptr + 4 * i0 * K, B.ptr, O.ptr + 4 * i0 * N, i1 - i0, N, K, N, acc])
        : splitRange(N, T, 4).map(([j0, j1]) => [A.ptr, B.ptr + 4 * j0 * K, O.ptr + 4 * j0, M, j1 - j0, K, N, acc]);
      this.run('matmul_nt_rows', jobs);
      return;
    }
    const [rsA, csA] = opts.transA ? [1, M] : [K, 1];
    const [rsB, csB] = opts.transB ? [1, K] : [N, 1];
    const MR = this.tile.mr, NR = 4 * this.tile.nrVec;
    const jobs: number[][] = [];
    // Split the output's rows or columns, whichever moves less memory per job: a row split
    // has every job pack all of B (K x N) and read its share of A; a column split has every job
    // read all of A (M x K) and pack its share of B.
    const byColumns = M < 2 * N;
    const T = this.parts(2 * M * N * K, this.matmulJobsPerThread);
    const scratch = this.scratch(matmulScratchBytes(this.kc, this.nc, this.tile), T);
    if (T > 1 && byColumns && N >= NR * T) {
      for (const [j0, j1] of splitRange(N, T, NR)) {
        jobs.push([A.ptr, B.ptr + 4 * j0 * csB, O.ptr + 4 * j0, M, j1 - j0, K, rsA, csA, rsB, csB, N, acc, scratch[jobs.length]!, this.kc, this.nc]);
      }
    } else {
      for (const [i0, i1] of splitRange(M, T, MR)) {
        jobs.push([A.ptr + 4 * i0 * rsA, B.ptr, O.ptr + 4 * i0 * N, i1 - i0, N, K, rsA, csA, rsB, csB, N, acc, scratch[jobs.length]!, this.kc, this.nc]);
      }
    }
    this.run('matmul', jobs);
  }

  // ================================================================ rows (reference code on views)

  gatherRows(src: Tensor, idx: Tensor, out: Tensor): void {
    this.cpu.gatherRows(this.c(src), this.c(idx), this.c(out));
  }

  scatterAddRows(src: Tensor, idx: Tensor, dst: Tensor): void {
    this.cpu.scatterAddRows(this.c(src), this.c(idx), this.c(dst));
  }

  scatterRows(src: Tensor, idx: Tensor, dst: Tensor): void {
    this.cpu.scatterRows(this.c(src), this.c(idx), this.c(dst));
  }

  // ================================================================ layers

  embeddingForward(ids: Tensor, table: Tensor, out: Tensor): void {
    this.cpu.embeddingForward(this.c(ids), this.c(table), this.c(out));
  }

  embeddingBackward(ids: Tensor, dOut: Tensor, dTable: Tensor): void {
    this.cpu.embeddingBackward(this.c(ids), this.c(dOut), this.c(dTable));
  }

  rmsnormForward(x: Tensor, w: Tensor, out: Tensor, rstd: Tensor, eps: number): void {
    const X = this.f32t(x, 'rmsnorm x'), W = this.f32t(w, 'rmsnorm w'), O = this.f32t(out, 'rmsnorm out'), R = this.f32t(rstd, 'rmsnorm rstd');
    const C = W.size, N = X.size / C;
    checkRows('rmsnormForward', X, O, R, C, N);
    const jobs = splitRange(N, this.parts(N * C * 4), 1).map(([n0, n1]) =>
      [X.ptr + 4 * n0 * C, W.ptr, O.ptr + 4 * n0 * C, R.ptr + 4 * n0, n1 - n0, C, eps]);
    this.run('rmsnorm_fwd', jobs);
  }

  rmsnormBackward(x: Tensor, w: Tensor, rstd: Tensor, dOut: Tensor, dX: Tensor, dW: Tensor): void {
    const X = this.f32t(x, 'rmsnorm x'), W = this.f32t(w, 'rmsnorm w'), R = this.f32t(rstd, 'rmsnorm rstd');
    const dY = this.f32t(dOut, 'rmsnorm dOut'), DX = this.f32t(dX, 'rmsnorm dX'), DW = this.f32t(dW, 'rmsnorm dW');
    const C = W.size, N = X.size / C;
    checkRows('rmsnormBackward', X, dY, R, C, N);
    if (DX.size !== X.size || DW.size !== C) throw new Error('rmsnormBackward: dX or dW has the wrong size');
    const ranges = splitRange(N, this.parts(N * C * 10), 1);
    // Thread 0 accumulates into dW itself; the others into zeroed partial rows, summed after.
    const partial = ranges.length > 1 ? this.scratch(4 * C, ranges.length) : [];
    const jobs = ranges.map(([n0, n1], t) => {
      const dw = t === 0 ? DW.ptr : partial[t]!;
      if (t > 0) this.f32.fill(0, dw >>> 2, (dw >>> 2) + C);
      return [X.ptr + 4 * n0 * C, W.ptr, R.ptr + 4 * n0, dY.ptr + 4 * n0 * C, DX.ptr + 4 * n0 * C, dw, n1 - n0, C];
    });
    this.run('rmsnorm_bwd', jobs);
    const f = this.f32, d = DW.ptr >>> 2;
    for (let t = 1; t < ranges.length; t++) {
      const p = partial[t]! >>> 2;
      for (let c = 0; c < C; c++) f[d + c] = f[d + c]! + f[p + c]!;
    }
  }

  ropeForward(x: Tensor, positions: Tensor, out: Tensor, heads: number, theta: number, scaling?: RopeScaling): void {
    if (!this.rope(x, positions, out, heads, theta, 1, false, scaling)) {
      this.cpu.ropeForward(this.c(x), this.c(positions), this.c(out), heads, theta, scaling);
    }
  }

  ropeBackward(dOut: Tensor, positions: Tensor, dX: Tensor, heads: number, theta: number, scaling?: RopeScaling): void {
    if (!this.rope(dOut, positions, dX, heads, theta, -1, true, scaling)) {
      this.cpu.ropeBackward(this.c(dOut), this.c(positions), this.c(dX), heads, theta, scaling);
    }
  }

  /**
   * The SIMD RoPE kernel; false when it does not apply (D/2 not a multiple of 4, a negative
   * position, mismatched sizes), so the caller runs the reference.
   */
  private rope(x: Tensor, positions: Tensor, out: Tensor, heads: number, theta: number, sign: 1 | -1, acc: boolean, scaling?: RopeScaling): boolean {
    const X = this.f32t(x, 'rope x'), P = this.i32t(positions, 'rope positions'), O = this.f32t(out, 'rope out');
    const N = P.size, C = N > 0 ? X.size / N : 0, D = C / heads;
    if (N === 0 || !Number.isInteger(D) || (D / 2) % 4 !== 0 || O.size !== X.size || X.size !== N * C) return false;
    this.refresh();
    const pos = this.i32.subarray(P.ptr >>> 2, (P.ptr >>> 2) + N);
    let maxPos = 0;
    for (let n = 0; n < N; n++) { const p = pos[n]!; if (p < 0) return false; if (p > maxPos) maxPos = p; }
    const table = this.ropeTable(D, theta, maxPos + 1, scaling);
    const jobs = splitRange(N, this.parts(N * C * 3), 1).map(([n0, n1]) =>
      [X.ptr + 4 * n0 * C, P.ptr + 4 * n0, table, O.ptr + 4 * n0 * C, n1 - n0, heads, D, sign, acc ? 1 : 0]);
    this.run('rope', jobs);
    return true;
  }

  /**
   * The cos/sin table of head size D for positions below `positions` (grown by doubling):
   * the reference's float32 angles, cosines and sines rounded to float32.
   */
  private ropeTable(D: number, theta: number, positions: number, scaling?: RopeScaling): number {
    const key = ropeKey(D, theta, scaling);
    const have = this.ropeTables.get(key);
    if (have && have.positions >= positions) return have.ptr;
    const P = Math.max(512, 2 ** Math.ceil(Math.log2(positions)), have ? 2 * have.positions : 0);
    if (have) this.heap.release(have.ptr, 4 * have.positions * D);
    const ptr = this.heap.alloc(4 * P * D);
    this.refresh();
    const inv = ropeInvFreq(D, theta, scaling), half = D / 2, t = this.f32, o = ptr >>> 2;
    for (let p = 0; p < P; p++) {
      for (let i = 0; i < half; i++) {
        const ang = Math.fround(p * inv[i]!);
        t[o + p * D + i] = Math.cos(ang);
        t[o + p * D + half + i] = Math.sin(ang);
      }
    }
    this.ropeTables.set(key, { ptr, positions: P });
    return ptr;
  }

  attentionForward(
    q: Tensor, k: Tensor, v: Tensor, kvStart: Tensor, pos: Tensor, out: Tensor, lse: Tensor, heads: number, scale: number,
  ): void {
    const Q = this.f32t(q, 'attention q'), K = this.f32t(k, 'attention k'), V = this.f32t(v, 'attention v');
    const O = this.f32t(out, 'attention out'), LSE = this.f32t(lse, 'attention lse');
    const S = this.i32t(kvStart, 'attention kvStart'), P = this.i32t(pos, 'attention pos');
    const C = rowWidth(q), D = C / heads, N = P.size;
    if (D % 4 !== 0 || K.size !== V.size || O.size !== Q.size || LSE.size !== N * heads || S.size !== N || Q.size !== N * C) {
      // Head sizes that are not a multiple of 4 (and malformed inputs, for its error messages): the reference.
      this.cpu.attentionForward(this.c(q), this.c(k), this.c(v), this.c(kvStart), this.c(pos), this.c(out), this.c(lse), heads, scale);
      return;
    }
    const maxL = this.checkKvRanges(S, P, K.size / C, 'attention');
    const T = this.parts(N * C * 6 * (maxL + 1) / 2);
    const scratch = this.scratch(4 * maxL + 64, T); // (may grow the memory: views after it)
    const cost = this.i32.subarray(P.ptr >>> 2, (P.ptr >>> 2) + N);
    const jobs = splitByCost(cost, T).map(([n0, n1], t) =>
      [Q.ptr, K.ptr, V.ptr, S.ptr, P.ptr, O.ptr, LSE.ptr, n0, n1, heads, D, scale, scratch[t]!]);
    this.run('attn_fwd', jobs);
  }

  attentionBackward(
    q: Tensor, k: Tensor, v: Tensor, kvStart: Tensor, pos: Tensor, out: Tensor, lse: Tensor,
    dOut: Tensor, dQ: Tensor, dK: Tensor, dV: Tensor, heads: number, scale: number,
  ): void {
    const Q = this.f32t(q, 'attention q'), K = this.f32t(k, 'attention k'), V = this.f32t(v, 'attention v');
    const O = this.f32t(out, 'attention out'), LSE = this.f32t(lse, 'attention lse'), dY = this.f32t(dOut, 'attention dOut');
    const DQ = this.f32t(dQ, 'attention dQ'), DK = this.f32t(dK, 'attention dK'), DV = this.f32t(dV, 'attention dV');
    const S = this.i32t(kvStart, 'attention kvStart'), P = this.i32t(pos, 'attention pos');
    const C = rowWidth(q), D = C / heads, N = P.size;
    const sizesOk = K.size === V.size && O.size === Q.size && dY.size === Q.size && DQ.size === Q.size &&
      DK.size === K.size && DV.size === V.size && LSE.size === N * heads && S.size === N && Q.size === N * C;
    if (D % 4 !== 0 || !sizesOk) {
      this.cpu.attentionBackward(
        this.c(q), this.c(k), this.c(v), this.c(kvStart), this.c(pos), this.c(out), this.c(lse),
        this.c(dOut), this.c(dQ), this.c(dK), this.c(dV), heads, scale,
      );
      return;
    }
    const maxL = this.checkKvRanges(S, P, K.size / C, 'attention');
    // Jobs split heads, then rows at sequence starts: every query of a sequence adds into the
    // same dK/dV rows (in row order, which a job keeps), but each head owns its own columns of
    // them and each sequence its own rows. Cut as finely as a matmul (a late job keeps the
    // other threads waiting); the same sums in the same order whatever the cut.
    const T = this.parts(N * C * 16 * (maxL + 1) / 2, this.matmulJobsPerThread);
    const headRanges = splitRange(heads, Math.min(heads, T), 1);
    this.refresh();
    const rowRanges = splitBySequence(this.i32.subarray(P.ptr >>> 2, (P.ptr >>> 2) + N), this.i32.subarray(S.ptr >>> 2, (S.ptr >>> 2) + N), Math.ceil(T / headRanges.length));
    const scratch = this.scratch(8 * maxL + 64, headRanges.length * rowRanges.length);
    const jobs = headRanges.flatMap(([h0, h1]) => rowRanges.map(([n0, n1]) => [h0, h1, n0, n1]))
      .map(([h0, h1, n0, n1], t) => [Q.ptr, K.ptr, V.ptr, S.ptr, P.ptr, O.ptr, LSE.ptr, dY.ptr, DQ.ptr, DK.ptr, DV.ptr, n0!, n1!, h0!, h1!, heads, D, scale, scratch[t]!]);
    this.run('attn_bwd', jobs);
  }

  swigluForward(gate: Tensor, up: Tensor, out: Tensor): void {
    const G = this.f32t(gate, 'swiglu gate'), U = this.f32t(up, 'swiglu up'), O = this.f32t(out, 'swiglu out');
    if (U.size !== G.size || O.size !== G.size) throw new Error('swigluForward: gate, up and out differ in size');
    const n4 = G.size >> 2;
    this.run('swiglu_fwd', this.vectorJobs(n4, 40, (v0, v1) => [G.ptr + 16 * v0, U.ptr + 16 * v0, O.ptr + 16 * v0, v1 - v0]));
    if (n4 * 4 < G.size) {
      const s = n4 * 4;
      SWIGLU.swigluForward(this.fv(G).subarray(s), this.fv(U).subarray(s), this.fv(O).subarray(s));
    }
  }

  swigluBackward(gate: Tensor, up: Tensor, dOut: Tensor, dGate: Tensor, dUp: Tensor): void {
    const G = this.f32t(gate, 'swiglu gate'), U = this.f32t(up, 'swiglu up'), dY = this.f32t(dOut, 'swiglu dOut');
    const DG = this.f32t(dGate, 'swiglu dGate'), DU = this.f32t(dUp, 'swiglu dUp');
    if ([U, dY, DG, DU].some((t) => t.size !== G.size)) throw new Error('swigluBackward: tensors differ in size');
    const n4 = G.size >> 2;
    this.run('swiglu_bwd', this.vectorJobs(n4, 50, (v0, v1) =>
      [G.ptr + 16 * v0, U.ptr + 16 * v0, dY.ptr + 16 * v0, DG.ptr + 16 * v0, DU.ptr + 16 * v0, v1 - v0]));
    if (n4 * 4 < G.size) {
      const s = n4 * 4;
      SWIGLU.swigluBackward(this.fv(G).subarray(s), this.fv(U).subarray(s), this.fv(dY).subarray(s), this.fv(DG).subarray(s), this.fv(DU).subarray(s));
    }
  }

  logSoftmaxGatherForward(logits: Tensor, targets: Tensor, logProbs: Tensor, lse: Tensor): void {
    const X = this.f32t(logits, 'log-probs logits'), Tg = this.i32t(targets, 'log-probs targets');
    const LP = this.f32t(logProbs, 'log-probs out'), LSE = this.f32t(lse, 'log-probs lse');
    const M = Tg.size, V = rowWidth(logits);
    if (X.size !== M * V || LP.size !== M || LSE.size !== M) throw new Error('logSoftmaxGatherForward: logits, targets, logProbs and lse disagree in rows');
    this.checkTargets(Tg, V);
    const jobs = splitRange(M, this.parts(M * V * 20), 1).map(([m0, m1]) =>
      [X.ptr + 4 * m0 * V, Tg.ptr + 4 * m0, LP.ptr + 4 * m0, LSE.ptr + 4 * m0, m1 - m0, V]);
    this.run('lsm_fwd', jobs);
  }

  logSoftmaxGatherBackward(logits: Tensor, targets: Tensor, lse: Tensor, dLogProbs: Tensor, dLogits: Tensor): void {
    const X = this.f32t(logits, 'log-probs logits'), Tg = this.i32t(targets, 'log-probs targets');
    const LSE = this.f32t(lse, 'log-probs lse'), G = this.f32t(dLogProbs, 'log-probs dLogProbs'), DX = this.f32t(dLogits, 'log-probs dLogits');
    const M = Tg.size, V = rowWidth(logits);
    if (X.size !== M * V || DX.size !== X.size || LSE.size !== M || G.size !== M) throw new Error('logSoftmaxGatherBackward: shapes disagree');
    this.checkTargets(Tg, V);
    const jobs = splitRange(M, this.parts(M * V * 20), 1).map(([m0, m1]) =>
      [X.ptr + 4 * m0 * V, Tg.ptr + 4 * m0, LSE.ptr + 4 * m0, G.ptr + 4 * m0, DX.ptr + 4 * m0 * V, m1 - m0, V]);
    this.run('lsm_bwd', jobs);
  }

  // ================================================================ losses (reference code on views)

  policyLoss(
    logProbs: Tensor, oldLogProbs: Tensor, advantages: Tensor, weights: Tensor, clipEps: number,
    loss: Tensor, dLogProbs: Tensor, stats: Tensor,
  ): void {
    this.cpu.policyLoss(this.c(logProbs), this.c(oldLogProbs), this.c(advantages), this.c(weights), clipEps, this.c(loss), this.c(dLogProbs), this.c(stats));
  }

  nllLoss(logProbs: Tensor, weights: Tensor, loss: Tensor, dLogProbs: Tensor): void {
    this.cpu.nllLoss(this.c(logProbs), this.c(weights), this.c(loss), this.c(dLogProbs));
  }

  // ================================================================ optimizer

  adamw(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, gradScale: Tensor, p: AdamWParams): void {
    const W = this.f32t(param, 'adamw param'), G = this.f32t(grad, 'adamw grad'), Mo = this.f32t(m, 'adamw m'), Vo = this.f32t(v, 'adamw v');
    const S = this.f32t(gradScale, 'adamw gradScale');
    if ([G, Mo, Vo].some((t) => t.size !== W.size)) throw new Error('adamw: param, grad, m and v differ in size');
    this.refresh();
    const s = this.f32[S.ptr >>> 2]!;
    if (!appliesScale(s)) return; // a skipped step (see Backend.adamw): nothing is written
    const bc1 = 1 - Math.pow(p.beta1, p.step), bc2 = 1 - Math.pow(p.beta2, p.step);
    const lrOverBc1 = p.lr / bc1, decay = 1 - p.lr * p.weightDecay;
    const n4 = W.size >> 2;
    this.run('adamw', this.vectorJobs(n4, 30, (v0, v1) =>
      [W.ptr + 16 * v0, G.ptr + 16 * v0, Mo.ptr + 16 * v0, Vo.ptr + 16 * v0, v1 - v0, s, p.beta1, p.beta2, lrOverBc1, bc2, p.eps, decay]));
    // The last size mod 4 elements: the same update in JavaScript.
    const w = this.fv(W), g = this.fv(G), md = this.fv(Mo), vd = this.fv(Vo);
    for (let i = n4 * 4; i < W.size; i++) {
      const gi = g[i]! * s;
      const mi = p.beta1 * md[i]! + (1 - p.beta1) * gi;
      const vi = p.beta2 * vd[i]! + (1 - p.beta2) * gi * gi;
      md[i] = mi;
      vd[i] = vi;
      w[i] = w[i]! * decay - (p.lr * (mi / bc1)) / (Math.sqrt(vi / bc2) + p.eps);
    }
  }

  // ================================================================ sampling (host-side, the reference's arithmetic)

  sample(logits: Tensor, uniforms: Tensor, tokens: Tensor, logProbs: Tensor, p: SampleParams): void {
    const X = this.f32t(logits, 'sample logits'), U = this.f32t(uniforms, 'sample uniforms');
    const Tk = this.i32t(tokens, 'sample tokens'), LP = this.f32t(logProbs, 'sample logProbs');
    const M = Tk.size, V = rowWidth(logits);
    if (X.size !== M * V || U.size !== M || LP.size !== M) throw new Error(`sample: logits [${logits.shape.join(', ')}] do not match ${M} tokens, uniforms and logProbs`);
    sampleRowsExact(this.fv(X), this.fv(U), this.view(Tk) as Int32Array, this.fv(LP), V, p.temperature, p.topP);
  }

  // ================================================================ helpers

  private alloc(shape: readonly number[], dtype: DType): WasmTensor {
    if (dtype !== 'f32' && dtype !== 'i32') throw new Error(`unknown dtype "${dtype as string}"`);
    const n = shapeSize(shape);
    const bytes = 4 * n;
    return new WasmTensor([...shape], dtype, this.heap.alloc(bytes), bytes);
  }

  /** Re-creates the typed-array views after the memory grew. */
  private refresh(): void {
    if (this.memory.buffer !== this.buffer) {
      this.buffer = this.memory.buffer;
      this.f32 = new Float32Array(this.buffer);
      this.i32 = new Int32Array(this.buffer);
    }
  }

  private live(t: Tensor): WasmTensor {
    if (!(t instanceof WasmTensor)) throw new Error('wasm backend: not a wasm tensor (created by another backend?)');
    if (t.disposed) throw new Error(`wasm backend: tensor [${t.shape.join(', ')}] used after dispose`);
    return t;
  }

  private f32t(t: Tensor, what: string): WasmTensor {
    const w = this.live(t);
    if (w.dtype !== 'f32') throw new Error(`${what}: expected f32, got ${w.dtype}`);
    return w;
  }

  private i32t(t: Tensor, what: string): WasmTensor {
    const w = this.live(t);
    if (w.dtype !== 'i32') throw new Error(`${what}: expected i32, got ${w.dtype}`);
    return w;
  }

  private fv(t: WasmTensor): Float32Array {
    return this.view(t) as Float32Array;
  }

  /** A CPU tensor over the same memory, for running the reference kernels in place. */
  private c(t: Tensor): CpuTensor {
    return new CpuTensor(t.shape, t.dtype, this.view(t));
  }

  /**
   * How many jobs a kernel of `work` flop-equivalents is cut into: 1 below the threshold, else
   * `perThread` per thread used (each thread should get at least half the threshold).
   */
  private parts(work: number, perThread = this.jobsPerThread): number {
    const T = this.threads;
    if (T === 1 || work < this.minWork) return 1;
    const used = Math.max(1, Math.min(T, Math.floor(work / (this.minWork / 2))));
    return used === 1 ? 1 : Math.min(ThreadPool.maxJobs, used * perThread);
  }

  /** Jobs over n4 vectors, split when the work (flops per vector `perVec`) is large enough. */
  private vectorJobs(n4: number, perVec: number, job: (v0: number, v1: number) => number[]): number[][] {
    return splitRange(n4, this.parts(n4 * perVec), 1).map(([v0, v1]) => job(v0, v1));
  }

  /**
   * `count` scratch blocks of `bytes` each, one per job (kept and grown as needed); returns
   * their addresses. May grow the memory: take views after it.
   */
  private scratch(bytes: number, count: number): number[] {
    const per = Math.ceil(bytes / 64) * 64;
    if (per > this.scratchBytes || count > this.scratchCount) {
      if (this.scratchBytes) this.heap.release(this.scratchPtr, this.scratchBytes * this.scratchCount);
      this.scratchBytes = Math.max(per, this.scratchBytes);
      this.scratchCount = Math.max(count, this.scratchCount);
      this.scratchPtr = this.heap.alloc(this.scratchBytes * this.scratchCount);
      this.refresh();
    }
    return Array.from({ length: count }, (_, t) => this.scratchPtr + t * this.scratchBytes);
  }

  private run(name: string, jobs: number[][]): void {
    if (jobs.length === 0) return;
    const fn = this.exports[name]!;
    if (jobs.length === 1 || !this.pool) {
      for (const j of jobs) fn(...j);
    } else {
      this.pool.run(name, jobs, fn);
    }
    this.refresh();
  }

  /** Throws like the reference if a row's kv range leaves the kv tensor; returns max(pos) + 1. */
  private checkKvRanges(S: WasmTensor, P: WasmTensor, R: number, what: string): number {
    this.refresh();
    const s = this.i32, so = S.ptr >>> 2, po = P.ptr >>> 2;
    let maxL = 1;
    for (let n = 0; n < P.size; n++) {
      const s0 = s[so + n]!, L = s[po + n]! + 1;
      if (s0 < 0 || s0 + L > R || L < 1) throw new RangeError(`${what}: row ${n} reads kv rows ${s0}..${s0 + L - 1}, cache has ${R}`);
      if (L > maxL) maxL = L;
    }
    return maxL;
  }

  private checkTargets(Tg: WasmTensor, V: number): void {
    this.refresh();
    const s = this.i32, o = Tg.ptr >>> 2;
    for (let m = 0; m < Tg.size; m++) {
      const t = s[o + m]!;
      if (t < 0 || t >= V) throw new RangeError(`log-probs: target ${t} at row ${m} is outside [0, ${V})`);
    }
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

function checkRows(what: string, x: WasmTensor, out: WasmTensor, r: WasmTensor, C: number, N: number): void {
  if (!Number.isInteger(N) || out.size !== x.size || r.size !== N) {
    throw new Error(`${what}: x has ${x.size} elements, the weight ${C}, the output ${out.size}, rstd ${r.size}`);
  }
}

/**
 * [start, end) ranges splitting [0, n) into at most `parts` nearly equal pieces whose
 * boundaries are multiples of `align` (empty pieces are dropped).
 */
export function splitRange(n: number, parts: number, align: number): [number, number][] {
  const units = Math.ceil(n / align);
  const p = Math.max(1, Math.min(parts, units));
  const out: [number, number][] = [];
  for (let i = 0; i < p; i++) {
    const a = Math.min(n, Math.floor((units * i) / p) * align), b = Math.min(n, Math.floor((units * (i + 1)) / p) * align);
    if (b > a) out.push([a, b]);
  }
  return out;
}

function sumPlus1(pos: Int32Array): number {
  let s = 0;
  for (let i = 0; i < pos.length; i++) s += pos[i]! + 1;
  return s;
}

/** Splits rows into `parts` ranges of about equal total cost (pos + 1 keys per row). */
function splitByCost(pos: Int32Array, parts: number): [number, number][] {
  return splitByCostAt(pos, parts, () => true);
}

/**
 * Like splitByCost, cutting only before a row n where the kv rows read by rows < n (kvStart ..
 * kvStart + pos) all lie below those read by rows >= n, so that no two ranges add into the same
 * dK/dV row: in a ragged batch, between sequences. Fewer ranges when sequences are few.
 */
function splitBySequence(pos: Int32Array, kvStart: Int32Array, parts: number): [number, number][] {
  const N = pos.length, minStartFrom = new Float64Array(N + 1).fill(Infinity);
  for (let n = N - 1; n >= 0; n--) minStartFrom[n] = Math.min(minStartFrom[n + 1]!, kvStart[n]!);
  let maxEndBelow = -Infinity, seen = 0; // over rows < seen: max of kvStart + pos + 1
  return splitByCostAt(pos, parts, (n) => {
    for (; seen < n; seen++) maxEndBelow = Math.max(maxEndBelow, kvStart[seen]! + pos[seen]! + 1);
    return maxEndBelow <= minStartFrom[n]!;
  });
}

/** Ranges of about equal cost (pos + 1 per row), cut only before rows where `canCut(n)`. */
function splitByCostAt(pos: Int32Array, parts: number, canCut: (n: number) => boolean): [number, number][] {
  if (parts <= 1) return [[0, pos.length]];
  const total = sumPlus1(pos);
  const out: [number, number][] = [];
  let start = 0, run = 0;
  for (let n = 0; n < pos.length && out.length < parts - 1; n++) {
    if (n > start && run >= (total * (out.length + 1)) / parts && canCut(n)) { out.push([start, n]); start = n; }
    run += pos[n]! + 1;
  }
  if (start < pos.length) out.push([start, pos.length]);
  return out;
}
