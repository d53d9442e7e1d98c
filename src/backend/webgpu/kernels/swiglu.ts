/**
 * SwiGLU activation of the MLP, forward beside backward (reference: src/backend/cpu/swiglu.ts).
 * One thread per element, 256 per workgroup, on a 2-D grid when a tensor needs more than 65535
 * workgroups.
 */
import { elementwiseMain, EW_WG, ewGroups, ro, rw, type KernelSpec } from '../kernel-spec.ts';
import type { KernelRunner, WebGpuTensor } from '../tensor.ts';

const SWIGLU_FORWARD: KernelSpec = {
  name: 'swiglu.forward', variant: '',
  params: [['n', 'u32']],
  buffers: [ro('gate'), ro('up'), rw('out')],
  // silu(g) = g sigmoid(g); for g << 0, exp(-g) = inf gives g / inf = -0, the right limit.
  body: elementwiseMain(EW_WG, 'P.n', `
  let g = gate[i];
  out[i] = g / (1.0 + exp(-g)) * up[i];`),
};

/** out = silu(gate) * up. */
export function swigluForward(k: KernelRunner, gate: WebGpuTensor, up: WebGpuTensor, out: WebGpuTensor): void {
  if (gate.size === 0) return;
  k.run(SWIGLU_FORWARD, [gate.size], [gate, up, out], ewGroups(gate.size));
}

const SWIGLU_BACKWARD: KernelSpec = {
  name: 'swiglu.backward', variant: '',
  params: [['n', 'u32']],
  buffers: [ro('gate'), ro('up'), ro('dOut'), rw('dGate'), rw('dUp')],
  // silu'(g) = sigmoid(g) (1 + g (1 - sigmoid(g))).
  body: elementwiseMain(EW_WG, 'P.n', `
  let g = gate[i];
  let sig = 1.0 / (1.0 + exp(-g));
  let d = dOut[i];
  dGate[i] = dGate[i] + d * up[i] * sig * (1.0 + g * (1.0 - sig));
  dUp[i] = dUp[i] + d * g * sig;`),
};

/** dGate += dOut up silu'(gate), dUp += dOut silu(gate). */
export function swigluBackward(
  k: KernelRunner, gate: WebGpuTensor, up: WebGpuTensor, dOut: WebGpuTensor, dGate: WebGpuTensor, dUp: WebGpuTensor,
): void {
  if (gate.size === 0) return;
  k.run(SWIGLU_BACKWARD, [gate.size], [gate, up, dOut, dGate, dUp], ewGroups(gate.size));
}
