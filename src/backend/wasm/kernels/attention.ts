/**
 * Generated causal attention over a ragged batch or a KV cache (reference:
 * src/backend/cpu/attention.ts). Query row n, head h attends to kv rows kvStart[n] ..
 * kvStart[n] + pos[n]. The head size D must be a multiple of 4 (the backend falls back to the
 * reference otherwise).
 *
 * Per (row, head) the forward makes three passes over its keys: scores (four keys at a time,
 * their four dot products reduced together by one 4x4 transpose-add), then exp(s - max) in
 * place, then the probability-weighted sum of value rows in column groups of 16 floats. The
 * backward recomputes p from lse, stores p and dS for every key, then walks the keys again per
 * column group to update dQ (in registers), dK and dV.
 *
 * Exports (byte addresses; `scratch` is private to the calling thread):
 *   attn_fwd(q, k, v, kvStart, pos, out, lse, n0, n1, H, D, scale: f32, scratch)
 *     rows n0..n1-1, every head; scratch holds max(pos) + 1 floats.
 *   attn_bwd(q, k, v, kvStart, pos, out, lse, dOut, dQ, dK, dV, n0, n1, h0, h1, H, D, scale: f32, scratch)
 *     rows n0..n1-1, heads h0..h1-1 (threads split heads: dK and dV rows are shared by every
 *     query of a sequence, but never across heads); scratch holds 2 (max(pos) + 1) floats.
 */
import type { FunctionBuilder, ModuleBuilder } from '../wasm-builder.ts';
import { SimdMath } from './simd-math.ts';

export function addAttention(mb: ModuleBuilder): void {
  addForward(mb);
  addBackward(mb);
}

const add = (f: FunctionBuilder, a: number, b: number) => f.get(a).get(b).op('i32.add');

function addForward(mb: ModuleBuilder): void {
  const f = mb.addFunction('attn_fwd', [...Array(11).fill('i32'), 'f32', 'i32']);
  const [q, k, v, kvStart, pos, out, lse, n0, n1, H, D, scale, scratch] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  const [n, h, j, o, L, L4, rowB, Db, qp, kp, vp, kv0, vv0, op, sp, t] = f.locals('i32', 16);
  const [mx, sum, s] = f.locals('f32', 3);
  const [a0, a1, a2, a3, qv, scv, mxv, c0, c1, c2, c3, pv] = f.locals('v128', 12);
  const m = new SimdMath(f);
  f.get(H).get(D).op('i32.mul').i32(2).op('i32.shl').set(rowB);
  f.get(D).i32(2).op('i32.shl').set(Db);
  f.get(scale).op('f32x4.splat').set(scv);

  f.forLoop(n, () => f.get(n0), () => f.get(n1), 1, () => {
    f.get(pos).get(n).i32(2).op('i32.shl').op('i32.add').mem('i32.load').i32(1).op('i32.add').tee(L);
    f.i32(-4).op('i32.and').set(L4);
    // kv0 = byte offset of this sequence's first kv row
    f.get(kvStart).get(n).i32(2).op('i32.shl').op('i32.add').mem('i32.load').get(rowB).op('i32.mul').set(t);
    f.forLoop(h, () => f.i32(0), () => f.get(H), 1, () => {
      f.get(n).get(rowB).op('i32.mul').get(h).get(Db).op('i32.mul').op('i32.add').set(op); // row n, head h offset
      add(f, q, op).set(qp);
      f.get(t).get(h).get(Db).op('i32.mul').op('i32.add').set(kv0);
      add(f, k, kv0).set(kp);
      add(f, v, kv0).set(vv0);

      // ---- pass 1: scaled scores into scratch, running max
      f.f32x4(-3.4e38).set(mxv);
      f.forLoop(j, () => f.i32(0), () => f.get(L4), 4, () => {
        for (const a of [a0, a1, a2, a3]) f.f32x4(0).set(a);
        f.forLoop(o, () => f.i32(0), () => f.get(Db), 16, () => {
          add(f, qp, o).mem('v128.load', 0, 2).set(qv);
          [a0, a1, a2, a3].forEach((a, r) => {
            // key row j + r: kp + r rowB + o
            f.get(a).get(qv);
            add(f, kp, o);
            for (let i = 0; i < r; i++) f.get(rowB).op('i32.add');
            f.mem('v128.load', 0, 2).op('f32x4.mul').op('f32x4.add').set(a);
          });
        });
        for (const a of [a0, a1, a2, a3]) f.get(a);
        m.hsum4();
        f.get(scv).op('f32x4.mul').set(pv);
        f.get(scratch).get(j).i32(2).op('i32.shl').op('i32.add').get(pv).mem('v128.store', 0, 2);
        f.get(mxv).get(pv).op('f32x4.pmax').set(mxv);
        f.get(kp).get(rowB).i32(2).op('i32.shl').op('i32.add').set(kp);
      });
      f.get(mxv); m.hmax(); f.set(mx);
      f.forLoop(j, () => f.get(L4), () => f.get(L), 1, () => {
        f.f32x4(0).set(a0);
        f.forLoop(o, () => f.i32(0), () => f.get(Db), 16, () => {
          f.get(a0);
          add(f, qp, o).mem('v128.load', 0, 2);
          add(f, kp, o).mem('v128.load', 0, 2);
          f.op('f32x4.mul').op('f32x4.add').set(a0);
        });
        f.get(a0); m.hsum(); f.get(scale).op('f32.mul').set(s);
        f.get(scratch).get(j).i32(2).op('i32.shl').op('i32.add').get(s).mem('f32.store');
        f.get(mx).get(s).op('f32.max').set(mx);
        add(f, kp, rowB).set(kp);
      });

      // ---- pass 2: p = exp(s - max) in place, and their sum
      f.get(mx).op('f32x4.splat').set(mxv);
      f.f32x4(0).set(a0);
      f.forLoop(j, () => f.i32(0), () => f.get(L4), 4, () => {
        f.get(scratch).get(j).i32(2).op('i32.shl').op('i32.add').tee(sp);
        f.get(sp).mem('v128.load', 0, 2).get(mxv).op('f32x4.sub');
        m.exp();
        f.tee(pv).mem('v128.store', 0, 2);
        f.get(a0).get(pv).op('f32x4.add').set(a0);
      });
      f.get(a0); m.hsum(); f.set(sum);
      f.forLoop(j, () => f.get(L4), () => f.get(L), 1, () => {
        f.get(scratch).get(j).i32(2).op('i32.shl').op('i32.add').tee(sp);
        f.get(sp).mem('f32.load').op('f32x4.splat').get(mxv).op('f32x4.sub');
        m.exp();
        f.lane('f32x4.extract_lane', 0).tee(s).mem('f32.store');
        f.get(sum).get(s).op('f32.add').set(sum);
      });

      // ---- pass 3: out = sum_j p_j v_j / sum, 4 vectors (one cache line) at a time, then single vectors
      f.get(sum).op('f32x4.splat').set(mxv); // reuse mxv for the divisor
      const group = (width: number) => {
        const cs = [c0, c1, c2, c3].slice(0, width);
        for (const c of cs) f.f32x4(0).set(c);
        add(f, vv0, o).set(vp);
        f.forLoop(j, () => f.i32(0), () => f.get(L), 1, () => {
          f.get(scratch).get(j).i32(2).op('i32.shl').op('i32.add').mem('v128.load32_splat').set(pv);
          cs.forEach((c, i) => {
            f.get(c).get(pv).get(vp).mem('v128.load', 16 * i, 2).op('f32x4.mul').op('f32x4.add').set(c);
          });
          add(f, vp, rowB).set(vp);
        });
        cs.forEach((c, i) => {
          f.get(out).get(op).op('i32.add').get(o).op('i32.add');
          f.get(c).get(mxv).op('f32x4.div').mem('v128.store', 16 * i, 2);
        });
      };
      f.i32(0).set(o);
      f.block((done) => f.loop((top) => {
        f.get(o).i32(64).op('i32.add').get(Db).op('i32.gt_s').brIf(done);
        group(4);
        f.get(o).i32(64).op('i32.add').set(o);
        f.br(top);
      }));
      f.block((done) => f.loop((top) => {
        f.get(o).get(Db).op('i32.ge_s').brIf(done);
        group(1);
        f.get(o).i32(16).op('i32.add').set(o);
        f.br(top);
      }));

      // lse = max + log(sum)
      f.get(lse).get(n).get(H).op('i32.mul').get(h).op('i32.add').i32(2).op('i32.shl').op('i32.add');
      f.get(sum).op('f32x4.splat'); m.log(); f.lane('f32x4.extract_lane', 0).get(mx).op('f32.add');
      f.mem('f32.store');
    });
  });
}

function addBackward(mb: ModuleBuilder): void {
  const f = mb.addFunction('attn_bwd', [...Array(17).fill('i32'), 'f32', 'i32']);
  const [q, k, v, kvStart, pos, out, lse, dOut, dQ, dK, dV, n0, n1, h0, h1, H, D, scale, scratch] =
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18];
  const [n, h, j, o, L, L4, rowB, Db, ro, kv0, kp, vp, t, sp, dsp] = f.locals('i32', 15);
  const [dd, l, s, dp, pS] = f.locals('f32', 5);
  const [a0, a1, a2, a3, b0, b1, b2, b3, qv, dov, scv, lv, ddv, pv] = f.locals('v128', 14);
  const m = new SimdMath(f);
  f.get(H).get(D).op('i32.mul').i32(2).op('i32.shl').set(rowB);
  f.get(D).i32(2).op('i32.shl').set(Db);
  f.get(scale).op('f32x4.splat').set(scv);

  f.forLoop(n, () => f.get(n0), () => f.get(n1), 1, () => {
    f.get(pos).get(n).i32(2).op('i32.shl').op('i32.add').mem('i32.load').i32(1).op('i32.add').tee(L);
    f.i32(-4).op('i32.and').set(L4);
    f.get(kvStart).get(n).i32(2).op('i32.shl').op('i32.add').mem('i32.load').get(rowB).op('i32.mul').set(t);
    // p and dS of this row live in scratch[0, L) and scratch[L, 2L)
    f.get(scratch).get(L).i32(2).op('i32.shl').op('i32.add').set(dsp);
    f.forLoop(h, () => f.get(h0), () => f.get(h1), 1, () => {
      f.get(n).get(rowB).op('i32.mul').get(h).get(Db).op('i32.mul').op('i32.add').set(ro);
      f.get(t).get(h).get(Db).op('i32.mul').op('i32.add').set(kv0);
      // dd = dOut . out
      f.f32x4(0).set(a0);
      f.forLoop(o, () => f.i32(0), () => f.get(Db), 16, () => {
        f.get(a0);
        f.get(dOut).get(ro).op('i32.add').get(o).op('i32.add').mem('v128.load', 0, 2);
        f.get(out).get(ro).op('i32.add').get(o).op('i32.add').mem('v128.load', 0, 2);
        f.op('f32x4.mul').op('f32x4.add').set(a0);
      });
      f.get(a0); m.hsum(); f.tee(dd).op('f32x4.splat').set(ddv);
      f.get(lse).get(n).get(H).op('i32.mul').get(h).op('i32.add').i32(2).op('i32.shl').op('i32.add').mem('f32.load').tee(l);
      f.op('f32x4.splat').set(lv);

      // ---- pass 1: p_j = exp(scale q.k_j - lse), dS_j = p_j (dOut.v_j - dd) scale
      add(f, k, kv0).set(kp);
      add(f, v, kv0).set(vp);
      f.forLoop(j, () => f.i32(0), () => f.get(L4), 4, () => {
        for (const a of [a0, a1, a2, a3, b0, b1, b2, b3]) f.f32x4(0).set(a);
        f.forLoop(o, () => f.i32(0), () => f.get(Db), 16, () => {
          f.get(q).get(ro).op('i32.add').get(o).op('i32.add').mem('v128.load', 0, 2).set(qv);
          f.get(dOut).get(ro).op('i32.add').get(o).op('i32.add').mem('v128.load', 0, 2).set(dov);
          for (let r = 0; r < 4; r++) {
            const a = [a0, a1, a2, a3][r]!, b = [b0, b1, b2, b3][r]!;
            f.get(a).get(qv); add(f, kp, o);
            for (let i = 0; i < r; i++) f.get(rowB).op('i32.add');
            f.mem('v128.load', 0, 2).op('f32x4.mul').op('f32x4.add').set(a);
            f.get(b).get(dov); add(f, vp, o);
            for (let i = 0; i < r; i++) f.get(rowB).op('i32.add');
            f.mem('v128.load', 0, 2).op('f32x4.mul').op('f32x4.add').set(b);
          }
        });
        f.get(a0).get(a1).get(a2).get(a3); m.hsum4(); f.get(scv).op('f32x4.mul').get(lv).op('f32x4.sub');
        m.exp();
        f.set(pv);
        f.get(scratch).get(j).i32(2).op('i32.shl').op('i32.add').get(pv).mem('v128.store', 0, 2);
        f.get(b0).get(b1).get(b2).get(b3); m.hsum4();
        f.get(ddv).op('f32x4.sub').get(pv).op('f32x4.mul').get(scv).op('f32x4.mul').set(a0);
        f.get(dsp).get(j).i32(2).op('i32.shl').op('i32.add').get(a0).mem('v128.store', 0, 2);
        f.get(kp).get(rowB).i32(2).op('i32.shl').op('i32.add').set(kp);
        f.get(vp).get(rowB).i32(2).op('i32.shl').op('i32.add').set(vp);
      });
      f.forLoop(j, () => f.get(L4), () => f.get(L), 1, () => {
        f.f32x4(0).set(a0);
        f.f32x4(0).set(b0);
        f.forLoop(o, () => f.i32(0), () => f.get(Db), 16, () => {
          f.get(a0).get(q).get(ro).op('i32.add').get(o).op('i32.add').mem('v128.load', 0, 2);
          add(f, kp, o).mem('v128.load', 0, 2).op('f32x4.mul').op('f32x4.add').set(a0);
          f.get(b0).get(dOut).get(ro).op('i32.add').get(o).op('i32.add').mem('v128.load', 0, 2);
          add(f, vp, o).mem('v128.load', 0, 2).op('f32x4.mul').op('f32x4.add').set(b0);
        });
        f.get(a0); m.hsum(); f.set(s);
        f.get(b0); m.hsum(); f.set(dp);
        f.get(s).get(scale).op('f32.mul').get(l).op('f32.sub').op('f32x4.splat');
        m.exp();
        f.lane('f32x4.extract_lane', 0).set(pS);
        f.get(scratch).get(j).i32(2).op('i32.shl').op('i32.add').get(pS).mem('f32.store');
        f.get(dsp).get(j).i32(2).op('i32.shl').op('i32.add');
        f.get(pS).get(dp).get(dd).op('f32.sub').op('f32.mul').get(scale).op('f32.mul').mem('f32.store');
        add(f, kp, rowB).set(kp);
        add(f, vp, rowB).set(vp);
      });

      // ---- pass 2, per column group of `width` vectors:
      //   dV_j += p_j dOut, dK_j += dS_j q, dQ += sum_j dS_j k_j
      const [qa, qb, da, db, ca, cb] = [a0, a1, a2, a3, b0, b1];
      const group = (width: 1 | 2) => {
        const qs = [qa, qb].slice(0, width), ds = [da, db].slice(0, width), cs = [ca, cb].slice(0, width);
        qs.forEach((x, i) => f.get(q).get(ro).op('i32.add').get(o).op('i32.add').mem('v128.load', 16 * i, 2).set(x));
        ds.forEach((x, i) => f.get(dOut).get(ro).op('i32.add').get(o).op('i32.add').mem('v128.load', 16 * i, 2).set(x));
        for (const c of cs) f.f32x4(0).set(c);
        f.get(kv0).get(o).op('i32.add').set(kp); // byte offset of (row j, this column group) in k, dK, dV
        f.forLoop(j, () => f.i32(0), () => f.get(L), 1, () => {
          f.get(scratch).get(j).i32(2).op('i32.shl').op('i32.add').mem('v128.load32_splat').set(pv);
          f.get(dsp).get(j).i32(2).op('i32.shl').op('i32.add').mem('v128.load32_splat').set(b2);
          for (let i = 0; i < width; i++) {
            f.get(cs[i]!).get(b2).get(k).get(kp).op('i32.add').mem('v128.load', 16 * i, 2).op('f32x4.mul').op('f32x4.add').set(cs[i]!);
            add(f, dV, kp).set(sp);
            f.get(sp).get(sp).mem('v128.load', 16 * i, 2).get(pv).get(ds[i]!).op('f32x4.mul').op('f32x4.add').mem('v128.store', 16 * i, 2);
            add(f, dK, kp).set(sp);
            f.get(sp).get(sp).mem('v128.load', 16 * i, 2).get(b2).get(qs[i]!).op('f32x4.mul').op('f32x4.add').mem('v128.store', 16 * i, 2);
          }
          add(f, kp, rowB).set(kp);
        });
        cs.forEach((c, i) => {
          f.get(dQ).get(ro).op('i32.add').get(o).op('i32.add').tee(sp);
          f.get(sp).mem('v128.load', 16 * i, 2).get(c).op('f32x4.add').mem('v128.store', 16 * i, 2);
        });
      };
      f.i32(0).set(o);
      f.block((done) => f.loop((top) => {
        f.get(o).i32(32).op('i32.add').get(Db).op('i32.gt_s').brIf(done);
        group(2);
        f.get(o).i32(32).op('i32.add').set(o);
        f.br(top);
      }));
      f.block((done) => f.loop((top) => {
        f.get(o).get(Db).op('i32.ge_s').brIf(done);
        group(1);
        f.get(o).i32(16).op('i32.add').set(o);
        f.br(top);
      }));
    });
  });
}
