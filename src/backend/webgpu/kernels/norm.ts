/**
 * RMSNorm, forward beside backward. Per-row work (the forward, and dX in the backward) is one
 * 64-thread workgroup per row reducing over C; dW sums over rows, so it is its own kernel in
 * which a workgroup owns 16 columns and 16 lanes split the rows between them.
 *
 *   y_c = x_c r w_c, r = (mean x^2 + eps)^(-1/2)
 *   dx_c = r w_c dy_c - (r^3 / C) x_c sum_j dy_j w_j x_j,   dw_c = sum_n dy_c x_c r
 */
import { grid, ro, rowMain, rw, type KernelSpec } from '../kernel-spec.ts';
import { workgroupReduce } from '../workgroup-reduce.ts';
import type { KernelRunner, WebGpuTensor } from '../tensor.ts';

const ROW_WG = 64;

const FORWARD: KernelSpec = {
  name: 'rmsnorm.forward', variant: '',
  params: [['N', 'u32'], ['C', 'u32'], ['eps', 'f32']],
  buffers: [ro('x'), ro('w'), rw('out'), rw('rstd')],
  body: `
var<workgroup> red: array<f32, ${ROW_WG}>;
${rowMain(ROW_WG, 'n', 'P.N', `
  let o = n * P.C;
  var s = 0.0;
  for (var c = li; c < P.C; c = c + ${ROW_WG}u) { let v = x[o + c]; s = s + v * v; }
  red[li] = s;
  ${workgroupReduce('red', ROW_WG, 'sum')}
  let r = 1.0 / sqrt(red[0] / f32(P.C) + P.eps);
  if (li == 0u) { rstd[n] = r; }
  for (var c = li; c < P.C; c = c + ${ROW_WG}u) { out[o + c] = x[o + c] * r * w[c]; }`)}`,
};

/** out = x rstd w, rstd[n] = 1 / sqrt(mean(x[n]^2) + eps); x (N, C). */
export function rmsnormForward(k: KernelRunner, x: WebGpuTensor, w: WebGpuTensor, out: WebGpuTensor, rstd: WebGpuTensor, eps: number): void {
  const C = w.size, N = x.size / C;
  if (N === 0) return;
  k.run(FORWARD, [N, C, eps], [x, w, out, rstd], grid(N));
}

const BACKWARD_DX: KernelSpec = {
  name: 'rmsnorm.backward.dx', variant: '',
  params: [['N', 'u32'], ['C', 'u32']],
  buffers: [ro('x'), ro('w'), ro('rstd'), ro('dOut'), rw('dX')],
  body: `
var<workgroup> red: array<f32, ${ROW_WG}>;
${rowMain(ROW_WG, 'n', 'P.N', `
  let o = n * P.C;
  var s = 0.0;
  for (var c = li; c < P.C; c = c + ${ROW_WG}u) { s = s + dOut[o + c] * w[c] * x[o + c]; }
  red[li] = s;
  ${workgroupReduce('red', ROW_WG, 'sum')}
  let r = rstd[n];
  let kk = r * r * r * red[0] / f32(P.C);
  for (var c = li; c < P.C; c = c + ${ROW_WG}u) {
    dX[o + c] = dX[o + c] + r * w[c] * dOut[o + c] - kk * x[o + c];
  }`)}`,
};

const DW_COLS = 16, DW_LANES = 16;

const BACKWARD_DW: KernelSpec = {
  name: 'rmsnorm.backward.dw', variant: '',
  params: [['N', 'u32'], ['C', 'u32']],
  buffers: [ro('x'), ro('rstd'), ro('dOut'), rw('dW')],
  body: `
var<workgroup> part: array<f32, ${DW_COLS * DW_LANES}>;
@compute @workgroup_size(${DW_COLS}, ${DW_LANES})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let c = wid.x * ${DW_COLS}u + lid.x;
  var s = 0.0;
  if (c < P.C) {
    for (var n = lid.y; n < P.N; n = n + ${DW_LANES}u) { let o = n * P.C + c; s = s + dOut[o] * x[o] * rstd[n]; }
  }
  part[lid.y * ${DW_COLS}u + lid.x] = s;
  workgroupBarrier();
  if (lid.y == 0u && c < P.C) {
    var t = 0.0;
    for (var l = 0u; l < ${DW_LANES}u; l = l + 1u) { t = t + part[l * ${DW_COLS}u + lid.x]; }
    dW[c] = dW[c] + t;
  }
}`,
};

/** dX += (d out / d x)^T dOut, dW += sum_n dOut x rstd. */
export function rmsnormBackward(
  k: KernelRunner, x: WebGpuTensor, w: WebGpuTensor, rstd: WebGpuTensor, dOut: WebGpuTensor, dX: WebGpuTensor, dW: WebGpuTensor,
): void {
  const C = w.size, N = x.size / C;
  if (N === 0) return;
  k.run(BACKWARD_DX, [N, C], [x, w, rstd, dOut, dX], grid(N));
  k.run(BACKWARD_DW, [N, C], [x, rstd, dOut, dW], [Math.ceil(C / DW_COLS)]);
}
