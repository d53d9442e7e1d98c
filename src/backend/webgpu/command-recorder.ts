/**
 * Records kernels into one command encoder and submits them together, so a training step
 * becomes a handful of command buffers instead of hundreds: kernels go into a single open
 * compute pass (each dispatch is its own synchronization scope, so a kernel sees the writes of
 * the ones before it), and the encoder is submitted only when the host needs data back (a
 * read), when an upload would otherwise overtake recorded work, when the uniform area is full,
 * or on `sync()`.
 *
 * Uniform parameters of every dispatch go into one host-side area, one 256-byte slot each,
 * written to a single uniform buffer just before the submit and bound with a dynamic offset.
 * `queue.writeBuffer` is ordered after every earlier submit on the queue, so rewriting the
 * area for the next command buffer never changes what an earlier one read.
 *
 * Generations: `generation` numbers the commands not yet submitted; each dispatch stamps the
 * buffers it binds with it (see buffer-pool.ts for why uploads care).
 */
import { BufferUsage } from './device.ts';
import { PARAM_SLOT_BYTES } from './kernel-spec.ts';
import type { CachedPipeline } from './pipeline-cache.ts';
import type { PooledBuffer } from './buffer-pool.ts';

/** A storage binding of one dispatch: a pooled buffer and the bytes the kernel may touch. */
export interface BoundBuffer {
  pooled: PooledBuffer;
  /** Binding size in bytes (a multiple of 4, at least 4). */
  bytes: number;
}

/** Recorder counters. */
export interface RecorderStats {
  /** Command buffers submitted. */
  submits: number;
  /** Kernels dispatched. */
  dispatches: number;
}

/** Dispatches per command buffer before the uniform area forces a submit. */
const SLOTS = 4096;

export class CommandRecorder {
  /** Generation of the commands being recorded (not yet submitted). */
  generation = 0;
  readonly stats: RecorderStats = { submits: 0, dispatches: 0 };

  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private readonly paramArea = new ArrayBuffer(SLOTS * PARAM_SLOT_BYTES);
  private readonly u32 = new Uint32Array(this.paramArea);
  private readonly i32 = new Int32Array(this.paramArea);
  private readonly f32 = new Float32Array(this.paramArea);
  private slots = 0;
  private readonly uniform: GPUBuffer;
  private waiters: (() => void)[] = [];
  private flushScheduled = false;

  constructor(private readonly device: GPUDevice) {
    this.uniform = device.createBuffer({
      label: 'r1s kernel parameters', size: SLOTS * PARAM_SLOT_BYTES, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST,
    });
  }

  /** Whether commands are recorded but not submitted. */
  get pending(): boolean {
    return this.encoder !== null;
  }

  /**
   * Records one kernel: `values` fill its uniform fields in order (typed by the spec),
   * `buffers` its storage bindings in order, `groups` the workgroup grid.
   */
  dispatch(p: CachedPipeline, values: readonly number[], buffers: readonly BoundBuffer[], groups: readonly [number, number?, number?]): void {
    const spec = p.spec;
    if (values.length !== spec.params.length) throw new Error(`webgpu kernel ${spec.name}: ${values.length} parameter values for ${spec.params.length} fields`);
    if (buffers.length !== spec.buffers.length) throw new Error(`webgpu kernel ${spec.name}: ${buffers.length} buffers for ${spec.buffers.length} bindings`);
    if (this.slots === SLOTS) this.flush();
    const slot = this.slots++;
    const base = (slot * PARAM_SLOT_BYTES) / 4;
    spec.params.forEach(([, type], i) => {
      const v = values[i]!;
      if (type === 'f32') this.f32[base + i] = v;
      else if (type === 'i32') this.i32[base + i] = v;
      else this.u32[base + i] = v;
    });
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.uniform, offset: 0, size: PARAM_SLOT_BYTES } }];
    buffers.forEach((b, i) => {
      b.pooled.lastUse = this.generation;
      entries.push({ binding: i + 1, resource: { buffer: b.pooled.buffer, offset: 0, size: b.bytes } });
    });
    const bindGroup = this.device.createBindGroup({ layout: p.layout, entries });
    const pass = this.computePass();
    pass.setPipeline(p.pipeline);
    pass.setBindGroup(0, bindGroup, [slot * PARAM_SLOT_BYTES]);
    pass.dispatchWorkgroups(groups[0], groups[1] ?? 1, groups[2] ?? 1);
    this.stats.dispatches++;
  }

  /** Records a buffer-to-buffer copy (outside the compute pass), e.g. into a read-back buffer. */
  copyBuffer(src: PooledBuffer, dst: GPUBuffer, bytes: number): void {
    const enc = this.commandEncoder();
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    src.lastUse = this.generation;
    enc.copyBufferToBuffer(src.buffer, 0, dst, 0, bytes);
  }

  /** Submits everything recorded so far (a no-op when nothing is). */
  flush(): void {
    if (this.encoder) {
      if (this.pass) this.pass.end();
      const commands = this.encoder.finish();
      if (this.slots > 0) this.device.queue.writeBuffer(this.uniform, 0, this.paramArea, 0, this.slots * PARAM_SLOT_BYTES);
      this.device.queue.submit([commands]);
      this.stats.submits++;
      this.encoder = null;
      this.pass = null;
      this.slots = 0;
      this.generation++;
    }
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve();
  }

  /**
   * Resolves once everything recorded so far is submitted. The submit waits for the end of
   * the current task, so several reads requested together share one command buffer.
   */
  flushSoon(): Promise<void> {
    const p = new Promise<void>((resolve) => this.waiters.push(resolve));
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
    return p;
  }

  private commandEncoder(): GPUCommandEncoder {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder({ label: `r1s step ${this.generation}` });
    return this.encoder;
  }

  private computePass(): GPUComputePassEncoder {
    if (!this.pass) this.pass = this.commandEncoder().beginComputePass();
    return this.pass;
  }
}
