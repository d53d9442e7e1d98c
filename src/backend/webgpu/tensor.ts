/** Tensors of the WebGPU backend: a pooled GPU buffer with a shape. */
import { shapeSize, type DType, type Tensor } from '../backend.ts';
import type { PooledBuffer } from './buffer-pool.ts';
import type { KernelSpec } from './kernel-spec.ts';

export class WebGpuTensor implements Tensor {
  readonly size: number;
  /**
   * The host values of an i32 tensor as last uploaded, while no kernel has written it since
   * (null otherwise). Index tensors (token ids, positions, rows) are uploaded by the model
   * code, so this lets the backend reject an out-of-range index with the CPU backend's error
   * instead of letting a kernel read out of bounds, and size lookup tables, without a read-back.
   */
  host: Int32Array | null = null;
  /** A reshape view: shares another tensor's buffer, so disposing it releases nothing. */
  isView = false;

  constructor(
    readonly shape: readonly number[],
    readonly dtype: DType,
    public pooled: PooledBuffer | null,
  ) {
    this.size = shapeSize(shape);
  }

  /** Binding size in bytes (a zero-size tensor still binds 4 bytes). */
  get bytes(): number {
    return Math.max(4, this.size * 4);
  }
}

/** What a kernel file needs from the backend to record its kernels. */
export interface KernelRunner {
  /**
   * Records `spec` with uniform `values` and storage bindings `tensors` (in the spec's order)
   * over the workgroup grid `groups`. Tensors bound as outputs lose their host shadow.
   */
  run(spec: KernelSpec, values: readonly number[], tensors: readonly WebGpuTensor[], groups: readonly [number, number?]): void;
  /** A pooled temporary of `size` elements (contents undefined); give it back with `release`. */
  scratch(size: number, dtype: DType): WebGpuTensor;
  release(t: WebGpuTensor): void;
}
