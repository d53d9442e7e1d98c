/**
 * Model configuration of the policy: a Llama-architecture decoder (RMSNorm, RoPE, SwiGLU).
 * Field names follow our code; `toHfConfig`/`fromHfConfig` (src/io) map them to Hugging Face's
 * `config.json` (LlamaForCausalLM).
 */

import type { RopeScaling } from '../backend/backend.ts';

export interface ModelConfig {
  /** V: vocabulary size (the tokenizer's). */
  vocabSize: number;
  /** C: width of the residual stream. */
  hiddenSize: number;
  /** F: width of the SwiGLU MLP. */
  intermediateSize: number;
  /** L: number of decoder layers. */
  numLayers: number;
  /** H: attention (query) heads. */
  numHeads: number;
  /**
   * Hkv: key/value heads (grouped-query attention: each K/V head serves H / Hkv query heads).
   * Absent: H (multi-head attention, our own models).
   */
  numKvHeads?: number;
  /** D: head size (even, for RoPE). Absent: C / H. Imported models may set D != C / H. */
  headDim?: number;
  /** Llama 3 RoPE frequency rescaling; absent or null: plain theta^(-2i/D). */
  ropeScaling?: RopeScaling | null;
  /**
   * Attention projection biases: 'qkv' (Qwen2) or 'qkvo' (Llama's `attention_bias: true`).
   * Absent: none.
   */
  attentionBias?: 'qkv' | 'qkvo';
  /** Hugging Face family written on export (config.json model_type). Absent: 'llama'. */
  family?: 'llama' | 'qwen2';
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

/** Head size D (C / H unless the config gives head_dim). */
export function headSize(c: ModelConfig): number {
  return c.headDim ?? c.hiddenSize / c.numHeads;
}

/** Hkv: key/value heads (H unless grouped-query attention). */
export function kvHeads(c: ModelConfig): number {
  return c.numKvHeads ?? c.numHeads;
}

/** Throws an error naming the first invalid field; returns the config. */
export function validateConfig(c: ModelConfig): ModelConfig {
  const posInt = (k: keyof ModelConfig) => {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new Error(`model config: ${k} must be a positive integer, got ${JSON.stringify(v)}`);
  };
  (['vocabSize', 'hiddenSize', 'intermediateSize', 'numLayers', 'numHeads', 'maxPositions'] as const).forEach(posInt);
  if (c.headDim === undefined && c.hiddenSize % c.numHeads !== 0) throw new Error(`model config: hiddenSize ${c.hiddenSize} is not divisible by numHeads ${c.numHeads}`);
  if (c.headDim !== undefined && !(Number.isInteger(c.headDim) && c.headDim > 0)) throw new Error(`model config: headDim must be a positive integer, got ${JSON.stringify(c.headDim)}`);
  if (c.numKvHeads !== undefined) {
    if (!(Number.isInteger(c.numKvHeads) && c.numKvHeads > 0)) throw new Error(`model config: numKvHeads must be a positive integer, got ${JSON.stringify(c.numKvHeads)}`);
    if (c.numHeads % c.numKvHeads !== 0) throw new Error(`model config: numHeads ${c.numHeads} is not a multiple of numKvHeads ${c.numKvHeads}`);
  }
  if (c.attentionBias !== undefined && c.attentionBias !== 'qkv' && c.attentionBias !== 'qkvo') throw new Error(`model config: attentionBias must be "qkv" or "qkvo", got ${JSON.stringify(c.attentionBias)}`);
  if (c.family !== undefined && c.family !== 'llama' && c.family !== 'qwen2') throw new Error(`model config: family must be "llama" or "qwen2", got ${JSON.stringify(c.family)}`);
  if (c.family === 'qwen2' && (c.attentionBias !== 'qkv' || c.headDim !== undefined || c.ropeScaling)) throw new Error('model config: a qwen2 model has q/k/v biases, head size C / H and no RoPE scaling');
  const rs = c.ropeScaling;
  if (rs) {
    if (rs.type !== 'llama3') throw new Error(`model config: ropeScaling.type must be "llama3", got ${JSON.stringify(rs.type)}`);
    for (const k of ['factor', 'lowFreqFactor', 'highFreqFactor', 'originalMaxPositions'] as const) {
      if (!(typeof rs[k] === 'number' && rs[k] > 0)) throw new Error(`model config: ropeScaling.${k} must be a positive number, got ${JSON.stringify(rs[k])}`);
    }
    if (!(rs.highFreqFactor > rs.lowFreqFactor)) throw new Error(`model config: ropeScaling.highFreqFactor ${rs.highFreqFactor} must exceed lowFreqFactor ${rs.lowFreqFactor}`);
  }
  if (headSize(c) % 2 !== 0) throw new Error(`model config: head size ${headSize(c)} must be even for RoPE`);
  if (!(c.rmsEps > 0 && c.rmsEps < 1)) throw new Error(`model config: rmsEps must be in (0, 1), got ${c.rmsEps}`);
  if (!(c.ropeTheta > 1)) throw new Error(`model config: ropeTheta must be > 1, got ${c.ropeTheta}`);
  if (typeof c.tieEmbeddings !== 'boolean') throw new Error('model config: tieEmbeddings must be a boolean');
  return c;
}
