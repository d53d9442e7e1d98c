/**
 * Token log-probabilities: logProbs[m] = logits[m, targets[m]] - logsumexp(logits[m]), and the
 * backward dLogits[m, j] += g_m ([j == t_m] - softmax(logits[m])_j). The forward is one
 * 256-thread workgroup per row (max, then sum of exp(x - max)); the backward one thread per
 * logit, reading the saved log-sum-exp.
 */
import { FLAT_GROUP_WGSL, elementwiseMain, EW_WG, ewGroups, grid, type KernelSpec } from '../kernel-spec.ts';
import type { KernelRunner, WebGpuTensor } from '../tensor.ts';
import { workgroupReduceFn } from '../workgroup-reduce.ts';

const WG = 256;

/**
 * WGSL helpers for a 256-lane workgroup (WG) over `red` (array<f32, WG>, indexed by li):
 * `reduceMax(li, x)` and `reduceSum(li, x)` return the workgroup max and sum of one value per
 * lane (workgroup-reduce.ts). Shared with sampling.ts, which needs the same log-sum-exp.
 */
export const ROW_REDUCE_WGSL = `
var<workgroup> red: array<f32, ${WG}>;${workgroupReduceFn('reduceMax', 'red', 'f32', WG, 'max')}${workgroupReduceFn('reduceSum', 'red', 'f32', WG, 'sum')}`;

const FORWARD: KernelSpec = {
  name: 'log-softmax-gather.forward', variant: '',
  params: [['M', 'u32'], ['V', 'u32']],
  buffers: [
    { name: 'logits', type: 'f32', access: 'read' }, { name: 'targets', type: 'i32', access: 'read' },
    { name: 'logProbs', type: 'f32', access: 'rw' }, { name: 'lse', type: 'f32', access: 'rw' },
  ],
  body: `${FLAT_GROUP_WGSL}
${ROW_REDUCE_WGSL}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let m = flatGroup(wid, nwg);
  if (m >= P.M) { return; }
  let o = m * P.V;
  var mx = -3.0e38;
  for (var j = li; j < P.V; j = j + ${WG}u) { mx = max(mx, logits[o + j]); }
  mx = reduceMax(li, mx);
  var s = 0.0;
  for (var j = li; j < P.V; j = j + ${WG}u) { s = s + exp(logits[o + j] - mx); }
  s = reduceSum(li, s);
  if (li == 0u) {
    let l = mx + log(s);
    lse[m] = l;
    let t = targets[m];
    var x = 0.0;
    if (t >= 0 && u32(t) < P.V) { x = logits[o + u32(t)]; }
    logProbs[m] = x - l;
  }
}`,
};

/** logProbs[m] = logits[m, targets[m]] - lse[m]; logits (M, V). */
export function logSoftmaxGatherForward(
  k: KernelRunner, logits: WebGpuTensor, targets: WebGpuTensor, logProbs: WebGpuTensor, lse: WebGpuTensor,
): void {
  const M = targets.size;
  if (M === 0) return;
  k.run(FORWARD, [M, logits.size / M], [logits, targets, logProbs, lse], grid(M));
}

const BACKWARD: KernelSpec = {
  name: 'log-softmax-gather.backward', variant: '',
  params: [['n', 'u32'], ['V', 'u32']],
  buffers: [
    { name: 'logits', type: 'f32', access: 'read' }, { name: 'targets', type: 'i32', access: 'read' },
    { name: 'lse', type: 'f32', access: 'read' }, { name: 'dLogProbs', type: 'f32', access: 'read' },
    { name: 'dLogits', type: 'f32', access: 'rw' },
  ],
  body: elementwiseMain(EW_WG, 'P.n', `
  let m = i / P.V;
  let g = dLogProbs[m];
  if (g == 0.0) { return; }
  var d = dLogits[i] - g * exp(logits[i] - lse[m]);
  if (i32(i % P.V) == targets[m]) { d = d + g; }
  dLogits[i] = d;`),
};

/** dLogits[m, j] += dLogProbs[m] ([j == targets[m]] - softmax(logits[m])_j). */
export function logSoftmaxGatherBackward(
  k: KernelRunner, logits: WebGpuTensor, targets: WebGpuTensor, lse: WebGpuTensor, dLogProbs: WebGpuTensor, dLogits: WebGpuTensor,
): void {
  const M = targets.size;
  if (M === 0 || logits.size === 0) return;
  k.run(BACKWARD, [logits.size, logits.size / M], [logits, targets, lse, dLogProbs, dLogits], ewGroups(logits.size));
}
