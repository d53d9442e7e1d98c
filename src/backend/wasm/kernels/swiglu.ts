/**
 * Generated SwiGLU forward and backward over whole f32x4 vectors (reference:
 * src/backend/cpu/swiglu.ts). `n4` counts vectors of 4 floats; the caller finishes the last
 * n mod 4 elements with the reference code, so each kernel is one straight vector loop that
 * threads can split anywhere.
 *
 * Exports (byte addresses):
 *   swiglu_fwd(gate, up, out, n4)            out = silu(gate) up, silu(g) = g sigmoid(g)
 *   swiglu_bwd(gate, up, dOut, dGate, dUp, n4) dGate += dOut up silu'(gate), dUp += dOut silu(gate)
 */
import type { FunctionBuilder, ModuleBuilder } from '../wasm-builder.ts';
import { SimdMath } from './simd-math.ts';
import { at, vectorLoop } from './elementwise.ts';

/** Adds swiglu_fwd and swiglu_bwd to the module, in that order. */
export function addSwiglu(mb: ModuleBuilder): void {
  addSwigluForward(mb);
  addSwigluBackward(mb);
}

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
