/**
 * Generated log-softmax kernels over vocabulary-wide rows (V ~ 2.7k): the token
 * log-probabilities of the loss and their gradient (reference: src/backend/cpu/softmax.ts).
 * Rows are independent, so threads split rows; a row width that is not a multiple of 4 ends
 * with a scalar tail (exp/log of one value go through the vector code on a splat).
 *
 * Exports (byte addresses offset to the range's first row; targets are checked by the caller):
 *   lsm_fwd(logits, targets, logProbs, lse, rows, V)
 *     lse[m] = logsumexp(logits[m]), logProbs[m] = logits[m, targets[m]] - lse[m]
 *   lsm_bwd(logits, targets, lse, dLogProbs, dLogits, rows, V)
 *     dLogits[m, j] += dLogProbs[m] ([j == targets[m]] - exp(logits[m, j] - lse[m]))
 */
import type { ModuleBuilder } from '../wasm-builder.ts';
import { SimdMath } from './simd-math.ts';

export function addSoftmax(mb: ModuleBuilder): void {
  addForward(mb);
  addBackward(mb);
}

function addForward(mb: ModuleBuilder): void {
  const f = mb.addFunction('lsm_fwd', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32']);
  const [logits, targets, logProbs, lse, rows, V] = [0, 1, 2, 3, 4, 5];
  const [n, o, rowB, vecB, xr] = f.locals('i32', 5);
  const [mx, sum, l] = f.locals('f32', 3);
  const [acc, mxv] = f.locals('v128', 2);
  const m = new SimdMath(f);
  f.get(V).i32(2).op('i32.shl').set(rowB);
  f.get(V).i32(-4).op('i32.and').i32(2).op('i32.shl').set(vecB);
  f.forLoop(n, () => f.i32(0), () => f.get(rows), 1, () => {
    f.get(logits).get(n).get(rowB).op('i32.mul').op('i32.add').set(xr);
    // max
    f.f32x4(-3.4e38).set(acc);
    f.forLoop(o, () => f.i32(0), () => f.get(vecB), 16, () => {
      f.get(acc).get(xr).get(o).op('i32.add').mem('v128.load', 0, 2).op('f32x4.pmax').set(acc);
    });
    f.get(acc); m.hmax(); f.set(mx);
    f.forLoop(o, () => f.get(vecB), () => f.get(rowB), 4, () => {
      f.get(mx).get(xr).get(o).op('i32.add').mem('f32.load').op('f32.max').set(mx);
    });
    // sum of exp(x - max)
    f.get(mx).op('f32x4.splat').set(mxv);
    f.f32x4(0).set(acc);
    f.forLoop(o, () => f.i32(0), () => f.get(vecB), 16, () => {
      f.get(xr).get(o).op('i32.add').mem('v128.load', 0, 2).get(mxv).op('f32x4.sub');
      m.exp();
      f.get(acc).op('f32x4.add').set(acc);
    });
    f.get(acc); m.hsum(); f.set(sum);
    f.forLoop(o, () => f.get(vecB), () => f.get(rowB), 4, () => {
      f.get(xr).get(o).op('i32.add').mem('f32.load').op('f32x4.splat').get(mxv).op('f32x4.sub');
      m.exp();
      f.lane('f32x4.extract_lane', 0).get(sum).op('f32.add').set(sum);
    });
    // lse = max + log(sum); logProb = x[target] - lse
    f.get(sum).op('f32x4.splat'); m.log(); f.lane('f32x4.extract_lane', 0).get(mx).op('f32.add').set(l);
    f.get(lse).get(n).i32(2).op('i32.shl').op('i32.add').get(l).mem('f32.store');
    f.get(logProbs).get(n).i32(2).op('i32.shl').op('i32.add');
    f.get(xr).get(targets).get(n).i32(2).op('i32.shl').op('i32.add').mem('i32.load').i32(2).op('i32.shl').op('i32.add').mem('f32.load');
    f.get(l).op('f32.sub').mem('f32.store');
  });
}

function addBackward(mb: ModuleBuilder): void {
  const f = mb.addFunction('lsm_bwd', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32']);
  const [logits, targets, lse, dLogProbs, dLogits, rows, V] = [0, 1, 2, 3, 4, 5, 6];
  const [n, o, rowB, vecB, xr, dr, p] = f.locals('i32', 7);
  const g = f.local('f32');
  const [gv, lv] = f.locals('v128', 2);
  const m = new SimdMath(f);
  f.get(V).i32(2).op('i32.shl').set(rowB);
  f.get(V).i32(-4).op('i32.and').i32(2).op('i32.shl').set(vecB);
  f.forLoop(n, () => f.i32(0), () => f.get(rows), 1, () => {
    f.get(dLogProbs).get(n).i32(2).op('i32.shl').op('i32.add').mem('f32.load').tee(g);
    f.f32(0).op('f32.ne');
    f.if(() => {
      f.get(n).get(rowB).op('i32.mul').tee(p).get(logits).op('i32.add').set(xr);
      f.get(p).get(dLogits).op('i32.add').set(dr);
      f.get(g).op('f32x4.splat').set(gv);
      f.get(lse).get(n).i32(2).op('i32.shl').op('i32.add').mem('f32.load').op('f32x4.splat').set(lv);
      f.forLoop(o, () => f.i32(0), () => f.get(vecB), 16, () => {
        f.get(dr).get(o).op('i32.add');
        f.get(dr).get(o).op('i32.add').mem('v128.load', 0, 2);
        f.get(xr).get(o).op('i32.add').mem('v128.load', 0, 2).get(lv).op('f32x4.sub');
        m.exp();
        f.get(gv).op('f32x4.mul').op('f32x4.sub');
        f.mem('v128.store', 0, 2);
      });
      f.forLoop(o, () => f.get(vecB), () => f.get(rowB), 4, () => {
        f.get(dr).get(o).op('i32.add');
        f.get(dr).get(o).op('i32.add').mem('f32.load');
        f.get(xr).get(o).op('i32.add').mem('f32.load').op('f32x4.splat').get(lv).op('f32x4.sub');
        m.exp();
        f.lane('f32x4.extract_lane', 0).get(g).op('f32.mul').op('f32.sub');
        f.mem('f32.store');
      });
      // dLogits[target] += g
      f.get(dr).get(targets).get(n).i32(2).op('i32.shl').op('i32.add').mem('i32.load').i32(2).op('i32.shl').op('i32.add').set(p);
      f.get(p).get(p).mem('f32.load').get(g).op('f32.add').mem('f32.store');
    });
  });
}
