/**
 * Rotary position embedding (rotate-half convention, as Hugging Face Llama), forward and
 * backward in one kernel: the backward is the rotation by the opposite angle, accumulated.
 *
 * Angles are pos * theta^(-2i/D) in float32, as the reference computes them; their cosines and
 * sines come from a table built on the host in double precision (WGSL's cos and sin are only
 * specified to 2^-11 absolute error near zero and not at all far from it, and angles reach
 * hundreds of radians). A position beyond the table falls back to the device's cos/sin.
 * Table layout (f32): inverse frequencies (D/2), then per position p and pair i: cos, sin.
 */
import type { RopeScaling } from '../../backend.ts';
import { ropeInvFreq } from '../../cpu/rope.ts';
import { elementwiseMain, EW_WG, ewGroups, ro, rw, type KernelSpec } from '../kernel-spec.ts';
import type { KernelRunner, WebGpuTensor } from '../tensor.ts';

/** The host table for positions [0, rows) (layout in the file comment). */
export function ropeTable(D: number, theta: number, rows: number, scaling?: RopeScaling): Float32Array {
  const half = D / 2;
  const inv = ropeInvFreq(D, theta, scaling);
  const t = new Float32Array(half + rows * half * 2);
  t.set(inv);
  for (let p = 0; p < rows; p++) {
    for (let i = 0; i < half; i++) {
      const ang = Math.fround(p * inv[i]!);
      const o = half + (p * half + i) * 2;
      t[o] = Math.cos(ang);
      t[o + 1] = Math.sin(ang);
    }
  }
  return t;
}

function ropeSpec(inPlace: boolean, accumulate: boolean): KernelSpec {
  const src = inPlace ? 'buf' : 'x', dst = inPlace ? 'buf' : 'out';
  const write = (idx: string, val: string) => `${dst}[${idx}] = ${accumulate ? `${dst}[${idx}] + ` : ''}${val};`;
  return {
    name: 'rope', variant: `${inPlace ? 'in-place' : 'out-of-place'}.acc${+accumulate}`,
    params: [['n', 'u32'], ['H', 'u32'], ['D', 'u32'], ['half', 'u32'], ['rows', 'u32'], ['sign', 'f32']],
    buffers: [...(inPlace ? [] : [ro('x')]), ro('pos', 'i32'), ro('tab'), rw(dst)],
    // One thread per rotated pair (row n, head h, pair i): it reads both halves, then writes them.
    body: elementwiseMain(EW_WG, 'P.n', `
  let pair = i % P.half;
  let nh = i / P.half;
  let p = pos[nh / P.H];
  var cs: f32;
  var sn: f32;
  if (p >= 0 && u32(p) < P.rows) {
    let t = P.half + (u32(p) * P.half + pair) * 2u;
    cs = tab[t];
    sn = tab[t + 1u];
  } else {
    let ang = f32(p) * tab[pair];
    cs = cos(ang);
    sn = sin(ang);
  }
  sn = sn * P.sign;
  let o = nh * P.D + pair;
  let x1 = ${src}[o];
  let x2 = ${src}[o + P.half];
  ${write('o', 'x1 * cs - x2 * sn')}
  ${write('o + P.half', 'x2 * cs + x1 * sn')}`),
  };
}

const specs = new Map<string, KernelSpec>();

/**
 * Rotates (sign +1) or counter-rotates (sign -1) x (N, H, D) into out, overwriting or adding.
 * `out` may be `x`. `table` is ropeTable(D, theta, rows).
 */
export function rope(
  k: KernelRunner, x: WebGpuTensor, positions: WebGpuTensor, out: WebGpuTensor, table: WebGpuTensor, rows: number,
  heads: number, sign: 1 | -1, accumulate: boolean,
): void {
  const N = positions.size, D = x.size / Math.max(1, N) / heads, half = D / 2;
  const n = N * heads * half;
  if (n === 0) return;
  const inPlace = x.pooled === out.pooled;
  const key = `${+inPlace}${+accumulate}`;
  let spec = specs.get(key);
  if (!spec) specs.set(key, (spec = ropeSpec(inPlace, accumulate)));
  k.run(spec, [n, heads, D, half, rows, sign], inPlace ? [positions, table, out] : [x, positions, table, out], ewGroups(n));
}
