/**
 * Generated AdamW update over whole f32x4 vectors (reference: src/backend/cpu/optimizer.ts; the
 * squared norm and clip factor of gradient clipping run the reference on views of the memory).
 * `n4` counts vectors of 4 floats; the caller finishes the last n mod 4 elements in JavaScript,
 * so the kernel is one straight vector loop that threads can split anywhere.
 *
 * Export (byte addresses):
 *   adamw(w, g, m, v, n4, gradScale, beta1, beta2, lrOverBc1, bc2, eps, decay)   (f32 after n4)
 *     g' = g gradScale; m = b1 m + (1-b1) g'; v = b2 v + (1-b2) g'^2;
 *     w = w decay - lrOverBc1 m / (sqrt(v / bc2) + eps)    (decoupled weight decay, recipe.md section 7)
 */
import type { ModuleBuilder } from '../wasm-builder.ts';
import { at, vectorLoop } from './elementwise.ts';

/** Adds adamw to the module. */
export function addOptimizer(mb: ModuleBuilder): void {
  addAdamW(mb);
}

function addAdamW(mb: ModuleBuilder): void {
  const f = mb.addFunction('adamw', ['i32', 'i32', 'i32', 'i32', 'i32', 'f32', 'f32', 'f32', 'f32', 'f32', 'f32', 'f32']);
  const [w, g, mPtr, vPtr, n4, gradScale, beta1, beta2, lrOverBc1, bc2, eps, decay] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const [gs, b1, b2, nb1, nb2, lr, c2, ep, dc, gi, mi, vi] = f.locals('v128', 12);
  const splat = (src: number, dst: number) => f.get(src).op('f32x4.splat').set(dst);
  splat(gradScale, gs); splat(beta1, b1); splat(beta2, b2); splat(lrOverBc1, lr); splat(bc2, c2); splat(eps, ep); splat(decay, dc);
  f.f32(1).get(beta1).op('f32.sub').op('f32x4.splat').set(nb1);
  f.f32(1).get(beta2).op('f32.sub').op('f32x4.splat').set(nb2);
  vectorLoop(f, n4, (o) => {
    at(f, g, o).mem('v128.load', 0, 2).get(gs).op('f32x4.mul').set(gi);
    at(f, mPtr, o).mem('v128.load', 0, 2).get(b1).op('f32x4.mul').get(nb1).get(gi).op('f32x4.mul').op('f32x4.add').set(mi);
    at(f, vPtr, o).mem('v128.load', 0, 2).get(b2).op('f32x4.mul').get(nb2).get(gi).op('f32x4.mul').get(gi).op('f32x4.mul').op('f32x4.add').set(vi);
    at(f, mPtr, o).get(mi).mem('v128.store', 0, 2);
    at(f, vPtr, o).get(vi).mem('v128.store', 0, 2);
    at(f, w, o);
    at(f, w, o).mem('v128.load', 0, 2).get(dc).op('f32x4.mul');
    f.get(lr).get(mi).op('f32x4.mul');
    f.get(vi).get(c2).op('f32x4.div').op('f32x4.sqrt').get(ep).op('f32x4.add');
    f.op('f32x4.div').op('f32x4.sub');
    f.mem('v128.store', 0, 2);
  });
}
