/**
 * The per-token losses with their gradients (recipe.md section 7, step 5): the PPO clipped
 * surrogate and the weighted negative log-likelihood. Inputs are per-token scalars (M), so one
 * 256-thread workgroup does it all: each thread writes the gradient of its tokens, and the loss
 * (and clip fraction) are summed in workgroup memory and added by one thread, so nothing is
 * read back.
 */
import { ro, rw, type KernelSpec } from '../kernel-spec.ts';
import { workgroupReduce } from '../workgroup-reduce.ts';
import type { KernelRunner, WebGpuTensor } from '../tensor.ts';

const WG = 256;

const POLICY: KernelSpec = {
  name: 'loss.policy', variant: '',
  params: [['M', 'u32'], ['lo', 'f32'], ['hi', 'f32']],
  buffers: [ro('logProbs'), ro('oldLogProbs'), ro('advantages'), ro('weights'), rw('loss'), rw('dLogProbs'), rw('stats')],
  // Unclipped branch: loss -w r A, d/dlogp = -w r A. Clipped branch: constant in logp.
  body: `
var<workgroup> red: array<f32, ${WG}>;
var<workgroup> red2: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) li: u32) {
  var total = 0.0;
  var clipped = 0.0;
  for (var m = li; m < P.M; m = m + ${WG}u) {
    let w = weights[m];
    if (w == 0.0) { continue; }
    let r = exp(logProbs[m] - oldLogProbs[m]);
    let a = advantages[m];
    let surr1 = r * a;
    let surr2 = clamp(r, P.lo, P.hi) * a;
    if (surr1 <= surr2) {
      total = total - w * surr1;
      dLogProbs[m] = dLogProbs[m] - w * a * r;
    } else {
      total = total - w * surr2;
      clipped = clipped + w;
    }
  }
  red[li] = total;
  red2[li] = clipped;
  ${workgroupReduce(['red', 'red2'], WG, 'sum')}
  if (li == 0u) {
    loss[0] = loss[0] + red[0];
    stats[0] = stats[0] + red2[0];
  }
}`,
};

/** The PPO clipped surrogate: loss[0] +=, dLogProbs +=, stats[0] += clipped weight (Backend.policyLoss). */
export function policyLoss(
  k: KernelRunner, logProbs: WebGpuTensor, oldLogProbs: WebGpuTensor, advantages: WebGpuTensor, weights: WebGpuTensor,
  clipEps: number, loss: WebGpuTensor, dLogProbs: WebGpuTensor, stats: WebGpuTensor,
): void {
  k.run(POLICY, [logProbs.size, 1 - clipEps, 1 + clipEps], [logProbs, oldLogProbs, advantages, weights, loss, dLogProbs, stats], [1]);
}

const NLL: KernelSpec = {
  name: 'loss.nll', variant: '',
  params: [['M', 'u32']],
  buffers: [ro('logProbs'), ro('weights'), rw('loss'), rw('dLogProbs')],
  body: `
var<workgroup> red: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) li: u32) {
  var total = 0.0;
  for (var m = li; m < P.M; m = m + ${WG}u) {
    let w = weights[m];
    total = total - w * logProbs[m];
    dLogProbs[m] = dLogProbs[m] - w;
  }
  red[li] = total;
  ${workgroupReduce('red', WG, 'sum')}
  if (li == 0u) { loss[0] = loss[0] + red[0]; }
}`,
};

/** Weighted negative log-likelihood: loss[0] += -sum w logProbs, dLogProbs += -w. */
export function nllLoss(k: KernelRunner, logProbs: WebGpuTensor, weights: WebGpuTensor, loss: WebGpuTensor, dLogProbs: WebGpuTensor): void {
  k.run(NLL, [logProbs.size], [logProbs, weights, loss, dLogProbs], [1]);
}
