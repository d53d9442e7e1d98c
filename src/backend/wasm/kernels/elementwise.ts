/**
 * Generated elementwise kernels over whole f32x4 vectors: SwiGLU forward/backward, AdamW and a
 * vector add (for summing per-thread partial gradients). `n4` counts vectors of 4 floats; the
 * caller finishes the last n mod 4 elements with the reference code (src/backend/cpu), so
 * every kernel here is one straight vector loop that threads can split anywhere.
 *
 * Exports (byte addresses):
 *   swiglu_fwd(gate, up, out, n4)            out = silu(gate) up, silu(g) = g sigmoid(g)
 *   swiglu_bwd(gate, up, dOut, dGate, dUp, n4) dGate += dOut up silu'(gate), dUp += dOut silu(gate)
 *   adamw(w, g, m, v, n4, gradScale, beta1, beta2, lrOverBc1, bc2, eps, decay)   (f32 after n4)
 *     g' = g gradScale; m = b1 m + (1-b1) g'; v = b2 v + (1-b2) g'^2;
 *     w = w decay - lrOverBc1 m / (sqrt(v / bc2) + eps)    (decoupled weight decay, recipe.md section 7)
 *   add_into(dst, src, n4)                   dst += src
 *   fill_f32(dst, value: f32, n4)             dst = value (zeros() of large tensors, split over threads)
 */
import type { FunctionBuilder, ModuleBuilder } from '../wasm-builder.ts';
import { SimdMath } from './simd-math.ts';

export function addElementwise(mb: ModuleBuilder): void {
  addSwigluForward(mb);
  addSwigluBackward(mb);
  addAdamW(mb);
  addAddInto(mb);
  addFill(mb);
}

/** Loops a byte offset `o` over n4 vectors. */
function vectorLoop(f: FunctionBuilder, n4: number, body: (o: number) => void): void {
  const o = f.local('i32'), end = f.local('i32');
  f.get(n4).i32(4).op('i32.shl').set(end);
  f.forLoop(o, () => f.i32(0), () => f.get(end), 16, () => body(o));
}

/** Pushes ptr + o. */
const at = (f: FunctionBuilder, ptr: number, o: number) => f.get(ptr).get(o).op('i32.add');

/** [g] -> [sigmoid(g)] = 1 / (1 + exp(-g)). */
function sigmoid(f: FunctionBuilder, m: SimdMath): void {
  f.op('f32x4.neg');
  m.exp();
  const e = f.local('v128');
  f.set(e).f32x4(1).f32x4(1).get(e).op('f32x4.add').op('f32x4.div');
}

function addSwigluForward(mb: ModuleBuilder): void {
  const f = mb.addFunction('swiglu_fwd', ['i32', 'i32', 'i32', 'i32']);
  const [gate, up, out, n4] = [0, 1, 2, 3];
  const g = f.local('v128');
  const m = new SimdMath(f);
  vectorLoop(f, n4, (o) => {
    at(f, out, o);
    at(f, gate, o).mem('v128.load', 0, 2).tee(g);
    sigmoid(f, m);
    f.get(g).op('f32x4.mul');
    at(f, up, o).mem('v128.load', 0, 2).op('f32x4.mul');
    f.mem('v128.store', 0, 2);
  });
}

function addSwigluBackward(mb: ModuleBuilder): void {
  const f = mb.addFunction('swiglu_bwd', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32']);
  const [gate, up, dOut, dGate, dUp, n4] = [0, 1, 2, 3, 4, 5];
  const [g, sig, dy] = f.locals('v128', 3);
  const m = new SimdMath(f);
  vectorLoop(f, n4, (o) => {
    at(f, gate, o).mem('v128.load', 0, 2).tee(g);
    sigmoid(f, m);
    f.set(sig);
    at(f, dOut, o).mem('v128.load', 0, 2).set(dy);
    // dGate += dy up sig (1 + g (1 - sig))
    at(f, dGate, o);
    at(f, dGate, o).mem('v128.load', 0, 2);
    f.get(dy); at(f, up, o).mem('v128.load', 0, 2).op('f32x4.mul').get(sig).op('f32x4.mul');
    f.f32x4(1).get(g).f32x4(1).get(sig).op('f32x4.sub').op('f32x4.mul').op('f32x4.add').op('f32x4.mul');
    f.op('f32x4.add').mem('v128.store', 0, 2);
    // dUp += dy g sig
    at(f, dUp, o);
    at(f, dUp, o).mem('v128.load', 0, 2);
    f.get(dy).get(g).op('f32x4.mul').get(sig).op('f32x4.mul').op('f32x4.add');
    f.mem('v128.store', 0, 2);
  });
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
