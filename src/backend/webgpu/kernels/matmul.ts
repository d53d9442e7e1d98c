/**
 * Matrix multiply out (M, N) (+)= op(A) op(B) in the three layouts a training step uses
 * (x W^T forward, dY W and X^T dY backward; see src/bench/shapes.ts), one tiled kernel with the
 * transposes folded into how tiles are loaded.
 *
 * Tiling: a workgroup of 8 x 8 threads computes a 32 x 32 tile of `out`; each thread owns a
 * 4 x 4 block held as four vec4 accumulators. Per step of 32 along K, the workgroup stages a
 * 32 x 32 tile of A and of B in workgroup memory, laid out [k][4-wide column group] so the
 * inner loop reads one vec4 of A and one of B and does four vec4 multiply-adds. Loads are
 * bounds-checked (zero outside), so any M, N, K work; tile loads walk the stored matrix's
 * contiguous dimension for coalescing, whatever the layout.
 */
import { expectShape, type MatmulOptions } from '../../backend.ts';
import { ro, rw, type KernelSpec } from '../kernel-spec.ts';
import type { KernelRunner, WebGpuTensor } from '../tensor.ts';

/** Output tile edge and K step. */
export const TILE = 32;

function matmulSpec(transA: boolean, transB: boolean, accumulate: boolean): KernelSpec {
  // Element (m, k) of op(A) and (k, n) of op(B), as stored.
  const aIndex = transA ? 'gk * P.M + gm' : 'gm * P.K + gk';
  const bIndex = transB ? 'gn * P.K + gk' : 'gk * P.N + gn';
  // Walk the stored matrix's contiguous dimension with consecutive threads.
  const aDecomp = transA ? 'let m = e % 32u; let k = e / 32u;' : 'let k = e % 32u; let m = e / 32u;';
  const bDecomp = transB ? 'let k = e % 32u; let n = e / 32u;' : 'let n = e % 32u; let k = e / 32u;';
  return {
    name: 'matmul', variant: `tA${+transA}.tB${+transB}.acc${+accumulate}`,
    params: [['M', 'u32'], ['N', 'u32'], ['K', 'u32']],
    buffers: [ro('a'), ro('b'), rw('out')],
    body: `
var<workgroup> As: array<vec4<f32>, 256>; // [k (32)][row group (8)]: rows 4g..4g+3 at depth k
var<workgroup> Bs: array<vec4<f32>, 256>; // [k (32)][column group (8)]
@compute @workgroup_size(8, 8)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  let m0 = wid.y * 32u;
  let n0 = wid.x * 32u;
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < P.K; k0 = k0 + 32u) {
    for (var e = li; e < 1024u; e = e + 64u) {
      ${aDecomp}
      let gm = m0 + m;
      let gk = k0 + k;
      var val = 0.0;
      if (gm < P.M && gk < P.K) { val = a[${aIndex}]; }
      As[k * 8u + m / 4u][m % 4u] = val;
    }
    for (var e = li; e < 1024u; e = e + 64u) {
      ${bDecomp}
      let gn = n0 + n;
      let gk = k0 + k;
      var val = 0.0;
      if (gn < P.N && gk < P.K) { val = b[${bIndex}]; }
      Bs[k * 8u + n / 4u][n % 4u] = val;
    }
    workgroupBarrier();
    for (var k = 0u; k < 32u; k = k + 1u) {
      let av = As[k * 8u + lid.y];
      let bv = Bs[k * 8u + lid.x];
      acc[0] = acc[0] + av.x * bv;
      acc[1] = acc[1] + av.y * bv;
      acc[2] = acc[2] + av.z * bv;
      acc[3] = acc[3] + av.w * bv;
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i = i + 1u) {
    let gm = m0 + lid.y * 4u + i;
    if (gm >= P.M) { continue; }
    for (var j = 0u; j < 4u; j = j + 1u) {
      let gn = n0 + lid.x * 4u + j;
      if (gn < P.N) {
        let o = gm * P.N + gn;
        out[o] = ${accumulate ? 'out[o] + ' : ''}acc[i][j];
      }
    }
  }
}`,
  };
}

const specs = new Map<string, KernelSpec>();

/** out (M, N) (+)= op(A) op(B); shapes as in Backend.matmul. Throws on mismatched dimensions. */
export function matmul(k: KernelRunner, a: WebGpuTensor, b: WebGpuTensor, out: WebGpuTensor, opts: MatmulOptions = {}): void {
  const [ar, ac] = dims2(a, 'matmul A'), [br, bc] = dims2(b, 'matmul B');
  const M = opts.transA ? ac : ar, K = opts.transA ? ar : ac;
  const N = opts.transB ? br : bc, Kb = opts.transB ? bc : br;
  if (K !== Kb) throw new Error(`matmul: inner dimensions differ (A gives K=${K}, B gives K=${Kb})`);
  expectShape(out, [M, N], 'matmul out');
  if (M === 0 || N === 0) return;
  const key = `${+!!opts.transA}${+!!opts.transB}${+!!opts.accumulate}`;
  let spec = specs.get(key);
  if (!spec) specs.set(key, (spec = matmulSpec(!!opts.transA, !!opts.transB, !!opts.accumulate)));
  const gx = Math.ceil(N / TILE), gy = Math.ceil(M / TILE);
  if (gx > 65535 || gy > 65535) throw new Error(`matmul: output (${M}, ${N}) needs more than 65535 tiles along one side`);
  k.run(spec, [M, N, K], [a, b, out], [gx, gy]);
}

function dims2(t: WebGpuTensor, what: string): [number, number] {
  if (t.shape.length !== 2) throw new Error(`${what}: expected a 2-D tensor, got shape [${t.shape.join(', ')}]`);
  return [t.shape[0]!, t.shape[1]!];
}
