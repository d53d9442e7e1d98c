/**
 * Model configuration of the policy: a Llama-architecture decoder (RMSNorm, RoPE, SwiGLU).
 * Field names follow our code; `toHfConfig`/`fromHfConfig` (src/io) map them to Hugging Face's
 * `config.json` (LlamaForCausalLM).
 */

export interface ModelConfig {
  /** V: vocabulary size (the tokenizer's). */
  vocabSize: number;
  /** C: width of the residual stream. */
  hiddenSize: number;
  /** F: width of the SwiGLU MLP. */
  intermediateSize: number;
  /** L: number of decoder layers. */
  numLayers: number;
  /** H: attention heads; head size D = C / H (even, for RoPE). */
  numHeads: number;
  /** Longest sequence the model is used with (prompt + completion + documents), in tokens. */
  maxPositions: number;
  /** RMSNorm epsilon (Llama: 1e-5). */
  rmsEps: number;
  /** RoPE base theta (Llama 2: 10000). */
  ropeTheta: number;
  /** Whether the output head shares the embedding matrix. */
  tieEmbeddings: boolean;
}

/** Size presets. The vocabulary size comes from the tokenizer. */
export const MODEL_PRESETS = {
  /** About 1.1M parameters with a ~2.5k-word vocabulary: trains in minutes on 2 CPU cores. */
  nano: { hiddenSize: 128, intermediateSize: 344, numLayers: 4, numHeads: 4, maxPositions: 512, rmsEps: 1e-5, ropeTheta: 10000, tieEmbeddings: true },
  /** About 5-6M parameters: for WebGPU and patient CPUs. */
  small: { hiddenSize: 256, intermediateSize: 688, numLayers: 6, numHeads: 8, maxPositions: 512, rmsEps: 1e-5, ropeTheta: 10000, tieEmbeddings: true },
  /** A few thousand parameters: for tests (browser tests run on a software GPU). */
  tiny: { hiddenSize: 16, intermediateSize: 24, numLayers: 2, numHeads: 2, maxPositions: 64, rmsEps: 1e-5, ropeTheta: 10000, tieEmbeddings: false },
} as const satisfies Record<string, Omit<ModelConfig, 'vocabSize'>>;

export type ModelPresetName = keyof typeof MODEL_PRESETS;

/** The configuration of a preset for a vocabulary size. Throws on an unknown preset name. */
export function presetConfig(name: string, vocabSize: number): ModelConfig {
  const p = (MODEL_PRESETS as Record<string, Omit<ModelConfig, 'vocabSize'>>)[name];
  if (!p) throw new Error(`unknown model preset "${name}" (known: ${Object.keys(MODEL_PRESETS).join(', ')})`);
  return validateConfig({ vocabSize, ...p });
}

/** Head size D = C / H. */
export function headSize(c: ModelConfig): number {
  return c.hiddenSize / c.numHeads;
}

/** Throws an error naming the first invalid field; returns the config. */
export function validateConfig(c: ModelConfig): ModelConfig {
  const posInt = (k: keyof ModelConfig) => {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new Error(`model config: ${k} must be a positive integer, got ${JSON.stringify(v)}`);
  };
  (['vocabSize', 'hiddenSize', 'intermediateSize', 'numLayers', 'numHeads', 'maxPositions'] as const).forEach(posInt);
  if (c.hiddenSize % c.numHeads !== 0) throw new Error(`model config: hiddenSize ${c.hiddenSize} is not divisible by numHeads ${c.numHeads}`);
  if (headSize(c) % 2 !== 0) throw new Error(`model config: head size ${headSize(c)} must be even for RoPE`);
  if (!(c.rmsEps > 0 && c.rmsEps < 1)) throw new Error(`model config: rmsEps must be in (0, 1), got ${c.rmsEps}`);
  if (!(c.ropeTheta > 1)) throw new Error(`model config: ropeTheta must be > 1, got ${c.ropeTheta}`);
  if (typeof c.tieEmbeddings !== 'boolean') throw new Error('model config: tieEmbeddings must be a boolean');
  return c;
}
