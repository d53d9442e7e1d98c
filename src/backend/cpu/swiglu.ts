/**
 * Reference SwiGLU activation of the MLP, forward beside backward. Plain loops over typed
 * arrays, accumulating in double precision (JavaScript numbers): these are the numbers every
 * faster backend is checked against. The backward accumulates (+=) into dGate and dUp (see
 * src/backend/backend.ts). The wasm backend also runs these on the last (size mod 4) elements
 * its vector kernels leave. Same op family as wasm/kernels/swiglu.ts and webgpu/kernels/swiglu.ts.
 */

/** out = silu(gate) * up, silu(g) = g * sigmoid(g). */
export function swigluForward(gate: Float32Array, up: Float32Array, out: Float32Array): void {
  for (let i = 0; i < gate.length; i++) {
    const g = gate[i]!;
    out[i] = (g / (1 + Math.exp(-g))) * up[i]!;
  }
}

/** silu'(g) = sigmoid(g) (1 + g (1 - sigmoid(g))). */
export function swigluBackward(
  gate: Float32Array, up: Float32Array, dOut: Float32Array, dGate: Float32Array, dUp: Float32Array,
): void {
  for (let i = 0; i < gate.length; i++) {
    const g = gate[i]!;
    const sig = 1 / (1 + Math.exp(-g));
    const silu = g * sig;
    dGate[i] = dGate[i]! + dOut[i]! * up[i]! * sig * (1 + g * (1 - sig));
    dUp[i] = dUp[i]! + dOut[i]! * silu;
  }
}
