/**
 * The WebGPU backend: the Backend interface on our own WGSL kernels (kernels/, one file per
 * op family, forward beside backward), checked against the CPU reference by the parity tests
 * in tests/browser/.
 *
 * How a step runs: every op records a compute dispatch into one open command encoder
 * (command-recorder.ts); nothing is submitted until the host needs data (`read`, `sync`) or an
 * upload must not overtake recorded work, so a training step is a few command buffers and its
 * only read-backs are the scalars the host asks for. Tensors are pooled GPU buffers
 * (buffer-pool.ts): the model code's per-step allocations reuse the previous step's buffers,
 * so after the first step a step creates no GPU memory. Pipelines are compiled once per
 * kernel and shape class (pipeline-cache.ts).
 *
 * What differs from the CPU backend: float32 arithmetic throughout (the reference accumulates
 * in double), so results agree to rounding (tolerances are stated in the parity tests); errors
 * raised inside a kernel cannot be reported, so index tensors are range-checked on the host
 * when their values are known (uploaded and not since written by a kernel, see tensor.ts);
 * `read` and `sync` also report WebGPU validation errors and device loss.
 */
import {
  checkReshape, expectShape, ropeKey, shapeSize,
  type AdamWParams, type Backend, type DType, type MatmulOptions, type RopeScaling, type SampleParams, type Tensor,
} from '../backend.ts';
import { BufferPool, type PoolStats } from './buffer-pool.ts';
import { CommandRecorder, type BoundBuffer } from './command-recorder.ts';
import { acquireDevice, BufferUsage, MAP_MODE_READ, type GpuContext, type GpuDeviceInfo } from './device.ts';
import type { KernelSpec } from './kernel-spec.ts';
import { PipelineCache } from './pipeline-cache.ts';
import { WebGpuTensor, type KernelRunner } from './tensor.ts';
import * as EW from './kernels/elementwise.ts';
import * as SWIGLU from './kernels/swiglu.ts';
import * as OPT from './kernels/optimizer.ts';
import { matmul } from './kernels/matmul.ts';
import * as ROWS from './kernels/rows.ts';
import * as NORM from './kernels/norm.ts';
import { rope, ropeTable } from './kernels/rope.ts';
import * as ATT from './kernels/attention.ts';
import * as SM from './kernels/softmax.ts';
import * as LOSS from './kernels/loss.ts';
import { sample } from './kernels/sampling.ts';

/** Why and how the device was lost. */
export interface DeviceLoss {
  /** `destroyed` (by `destroy()`) or `unknown` (driver reset, GPU removed, out of memory...). */
  reason: string;
  message: string;
  /** The error every later call of the backend throws. */
  error: Error;
}

/** Counters for tests and benchmarks. */
export interface WebGpuStats {
  /** Storage buffers (tensors). */
  pool: PoolStats;
  /** Read-back buffers. */
  staging: PoolStats;
  submits: number;
  dispatches: number;
  pipelines: number;
}

/** Positions a RoPE table covers at least (grown on demand to the next power of two). */
const MIN_ROPE_ROWS = 1024;

export class WebGpuBackend implements Backend, KernelRunner {
  readonly name = 'webgpu';
  /** The adapter and the limits obtained. */
  readonly info: GpuDeviceInfo;
  /** Resolves when the device is lost (never, while it works). */
  readonly lost: Promise<DeviceLoss>;

  private readonly device: GPUDevice;
  private readonly pool: BufferPool;
  private readonly staging: BufferPool;
  private readonly pipelines: PipelineCache;
  private readonly recorder: CommandRecorder;
  private readonly ropeTables = new Map<string, { table: WebGpuTensor; rows: number }>();
  private loss: DeviceLoss | null = null;
  private readonly lostRejection: Promise<never>;
  private validationError: string | null = null;

  /** Wraps an acquired device; most callers want `WebGpuBackend.create()`. */
  constructor(ctx: GpuContext) {
    this.device = ctx.device;
    this.info = ctx.info;
    const maxBytes = Math.min(ctx.device.limits.maxBufferSize, ctx.device.limits.maxStorageBufferBindingSize);
    this.pool = new BufferPool(this.device, BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST, maxBytes, 'r1s tensor');
    this.staging = new BufferPool(this.device, BufferUsage.MAP_READ | BufferUsage.COPY_DST, ctx.device.limits.maxBufferSize, 'r1s read-back');
    this.pipelines = new PipelineCache(this.device);
    this.recorder = new CommandRecorder(this.device);
    this.lost = this.device.lost.then((info) => {
      const loss: DeviceLoss = {
        reason: info.reason ?? 'unknown', message: info.message,
        error: new Error(
          `WebGPU device lost (${info.reason ?? 'unknown'}): ${(info.message || 'no details').replace(/\.+$/, '')}. ` +
          'Its tensors are gone; start again from the last checkpoint (reload the page, or use ?backend=cpu).',
        ),
      };
      this.loss = loss;
      return loss;
    });
    this.lostRejection = this.lost.then((l) => Promise.reject(l.error));
    this.lostRejection.catch(() => {}); // observed by whoever races it; never an unhandled rejection
    this.device.addEventListener('uncapturederror', (e) => {
      const err = (e as GPUUncapturedErrorEvent).error;
      this.validationError ??= err.message;
    });
  }

  /**
   * A backend on a new device with the adapter's own limits.
   * @throws WebGpuUnavailableError (device.ts) when there is no WebGPU or no adapter.
   */
  static async create(): Promise<WebGpuBackend> {
    return new WebGpuBackend(await acquireDevice());
  }

  /** Calls `cb` when the device is lost (see `lost`). */
  onLost(cb: (loss: DeviceLoss) => void): void {
    void this.lost.then(cb);
  }

  /** Destroys the device (its tensors with it); `lost` resolves with reason `destroyed`. */
  destroy(): void {
    this.device.destroy();
  }

  /** Frees pooled buffers no tensor holds (after submitting what is recorded). */
  trim(): void {
    this.recorder.flush();
    this.pool.trim();
    this.staging.trim();
  }

  /** One line for the page: the adapter, whether it is a software one, and the main limits. */
  summary(): string {
    const i = this.info, mib = (b: number) => `${Math.round(b / 2 ** 20)} MiB`;
    const what = [i.vendor, i.architecture, i.description].filter(Boolean).join(' ') || 'unknown adapter';
    return `${what}${i.isFallbackAdapter ? ' (software emulation on the CPU)' : ''}; storage binding ${mib(i.limits.maxStorageBufferBindingSize)}, ` +
      `buffer ${mib(i.limits.maxBufferSize)}, workgroup storage ${i.limits.maxComputeWorkgroupStorageSize / 1024} KiB`;
  }

  stats(): WebGpuStats {
    return {
      pool: this.pool.stats(), staging: this.staging.stats(), submits: this.recorder.stats.submits,
      dispatches: this.recorder.stats.dispatches, pipelines: this.pipelines.size,
    };
  }

  // ================================================================ KernelRunner

  run(spec: KernelSpec, values: readonly number[], tensors: readonly WebGpuTensor[], groups: readonly [number, number?]): void {
    this.alive();
    let bound = tensors;
    const temps: WebGpuTensor[] = [];
    for (let i = 0; i < tensors.length; i++) {
      if (!tensors[i]!.pooled) throw new Error(`${spec.name}: a tensor was used after dispose()`);
      for (let j = i + 1; j < tensors.length; j++) {
        if (tensors[i]!.pooled !== tensors[j]!.pooled) continue;
        const wi = spec.buffers[i]!.access === 'rw', wj = spec.buffers[j]!.access === 'rw';
        if (wi && wj) throw new Error(`${spec.name}: outputs ${spec.buffers[i]!.name} and ${spec.buffers[j]!.name} are the same tensor`);
        if (wi || wj) {
          // An input that is also an output: WebGPU forbids binding one buffer both ways, so
          // the kernel reads a copy (the values before the kernel, as an elementwise op expects).
          const r = wi ? j : i;
          if (bound === tensors) bound = [...tensors];
          const tmp = this.scratch(tensors[r]!.size, tensors[r]!.dtype);
          EW.copy(this, tensors[r]!, tmp, 0, 0, tensors[r]!.size);
          (bound as WebGpuTensor[])[r] = tmp;
          temps.push(tmp);
        }
      }
    }
    const buffers: BoundBuffer[] = bound.map((t, i) => {
      if (spec.buffers[i]!.access === 'rw') t.host = null;
      return { pooled: t.pooled!, bytes: t.bytes };
    });
    this.recorder.dispatch(this.pipelines.get(spec), values, buffers, groups);
    for (const t of temps) this.release(t); // reused only by later commands, which run after this one
  }

  scratch(size: number, dtype: DType): WebGpuTensor {
    this.alive();
    return new WebGpuTensor([size], dtype, this.pool.acquire(Math.max(4, size * 4)));
  }

  release(t: WebGpuTensor): void {
    this.dispose(t);
  }

  // ================================================================ memory

  zeros(shape: readonly number[], dtype: DType = 'f32'): Tensor {
    const t = this.unfilled(shape, dtype);
    EW.fill(this, t, 0);
    if (dtype === 'i32') t.host = new Int32Array(t.size);
    return t;
  }

  /**
   * f32: a pooled buffer as it was left (one fill dispatch fewer than zeros). i32: zeros, since
   * an i32 tensor keeps a host copy that must match its buffer.
   */
  empty(shape: readonly number[], dtype: DType = 'f32'): Tensor {
    return dtype === 'f32' ? this.unfilled(shape, dtype) : this.zeros(shape, dtype);
  }

  private unfilled(shape: readonly number[], dtype: DType): WebGpuTensor {
    this.alive();
    return new WebGpuTensor([...shape], dtype, this.pool.acquire(Math.max(4, shapeSize(shape) * 4)));
  }

  fromArray(data: Float32Array | Int32Array, shape: readonly number[]): Tensor {
    this.alive();
    const n = shapeSize(shape);
    if (data.length !== n) throw new Error(`tensor data has ${data.length} elements, shape [${shape.join(', ')}] needs ${n}`);
    const dtype: DType = data instanceof Int32Array ? 'i32' : 'f32';
    // A buffer that recorded commands still use must not take an upload (it would land first).
    const pooled = this.pool.acquire(Math.max(4, n * 4), this.recorder.pending ? this.recorder.generation : -2);
    const t = new WebGpuTensor([...shape], dtype, pooled);
    if (n > 0) this.device.queue.writeBuffer(pooled.buffer, 0, data);
    if (dtype === 'i32') t.host = (data as Int32Array).slice();
    return t;
  }

  write(t: Tensor, data: Float32Array | Int32Array, offset = 0): void {
    const wt = this.live(t, 'write');
    if ((data instanceof Int32Array) !== (t.dtype === 'i32')) throw new Error(`write: dtype mismatch (tensor is ${t.dtype})`);
    if (!Number.isInteger(offset) || offset < 0 || offset + data.length > t.size) {
      throw new RangeError(`write: ${data.length} elements at ${offset} overflow a tensor of ${t.size}`);
    }
    if (data.length === 0) return;
    if (this.recorder.pending && wt.pooled!.lastUse === this.recorder.generation) this.recorder.flush();
    this.device.queue.writeBuffer(wt.pooled!.buffer, offset * 4, data);
    if (wt.host) wt.host.set(data as Int32Array, offset);
  }

  async read(t: Tensor): Promise<Float32Array | Int32Array> {
    const wt = this.live(t, 'read');
    const bytes = t.size * 4;
    if (bytes === 0) {
      await this.sync();
      return t.dtype === 'i32' ? new Int32Array(0) : new Float32Array(0);
    }
    const staging = this.staging.acquire(bytes);
    this.recorder.copyBuffer(wt.pooled!, staging.buffer, bytes);
    try {
      await this.guard(this.recorder.flushSoon());
      await this.guard(staging.buffer.mapAsync(MAP_MODE_READ, 0, bytes));
    } catch (e) {
      throw await this.explain(e);
    }
    const copy = staging.buffer.getMappedRange(0, bytes).slice(0);
    staging.buffer.unmap();
    this.staging.release(staging);
    this.reportValidation();
    return t.dtype === 'i32' ? new Int32Array(copy) : new Float32Array(copy);
  }

  fill(t: Tensor, value: number): void {
    const wt = this.live(t, 'fill');
    EW.fill(this, wt, value);
    if (t.dtype === 'i32') wt.host = new Int32Array(t.size).fill(value);
  }

  copy(src: Tensor, dst: Tensor, srcOffset = 0, dstOffset = 0, count = src.size - srcOffset): void {
    const s = this.live(src, 'copy'), d = this.live(dst, 'copy');
    if (src.dtype !== dst.dtype) throw new Error(`copy: dtypes differ (${src.dtype} to ${dst.dtype})`);
    if (srcOffset < 0 || dstOffset < 0 || count < 0 || srcOffset + count > src.size || dstOffset + count > dst.size) {
      throw new RangeError('copy: range out of bounds');
    }
    // Index values stay known on the host when both sides were known.
    const dHost = d.host, shadow = s.host && dHost ? s.host.slice(srcOffset, srcOffset + count) : null;
    EW.copy(this, s, d, srcOffset, dstOffset, count);
    if (shadow && dHost) {
      dHost.set(shadow, dstOffset);
      d.host = dHost;
    }
  }

  dispose(t: Tensor): void {
    const wt = t as WebGpuTensor;
    if (!(wt instanceof WebGpuTensor)) throw new Error('dispose: not a WebGPU tensor');
    if (wt.pooled && !wt.isView) this.pool.release(wt.pooled);
    wt.pooled = null;
    wt.host = null;
  }

  reshape(t: Tensor, shape: readonly number[]): Tensor {
    const wt = t as WebGpuTensor;
    if (!(wt instanceof WebGpuTensor)) throw new Error('reshape: not a WebGPU tensor');
    if (!wt.pooled) throw new Error('reshape: tensor used after dispose()');
    checkReshape(t, shape);
    const v = new WebGpuTensor([...shape], wt.dtype, wt.pooled);
    v.isView = true;
    // No host shadow: a kernel may later write the shared buffer through the other handle.
    return v;
  }

  async sync(): Promise<void> {
    this.alive();
    this.recorder.flush();
    try {
      await this.guard(this.device.queue.onSubmittedWorkDone());
    } catch (e) {
      throw await this.explain(e);
    }
    this.reportValidation();
  }

  // ================================================================ elementwise and reductions

  axpy(y: Tensor, x: Tensor, alpha: number): void {
    const yt = this.f32(y, 'axpy y'), xt = this.f32(x, 'axpy x');
    if (y.size !== x.size) throw new Error(`axpy: sizes differ (${y.size} vs ${x.size})`);
    EW.axpy(this, yt, xt, alpha);
  }

  sumSquares(x: Tensor, out: Tensor, accumulate: boolean): void {
    OPT.sumSquares(this, this.f32(x, 'sumSquares x'), this.f32(out, 'sumSquares out'), accumulate);
  }

  clipScale(sumSq: Tensor, maxNorm: number, scale: Tensor, guard?: Tensor): void {
    OPT.clipScale(this, this.f32(sumSq, 'clipScale sumSq'), maxNorm, this.f32(scale, 'clipScale scale'), guard && this.f32(guard, 'clipScale guard'));
  }

  // ================================================================ linear algebra

  matmul(a: Tensor, b: Tensor, out: Tensor, opts: MatmulOptions = {}): void {
    matmul(this, this.f32(a, 'matmul A'), this.f32(b, 'matmul B'), this.f32(out, 'matmul out'), opts);
  }

  // ================================================================ rows

  gatherRows(src: Tensor, idx: Tensor, out: Tensor): void {
    const C = rowWidth(src), R = src.size / C;
    const ix = this.i32(idx, 'gatherRows idx');
    ix.host?.forEach((r) => { if (r < 0 || r >= R) throw new RangeError(`gatherRows: row ${r} outside [0, ${R})`); });
    expectShape(out, [idx.size, C], 'gatherRows out');
    ROWS.gatherRows(this, this.f32(src, 'gatherRows src'), ix, this.f32(out, 'gatherRows out'), C);
  }

  scatterAddRows(src: Tensor, idx: Tensor, dst: Tensor): void {
    const C = rowWidth(dst);
    ROWS.scatterAddRows(this, this.f32(src, 'scatterAddRows src'), this.checkedRows(idx, dst.size / C, 'scatterAddRows'), this.f32(dst, 'scatterAddRows dst'), C);
  }

  scatterRows(src: Tensor, idx: Tensor, dst: Tensor): void {
    const C = rowWidth(dst);
    ROWS.scatterRows(this, this.f32(src, 'scatterRows src'), this.checkedRows(idx, dst.size / C, 'scatterRows'), this.f32(dst, 'scatterRows dst'), C);
  }

  // ================================================================ layers

  embeddingForward(ids: Tensor, table: Tensor, out: Tensor): void {
    const C = rowWidth(table), V = table.size / C;
    const it = this.i32(ids, 'ids');
    it.host?.forEach((id, n) => {
      if (id < 0 || id >= V) throw new RangeError(`embedding: token id ${id} at row ${n} is outside [0, ${V})`);
    });
    ROWS.gatherRows(this, this.f32(table, 'embedding table'), it, this.f32(out, 'embedding out'), C);
  }

  embeddingBackward(ids: Tensor, dOut: Tensor, dTable: Tensor): void {
    const C = rowWidth(dTable);
    ROWS.scatterAddRows(this, this.f32(dOut, 'embedding dOut'), this.i32(ids, 'ids'), this.f32(dTable, 'embedding dTable'), C);
  }

  rmsnormForward(x: Tensor, w: Tensor, out: Tensor, rstd: Tensor, eps: number): void {
    NORM.rmsnormForward(this, this.f32(x, 'rmsnorm x'), this.f32(w, 'rmsnorm w'), this.f32(out, 'rmsnorm out'), this.f32(rstd, 'rmsnorm rstd'), eps);
  }

  rmsnormBackward(x: Tensor, w: Tensor, rstd: Tensor, dOut: Tensor, dX: Tensor, dW: Tensor): void {
    NORM.rmsnormBackward(
      this, this.f32(x, 'rmsnorm x'), this.f32(w, 'rmsnorm w'), this.f32(rstd, 'rmsnorm rstd'), this.f32(dOut, 'rmsnorm dOut'),
      this.f32(dX, 'rmsnorm dX'), this.f32(dW, 'rmsnorm dW'),
    );
  }

  ropeForward(x: Tensor, positions: Tensor, out: Tensor, heads: number, theta: number, scaling?: RopeScaling): void {
    const D = rowWidth(x) / heads;
    const pos = this.i32(positions, 'positions');
    const { table, rows } = this.ropeTableFor(D, theta, pos, scaling);
    rope(this, this.f32(x, 'rope x'), pos, this.f32(out, 'rope out'), table, rows, heads, 1, false);
  }

  ropeBackward(dOut: Tensor, positions: Tensor, dX: Tensor, heads: number, theta: number, scaling?: RopeScaling): void {
    const D = rowWidth(dOut) / heads;
    const pos = this.i32(positions, 'positions');
    const { table, rows } = this.ropeTableFor(D, theta, pos, scaling);
    rope(this, this.f32(dOut, 'rope dOut'), pos, this.f32(dX, 'rope dX'), table, rows, heads, -1, true);
  }

  attentionForward(
    q: Tensor, k: Tensor, v: Tensor, kvStart: Tensor, pos: Tensor, out: Tensor, lse: Tensor, heads: number, scale: number,
  ): void {
    const [ks, ps] = this.checkedAttention(q, k, kvStart, pos, heads);
    ATT.attentionForward(
      this, this.f32(q, 'attention q'), this.f32(k, 'attention k'), this.f32(v, 'attention v'), ks, ps,
      this.f32(out, 'attention out'), this.f32(lse, 'attention lse'), heads, scale,
    );
  }

  attentionBackward(
    q: Tensor, k: Tensor, v: Tensor, kvStart: Tensor, pos: Tensor, out: Tensor, lse: Tensor,
    dOut: Tensor, dQ: Tensor, dK: Tensor, dV: Tensor, heads: number, scale: number,
  ): void {
    const [ks, ps] = this.checkedAttention(q, k, kvStart, pos, heads);
    ATT.attentionBackward(
      this, this.f32(q, 'attention q'), this.f32(k, 'attention k'), this.f32(v, 'attention v'), ks, ps,
      this.f32(out, 'attention out'), this.f32(lse, 'attention lse'), this.f32(dOut, 'attention dOut'),
      this.f32(dQ, 'attention dQ'), this.f32(dK, 'attention dK'), this.f32(dV, 'attention dV'), heads, scale,
    );
  }

  swigluForward(gate: Tensor, up: Tensor, out: Tensor): void {
    SWIGLU.swigluForward(this, this.f32(gate, 'swiglu gate'), this.f32(up, 'swiglu up'), this.f32(out, 'swiglu out'));
  }

  swigluBackward(gate: Tensor, up: Tensor, dOut: Tensor, dGate: Tensor, dUp: Tensor): void {
    SWIGLU.swigluBackward(
      this, this.f32(gate, 'swiglu gate'), this.f32(up, 'swiglu up'), this.f32(dOut, 'swiglu dOut'),
      this.f32(dGate, 'swiglu dGate'), this.f32(dUp, 'swiglu dUp'),
    );
  }

  logSoftmaxGatherForward(logits: Tensor, targets: Tensor, logProbs: Tensor, lse: Tensor): void {
    const V = rowWidth(logits);
    const tt = this.i32(targets, 'targets');
    tt.host?.forEach((t, m) => {
      if (t < 0 || t >= V) throw new RangeError(`log-probs: target ${t} at row ${m} is outside [0, ${V})`);
    });
    SM.logSoftmaxGatherForward(this, this.f32(logits, 'logits'), tt, this.f32(logProbs, 'logProbs'), this.f32(lse, 'lse'));
  }

  logSoftmaxGatherBackward(logits: Tensor, targets: Tensor, lse: Tensor, dLogProbs: Tensor, dLogits: Tensor): void {
    SM.logSoftmaxGatherBackward(
      this, this.f32(logits, 'logits'), this.i32(targets, 'targets'), this.f32(lse, 'lse'), this.f32(dLogProbs, 'dLogProbs'),
      this.f32(dLogits, 'dLogits'),
    );
  }

  // ================================================================ losses, optimizer, sampling

  policyLoss(
    logProbs: Tensor, oldLogProbs: Tensor, advantages: Tensor, weights: Tensor, clipEps: number,
    loss: Tensor, dLogProbs: Tensor, stats: Tensor,
  ): void {
    LOSS.policyLoss(
      this, this.f32(logProbs, 'logProbs'), this.f32(oldLogProbs, 'oldLogProbs'), this.f32(advantages, 'advantages'),
      this.f32(weights, 'weights'), clipEps, this.f32(loss, 'loss'), this.f32(dLogProbs, 'dLogProbs'), this.f32(stats, 'stats'),
    );
  }

  nllLoss(logProbs: Tensor, weights: Tensor, loss: Tensor, dLogProbs: Tensor): void {
    LOSS.nllLoss(this, this.f32(logProbs, 'logProbs'), this.f32(weights, 'weights'), this.f32(loss, 'loss'), this.f32(dLogProbs, 'dLogProbs'));
  }

  adamw(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, gradScale: Tensor, p: AdamWParams): void {
    if (param.size !== grad.size || param.size !== m.size || param.size !== v.size) {
      throw new Error(`adamw: param, grad, m and v differ in size (${param.size}, ${grad.size}, ${m.size}, ${v.size})`);
    }
    OPT.adamw(this, this.f32(param, 'adamw param'), this.f32(grad, 'adamw grad'), this.f32(m, 'adamw m'), this.f32(v, 'adamw v'), this.f32(gradScale, 'adamw gradScale'), p);
  }

  sample(logits: Tensor, uniforms: Tensor, tokens: Tensor, logProbs: Tensor, p: SampleParams): void {
    if (!(p.temperature >= 0)) throw new Error(`sample: temperature must be >= 0, got ${p.temperature}`);
    if (!(p.topP > 0 && p.topP <= 1)) throw new Error(`sample: topP must be in (0, 1], got ${p.topP}`);
    sample(this, this.f32(logits, 'sample logits'), this.f32(uniforms, 'sample uniforms'), this.i32(tokens, 'sample tokens'), this.f32(logProbs, 'sample logProbs'), p);
  }

  // ================================================================ helpers

  /** Throws the loss error once the device is gone. */
  private alive(): void {
    if (this.loss) throw this.loss.error;
  }

  private live(t: Tensor, what: string): WebGpuTensor {
    this.alive();
    if (!(t instanceof WebGpuTensor)) throw new Error(`${what}: not a WebGPU tensor`);
    if (!t.pooled) throw new Error(`${what}: tensor used after dispose()`);
    return t;
  }

  private f32(t: Tensor, what: string): WebGpuTensor {
    const wt = this.live(t, what);
    if (t.dtype !== 'f32') throw new Error(`${what}: expected f32, got ${t.dtype}`);
    return wt;
  }

  private i32(t: Tensor, what: string): WebGpuTensor {
    const wt = this.live(t, what);
    if (t.dtype !== 'i32') throw new Error(`${what}: expected i32, got ${t.dtype}`);
    return wt;
  }

  private checkedRows(idx: Tensor, R: number, what: string): WebGpuTensor {
    const ix = this.i32(idx, `${what} idx`);
    ix.host?.forEach((r) => { if (r < 0 || r >= R) throw new RangeError(`${what}: row ${r} outside [0, ${R})`); });
    return ix;
  }

  private checkedAttention(q: Tensor, k: Tensor, kvStart: Tensor, pos: Tensor, heads: number): [WebGpuTensor, WebGpuTensor] {
    const ks = this.i32(kvStart, 'attention kvStart'), ps = this.i32(pos, 'attention pos');
    const N = pos.size, C = rowWidth(q);
    if (kvStart.size !== N || q.size !== N * C) throw new Error(`attention: q has ${q.size / C} rows, kvStart ${kvStart.size}, pos ${N}`);
    if (C % heads !== 0 || (C / heads) % 1 !== 0) throw new Error(`attention: width ${C} is not divisible by ${heads} heads`);
    const R = k.size / C;
    if (ks.host && ps.host) {
      for (let n = 0; n < N; n++) {
        const s0 = ks.host[n]!, L = ps.host[n]! + 1;
        if (s0 < 0 || s0 + L > R || L < 1) throw new RangeError(`attention: row ${n} reads kv rows ${s0}..${s0 + L - 1}, cache has ${R}`);
      }
    }
    return [ks, ps];
  }

  /** The RoPE cos/sin table for (D, theta), grown to cover the positions when they are known. */
  private ropeTableFor(D: number, theta: number, pos: WebGpuTensor, scaling?: RopeScaling): { table: WebGpuTensor; rows: number } {
    const key = ropeKey(D, theta, scaling);
    let need = MIN_ROPE_ROWS;
    if (pos.host) for (const p of pos.host) if (p + 1 > need) need = p + 1;
    const have = this.ropeTables.get(key);
    if (have && have.rows >= need) return have;
    const rows = 2 ** Math.ceil(Math.log2(need));
    if (have) this.dispose(have.table);
    const table = this.fromArray(ropeTable(D, theta, rows, scaling), [D / 2 + rows * D]) as WebGpuTensor;
    const entry = { table, rows };
    this.ropeTables.set(key, entry);
    return entry;
  }

  /** Races a device promise against device loss. */
  private guard<T>(p: Promise<T>): Promise<T> {
    return Promise.race([p, this.lostRejection]);
  }

  /** The error to report for a failed read or sync: device loss when that is the cause. */
  private async explain(e: unknown): Promise<Error> {
    if (!this.loss) await Promise.race([this.lost, new Promise((r) => setTimeout(r, 100))]);
    if (this.loss) return this.loss.error;
    return e instanceof Error ? e : new Error(String(e));
  }

  /** Throws (once) the first WebGPU validation error since the last report. */
  private reportValidation(): void {
    const msg = this.validationError;
    if (msg === null) return;
    this.validationError = null;
    throw new Error(`webgpu backend: a kernel failed validation: ${msg}`);
  }
}

/** Width of a row: the product of every dimension after the first. */
function rowWidth(t: Tensor): number {
  return t.shape.length <= 1 ? 1 : t.size / t.shape[0]!;
}
