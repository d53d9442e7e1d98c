/**
 * Token log-probabilities: logProbs[m] = logits[m, targets[m]] - logsumexp(logits[m]), and the
 * backward dLogits[m, j] += g_m ([j == t_m] - softmax(logits[m])_j). The forward is one
 * 256-thread workgroup per row (max, then sum of exp(x - max)); the backward one thread per
 * logit, reading the saved log-sum-exp.
 */
import { elementwiseMain, EW_WG, ewGroups, grid, ro, rowMain, rw, type KernelSpec } from '../kernel-spec.ts';
import type { KernelRunner, WebGpuTensor } from '../tensor.ts';
import { rowLogSumExpWgsl } from '../workgroup-reduce.ts';

const WG = 256;

const FORWARD: KernelSpec = {
  name: 'log-softmax-gather.forward', variant: '',
  params: [['M', 'u32'], ['V', 'u32']],
  buffers: [ro('logits'), ro('targets', 'i32'), rw('logProbs'), rw('lse')],
  body: `${rowLogSumExpWgsl(WG, 'logits')}
${rowMain(WG, 'm', 'P.M', `
  let o = m * P.V;
  let l = rowLogSumExp(li, o, P.V, rowMax(li, o, P.V));
  if (li == 0u) {
    lse[m] = l;
    let t = targets[m];
    var x = 0.0;
    if (t >= 0 && u32(t) < P.V) { x = logits[o + u32(t)]; }
    logProbs[m] = x - l;
  }`)}`,
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
  buffers: [ro('logits'), ro('targets', 'i32'), ro('lse'), ro('dLogProbs'), rw('dLogits')],
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
