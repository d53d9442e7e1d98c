/** Host-memory tensors of the CPU backend: a typed array with a shape. */
import { shapeSize, type DType, type Tensor } from '../backend.ts';

export class CpuTensor implements Tensor {
  readonly size: number;
  constructor(
    readonly shape: readonly number[],
    readonly dtype: DType,
    public data: Float32Array | Int32Array,
  ) {
    this.size = shapeSize(shape);
    if (data.length !== this.size) {
      throw new Error(`tensor data has ${data.length} elements, shape [${shape.join(', ')}] needs ${this.size}`);
    }
  }
}

/** The f32 data of a CPU tensor; throws if it is not an f32 CPU tensor. */
export function f32(t: Tensor, what = 'tensor'): Float32Array {
  if (!(t instanceof CpuTensor)) throw new Error(`${what}: not a CPU tensor`);
  if (t.dtype !== 'f32') throw new Error(`${what}: expected f32, got ${t.dtype}`);
  return t.data as Float32Array;
}

/** The i32 data of a CPU tensor; throws if it is not an i32 CPU tensor. */
export function i32(t: Tensor, what = 'tensor'): Int32Array {
  if (!(t instanceof CpuTensor)) throw new Error(`${what}: not a CPU tensor`);
  if (t.dtype !== 'i32') throw new Error(`${what}: expected i32, got ${t.dtype}`);
  return t.data as Int32Array;
}
