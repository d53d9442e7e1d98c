/**
 * Elementwise kernels: fill, copy and axpy (SwiGLU has its own file, swiglu.ts). One thread per
 * element, 256 per workgroup, on a 2-D grid when a tensor needs more than 65535 workgroups.
 */
import { elementwiseMain, EW_WG, ewGroups, ro, rw, type KernelSpec } from '../kernel-spec.ts';
import type { KernelRunner, WebGpuTensor } from '../tensor.ts';

// ---------------------------------------------------------------- fill and copy

const FILL: KernelSpec = {
  name: 'fill', variant: 'u32',
  params: [['n', 'u32'], ['bits', 'u32']],
  buffers: [rw('out', 'u32')],
  body: elementwiseMain(EW_WG, 'P.n', '  out[i] = P.bits;'),
};

const f32Bits = new Float32Array(1);
const u32Bits = new Uint32Array(f32Bits.buffer);

/** Every element of `t` = value (f32 tensors take it as f32, i32 tensors as an integer). */
export function fill(k: KernelRunner, t: WebGpuTensor, value: number): void {
  if (t.size === 0) return;
  let bits: number;
  if (t.dtype === 'f32') {
    f32Bits[0] = value;
    bits = u32Bits[0]!;
  } else bits = value >>> 0;
  k.run(FILL, [t.size, bits], [t], ewGroups(t.size));
}

const COPY: KernelSpec = {
  name: 'copy', variant: 'two-buffers',
  params: [['n', 'u32'], ['srcOffset', 'u32'], ['dstOffset', 'u32']],
  buffers: [ro('src', 'u32'), rw('dst', 'u32')],
  body: elementwiseMain(EW_WG, 'P.n', '  dst[P.dstOffset + i] = src[P.srcOffset + i];'),
};

// A copy inside one buffer binds it once (a buffer may not be bound both read-only and writable).
const COPY_WITHIN: KernelSpec = {
  name: 'copy', variant: 'one-buffer',
  params: [['n', 'u32'], ['srcOffset', 'u32'], ['dstOffset', 'u32']],
  buffers: [rw('buf', 'u32')],
  body: elementwiseMain(EW_WG, 'P.n', '  buf[P.dstOffset + i] = buf[P.srcOffset + i];'),
};

/** dst[dstOffset + i] = src[srcOffset + i], i < count. Overlapping ranges of one tensor go through a temporary. */
export function copy(k: KernelRunner, src: WebGpuTensor, dst: WebGpuTensor, srcOffset: number, dstOffset: number, count: number): void {
  if (count === 0) return;
  if (src.pooled !== dst.pooled) {
    k.run(COPY, [count, srcOffset, dstOffset], [src, dst], ewGroups(count));
    return;
  }
  if (srcOffset === dstOffset) return;
  if (srcOffset + count <= dstOffset || dstOffset + count <= srcOffset) {
    k.run(COPY_WITHIN, [count, srcOffset, dstOffset], [dst], ewGroups(count));
    return;
  }
  // Overlap: threads run in no fixed order, so stage the source range first.
  const tmp = k.scratch(count, src.dtype);
  k.run(COPY, [count, srcOffset, 0], [src, tmp], ewGroups(count));
  k.run(COPY, [count, 0, dstOffset], [tmp, dst], ewGroups(count));
  k.release(tmp);
}

// ---------------------------------------------------------------- axpy

const AXPY: KernelSpec = {
  name: 'axpy', variant: '',
  params: [['n', 'u32'], ['alpha', 'f32']],
  buffers: [rw('y'), ro('x')],
  body: elementwiseMain(EW_WG, 'P.n', '  y[i] = y[i] + P.alpha * x[i];'),
};

/** y += alpha x. */
export function axpy(k: KernelRunner, y: WebGpuTensor, x: WebGpuTensor, alpha: number): void {
  if (y.size === 0) return;
  k.run(AXPY, [y.size, alpha], [y, x], ewGroups(y.size));
}
