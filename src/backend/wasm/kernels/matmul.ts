/**
 * Generated f32 matrix multiply, C (M, N) (+)= A (M, K) B (K, N), for any strides of A and B
 * (so one kernel serves x W^T, dY W and X^T dY). GotoBLAS-style structure:
 *
 *   for each column block of NC columns and each depth block of KC:
 *     pack B's (KC, NC) block into column panels of NR (contiguous, zero-padded)
 *     for each tile of MR rows, for each panel: micro-kernel, an MR x NR register tile of
 *     f32x4 accumulators updated with one broadcast of A and NR/4 vector loads of B per k.
 *
 * A is read in place (not packed): row-major A through MR row pointers, transposed A (stored
 * (K, M)) through one pointer whose MR consecutive floats are the tile's rows. B is packed
 * because its panel is reused by every row tile. Edge tiles compute a full tile into scratch
 * and copy the valid part out.
 *
 * A second export, matmul_nt_rows, computes x W^T (B stored (N, K)) as dot products of
 * contiguous rows, without packing: see addMatmulRows.
 *
 * Exports (all i32 arguments; pointers are byte addresses, strides are in elements):
 *   matmul(a, b, c, M, N, K, rsA, csA, rsB, csB, ldc, acc, scratch, kcBlock, ncBlock)
 *     A(i, k) = a[i rsA + k csA], B(k, j) = b[k rsB + j csB], C(i, j) = c[i ldc + j];
 *     acc = 1 adds into C. Either csA or rsA must be 1. scratch holds
 *     matmulScratchBytes(kcBlock, ncBlock, tile) bytes private to the calling thread.
 */
import type { FunctionBuilder, ModuleBuilder } from '../wasm-builder.ts';
import { SimdMath } from './simd-math.ts';

/** Register tile of the micro-kernel: MR rows by 4 * nrVec columns, k unrolled `unroll` times. */
export interface MatmulTile {
  mr: number;
  nrVec: number;
  unroll: number;
}

/**
 * Pushes acc + x y: one relaxed-SIMD f32x4.relaxed_madd where the engine has it (a fused
 * multiply-add on most CPUs: twice the multiply-add throughput of Intel cores, where multiplies
 * and adds share two ports), else a multiply and an add.
 */
export function madd(f: FunctionBuilder, fma: boolean, x: () => void, y: () => void, acc: () => void): void {
  x();
  y();
  if (fma) { acc(); f.op('f32x4.relaxed_madd'); } else { f.op('f32x4.mul'); acc(); f.op('f32x4.add'); }
}

// 4 x 8 with no unrolling measured fastest (~40 GFLOP/s on one Zen 5 core in Node 20): larger
// tiles need more than the 15 vector registers V8 allocates, and when k is unrolled TurboFan
// hoists the loads of all steps to the top of the loop body and spills accumulators.
export const DEFAULT_TILE: MatmulTile = { mr: 4, nrVec: 2, unroll: 1 };

/** Scratch bytes one thread needs: the packed B block plus one edge tile. */
export function matmulScratchBytes(kcBlock: number, ncBlock: number, tile: MatmulTile): number {
  const nr = 4 * tile.nrVec;
  return 4 * (kcBlock * (Math.ceil(ncBlock / nr) * nr) + tile.mr * nr) + 64;
}

/** Adds the matmul exports and their helpers to the module; `fma` uses relaxed_madd. */
export function addMatmul(mb: ModuleBuilder, tile: MatmulTile = DEFAULT_TILE, fma = false): void {
  addPackB(mb, tile);
  addMicroKernel(mb, tile, 'rows', fma);
  addMicroKernel(mb, tile, 'cols', fma);
  addDriver(mb, tile);
  addMatmulRows(mb, fma);
}

/**
 * packB(b, rsB, csB, kc, nc, dst): dst[(p kc + k) NR + jj] = B(k, p NR + jj), zero for columns
 * at or beyond nc. Row-major B copies whole vectors; other layouts gather one float at a time.
 */
function addPackB(mb: ModuleBuilder, tile: MatmulTile): void {
  const NR = 4 * tile.nrVec;
  const f = mb.addFunction('mm_packB', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], false);
  const [b, rs, cs, kc, nc, dst] = [0, 1, 2, 3, 4, 5];
  const [j0, k, jj, src, out, w, rs4, cs4] = f.locals('i32', 8);
  f.get(rs).i32(2).op('i32.shl').set(rs4);
  f.get(cs).i32(2).op('i32.shl').set(cs4);
  f.get(dst).set(out);
  f.forLoop(j0, () => f.i32(0), () => f.get(nc), NR, () => {
    // w = columns of this panel that exist
    f.get(nc).get(j0).op('i32.sub').tee(w).i32(NR).get(w).i32(NR).op('i32.lt_s').op('select').set(w);
    f.get(cs).i32(1).op('i32.eq').get(w).i32(NR).op('i32.eq').op('i32.and');
    f.if(() => {
      // full panel of a row-major B: NR/4 vector copies per k
      f.get(b).get(j0).i32(2).op('i32.shl').op('i32.add').set(src);
      f.forLoop(k, () => f.i32(0), () => f.get(kc), 1, () => {
        for (let v = 0; v < tile.nrVec; v++) f.get(out).get(src).mem('v128.load', 16 * v, 2).mem('v128.store', 16 * v, 2);
        f.get(src).get(rs4).op('i32.add').set(src);
        f.get(out).i32(4 * NR).op('i32.add').set(out);
      });
    }, () => {
      f.forLoop(k, () => f.i32(0), () => f.get(kc), 1, () => {
        f.get(b).get(k).get(rs4).op('i32.mul').op('i32.add').get(j0).get(cs4).op('i32.mul').op('i32.add').set(src);
        f.forLoop(jj, () => f.i32(0), () => f.i32(NR), 1, () => {
          f.get(jj).get(w).op('i32.lt_s');
          f.if(
            () => { f.get(out).get(src).mem('f32.load').mem('f32.store'); },
            () => { f.get(out).f32(0).mem('f32.store'); },
          );
          f.get(src).get(cs4).op('i32.add').set(src);
          f.get(out).i32(4).op('i32.add').set(out);
        });
      });
    });
  });
}

/**
 * The register-tile micro-kernel: C tile (MR, NR) (+)= A rows (MR, kc) B panel (kc, NR).
 * mm_rows(a, rsA, mr, panel, kc, c, ldc, acc): row-major A, row r at a + 4 r rsA (rows at or
 *   beyond mr re-read row 0, so nothing outside A is touched).
 * mm_cols(a, csA, mr, panel, kc, c, ldc, acc): transposed A, the tile's MR values for one k are
 *   consecutive and the next k is csA floats further (rows beyond mr read whatever follows,
 *   which the allocator's guard keeps inside memory; those results are discarded).
 */
function addMicroKernel(mb: ModuleBuilder, tile: MatmulTile, mode: 'rows' | 'cols', fma: boolean): void {
  const { mr: MR, nrVec: NV, unroll: U } = tile;
  const NR = 4 * NV;
  const f = mb.addFunction(`mm_${mode}`, ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], [], false);
  const [a, stride, mr, panel, kc, c, ldc, acc] = [0, 1, 2, 3, 4, 5, 6, 7];
  const accs = Array.from({ length: MR }, () => f.locals('v128', NV));
  const bv = f.locals('v128', NV);
  const av = f.local('v128');
  const k = f.local('i32'), kEnd = f.local('i32'), pb = f.local('i32'), s4 = f.local('i32');
  f.get(stride).i32(2).op('i32.shl').set(s4);
  f.get(panel).set(pb);

  // A addressing: `rows` keeps MR row pointers stepping by 4 bytes per k (unrolled steps are
  // immediate offsets); `cols` keeps one pointer per unrolled step (the tile's rows are
  // immediate offsets) and steps by U * csA floats.
  const ptr = f.locals('i32', mode === 'rows' ? MR : U);
  const stepU = f.local('i32');
  if (mode === 'rows') {
    for (let r = 0; r < MR; r++) {
      // ptr[r] = a + s4 * min(r, mr - 1)
      f.get(a).get(s4).i32(r).get(mr).i32(1).op('i32.sub').i32(r).get(mr).i32(1).op('i32.sub').op('i32.lt_s').op('select');
      f.op('i32.mul').op('i32.add').set(ptr[r]!);
    }
  } else {
    for (let u = 0; u < U; u++) f.get(a).get(s4).i32(u).op('i32.mul').op('i32.add').set(ptr[u]!);
    f.get(s4).i32(U).op('i32.mul').set(stepU);
  }

  /** One k step: u is the unrolled step within the current block. */
  const step = (u: number) => {
    for (let v = 0; v < NV; v++) f.get(pb).mem('v128.load', 4 * (u * NR + 4 * v), 2).set(bv[v]!);
    for (let r = 0; r < MR; r++) {
      if (mode === 'rows') f.get(ptr[r]!).mem('v128.load32_splat', 4 * u);
      else f.get(ptr[u]!).mem('v128.load32_splat', 4 * r);
      f.set(av);
      for (let v = 0; v < NV; v++) {
        madd(f, fma, () => f.get(av), () => f.get(bv[v]!), () => f.get(accs[r]![v]!));
        f.set(accs[r]![v]!);
      }
    }
  };
  const advance = (n: number) => {
    f.get(pb).i32(4 * n * NR).op('i32.add').set(pb);
    if (mode === 'rows') for (let r = 0; r < MR; r++) f.get(ptr[r]!).i32(4 * n).op('i32.add').set(ptr[r]!);
    else for (let u = 0; u < n; u++) f.get(ptr[u]!).get(n === U ? stepU : s4).op('i32.add').set(ptr[u]!);
  };

  // Unrolled main loop over k, then the remainder one step at a time.
  f.get(kc).get(kc).i32(U).op('i32.rem_s').op('i32.sub').set(kEnd);
  f.forLoop(k, () => f.i32(0), () => f.get(kEnd), U, () => {
    for (let u = 0; u < U; u++) step(u);
    advance(U);
  });
  f.forLoop(k, () => f.get(kEnd), () => f.get(kc), 1, () => {
    step(0);
    advance(1);
  });

  // Write the tile: C rows are ldc floats apart.
  const cr = f.local('i32'), ldc4 = f.local('i32');
  f.get(ldc).i32(2).op('i32.shl').set(ldc4);
  const store = (accumulate: boolean) => {
    f.get(c).set(cr);
    for (let r = 0; r < MR; r++) {
      if (r > 0) f.get(cr).get(ldc4).op('i32.add').set(cr);
      for (let v = 0; v < NV; v++) {
        f.get(cr);
        if (accumulate) f.get(cr).mem('v128.load', 16 * v, 2).get(accs[r]![v]!).op('f32x4.add');
        else f.get(accs[r]![v]!);
        f.mem('v128.store', 16 * v, 2);
      }
    }
  };
  f.get(acc).if(() => store(true), () => store(false));
}

/** The blocked loop nest around packB and the micro-kernels (see the file comment). */
function addDriver(mb: ModuleBuilder, tile: MatmulTile): void {
  const { mr: MR, nrVec: NV } = tile;
  const NR = 4 * NV;
  const f = mb.addFunction('matmul', Array(15).fill('i32'));
  const [a, b, c, M, N, K, rsA, csA, rsB, csB, ldc, acc, scratch, kcBlock, ncBlock] =
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14];
  const [jc, nc, pc, kc, ir, mr, jr, nr, aPtr, cPtr, panel, tileBuf, accF, rows, aStride, r, j, src, dst] = f.locals('i32', 19);
  const min = (x: () => void, y: () => void) => { x(); y(); x(); y(); f.op('i32.lt_s').op('select'); };
  const packB = mb.indexOf('mm_packB'), kRows = mb.indexOf('mm_rows'), kCols = mb.indexOf('mm_cols');

  // tileBuf follows the packed block
  f.get(scratch).get(kcBlock).get(ncBlock).i32(NR - 1).op('i32.add').i32(NR).op('i32.div_s').i32(NR).op('i32.mul');
  f.op('i32.mul').i32(2).op('i32.shl').op('i32.add').set(tileBuf);
  f.get(csA).i32(1).op('i32.eq').set(rows);
  f.get(rows).if(() => f.get(rsA).set(aStride), () => f.get(csA).set(aStride));

  f.forLoop(jc, () => f.i32(0), () => f.get(N), () => f.get(ncBlock), () => {
    min(() => f.get(ncBlock), () => f.get(N).get(jc).op('i32.sub'));
    f.set(nc);
    f.forLoop(pc, () => f.i32(0), () => f.get(K), () => f.get(kcBlock), () => {
      min(() => f.get(kcBlock), () => f.get(K).get(pc).op('i32.sub'));
      f.set(kc);
      // packB(b + 4 (pc rsB + jc csB), rsB, csB, kc, nc, scratch)
      f.get(b).get(pc).get(rsB).op('i32.mul').get(jc).get(csB).op('i32.mul').op('i32.add').i32(2).op('i32.shl').op('i32.add');
      f.get(rsB).get(csB).get(kc).get(nc).get(scratch).call(packB);
      f.get(acc).get(pc).i32(0).op('i32.gt_s').op('i32.or').set(accF);
      f.forLoop(ir, () => f.i32(0), () => f.get(M), MR, () => {
        min(() => f.i32(MR), () => f.get(M).get(ir).op('i32.sub'));
        f.set(mr);
        f.get(a).get(ir).get(rsA).op('i32.mul').get(pc).get(csA).op('i32.mul').op('i32.add').i32(2).op('i32.shl').op('i32.add').set(aPtr);
        f.forLoop(jr, () => f.i32(0), () => f.get(nc), NR, () => {
          min(() => f.i32(NR), () => f.get(nc).get(jr).op('i32.sub'));
          f.set(nr);
          f.get(scratch).get(jr).get(kc).op('i32.mul').i32(2).op('i32.shl').op('i32.add').set(panel);
          f.get(c).get(ir).get(ldc).op('i32.mul').get(jc).op('i32.add').get(jr).op('i32.add').i32(2).op('i32.shl').op('i32.add').set(cPtr);
          const kernel = (cArg: () => void, ldcArg: () => void, accArg: () => void) => {
            // (a block cannot take operands from outside it, so each branch pushes its own)
            const args = () => { f.get(aPtr).get(aStride).get(mr).get(panel).get(kc); cArg(); ldcArg(); accArg(); };
            f.get(rows).if(() => { args(); f.call(kRows); }, () => { args(); f.call(kCols); });
          };
          f.get(mr).i32(MR).op('i32.eq').get(nr).i32(NR).op('i32.eq').op('i32.and');
          f.if(() => {
            kernel(() => f.get(cPtr), () => f.get(ldc), () => f.get(accF));
          }, () => {
            // Edge tile: full tile into tileBuf, then the valid (mr, nr) corner into C.
            kernel(() => f.get(tileBuf), () => f.i32(NR), () => f.i32(0));
            f.forLoop(r, () => f.i32(0), () => f.get(mr), 1, () => {
              f.forLoop(j, () => f.i32(0), () => f.get(nr), 1, () => {
                f.get(tileBuf).get(r).i32(NR).op('i32.mul').get(j).op('i32.add').i32(2).op('i32.shl').op('i32.add').set(src);
                f.get(cPtr).get(r).get(ldc).op('i32.mul').get(j).op('i32.add').i32(2).op('i32.shl').op('i32.add').set(dst);
                f.get(dst).get(src).mem('f32.load');
                f.get(dst).mem('f32.load').f32(0).get(accF).op('select').op('f32.add');
                f.mem('f32.store');
              });
            });
          });
        });
      });
    });
  });
}

/**
 * matmul_nt_rows(a, b, c, M, N, K, ldc, acc): C (M, N) (+)= A (M, K) B^T for B stored (N, K),
 * both row-major: dot products of contiguous rows. Rows are taken in pairs so that each chunk
 * of B serves two rows; four columns at a time, their four dot products reduced together at
 * the end. No packing, so it is the kernel of every x W^T product: measured 5-10% faster than
 * the packed kernel at 1024 rows, and 3-10x faster at the few rows of a decoding step (where
 * packing B costs as much as the product).
 */
export function addMatmulRows(mb: ModuleBuilder, fma: boolean): void {
  const f = mb.addFunction('matmul_nt_rows', Array(8).fill('i32'));
  const [a, b, c, M, N, K, ldc, acc] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [i, j, o, kB, k4B, a0, a1, b0, cp, nrows, r] = f.locals('i32', 11);
  const accs = f.locals('v128', 8);
  const [x0, x1, t] = f.locals('v128', 3);
  const [s, y] = f.locals('f32', 2);
  const m = new SimdMath(f);
  f.get(K).i32(2).op('i32.shl').set(kB);
  f.get(K).i32(-4).op('i32.and').i32(2).op('i32.shl').set(k4B);
  // One or two rows at a time.
  f.forLoop(i, () => f.i32(0), () => f.get(M), 2, () => {
    f.get(M).get(i).op('i32.sub').i32(2).op('i32.lt_s').if(() => f.i32(1).set(nrows), () => f.i32(2).set(nrows));
    f.get(a).get(i).get(kB).op('i32.mul').op('i32.add').set(a0);
    f.get(a0).get(nrows).i32(2).op('i32.eq').get(kB).op('i32.mul').op('i32.add').set(a1); // row i+1 (or row i again)
    /** c[cp] (+)= value */
    const storeOut = (value: () => void) => {
      f.get(cp).get(cp).mem('f32.load').f32(0).get(acc).op('select');
      value();
      f.op('f32.add').mem('f32.store');
    };
    // Four columns at a time.
    f.forLoop(j, () => f.i32(0), () => f.get(N).i32(-4).op('i32.and'), 4, () => {
      for (const q of accs) f.f32x4(0).set(q);
      f.get(b).get(j).get(kB).op('i32.mul').op('i32.add').set(b0);
      f.forLoop(o, () => f.i32(0), () => f.get(k4B), 16, () => {
        f.get(a0).get(o).op('i32.add').mem('v128.load', 0, 2).set(x0);
        f.get(a1).get(o).op('i32.add').mem('v128.load', 0, 2).set(x1);
        for (let col = 0; col < 4; col++) {
          f.get(b0).get(o).op('i32.add');
          for (let q = 0; q < col; q++) f.get(kB).op('i32.add');
          f.mem('v128.load', 0, 2).set(t);
          madd(f, fma, () => f.get(x0), () => f.get(t), () => f.get(accs[col]!));
          f.set(accs[col]!);
          madd(f, fma, () => f.get(x1), () => f.get(t), () => f.get(accs[4 + col]!));
          f.set(accs[4 + col]!);
        }
      });
      for (let row = 0; row < 2; row++) {
        f.get(accs[4 * row]!).get(accs[4 * row + 1]!).get(accs[4 * row + 2]!).get(accs[4 * row + 3]!);
        m.hsum4();
        f.set(x0);
        // scalar tail of K for the four columns
        f.forLoop(o, () => f.get(k4B), () => f.get(kB), 4, () => {
          f.get(row === 0 ? a0 : a1).get(o).op('i32.add').mem('f32.load').set(y);
          for (let col = 0; col < 4; col++) {
            f.get(x0).get(x0).lane('f32x4.extract_lane', col);
            f.get(b0).get(o).op('i32.add');
            for (let q = 0; q < col; q++) f.get(kB).op('i32.add');
            f.mem('f32.load').get(y).op('f32.mul').op('f32.add').lane('f32x4.replace_lane', col).set(x0);
          }
        });
        f.i32(row).get(nrows).op('i32.lt_s').if(() => {
          for (let col = 0; col < 4; col++) {
            f.get(c).get(i).i32(row).op('i32.add').get(ldc).op('i32.mul').get(j).op('i32.add').i32(col).op('i32.add').i32(2).op('i32.shl').op('i32.add').set(cp);
            storeOut(() => f.get(x0).lane('f32x4.extract_lane', col));
          }
        });
      }
    });
    // Remaining columns one at a time.
    f.forLoop(j, () => f.get(N).i32(-4).op('i32.and'), () => f.get(N), 1, () => {
      f.get(b).get(j).get(kB).op('i32.mul').op('i32.add').set(b0);
      f.forLoop(r, () => f.i32(0), () => f.get(nrows), 1, () => {
        f.f32x4(0).set(t);
        f.get(r).if(() => f.get(a1).set(cp), () => f.get(a0).set(cp)); // cp = this row's A
        f.forLoop(o, () => f.i32(0), () => f.get(k4B), 16, () => {
          f.get(t).get(cp).get(o).op('i32.add').mem('v128.load', 0, 2).get(b0).get(o).op('i32.add').mem('v128.load', 0, 2).op('f32x4.mul').op('f32x4.add').set(t);
        });
        f.get(t); m.hsum(); f.set(s);
        f.forLoop(o, () => f.get(k4B), () => f.get(kB), 4, () => {
          f.get(s).get(cp).get(o).op('i32.add').mem('f32.load').get(b0).get(o).op('i32.add').mem('f32.load').op('f32.mul').op('f32.add').set(s);
        });
        f.get(c).get(i).get(r).op('i32.add').get(ldc).op('i32.mul').get(j).op('i32.add').i32(2).op('i32.shl').op('i32.add').set(cp);
        storeOut(() => f.get(s));
      });
    });
  });
}
