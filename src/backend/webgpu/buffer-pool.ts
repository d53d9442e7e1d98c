/**
 * A bucketed pool of GPU buffers. Tensors come and go many times per training step (the model
 * code allocates its activations and gradients per step and disposes them), so creating a
 * GPUBuffer for each would allocate on every step. Sizes are rounded up to a bucket
 * (2^k, 1.25 * 2^k, 1.5 * 2^k or 1.75 * 2^k bytes, at least 256), so a ragged batch of a
 * slightly different length reuses the buffers of the last one; at most 25% is wasted.
 *
 * Each buffer carries `lastUse`, the recording generation (command-recorder.ts) in which a
 * kernel last bound it. An upload (`queue.writeBuffer`) runs at once on the queue timeline,
 * before commands still being recorded, so a buffer that the unsubmitted commands use must not
 * receive one: `acquire(bytes, avoidGeneration)` skips such buffers.
 */

/** A pooled buffer. */
export interface PooledBuffer {
  readonly buffer: GPUBuffer;
  /** Bucket size in bytes (the GPUBuffer's size). */
  readonly bytes: number;
  /** Recording generation of the last command that used it (-1: never). */
  lastUse: number;
}

/** Pool counters (bytes). */
export interface PoolStats {
  /** GPUBuffers created so far. */
  created: number;
  /** Acquisitions served from the free lists. */
  reused: number;
  /** Bytes in every buffer the pool owns (in use or free). */
  bytesOwned: number;
  /** Bytes in free buffers. */
  bytesFree: number;
}

const MIN_BUCKET = 256;

/** The bucket size for a request of `bytes` bytes. */
export function bucketSize(bytes: number): number {
  if (!(bytes >= 0) || !Number.isFinite(bytes)) throw new RangeError(`buffer pool: invalid size ${bytes}`);
  if (bytes <= MIN_BUCKET) return MIN_BUCKET;
  const p = 2 ** Math.floor(Math.log2(bytes));
  for (const f of [1, 1.25, 1.5, 1.75, 2]) if (p * f >= bytes) return p * f;
  return 2 * p;
}

export class BufferPool {
  private readonly free = new Map<number, PooledBuffer[]>();
  private readonly counters = { created: 0, reused: 0, bytesOwned: 0, bytesFree: 0 };

  /**
   * @param device the device that creates the buffers
   * @param usage GPUBufferUsage flags of every buffer of this pool
   * @param maxBytes the device's maxBufferSize: a larger request throws
   */
  constructor(
    private readonly device: GPUDevice,
    private readonly usage: number,
    private readonly maxBytes: number,
    private readonly label: string,
  ) {}

  /**
   * A buffer of at least `bytes` bytes, reused when one is free. With `avoidGeneration`, a free
   * buffer last used in that generation is passed over (see the file comment).
   * @throws RangeError when the bucket exceeds the device's maxBufferSize.
   */
  acquire(bytes: number, avoidGeneration = -2): PooledBuffer {
    const size = bucketSize(bytes);
    if (size > this.maxBytes) {
      throw new RangeError(`webgpu: a buffer of ${bytes} bytes exceeds this device's maxBufferSize (${this.maxBytes})`);
    }
    const list = this.free.get(size);
    if (list) {
      for (let i = list.length - 1; i >= 0; i--) {
        const b = list[i]!;
        if (b.lastUse === avoidGeneration) continue;
        list.splice(i, 1);
        this.counters.reused++;
        this.counters.bytesFree -= size;
        return b;
      }
    }
    const buffer = this.device.createBuffer({ size, usage: this.usage, label: `${this.label} ${size}` });
    this.counters.created++;
    this.counters.bytesOwned += size;
    return { buffer, bytes: size, lastUse: -1 };
  }

  /** Returns a buffer for reuse (commands already recorded that use it still see their data). */
  release(b: PooledBuffer): void {
    let list = this.free.get(b.bytes);
    if (!list) this.free.set(b.bytes, (list = []));
    list.push(b);
    this.counters.bytesFree += b.bytes;
  }

  /** Destroys every free buffer (memory goes back to the device). */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) b.buffer.destroy();
    this.counters.bytesOwned -= this.counters.bytesFree;
    this.counters.bytesFree = 0;
    this.free.clear();
  }

  stats(): PoolStats {
    return { ...this.counters };
  }
}
