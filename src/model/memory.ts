/**
 * How much memory RL training of a model needs, before anything is allocated, and whether it
 * fits a backend: a 135M-parameter import must be refused with numbers, not crash half-way.
 *
 * Counted in float32 (4 bytes), from what src/model/llama.ts and the trainer allocate:
 * - weights, gradients and the two AdamW moments: 4 x parameters (plus the frozen reference
 *   copy when the KL term is on);
 * - the rollout's KV cache: L layers x (k, v) x slots x maxLength x H*D (K/V heads are stored
 *   repeated to H heads);
 * - a training micro-batch of N rows (N <= microBatchTokens): per row and layer the saved
 *   activations of LayerSave (4C + 4 H*D + 3F + H + 2 floats), plus the output head's logits
 *   and their gradient for M scored rows (2 x M x V), plus the largest backward temporaries of
 *   one layer (2C + 5 H*D + 3F per row).
 * The peak is the persistent state plus the larger of the rollout and the update phases.
 * Allocator slack and the engine's own memory come on top, so a limit is checked against the
 * estimate with a margin (FIT_MARGIN).
 */
import { headSize, kvHeads, type ModelConfig } from './config.ts';
import { countParams } from './params.ts';

/** What a training step holds at once. */
export interface TrainingShape {
  /** Sequences decoded at once (prompts x samples). */
  rolloutSlots: number;
  /** Longest sequence, in tokens (prompt + completion + documents). */
  maxLength: number;
  /** Rows of one forward/backward pass (the micro-batch, at most microBatchTokens). */
  rowsPerPass: number;
  /** Scored rows of one pass (generated tokens; at most rowsPerPass). */
  scoredRows: number;
  /** Whether the frozen reference policy is kept (KL term). */
  reference: boolean;
}

/** The estimate, in bytes. */
export interface MemoryEstimate {
  params: number;
  weights: number;
  grads: number;
  adam: number;
  reference: number;
  kvCache: number;
  activations: number;
  /** Persistent + max(kvCache, activations). */
  total: number;
  /** The largest single tensor (a WebGPU buffer must hold it). */
  largestTensor: number;
}

const F32 = 4;
/** Headroom asked of a limit beyond the estimate (allocator slack, pools, the engine). */
export const FIT_MARGIN = 1.15;

/** The estimate for a config and a step's shape (see the file comment). */
export function estimateTrainingMemory(c: ModelConfig, s: TrainingShape): MemoryEstimate {
  const P = countParams(c), C = c.hiddenSize, F = c.intermediateSize, V = c.vocabSize, L = c.numLayers, H = c.numHeads;
  const QD = H * headSize(c), KD = kvHeads(c) * headSize(c);
  const weights = P * F32;
  const kvCache = L * 2 * s.rolloutSlots * s.maxLength * QD * F32;
  const N = s.rowsPerPass, M = Math.min(s.scoredRows, N);
  const perRowLayer = 4 * C + 4 * QD + 3 * F + H + 2;
  const backwardTemp = N * (2 * C + 5 * QD + 3 * F + 2 * KD);
  const activations = (N * L * perRowLayer + N * (C + 1) + M * (C + 2) + 2 * M * V + backwardTemp) * F32;
  const reference = s.reference ? weights : 0;
  const persistent = 4 * weights + reference;
  const largestTensor = Math.max(V * C, M * V, s.rolloutSlots * s.maxLength * QD, N * Math.max(F, QD)) * F32;
  return { params: P, weights, grads: weights, adam: 2 * weights, reference, kvCache, activations, total: persistent + Math.max(kvCache, activations), largestTensor };
}

/** Bytes as "1.23 GiB" / "456 MiB" / "78 KiB". */
export function formatBytes(b: number): string {
  if (b >= 2 ** 30) return `${(b / 2 ** 30).toFixed(2)} GiB`;
  return b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(0)} MiB` : `${(b / 2 ** 10).toFixed(0)} KiB`;
}

/** One line: parameters and each part of the estimate. */
export function describeEstimate(e: MemoryEstimate): string {
  return `${(e.params / 1e6).toFixed(1)}M parameters; training needs about ${formatBytes(e.total)}: weights ${formatBytes(e.weights)}, ` +
    `gradients ${formatBytes(e.grads)}, AdamW moments ${formatBytes(e.adam)}${e.reference ? `, reference policy ${formatBytes(e.reference)}` : ''}, ` +
    `then the larger of the rollout KV cache ${formatBytes(e.kvCache)} and a micro-batch's activations ${formatBytes(e.activations)}`;
}

/** What a backend can hold. */
export interface MemoryLimits {
  backend: string;
  /** All its memory (wasm32: 4 GiB, or the backend's maxMemoryMiB). */
  totalBytes?: number;
  /** The largest single buffer (WebGPU: the device's maxBufferSize / maxStorageBufferBindingSize). */
  maxTensorBytes?: number;
}

/**
 * Throws an Error with the numbers when the estimate (times FIT_MARGIN) exceeds a limit, and
 * says what would make it fit (a smaller micro-batch, fewer rollouts, a shorter maxLength).
 */
export function checkMemoryFits(e: MemoryEstimate, lim: MemoryLimits): void {
  const problems: string[] = [];
  if (lim.totalBytes !== undefined && e.total * FIT_MARGIN > lim.totalBytes) {
    problems.push(`about ${formatBytes(e.total)} (+${Math.round((FIT_MARGIN - 1) * 100)}% headroom) exceeds the ${lim.backend} backend's ${formatBytes(lim.totalBytes)}`);
  }
  if (lim.maxTensorBytes !== undefined && e.largestTensor > lim.maxTensorBytes) {
    problems.push(`the largest tensor, ${formatBytes(e.largestTensor)}, exceeds the ${lim.backend} device's buffer limit of ${formatBytes(lim.maxTensorBytes)}`);
  }
  if (problems.length === 0) return;
  const hint = e.activations > e.kvCache
    ? 'lower update.microBatchTokens (activations grow with it)'
    : 'lower promptsPerStep x samplesPerPrompt or rollout.maxLength (the KV cache grows with them)';
  throw new Error(`memory: this model does not fit: ${problems.join('; ')}. ${describeEstimate(e)}. To fit: ${hint}, or use a smaller model.`);
}

/**
 * The largest micro-batch (rows per pass, a multiple of 64, at least 64) whose estimate fits
 * `totalBytes` with the margin; 0 when even 64 rows do not fit.
 */
export function largestFittingMicroBatch(c: ModelConfig, s: TrainingShape, totalBytes: number): number {
  let best = 0;
  for (let n = 64; n <= Math.max(64, s.rowsPerPass); n += 64) {
    if (estimateTrainingMemory(c, { ...s, rowsPerPass: n }).total * FIT_MARGIN <= totalBytes) best = n;
    else break;
  }
  return best;
}
