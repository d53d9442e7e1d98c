/**
 * Causal attention over a ragged batch or a KV cache (semantics in src/backend/backend.ts):
 * query row n of head h attends to kv rows kvStart[n] .. kvStart[n] + pos[n].
 *
 * Forward (fused: scores, softmax and the weighted sum in one kernel, nothing (N, L) is
 * stored): one workgroup of 32 lanes per (row, head). Each lane takes every 32nd key and keeps
 * an online softmax (running max, running sum, running weighted sum of values, rescaled
 * when the max grows); the 32 partial results are then merged in workgroup memory. The same
 * kernel serves a 1-row decoding step and a full training batch.
 *
 * Backward (probabilities recomputed from the saved log-sum-exp, as FlashAttention does):
 * 1. prep: per (row, head) delta = dOut . out and the lse, packed as (lse, delta) pairs;
 *    kvStart and pos copied into one integer scratch, followed by per-key query ranges;
 * 2. ranges: for every key row, the first and last query row that reads it (integer atomics);
 * 3. dQ: per (row, head), 32 lanes over its keys;
 * 4. dK, dV: per (key row, head), 32 lanes over the queries in its range that read it.
 * Every gradient element is written by one workgroup, so no float atomics are needed and the
 * result is deterministic. Packing keeps every kernel within 8 storage bindings (the WebGPU
 * default limit).
 */
import { elementwiseMain, EW_WG, ewGroups, grid, ro, rowMain, rw, type KernelSpec } from '../kernel-spec.ts';
import type { KernelRunner, WebGpuTensor } from '../tensor.ts';

const LANES = 32;

/** Start of a running max (WGSL has no infinity literal); exp(NEG_BIG - x) is 0. */
const NEG_BIG = '-3.0e38';

function forwardSpec(D: number): KernelSpec {
  return {
    name: 'attention.forward', variant: `D${D}`,
    params: [['NH', 'u32'], ['H', 'u32'], ['R', 'u32'], ['scale', 'f32']],
    buffers: [ro('q'), ro('k'), ro('v'), ro('kvStart', 'i32'), ro('pos', 'i32'), rw('out'), rw('lse')],
    body: `
const D = ${D}u;
var<workgroup> wm: array<f32, ${LANES}>;
var<workgroup> ws: array<f32, ${LANES}>;
var<workgroup> wacc: array<f32, ${LANES * D}>;
${rowMain(LANES, 'row', 'P.NH', `
  let n = row / P.H;
  let h = row % P.H;
  let C = P.H * D;
  let s0 = min(u32(max(kvStart[n], 0)), P.R);
  let L = min(u32(max(pos[n] + 1, 0)), P.R - s0);
  let qo = n * C + h * D;
  var qv: array<f32, D>;
  for (var d = 0u; d < D; d = d + 1u) { qv[d] = q[qo + d]; }
  var mx = ${NEG_BIG};
  var s = 0.0;
  var acc: array<f32, D>;
  for (var j = li; j < L; j = j + ${LANES}u) {
    let ko = (s0 + j) * C + h * D;
    var dot = 0.0;
    for (var d = 0u; d < D; d = d + 1u) { dot = dot + qv[d] * k[ko + d]; }
    let sc = dot * P.scale;
    if (sc > mx) {
      let corr = exp(mx - sc);
      s = s * corr + 1.0;
      for (var d = 0u; d < D; d = d + 1u) { acc[d] = acc[d] * corr + v[ko + d]; }
      mx = sc;
    } else {
      let p = exp(sc - mx);
      s = s + p;
      for (var d = 0u; d < D; d = d + 1u) { acc[d] = acc[d] + p * v[ko + d]; }
    }
  }
  wm[li] = mx;
  ws[li] = s;
  for (var d = 0u; d < D; d = d + 1u) { wacc[li * D + d] = acc[d]; }
  workgroupBarrier();
  var m = ${NEG_BIG};
  for (var l = 0u; l < ${LANES}u; l = l + 1u) { m = max(m, wm[l]); }
  var total = 0.0;
  for (var l = 0u; l < ${LANES}u; l = l + 1u) { total = total + ws[l] * exp(wm[l] - m); }
  for (var d = li; d < D; d = d + ${LANES}u) {
    var o = 0.0;
    for (var l = 0u; l < ${LANES}u; l = l + 1u) { o = o + wacc[l * D + d] * exp(wm[l] - m); }
    out[qo + d] = o / total;
  }
  if (li == 0u) { lse[row] = m + log(total); }`)}`,
  };
}

const PREP: KernelSpec = {
  name: 'attention.backward.prep', variant: '',
  params: [['NH', 'u32'], ['N', 'u32'], ['R', 'u32'], ['D', 'u32'], ['total', 'u32']],
  buffers: [ro('out'), ro('dOut'), ro('lse'), ro('kvStart', 'i32'), ro('pos', 'i32'), rw('stats'), rw('ints', 'i32')],
  // ints: kvStart (N), pos (N), first query of each key (R, N = none), last query (R, -1 = none).
  body: elementwiseMain(EW_WG, 'P.total', `
  if (i < P.NH) {
    var dd = 0.0;
    for (var d = 0u; d < P.D; d = d + 1u) { dd = dd + dOut[i * P.D + d] * out[i * P.D + d]; }
    stats[2u * i] = lse[i];
    stats[2u * i + 1u] = dd;
  }
  if (i < P.N) {
    ints[i] = kvStart[i];
    ints[P.N + i] = pos[i];
  }
  if (i < P.R) {
    ints[2u * P.N + i] = i32(P.N);
    ints[2u * P.N + P.R + i] = -1;
  }`),
};

const RANGES: KernelSpec = {
  name: 'attention.backward.ranges', variant: '',
  params: [['N', 'u32'], ['R', 'u32']],
  buffers: [rw('ints', 'atomic<i32>')],
  body: elementwiseMain(EW_WG, 'P.N', `
  let s0 = min(u32(max(atomicLoad(&ints[i]), 0)), P.R);
  let L = min(u32(max(atomicLoad(&ints[P.N + i]) + 1, 0)), P.R - s0);
  for (var j = 0u; j < L; j = j + 1u) {
    atomicMin(&ints[2u * P.N + s0 + j], i32(i));
    atomicMax(&ints[2u * P.N + P.R + s0 + j], i32(i));
  }`),
};

function dqSpec(D: number): KernelSpec {
  return {
    name: 'attention.backward.dq', variant: `D${D}`,
    params: [['NH', 'u32'], ['H', 'u32'], ['N', 'u32'], ['R', 'u32'], ['scale', 'f32']],
    buffers: [ro('q'), ro('k'), ro('v'), ro('dOut'), ro('stats'), ro('ints', 'i32'), rw('dQ')],
    body: `
const D = ${D}u;
var<workgroup> wacc: array<f32, ${LANES * D}>;
${rowMain(LANES, 'row', 'P.NH', `
  let n = row / P.H;
  let h = row % P.H;
  let C = P.H * D;
  let s0 = min(u32(max(ints[n], 0)), P.R);
  let L = min(u32(max(ints[P.N + n] + 1, 0)), P.R - s0);
  let l = stats[2u * row];
  let delta = stats[2u * row + 1u];
  let qo = n * C + h * D;
  var qv: array<f32, D>;
  var gv: array<f32, D>;
  for (var d = 0u; d < D; d = d + 1u) { qv[d] = q[qo + d]; gv[d] = dOut[qo + d]; }
  var acc: array<f32, D>;
  for (var j = li; j < L; j = j + ${LANES}u) {
    let ko = (s0 + j) * C + h * D;
    var s = 0.0;
    var dp = 0.0;
    for (var d = 0u; d < D; d = d + 1u) { s = s + qv[d] * k[ko + d]; dp = dp + gv[d] * v[ko + d]; }
    let p = exp(s * P.scale - l);
    let ds = p * (dp - delta) * P.scale;
    for (var d = 0u; d < D; d = d + 1u) { acc[d] = acc[d] + ds * k[ko + d]; }
  }
  for (var d = 0u; d < D; d = d + 1u) { wacc[li * D + d] = acc[d]; }
  workgroupBarrier();
  for (var d = li; d < D; d = d + ${LANES}u) {
    var t = 0.0;
    for (var x = 0u; x < ${LANES}u; x = x + 1u) { t = t + wacc[x * D + d]; }
    dQ[qo + d] = dQ[qo + d] + t;
  }`)}`,
  };
}

function dkvSpec(D: number): KernelSpec {
  return {
    name: 'attention.backward.dkv', variant: `D${D}`,
    params: [['RH', 'u32'], ['H', 'u32'], ['N', 'u32'], ['R', 'u32'], ['scale', 'f32']],
    buffers: [ro('q'), ro('k'), ro('v'), ro('dOut'), ro('stats'), ro('ints', 'i32'), rw('dK'), rw('dV')],
    body: `
const D = ${D}u;
var<workgroup> wacc: array<f32, ${LANES * D}>;
${rowMain(LANES, 'kr', 'P.RH', `
  let r = kr / P.H;
  let h = kr % P.H;
  let C = P.H * D;
  let ko = r * C + h * D;
  var kv: array<f32, D>;
  var vv: array<f32, D>;
  for (var d = 0u; d < D; d = d + 1u) { kv[d] = k[ko + d]; vv[d] = v[ko + d]; }
  let first = ints[2u * P.N + r];
  let last = ints[2u * P.N + P.R + r];
  var dk: array<f32, D>;
  var dv: array<f32, D>;
  for (var ni = first + i32(li); ni <= last; ni = ni + ${LANES}) {
    let n = u32(ni);
    let s0 = ints[n];
    let L = ints[P.N + n] + 1;
    if (i32(r) < s0 || i32(r) >= s0 + L) { continue; }
    let qo = n * C + h * D;
    let row = n * P.H + h;
    var s = 0.0;
    var dp = 0.0;
    for (var d = 0u; d < D; d = d + 1u) { s = s + q[qo + d] * kv[d]; dp = dp + dOut[qo + d] * vv[d]; }
    let p = exp(s * P.scale - stats[2u * row]);
    let ds = p * (dp - stats[2u * row + 1u]) * P.scale;
    for (var d = 0u; d < D; d = d + 1u) {
      dv[d] = dv[d] + p * dOut[qo + d];
      dk[d] = dk[d] + ds * q[qo + d];
    }
  }
  for (var d = 0u; d < D; d = d + 1u) { wacc[li * D + d] = dk[d]; }
  workgroupBarrier();
  for (var d = li; d < D; d = d + ${LANES}u) {
    var t = 0.0;
    for (var x = 0u; x < ${LANES}u; x = x + 1u) { t = t + wacc[x * D + d]; }
    dK[ko + d] = dK[ko + d] + t;
  }
  workgroupBarrier();
  for (var d = 0u; d < D; d = d + 1u) { wacc[li * D + d] = dv[d]; }
  workgroupBarrier();
  for (var d = li; d < D; d = d + ${LANES}u) {
    var t = 0.0;
    for (var x = 0u; x < ${LANES}u; x = x + 1u) { t = t + wacc[x * D + d]; }
    dV[ko + d] = dV[ko + d] + t;
  }`)}`,
  };
}

const cache = new Map<string, KernelSpec>();
function cached(key: string, make: () => KernelSpec): KernelSpec {
  let s = cache.get(key);
  if (!s) cache.set(key, (s = make()));
  return s;
}

/** Attention forward; q, out (N, H, D); k, v (R, H, D); kvStart, pos (N) i32; lse (N, H). */
export function attentionForward(
  k: KernelRunner, q: WebGpuTensor, kT: WebGpuTensor, v: WebGpuTensor, kvStart: WebGpuTensor, pos: WebGpuTensor,
  out: WebGpuTensor, lse: WebGpuTensor, heads: number, scale: number,
): void {
  const N = pos.size;
  if (N === 0) return;
  const C = q.size / N, D = C / heads, R = kT.size / C;
  k.run(cached(`f${D}`, () => forwardSpec(D)), [N * heads, heads, R, scale], [q, kT, v, kvStart, pos, out, lse], grid(N * heads));
}

/** Attention backward: dQ, dK, dV += (shapes as attentionForward). */
export function attentionBackward(
  k: KernelRunner, q: WebGpuTensor, kT: WebGpuTensor, v: WebGpuTensor, kvStart: WebGpuTensor, pos: WebGpuTensor,
  out: WebGpuTensor, lse: WebGpuTensor, dOut: WebGpuTensor, dQ: WebGpuTensor, dK: WebGpuTensor, dV: WebGpuTensor,
  heads: number, scale: number,
): void {
  const N = pos.size;
  if (N === 0) return;
  const C = q.size / N, D = C / heads, R = kT.size / C;
  const stats = k.scratch(N * heads * 2, 'f32');
  const ints = k.scratch(2 * N + 2 * R, 'i32');
  const total = Math.max(N * heads, R);
  k.run(PREP, [N * heads, N, R, D, total], [out, dOut, lse, kvStart, pos, stats, ints], ewGroups(total));
  k.run(RANGES, [N, R], [ints], ewGroups(N));
  k.run(cached(`q${D}`, () => dqSpec(D)), [N * heads, heads, N, R, scale], [q, kT, v, dOut, stats, ints, dQ], grid(N * heads));
  if (R > 0) k.run(cached(`kv${D}`, () => dkvSpec(D)), [R * heads, heads, N, R, scale], [q, kT, v, dOut, stats, ints, dK, dV], grid(R * heads));
  k.release(stats);
  k.release(ints);
}
