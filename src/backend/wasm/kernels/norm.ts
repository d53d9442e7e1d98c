/**
 * Generated RMSNorm forward and backward (Llama's RMSNorm; the reference is
 * src/backend/cpu/norm.ts). Each call handles a contiguous range of rows, so threads split
 * rows; widths that are not a multiple of 4 finish each row with a scalar tail.
 *
 * Exports (pointers are byte addresses already offset to the first row of the range):
 *   rmsnorm_fwd(x, w, out, rstd, rows, C, eps: f32)
 *     out = x * rstd * w, rstd = 1 / sqrt(mean(x^2) + eps), per row of C.
 *   rmsnorm_bwd(x, w, rstd, dOut, dX, dW, rows, C)
 *     dX += rstd w dOut - (rstd^3 / C) x sum_c(dOut w x); dW += sum_rows dOut x rstd.
 *     dW is private to the calling thread (the caller sums per-thread partials).
 */
import type { ModuleBuilder } from '../wasm-builder.ts';
import { SimdMath } from './simd-math.ts';

export function addNorm(mb: ModuleBuilder): void {
  addForward(mb);
  addBackward(mb);
}

function addForward(mb: ModuleBuilder): void {
  const f = mb.addFunction('rmsnorm_fwd', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'f32']);
  const [x, w, out, rstd, rows, C, eps] = [0, 1, 2, 3, 4, 5, 6];
  const [n, o, rowB, vecB, xr, orow] = f.locals('i32', 6);
  const [ss, r, t] = f.locals('f32', 3);
  const [acc, rv] = f.locals('v128', 2);
  const m = new SimdMath(f);
  f.get(C).i32(2).op('i32.shl').set(rowB);
  f.get(C).i32(-4).op('i32.and').i32(2).op('i32.shl').set(vecB);
  f.forLoop(n, () => f.i32(0), () => f.get(rows), 1, () => {
    f.get(x).get(n).get(rowB).op('i32.mul').op('i32.add').set(xr);
    f.get(out).get(n).get(rowB).op('i32.mul').op('i32.add').set(orow);
    f.f32x4(0).set(acc);
    f.forLoop(o, () => f.i32(0), () => f.get(vecB), 16, () => {
      f.get(xr).get(o).op('i32.add').mem('v128.load', 0, 2).tee(rv).get(rv).op('f32x4.mul').get(acc).op('f32x4.add').set(acc);
    });
    f.get(acc); m.hsum(); f.set(ss);
    f.forLoop(o, () => f.get(vecB), () => f.get(rowB), 4, () => {
      f.get(xr).get(o).op('i32.add').mem('f32.load').tee(t).get(t).op('f32.mul').get(ss).op('f32.add').set(ss);
    });
    // r = 1 / sqrt(ss / C + eps)
    f.f32(1).get(ss).get(C).op('f32.convert_i32_s').op('f32.div').get(eps).op('f32.add').op('f32.sqrt').op('f32.div').set(r);
    f.get(rstd).get(n).i32(2).op('i32.shl').op('i32.add').get(r).mem('f32.store');
    f.get(r).op('f32x4.splat').set(rv);
    f.forLoop(o, () => f.i32(0), () => f.get(vecB), 16, () => {
      f.get(orow).get(o).op('i32.add');
      f.get(xr).get(o).op('i32.add').mem('v128.load', 0, 2).get(rv).op('f32x4.mul');
      f.get(w).get(o).op('i32.add').mem('v128.load', 0, 2).op('f32x4.mul');
      f.mem('v128.store', 0, 2);
    });
    f.forLoop(o, () => f.get(vecB), () => f.get(rowB), 4, () => {
      f.get(orow).get(o).op('i32.add');
      f.get(xr).get(o).op('i32.add').mem('f32.load').get(r).op('f32.mul');
      f.get(w).get(o).op('i32.add').mem('f32.load').op('f32.mul');
      f.mem('f32.store');
    });
  });
}

function addBackward(mb: ModuleBuilder): void {
  const f = mb.addFunction('rmsnorm_bwd', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32']);
  const [x, w, rstd, dOut, dX, dW, rows, C] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [n, o, rowB, vecB, xr, dyr, dxr, p] = f.locals('i32', 8);
  const [r, k, dot, xs, dys] = f.locals('f32', 5);
  const [acc, rv, kv, xv, dyv] = f.locals('v128', 5);
  const m = new SimdMath(f);
  f.get(C).i32(2).op('i32.shl').set(rowB);
  f.get(C).i32(-4).op('i32.and').i32(2).op('i32.shl').set(vecB);
  f.forLoop(n, () => f.i32(0), () => f.get(rows), 1, () => {
    f.get(n).get(rowB).op('i32.mul').tee(p).get(x).op('i32.add').set(xr);
    f.get(p).get(dOut).op('i32.add').set(dyr);
    f.get(p).get(dX).op('i32.add').set(dxr);
    f.get(rstd).get(n).i32(2).op('i32.shl').op('i32.add').mem('f32.load').set(r);
    // dot = sum dOut w x
    f.f32x4(0).set(acc);
    f.forLoop(o, () => f.i32(0), () => f.get(vecB), 16, () => {
      f.get(dyr).get(o).op('i32.add').mem('v128.load', 0, 2);
      f.get(w).get(o).op('i32.add').mem('v128.load', 0, 2).op('f32x4.mul');
      f.get(xr).get(o).op('i32.add').mem('v128.load', 0, 2).op('f32x4.mul');
      f.get(acc).op('f32x4.add').set(acc);
    });
    f.get(acc); m.hsum(); f.set(dot);
    f.forLoop(o, () => f.get(vecB), () => f.get(rowB), 4, () => {
      f.get(dyr).get(o).op('i32.add').mem('f32.load');
      f.get(w).get(o).op('i32.add').mem('f32.load').op('f32.mul');
      f.get(xr).get(o).op('i32.add').mem('f32.load').op('f32.mul');
      f.get(dot).op('f32.add').set(dot);
    });
    // k = r^3 dot / C
    f.get(r).get(r).op('f32.mul').get(r).op('f32.mul').get(dot).op('f32.mul').get(C).op('f32.convert_i32_s').op('f32.div').set(k);
    f.get(r).op('f32x4.splat').set(rv);
    f.get(k).op('f32x4.splat').set(kv);
    f.forLoop(o, () => f.i32(0), () => f.get(vecB), 16, () => {
      f.get(xr).get(o).op('i32.add').mem('v128.load', 0, 2).set(xv);
      f.get(dyr).get(o).op('i32.add').mem('v128.load', 0, 2).set(dyv);
      // dX += r w dy - k x
      f.get(dxr).get(o).op('i32.add');
      f.get(dxr).get(o).op('i32.add').mem('v128.load', 0, 2);
      f.get(rv).get(w).get(o).op('i32.add').mem('v128.load', 0, 2).op('f32x4.mul').get(dyv).op('f32x4.mul').op('f32x4.add');
      f.get(kv).get(xv).op('f32x4.mul').op('f32x4.sub');
      f.mem('v128.store', 0, 2);
      // dW += dy x r
      f.get(dW).get(o).op('i32.add');
      f.get(dW).get(o).op('i32.add').mem('v128.load', 0, 2);
      f.get(dyv).get(xv).op('f32x4.mul').get(rv).op('f32x4.mul').op('f32x4.add');
      f.mem('v128.store', 0, 2);
    });
    f.forLoop(o, () => f.get(vecB), () => f.get(rowB), 4, () => {
      f.get(xr).get(o).op('i32.add').mem('f32.load').set(xs);
      f.get(dyr).get(o).op('i32.add').mem('f32.load').set(dys);
      f.get(dxr).get(o).op('i32.add');
      f.get(dxr).get(o).op('i32.add').mem('f32.load');
      f.get(r).get(w).get(o).op('i32.add').mem('f32.load').op('f32.mul').get(dys).op('f32.mul').op('f32.add');
      f.get(k).get(xs).op('f32.mul').op('f32.sub');
      f.mem('f32.store');
      f.get(dW).get(o).op('i32.add');
      f.get(dW).get(o).op('i32.add').mem('f32.load');
      f.get(dys).get(xs).op('f32.mul').get(r).op('f32.mul').op('f32.add');
      f.mem('f32.store');
    });
  });
}
