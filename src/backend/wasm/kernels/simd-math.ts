/**
 * Inline SIMD math for generated kernels: exp and log on f32x4 (WebAssembly has neither),
 * horizontal sum and max. Each helper pops its operand(s) from the wasm operand stack and
 * pushes the result, using temporaries it allocates once per function.
 *
 * The exp and log polynomials are the single-precision minimax fits of the Cephes library
 * (S. Moshier, expf.c / logf.c), which are accurate to about 1-2 ulp over the range used here.
 */
import type { FunctionBuilder } from '../wasm-builder.ts';

const LOG2E = 1.44269504088896341;
// ln 2 split in two so that n * LN2_HI is exact in float32 (Cephes' C1, C2).
const LN2_HI = 0.693359375;
const LN2_LO = -2.12194440e-4;
const EXP_POLY = [1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1];
const LOG_POLY = [
  7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
  -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
];
const SQRT_HALF = 0.707106781186547524;

/** Per-function temporaries for the math helpers. */
export class SimdMath {
  private t: number[] = [];

  constructor(private readonly f: FunctionBuilder) {}

  private tmp(i: number): number {
    while (this.t.length <= i) this.t.push(this.f.local('v128'));
    return this.t[i]!;
  }

  /**
   * [x] -> [exp(x)] lane-wise. Inputs are clamped to [-87.3, 88]: below, the result is about
   * 1e-38 instead of a denormal or 0 (harmless next to the O(1) terms it is summed with).
   */
  exp(): void {
    const f = this.f, x = this.tmp(0), n = this.tmp(1), r = this.tmp(2);
    f.f32x4(-87.3).op('f32x4.pmax').f32x4(88).op('f32x4.pmin').tee(x);
    f.f32x4(LOG2E).op('f32x4.mul').op('f32x4.nearest').set(n);
    // r = x - n ln2 (two steps for precision)
    f.get(x).get(n).f32x4(LN2_HI).op('f32x4.mul').op('f32x4.sub');
    f.get(n).f32x4(LN2_LO).op('f32x4.mul').op('f32x4.sub').set(r);
    // Horner: p(r), then exp(r) = 1 + r + r^2 p(r)
    f.f32x4(EXP_POLY[0]!);
    for (let i = 1; i < EXP_POLY.length; i++) f.get(r).op('f32x4.mul').f32x4(EXP_POLY[i]!).op('f32x4.add');
    f.get(r).op('f32x4.mul').get(r).op('f32x4.mul').get(r).op('f32x4.add').f32x4(1).op('f32x4.add');
    // times 2^n, built in the exponent bits
    f.get(n).op('i32x4.trunc_sat_f32x4_s').i32x4(127).op('i32x4.add').i32(23).op('i32x4.shl');
    f.op('f32x4.mul');
  }

  /** [x] -> [log(x)] lane-wise for positive, finite x. */
  log(): void {
    const f = this.f, x = this.tmp(0), e = this.tmp(1), m = this.tmp(2), z = this.tmp(3), mask = this.tmp(4);
    f.tee(x);
    // x = m 2^e with m in [0.5, 1)
    f.i32(23).op('i32x4.shr_u').i32x4(126).op('i32x4.sub').op('f32x4.convert_i32x4_s').set(e);
    f.get(x).i32x4(0x007fffff).op('v128.and').i32x4(0x3f000000).op('v128.or').tee(m);
    // if m < sqrt(1/2): e -= 1, m = 2m - 1; else m = m - 1
    f.f32x4(SQRT_HALF).op('f32x4.lt').set(mask);
    f.get(e).get(mask).f32x4(1).op('v128.and').op('f32x4.sub').set(e);
    f.get(m).f32x4(1).op('f32x4.sub').get(m).get(mask).op('v128.and').op('f32x4.add').set(m);
    f.get(m).get(m).op('f32x4.mul').set(z);
    f.f32x4(LOG_POLY[0]!);
    for (let i = 1; i < LOG_POLY.length; i++) f.get(m).op('f32x4.mul').f32x4(LOG_POLY[i]!).op('f32x4.add');
    f.get(m).op('f32x4.mul').get(z).op('f32x4.mul');
    f.get(e).f32x4(LN2_LO).op('f32x4.mul').op('f32x4.add');
    f.get(z).f32x4(0.5).op('f32x4.mul').op('f32x4.sub');
    f.get(m).op('f32x4.add');
    f.get(e).f32x4(LN2_HI).op('f32x4.mul').op('f32x4.add');
  }

  /** [v] -> [v0 + v1 + v2 + v3] as an f32. */
  hsum(): void {
    const f = this.f, t = this.tmp(5);
    // (i8x16.shuffle takes two operands; both are t here)
    f.tee(t).get(t).get(t).shuffle32(2, 3, 2, 3).op('f32x4.add').tee(t).get(t).get(t).shuffle32(1, 1, 1, 1).op('f32x4.add');
    f.lane('f32x4.extract_lane', 0);
  }

  /** [v] -> [max lane] as an f32 (NaN-free inputs). */
  hmax(): void {
    const f = this.f, t = this.tmp(5);
    f.tee(t).get(t).get(t).shuffle32(2, 3, 2, 3).op('f32x4.pmax').tee(t).get(t).get(t).shuffle32(1, 1, 1, 1).op('f32x4.pmax');
    f.lane('f32x4.extract_lane', 0);
  }

  /**
   * [a, b, c, d] (four v128 partial sums) -> [v128 of their four horizontal sums], the
   * 4x4 transpose-and-add used for four dot products at once.
   */
  hsum4(): void {
    const f = this.f, a = this.tmp(6), b = this.tmp(7), c = this.tmp(8), d = this.tmp(9);
    f.set(d).set(c).set(b).set(a);
    // [a0+a2, b0+b2, a1+a3, b1+b3]
    f.get(a).get(b).shuffle32(0, 4, 1, 5).get(a).get(b).shuffle32(2, 6, 3, 7).op('f32x4.add').set(a);
    f.get(c).get(d).shuffle32(0, 4, 1, 5).get(c).get(d).shuffle32(2, 6, 3, 7).op('f32x4.add').set(c);
    // [a0+a2+a1+a3, b.., c.., d..]
    f.get(a).get(c).shuffle32(0, 1, 4, 5).get(a).get(c).shuffle32(2, 3, 6, 7).op('f32x4.add');
  }
}
