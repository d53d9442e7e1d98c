/**
 * Generated elementwise kernels over whole f32x4 vectors: a vector add (for summing per-thread
 * partial gradients) and a fill, and the vector-loop helpers that swiglu.ts and optimizer.ts
 * build on. `n4` counts vectors of 4 floats; the caller finishes the last n mod 4 elements with
 * the reference code (src/backend/cpu), so every kernel here is one straight vector loop that
 * threads can split anywhere.
 *
 * Exports (byte addresses):
 *   add_into(dst, src, n4)                   dst += src
 *   fill_f32(dst, value: f32, n4)             dst = value (zeros() of large tensors, split over threads)
 */
import type { FunctionBuilder, ModuleBuilder } from '../wasm-builder.ts';

/** Adds add_into and fill_f32 to the module, in that order. */
export function addElementwise(mb: ModuleBuilder): void {
  addAddInto(mb);
  addFill(mb);
}

/**
 * Emits a loop of the byte offset `o` (a new i32 local) over n4 vectors, 16 bytes a step:
 * `n4` is the local holding the vector count, `body(o)` emits one vector's work. Shared with
 * swiglu.ts and optimizer.ts, whose kernels are the same straight vector loop.
 */
export function vectorLoop(f: FunctionBuilder, n4: number, body: (o: number) => void): void {
  const o = f.local('i32'), end = f.local('i32');
  f.get(n4).i32(4).op('i32.shl').set(end);
  f.forLoop(o, () => f.i32(0), () => f.get(end), 16, () => body(o));
}

/** Emits code that pushes ptr + o (two i32 locals: a base address and a byte offset). */
export const at = (f: FunctionBuilder, ptr: number, o: number) => f.get(ptr).get(o).op('i32.add');

function addAddInto(mb: ModuleBuilder): void {
  const f = mb.addFunction('add_into', ['i32', 'i32', 'i32']);
  const [dst, src, n4] = [0, 1, 2];
  vectorLoop(f, n4, (o) => {
    at(f, dst, o);
    at(f, dst, o).mem('v128.load', 0, 2);
    at(f, src, o).mem('v128.load', 0, 2).op('f32x4.add');
    f.mem('v128.store', 0, 2);
  });
}

function addFill(mb: ModuleBuilder): void {
  const f = mb.addFunction('fill_f32', ['i32', 'f32', 'i32']);
  const [dst, value, n4] = [0, 1, 2];
  const v = f.local('v128');
  f.get(value).op('f32x4.splat').set(v);
  vectorLoop(f, n4, (o) => { at(f, dst, o).get(v).mem('v128.store', 0, 2); });
}
