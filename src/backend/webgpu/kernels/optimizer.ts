/**
 * The optimizer's kernels: the squared gradient norm and the clip factor (global gradient-norm
 * clipping, computed on the device so a step reads nothing back), and the AdamW update
 * (recipe.md section 7, step 6).
 */
import { elementwiseMain, EW_WG, ewGroups, ro, rw, type KernelSpec } from '../kernel-spec.ts';
import { workgroupReduce } from '../workgroup-reduce.ts';
import type { KernelRunner, WebGpuTensor } from '../tensor.ts';
import type { AdamWParams } from '../../backend.ts';

const RED_WG = 256;

const SUM_SQUARES: KernelSpec = {
  name: 'sum-squares', variant: '',
  params: [['n', 'u32'], ['accumulate', 'u32']],
  buffers: [ro('x'), rw('out')],
  // One workgroup: strided partial sums per thread, then a tree. A parameter tensor has at most
  // a few hundred thousand elements, so one workgroup keeps this a single dispatch.
  body: `
var<workgroup> red: array<f32, ${RED_WG}>;
@compute @workgroup_size(${RED_WG})
fn main(@builtin(local_invocation_index) li: u32) {
  var s = 0.0;
  for (var i = li; i < P.n; i = i + ${RED_WG}u) { let v = x[i]; s = s + v * v; }
  red[li] = s;
  ${workgroupReduce('red', RED_WG, 'sum')}
  if (li == 0u) {
    var prev = 0.0;
    if (P.accumulate == 1u) { prev = out[0]; }
    out[0] = prev + red[0];
  }
}`,
};

/** out[0] (+)= sum of x^2. */
export function sumSquares(k: KernelRunner, x: WebGpuTensor, out: WebGpuTensor, accumulate: boolean): void {
  k.run(SUM_SQUARES, [x.size, accumulate ? 1 : 0], [x, out], [1]);
}

const CLIP_SCALE: KernelSpec = {
  name: 'clip-scale', variant: '',
  params: [['maxNorm', 'f32']],
  buffers: [ro('sumSq'), ro('guard'), rw('scale')],
  // NaN and infinity are tested on the bits (all exponent bits set): WGSL may assume floats are
  // finite, so isNan-style float comparisons could be optimized away.
  body: `
fn notFinite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u; }
@compute @workgroup_size(1)
fn main() {
  if (notFinite(sumSq[0]) || notFinite(guard[0])) {
    scale[0] = -1.0; // SKIP_SCALE
    return;
  }
  scale[0] = min(1.0, P.maxNorm / (sqrt(sumSq[0]) + 1e-6));
}`,
};

/** scale[0] = min(1, maxNorm / (sqrt(sumSq[0]) + 1e-6)), or -1 (SKIP_SCALE) when sumSq[0] or guard[0] is not finite. */
export function clipScale(k: KernelRunner, sumSq: WebGpuTensor, maxNorm: number, scale: WebGpuTensor, guard?: WebGpuTensor): void {
  k.run(CLIP_SCALE, [maxNorm], [sumSq, guard ?? sumSq, scale], [1]);
}

const ADAMW: KernelSpec = {
  name: 'adamw', variant: '',
  params: [
    ['n', 'u32'], ['lr', 'f32'], ['beta1', 'f32'], ['beta2', 'f32'], ['eps', 'f32'], ['decay', 'f32'],
    ['bc1', 'f32'], ['bc2', 'f32'],
  ],
  buffers: [rw('param'), ro('grad'), rw('m'), rw('v'), ro('gradScale')],
  // Same expression order as the CPU reference: decoupled decay first, then the Adam step.
  // A negative (clipScale's SKIP_SCALE) or non-finite gradScale skips the step, tested before any write.
  body: elementwiseMain(EW_WG, 'P.n', `
  if (gradScale[0] < 0.0 || (bitcast<u32>(gradScale[0]) & 0x7f800000u) == 0x7f800000u) { return; }
  let g = grad[i] * gradScale[0];
  let mi = P.beta1 * m[i] + (1.0 - P.beta1) * g;
  let vi = P.beta2 * v[i] + (1.0 - P.beta2) * g * g;
  m[i] = mi;
  v[i] = vi;
  param[i] = param[i] * P.decay - (P.lr * (mi / P.bc1)) / (sqrt(vi / P.bc2) + P.eps);`),
};

/** One AdamW update with the gradient scaled by gradScale[0]; bias corrections computed on the host in double. */
export function adamw(
  k: KernelRunner, param: WebGpuTensor, grad: WebGpuTensor, m: WebGpuTensor, v: WebGpuTensor, gradScale: WebGpuTensor, p: AdamWParams,
): void {
  if (param.size === 0) return;
  const bc1 = 1 - Math.pow(p.beta1, p.step), bc2 = 1 - Math.pow(p.beta2, p.step);
  k.run(ADAMW, [param.size, p.lr, p.beta1, p.beta2, p.eps, 1 - p.lr * p.weightDecay, bc1, bc2], [param, grad, m, v, gradScale], ewGroups(param.size));
}
