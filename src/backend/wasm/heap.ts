/**
 * The allocator of the wasm backend's linear memory: every tensor and every thread's scratch
 * buffer is a block of it. Blocks are 64-byte aligned (one cache line; v128 loads never split
 * a line at a block start) and their sizes are rounded to 64 bytes.
 *
 * Best fit over an address-ordered free list, with neighbours merged on release and the top
 * of the heap given back when the highest block is freed. A training step allocates and frees
 * a few hundred tensors whose sizes change with every ragged batch, so merging matters more
 * than a constant-time size-class lookup (a linear scan of a few dozen free blocks costs
 * microseconds next to millisecond kernels).
 *
 * The memory grows on demand (by at least a quarter, to keep the number of grows small) up to
 * its maximum; a guard of GUARD_BYTES past the heap top always stays inside memory, because the
 * matmul kernel's edge tiles may read a few floats past the end of a transposed operand.
 */
import { PAGE_BYTES } from './kernel-module.ts';

export const ALIGN = 64;
export const GUARD_BYTES = 256;

interface Block { ptr: number; size: number }

export class Heap {
  private readonly free: Block[] = []; // sorted by ptr, never adjacent (merged)
  private top: number;
  private live = 0;
  private peak = 0;

  /**
   * @param memory the module's memory (grown here as needed)
   * @param base first usable byte (below it: a null page, so address 0 is never a tensor)
   * @param maximumPages the memory's declared maximum
   */
  constructor(private readonly memory: WebAssembly.Memory, base: number, private readonly maximumPages: number) {
    this.top = roundUp(base, ALIGN);
  }

  /** A block of at least `bytes` bytes (contents undefined). Throws when memory is exhausted. */
  alloc(bytes: number): number {
    const size = Math.max(ALIGN, roundUp(bytes, ALIGN));
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const b = this.free[i]!;
      if (b.size >= size && (best < 0 || b.size < this.free[best]!.size)) {
        best = i;
        if (b.size === size) break;
      }
    }
    let ptr: number;
    if (best >= 0) {
      const b = this.free[best]!;
      ptr = b.ptr;
      if (b.size === size) this.free.splice(best, 1);
      else { b.ptr += size; b.size -= size; }
    } else {
      // A free block touching the top is extended instead of leaving a hole below the new block.
      const last = this.free[this.free.length - 1];
      if (last && last.ptr + last.size === this.top) {
        this.free.pop();
        this.top = last.ptr;
      }
      ptr = this.top;
      this.ensure(ptr + size + GUARD_BYTES);
      this.top = ptr + size;
    }
    this.live += size;
    this.peak = Math.max(this.peak, this.live);
    return ptr;
  }

  /** Returns a block to the heap; `bytes` is the size it was allocated with. */
  release(ptr: number, bytes: number): void {
    const size = Math.max(ALIGN, roundUp(bytes, ALIGN));
    this.live -= size;
    // Insert in address order, merging with the neighbours it touches.
    let lo = 0, hi = this.free.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (this.free[mid]!.ptr < ptr) lo = mid + 1; else hi = mid; }
    const prev = this.free[lo - 1], next = this.free[lo];
    if ((prev && prev.ptr + prev.size > ptr) || (next && ptr + size > next.ptr) || ptr + size > this.top) {
      throw new Error(`wasm heap: releasing [${ptr}, ${ptr + size}) overlaps free memory (double dispose?)`);
    }
    let block: Block;
    if (prev && prev.ptr + prev.size === ptr) { prev.size += size; block = prev; lo--; }
    else { block = { ptr, size }; this.free.splice(lo, 0, block); }
    if (next && block.ptr + block.size === next.ptr) { block.size += next.size; this.free.splice(lo + 1, 1); }
    if (block.ptr + block.size === this.top) { this.top = block.ptr; this.free.splice(lo, 1); }
  }

  /** Bytes in live blocks, the most ever live, the heap top and the memory size. */
  stats(): { liveBytes: number; peakBytes: number; topBytes: number; memoryBytes: number; freeBlocks: number } {
    return { liveBytes: this.live, peakBytes: this.peak, topBytes: this.top, memoryBytes: this.memory.buffer.byteLength, freeBlocks: this.free.length };
  }

  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const havePages = have / PAGE_BYTES;
    const needPages = Math.ceil(end / PAGE_BYTES);
    if (needPages > this.maximumPages) {
      throw new Error(
        `wasm backend: out of memory: ${((end / 2 ** 20) | 0)} MiB needed, the maximum is ${(this.maximumPages * PAGE_BYTES) / 2 ** 20} MiB ` +
        `(${(this.live / 2 ** 20).toFixed(1)} MiB in live tensors; a tensor not disposed?)`,
      );
    }
    const pages = Math.min(this.maximumPages, Math.max(needPages, Math.ceil(havePages * 1.25))) - havePages;
    this.memory.grow(pages);
  }
}

function roundUp(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}
