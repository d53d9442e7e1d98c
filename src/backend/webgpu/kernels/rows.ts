/**
 * Row gathers and scatters: the embedding lookup and its scatter-add gradient, gathering the
 * scored rows, and writing rows into a KV cache.
 *
 * A gather is one thread per output element. A scatter may hit the same destination row from
 * several sources (a token that occurs twice), and WGSL has no float atomics, so the
 * scatter kernels give each thread one column of one band of destination rows: it walks the
 * sources in order and applies those that land in its band. Every destination element is then
 * owned by one thread and updated in source order, the CPU reference's order, so the result
 * is deterministic (and a plain scatter keeps the last write, as the reference does). Bands
 * are sized so that about 4096 threads run.
 *
 * Indices outside the table cannot raise an error on the device: a gather writes zeros and a
 * scatter skips the row. The backend checks indices it knows on the host first (tensor.ts).
 */
import { elementwiseMain, EW_WG, ewGroups, ro, rw, type KernelSpec } from '../kernel-spec.ts';
import type { KernelRunner, WebGpuTensor } from '../tensor.ts';

const GATHER: KernelSpec = {
  name: 'rows.gather', variant: '',
  params: [['n', 'u32'], ['C', 'u32'], ['R', 'u32']],
  buffers: [ro('src'), ro('idx', 'i32'), rw('out')],
  body: elementwiseMain(EW_WG, 'P.n', `
  let m = i / P.C;
  let c = i % P.C;
  let r = idx[m];
  var val = 0.0;
  if (r >= 0 && u32(r) < P.R) { val = src[u32(r) * P.C + c]; }
  out[i] = val;`),
};

/** out[m] = src[idx[m]] for rows of width C (the embedding forward is this with src = table). */
export function gatherRows(k: KernelRunner, src: WebGpuTensor, idx: WebGpuTensor, out: WebGpuTensor, C: number): void {
  const n = idx.size * C;
  if (n === 0) return;
  k.run(GATHER, [n, C, src.size / C], [src, idx, out], ewGroups(n));
}

function scatterSpec(add: boolean): KernelSpec {
  return {
    name: 'rows.scatter', variant: add ? 'add' : 'assign',
    params: [['M', 'u32'], ['C', 'u32'], ['R', 'u32'], ['bands', 'u32'], ['bandRows', 'u32']],
    buffers: [ro('src'), ro('idx', 'i32'), rw('dst')],
    body: elementwiseMain(EW_WG, 'P.C * P.bands', `
  let c = i % P.C;
  let lo = (i / P.C) * P.bandRows;
  let hi = min(P.R, lo + P.bandRows);
  for (var m = 0u; m < P.M; m = m + 1u) {
    let r = idx[m];
    if (r < 0 || u32(r) < lo || u32(r) >= hi) { continue; }
    let o = u32(r) * P.C + c;
    dst[o] = ${add ? 'dst[o] + ' : ''}src[m * P.C + c];
  }`),
  };
}

const SCATTER_ADD = scatterSpec(true);
const SCATTER = scatterSpec(false);

/** Threads a scatter aims for: enough to fill a GPU's cores, few enough that each band is not tiny. */
const SCATTER_THREADS = 4096;

function scatter(spec: KernelSpec, k: KernelRunner, src: WebGpuTensor, idx: WebGpuTensor, dst: WebGpuTensor, C: number): void {
  const M = idx.size, R = dst.size / C;
  if (M === 0 || C === 0 || R === 0) return;
  const bands = Math.max(1, Math.min(R, Math.ceil(SCATTER_THREADS / C)));
  const bandRows = Math.ceil(R / bands);
  const used = Math.ceil(R / bandRows);
  k.run(spec, [M, C, R, used, bandRows], [src, idx, dst], ewGroups(C * used));
}

/** dst[idx[m]] += src[m] (rows of width C), deterministic with repeated indices. */
export function scatterAddRows(k: KernelRunner, src: WebGpuTensor, idx: WebGpuTensor, dst: WebGpuTensor, C: number): void {
  scatter(SCATTER_ADD, k, src, idx, dst, C);
}

/** dst[idx[m]] = src[m] (rows of width C); with repeated indices the last source wins. */
export function scatterRows(k: KernelRunner, src: WebGpuTensor, idx: WebGpuTensor, dst: WebGpuTensor, C: number): void {
  scatter(SCATTER, k, src, idx, dst, C);
}
