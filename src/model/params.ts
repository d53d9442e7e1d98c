/**
 * Parameter layout of the policy, with Hugging Face Llama tensor names so that a checkpoint's
 * `model.safetensors` loads into `LlamaForCausalLM` as is. Linear weights are stored
 * (out, in) as in PyTorch, and a Linear layer computes y = x W^T.
 */
import type { Backend, Tensor } from '../backend/backend.ts';
import { Rng } from '../util/rng.ts';
import { headSize, kvHeads, type ModelConfig } from './config.ts';

/** One parameter tensor of the layout. */
export interface ParamSpec {
  /** Hugging Face name, e.g. `model.layers.0.self_attn.q_proj.weight`. */
  name: string;
  shape: [number] | [number, number];
  /** How a fresh model initializes it. */
  init: 'embedding' | 'linear' | 'residual-out' | 'ones' | 'zeros';
}

/** Names of one layer's tensors. */
export function layerNames(i: number) {
  const p = `model.layers.${i}`;
  return {
    inputNorm: `${p}.input_layernorm.weight`, // (C)
    q: `${p}.self_attn.q_proj.weight`, // (H*D, C)
    k: `${p}.self_attn.k_proj.weight`, // (Hkv*D, C)
    v: `${p}.self_attn.v_proj.weight`, // (Hkv*D, C)
    o: `${p}.self_attn.o_proj.weight`, // (C, H*D)
    qBias: `${p}.self_attn.q_proj.bias`, // (H*D), only with attentionBias
    kBias: `${p}.self_attn.k_proj.bias`, // (Hkv*D)
    vBias: `${p}.self_attn.v_proj.bias`, // (Hkv*D)
    oBias: `${p}.self_attn.o_proj.bias`, // (C), only with attentionBias 'qkvo'
    postNorm: `${p}.post_attention_layernorm.weight`, // (C)
    gate: `${p}.mlp.gate_proj.weight`, // (F, C)
    up: `${p}.mlp.up_proj.weight`, // (F, C)
    down: `${p}.mlp.down_proj.weight`, // (C, F)
  };
}

export const EMBED = 'model.embed_tokens.weight'; // (V, C)
export const FINAL_NORM = 'model.norm.weight'; // (C)
export const LM_HEAD = 'lm_head.weight'; // (V, C), absent when tied

/** Every parameter of a config, in a fixed order (the order of the safetensors file). */
export function paramSpecs(c: ModelConfig): ParamSpec[] {
  const C = c.hiddenSize, F = c.intermediateSize, V = c.vocabSize;
  const QD = c.numHeads * headSize(c), KD = kvHeads(c) * headSize(c); // (C, C) for our own models
  const bias = c.attentionBias;
  const specs: ParamSpec[] = [{ name: EMBED, shape: [V, C], init: 'embedding' }];
  for (let i = 0; i < c.numLayers; i++) {
    const n = layerNames(i);
    specs.push(
      { name: n.inputNorm, shape: [C], init: 'ones' },
      { name: n.q, shape: [QD, C], init: 'linear' },
      ...(bias ? [{ name: n.qBias, shape: [QD], init: 'zeros' } as ParamSpec] : []),
      { name: n.k, shape: [KD, C], init: 'linear' },
      ...(bias ? [{ name: n.kBias, shape: [KD], init: 'zeros' } as ParamSpec] : []),
      { name: n.v, shape: [KD, C], init: 'linear' },
      ...(bias ? [{ name: n.vBias, shape: [KD], init: 'zeros' } as ParamSpec] : []),
      { name: n.o, shape: [C, QD], init: 'residual-out' },
      ...(bias === 'qkvo' ? [{ name: n.oBias, shape: [C], init: 'zeros' } as ParamSpec] : []),
      { name: n.postNorm, shape: [C], init: 'ones' },
      { name: n.gate, shape: [F, C], init: 'linear' },
      { name: n.up, shape: [F, C], init: 'linear' },
      { name: n.down, shape: [C, F], init: 'residual-out' },
    );
  }
  specs.push({ name: FINAL_NORM, shape: [C], init: 'ones' });
  if (!c.tieEmbeddings) specs.push({ name: LM_HEAD, shape: [V, C], init: 'linear' });
  return specs;
}

/** Number of parameters of a config. */
export function countParams(c: ModelConfig): number {
  return paramSpecs(c).reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
}

/** A model's parameters (or gradients, or optimizer moments): name -> tensor. */
export type ParamSet = Map<string, Tensor>;

/**
 * Fresh weights: normal(0, 0.02) for embeddings and linear layers, scaled by 1/sqrt(2L) for
 * the projections that write into the residual stream (GPT-2's choice, so the stream's
 * variance does not grow with depth); norms start at 1.
 */
export function initParams(backend: Backend, c: ModelConfig, seed: number): ParamSet {
  const rng = new Rng(seed);
  const out: ParamSet = new Map();
  for (const s of paramSpecs(c)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (s.init === 'ones') data.fill(1);
    else if (s.init === 'zeros') { /* biases start at 0 */ }
    else {
      const std = s.init === 'residual-out' ? 0.02 / Math.sqrt(2 * c.numLayers) : 0.02;
      for (let i = 0; i < n; i++) data[i] = rng.normal() * std;
    }
    out.set(s.name, backend.fromArray(data, s.shape));
  }
  return out;
}

/** Zero tensors shaped like every parameter (for gradients and Adam moments). */
export function zerosLike(backend: Backend, c: ModelConfig): ParamSet {
  const out: ParamSet = new Map();
  for (const s of paramSpecs(c)) out.set(s.name, backend.zeros(s.shape));
  return out;
}

/** The output head: lm_head, or the embedding when tied. */
export function headName(c: ModelConfig): string {
  return c.tieEmbeddings ? EMBED : LM_HEAD;
}
