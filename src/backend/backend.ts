/**
 * The Backend interface: the connector between the model code (src/model/) and hardware.
 *
 * What it is: a small set of tensor kernels, each a forward/backward pair, that the policy's
 * forward pass, backward pass, optimizer and sampler are written in. `cpu` (plain TypeScript,
 * the reference every other backend is checked against), `wasm` and `webgpu` implement it.
 * What it is not: an autograd engine or a general array library. Tensors are untyped handles
 * to device memory with a shape; the model code owns the order of operations.
 *
 * Conventions (every backend honours them; the parity tests check them):
 * - Shapes are row-major. Legend: N token rows of a ragged batch (the sequences of a batch
 *   laid end to end, no padding), C channels, H heads, D head size (C = H * D), F MLP width,
 *   V vocabulary, M selected rows (e.g. loss positions).
 * - Outputs are passed in, preallocated. Forward kernels overwrite their outputs.
 * - Backward kernels ACCUMULATE (+=) into every gradient output (as llm.c does), so gradients
 *   from several uses and micro-batches add up; the caller zeroes gradients before a step.
 * - Kernels are enqueued in call order. `read` is the only way data comes back to the host,
 *   and it is asynchronous so that a GPU backend can batch work and read back once.
 */

export type DType = 'f32' | 'i32';

/** An opaque handle to a backend's memory holding `size` elements of `dtype`. */
export interface Tensor {
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** Number of elements (product of shape). */
  readonly size: number;
}

/** Matrix multiply options. */
export interface MatmulOptions {
  /** A is stored (K, M) and used transposed. */
  transA?: boolean;
  /** B is stored (N, K) and used transposed (the Linear layer's `x W^T`). */
  transB?: boolean;
  /** out += A B instead of out = A B. */
  accumulate?: boolean;
}

/** Hyper-parameters of one AdamW update (recipe.md section 7). */
export interface AdamWParams {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step count for bias correction. */
  step: number;
}

/**
 * Llama 3's RoPE frequency rescaling (Hugging Face `rope_scaling` with `rope_type: "llama3"`):
 * with wavelength w_i = 2 pi / f_i of the default inverse frequency f_i = theta^(-2i/D),
 * f_i is kept where w_i < originalMaxPositions / highFreqFactor, divided by `factor` where
 * w_i > originalMaxPositions / lowFreqFactor, and blended linearly in between (smooth =
 * (originalMaxPositions / w_i - lowFreqFactor) / (highFreqFactor - lowFreqFactor),
 * f = (1 - smooth) f_i / factor + smooth f_i). Source: transformers' modeling_rope_utils.py
 * (_compute_llama3_parameters) and Meta's llama3 reference code.
 */
export interface RopeScaling {
  type: 'llama3';
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  /** Context length the model was pretrained at, in tokens (`original_max_position_embeddings`). */
  originalMaxPositions: number;
}

/** Sampling settings (recipe.md section 3): temperature 0 means greedy (argmax). */
export interface SampleParams {
  temperature: number;
  /** Nucleus mass in (0, 1]; 1 keeps the whole distribution. */
  topP: number;
}

/** clipScale's scale for a step that must be skipped (a non-finite gradient norm or guard). */
export const SKIP_SCALE = -1;

/** Whether adamw applies a step with this gradient scale (finite and >= 0). */
export const appliesScale = (s: number): boolean => s >= 0 && s < Infinity;

export interface Backend {
  /** `cpu`, `wasm` or `webgpu`. */
  readonly name: string;

  // ---------- memory ----------
  /** A new tensor filled with zeros. */
  zeros(shape: readonly number[], dtype?: DType): Tensor;
  /**
   * A new tensor whose elements are unspecified (whatever its memory last held): only for an
   * output that the next kernel overwrites whole (a forward kernel, `copy`, or a matmul without
   * `accumulate`), so that the fill of `zeros` is skipped. Never for a gradient (backward
   * kernels accumulate).
   */
  empty(shape: readonly number[], dtype?: DType): Tensor;
  /** A new tensor holding a copy of `data` (length must equal the shape's product). */
  fromArray(data: Float32Array | Int32Array, shape: readonly number[]): Tensor;
  /** Overwrites `t` (from element `offset`) with `data`. */
  write(t: Tensor, data: Float32Array | Int32Array, offset?: number): void;
  /** Copies the tensor's contents to the host. */
  read(t: Tensor): Promise<Float32Array | Int32Array>;
  /** Sets every element to `value`. */
  fill(t: Tensor, value: number): void;
  /** dst[dstOffset + i] = src[srcOffset + i] for i < count (count defaults to src.size). */
  copy(src: Tensor, dst: Tensor, srcOffset?: number, dstOffset?: number, count?: number): void;
  /** Frees the tensor's memory; the handle must not be used again. */
  dispose(t: Tensor): void;
  /**
   * A view of `t` with another shape of the same size, sharing its memory (e.g. (N, H*D) as
   * (N*H, D) for per-head row ops, or a bias (F) as (1, F) for a matmul). Disposing the view
   * frees nothing; it must not be used after `t` is disposed. @throws Error when sizes differ.
   */
  reshape(t: Tensor, shape: readonly number[]): Tensor;
  /** Waits until every enqueued kernel has finished (a no-op on synchronous backends). */
  sync(): Promise<void>;

  // ---------- elementwise and reductions ----------
  /** y += alpha * x (same size). */
  axpy(y: Tensor, x: Tensor, alpha: number): void;
  /** out[0] (+)= sum of x^2 (for the gradient norm). */
  sumSquares(x: Tensor, out: Tensor, accumulate: boolean): void;
  /**
   * scale[0] = min(1, maxNorm / (sqrt(sumSq[0]) + 1e-6)): the global gradient-norm clip
   * factor, computed on the device so that no read-back is needed inside a step. When
   * sumSq[0] (or guard[0], e.g. the loss) is NaN or infinite, scale[0] = -1 (SKIP_SCALE):
   * {@link adamw} then skips the step.
   */
  clipScale(sumSq: Tensor, maxNorm: number, scale: Tensor, guard?: Tensor): void;

  // ---------- linear algebra ----------
  /** out (M, N) (+)= op(A) op(B); A (M, K) or (K, M) if transA; B (K, N) or (N, K) if transB. */
  matmul(a: Tensor, b: Tensor, out: Tensor, opts?: MatmulOptions): void;

  // ---------- rows ----------
  /** out[m] = src[idx[m]] for rows of width C; src (R, C), idx (M) i32, out (M, C). */
  gatherRows(src: Tensor, idx: Tensor, out: Tensor): void;
  /** dst[idx[m]] += src[m]; the backward of gatherRows. src (M, C), dst (R, C). */
  scatterAddRows(src: Tensor, idx: Tensor, dst: Tensor): void;
  /** dst[idx[m]] = src[m] (writes rows into a KV cache). src (M, C), dst (R, C). */
  scatterRows(src: Tensor, idx: Tensor, dst: Tensor): void;

  // ---------- layers: forward / backward pairs ----------
  /** out[n] = table[ids[n]]. ids (N) i32, table (V, C), out (N, C). Throws on an id outside [0, V). */
  embeddingForward(ids: Tensor, table: Tensor, out: Tensor): void;
  /** dTable[ids[n]] += dOut[n]. */
  embeddingBackward(ids: Tensor, dOut: Tensor, dTable: Tensor): void;

  /** RMSNorm: out = x / rms(x) * w, rstd[n] = 1 / sqrt(mean(x[n]^2) + eps). x (N, C), w (C), rstd (N). */
  rmsnormForward(x: Tensor, w: Tensor, out: Tensor, rstd: Tensor, eps: number): void;
  /** dX += d(out)/dx^T dOut, dW += sum_n dOut * x * rstd. */
  rmsnormBackward(x: Tensor, w: Tensor, rstd: Tensor, dOut: Tensor, dX: Tensor, dW: Tensor): void;

  /**
   * Rotary position embedding, rotate-half convention (as Hugging Face Llama): for each head,
   * pairs (i, i + D/2) are rotated by angle pos * theta^(-2i/D). x, out (N, H, D); positions (N)
   * i32. `out` may be `x` (in place). `scaling` (Llama 3) rescales the inverse frequencies;
   * absent, they are theta^(-2i/D) exactly as before.
   */
  ropeForward(x: Tensor, positions: Tensor, out: Tensor, heads: number, theta: number, scaling?: RopeScaling): void;
  /** dX += R(pos)^T dOut (rotation by the opposite angle). */
  ropeBackward(dOut: Tensor, positions: Tensor, dX: Tensor, heads: number, theta: number, scaling?: RopeScaling): void;

  /**
   * Causal attention over a ragged batch or a KV cache. Query row n (of q (N, H, D)) attends to
   * key/value rows kvStart[n] .. kvStart[n] + pos[n] (inclusive) of k, v (R, H, D): in training
   * k and v are the batch's own rows, in decoding they are the cache. out (N, H, D); lse (N, H)
   * receives the log-sum-exp of each row's scaled scores, kept for the backward pass.
   */
  attentionForward(
    q: Tensor, k: Tensor, v: Tensor, kvStart: Tensor, pos: Tensor,
    out: Tensor, lse: Tensor, heads: number, scale: number,
  ): void;
  /** Gradients of attentionForward (recomputes the probabilities from lse). dQ, dK, dV +=. */
  attentionBackward(
    q: Tensor, k: Tensor, v: Tensor, kvStart: Tensor, pos: Tensor, out: Tensor, lse: Tensor,
    dOut: Tensor, dQ: Tensor, dK: Tensor, dV: Tensor, heads: number, scale: number,
  ): void;

  /** SwiGLU: out = silu(gate) * up. gate, up, out (N, F). */
  swigluForward(gate: Tensor, up: Tensor, out: Tensor): void;
  /** dGate += dOut * up * silu'(gate), dUp += dOut * silu(gate). */
  swigluBackward(gate: Tensor, up: Tensor, dOut: Tensor, dGate: Tensor, dUp: Tensor): void;

  /**
   * Token log-probabilities: logProbs[m] = logits[m, targets[m]] - lse[m], lse[m] = logsumexp of
   * row m. logits (M, V), targets (M) i32, logProbs (M), lse (M).
   */
  logSoftmaxGatherForward(logits: Tensor, targets: Tensor, logProbs: Tensor, lse: Tensor): void;
  /** dLogits[m, j] += dLogProbs[m] * ([j == targets[m]] - softmax(logits[m])_j). */
  logSoftmaxGatherBackward(logits: Tensor, targets: Tensor, lse: Tensor, dLogProbs: Tensor, dLogits: Tensor): void;

  // ---------- losses (forward and gradient together: the inputs are per-token scalars) ----------
  /**
   * PPO clipped surrogate (recipe.md section 7, step 5), weighted sum over tokens:
   * loss[0] += sum_m w[m] * -min(r A, clip(r, 1-eps, 1+eps) A), r = exp(logProbs - oldLogProbs);
   * dLogProbs[m] += its derivative. weights hold the mask divided by the token count, so the
   * sum is the masked mean. stats[0] += sum_m w[m] * [r was clipped] (clip fraction).
   * All of (M); loss, stats (1).
   */
  policyLoss(
    logProbs: Tensor, oldLogProbs: Tensor, advantages: Tensor, weights: Tensor, clipEps: number,
    loss: Tensor, dLogProbs: Tensor, stats: Tensor,
  ): void;
  /** Weighted negative log-likelihood: loss[0] += -sum w logProbs, dLogProbs += -w. */
  nllLoss(logProbs: Tensor, weights: Tensor, loss: Tensor, dLogProbs: Tensor): void;

  // ---------- optimizer ----------
  /**
   * One AdamW update (decoupled weight decay), with the gradient multiplied by gradScale[0]
   * first (the clip factor of clipScale). param, grad, m, v same size; gradScale (1).
   * When gradScale[0] is negative (clipScale's SKIP_SCALE: a non-finite gradient or loss), NaN
   * or infinite, it writes nothing: param, m and v stay exactly as they were (checked on the
   * device before any write).
   */
  adamw(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, gradScale: Tensor, p: AdamWParams): void;

  // ---------- sampling ----------
  /**
   * Draws one token per row. logits (M, V); uniforms (M) in [0, 1) supply the randomness so that
   * every backend draws the same tokens for the same numbers; tokens (M) i32 receive the draw;
   * logProbs (M) receive the drawn token's log-probability under the UNMODIFIED distribution
   * (temperature 1, no top-p), which is what the policy-gradient ratio needs.
   * Temperature 0 takes the argmax (lowest id on ties).
   */
  sample(logits: Tensor, uniforms: Tensor, tokens: Tensor, logProbs: Tensor, p: SampleParams): void;
}

/** Product of a shape's dimensions. */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`invalid tensor shape [${shape.join(', ')}]`);
    n *= d;
  }
  return n;
}

/** Throws unless a reshape keeps the size. */
export function checkReshape(t: Tensor, shape: readonly number[]): void {
  if (shapeSize(shape) !== t.size) throw new Error(`reshape: [${t.shape.join(', ')}] (${t.size} elements) cannot become [${shape.join(', ')}]`);
}

/** A cache key for RoPE tables: theta alone when unscaled (so our own models' keys are unchanged). */
export function ropeKey(D: number, theta: number, scaling?: RopeScaling): string {
  return scaling ? `${D}:${theta}:${scaling.type}:${scaling.factor}:${scaling.lowFreqFactor}:${scaling.highFreqFactor}:${scaling.originalMaxPositions}` : `${D}:${theta}`;
}

/** Throws unless `t` has exactly `shape` (a dimension of -1 matches anything). */
export function expectShape(t: Tensor, shape: readonly number[], what: string): void {
  const ok = t.shape.length === shape.length && shape.every((d, i) => d === -1 || d === t.shape[i]);
  if (!ok) throw new Error(`${what}: expected shape [${shape.join(', ')}], got [${t.shape.join(', ')}]`);
}
