/**
 * Generated rotary position embedding, rotate-half convention (reference:
 * src/backend/cpu/rope.ts ropeApply): for each head, the pairs (i, i + D/2) of row n are
 * rotated by angle pos[n] * theta^(-2i/D). The cosines and sines come from a table indexed by
 * position (built once on the host with the reference's float32 angles), so the kernel is pure
 * f32x4 arithmetic; D/2 must be a multiple of 4 (the backend falls back to the reference
 * otherwise). Rows are independent: threads split rows.
 *
 * Export (byte addresses offset to the range's first row):
 *   rope(x, positions, table, out, rows, H, D, sign: f32, acc)
 *     table: cos at table[p * D + i], sin at table[p * D + D/2 + i] (i < D/2);
 *     sign -1 rotates by the opposite angle (the backward pass); acc = 1 adds into out.
 *     out may be x (each pair is read before it is written).
 */
import type { ModuleBuilder } from '../wasm-builder.ts';

export function addRope(mb: ModuleBuilder): void {
  const f = mb.addFunction('rope', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'f32', 'i32']);
  const [x, positions, table, out, rows, H, D, sign, acc] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [n, h, i, halfB, rowB, tp, xo, a1, a2] = f.locals('i32', 9);
  const [c, s, x1, x2, sg] = f.locals('v128', 5);
  f.get(D).i32(1).op('i32.shl').set(halfB); // D/2 floats = 2D bytes
  f.get(H).get(D).op('i32.mul').i32(2).op('i32.shl').set(rowB);
  f.get(sign).op('f32x4.splat').set(sg);
  f.forLoop(n, () => f.i32(0), () => f.get(rows), 1, () => {
    // table row of this position: 2 * halfB bytes
    f.get(table).get(positions).get(n).i32(2).op('i32.shl').op('i32.add').mem('i32.load').get(halfB).i32(1).op('i32.shl').op('i32.mul').op('i32.add').set(tp);
    f.forLoop(i, () => f.i32(0), () => f.get(halfB), 16, () => {
      f.get(tp).get(i).op('i32.add').mem('v128.load', 0, 2).set(c);
      f.get(tp).get(halfB).op('i32.add').get(i).op('i32.add').mem('v128.load', 0, 2).get(sg).op('f32x4.mul').set(s);
      f.forLoop(h, () => f.i32(0), () => f.get(H), 1, () => {
        // xo = byte offset of (n, h, i)
        f.get(n).get(rowB).op('i32.mul').get(h).get(D).op('i32.mul').i32(2).op('i32.shl').op('i32.add').get(i).op('i32.add').set(xo);
        f.get(x).get(xo).op('i32.add').tee(a1).mem('v128.load', 0, 2).set(x1);
        f.get(a1).get(halfB).op('i32.add').mem('v128.load', 0, 2).set(x2);
        f.get(out).get(xo).op('i32.add').tee(a1).get(halfB).op('i32.add').set(a2);
        // y1 = x1 cos - x2 sin, y2 = x2 cos + x1 sin
        f.get(acc).if(() => {
          f.get(a1).get(a1).mem('v128.load', 0, 2).get(x1).get(c).op('f32x4.mul').get(x2).get(s).op('f32x4.mul').op('f32x4.sub').op('f32x4.add').mem('v128.store', 0, 2);
          f.get(a2).get(a2).mem('v128.load', 0, 2).get(x2).get(c).op('f32x4.mul').get(x1).get(s).op('f32x4.mul').op('f32x4.add').op('f32x4.add').mem('v128.store', 0, 2);
        }, () => {
          f.get(a1).get(x1).get(c).op('f32x4.mul').get(x2).get(s).op('f32x4.mul').op('f32x4.sub').mem('v128.store', 0, 2);
          f.get(a2).get(x2).get(c).op('f32x4.mul').get(x1).get(s).op('f32x4.mul').op('f32x4.add').mem('v128.store', 0, 2);
        });
      });
    });
  });
}
