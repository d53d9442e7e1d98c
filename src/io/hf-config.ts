/**
 * Hugging Face `config.json` for LlamaForCausalLM, to and from our ModelConfig, so that a
 * checkpoint folder loads in `transformers` (`LlamaForCausalLM.from_pretrained(dir)`) with the
 * same logits.
 */
import { headSize, validateConfig, type ModelConfig } from '../model/config.ts';

/** The fields of a Llama config.json we write. */
export interface HfLlamaConfig {
  architectures: ['LlamaForCausalLM'];
  model_type: 'llama';
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  head_dim: number;
  max_position_embeddings: number;
  rms_norm_eps: number;
  rope_theta: number;
  rope_scaling: null;
  tie_word_embeddings: boolean;
  hidden_act: 'silu';
  attention_bias: false;
  mlp_bias: false;
  attention_dropout: 0;
  initializer_range: number;
  bos_token_id: number;
  eos_token_id: number;
  pad_token_id: number;
  torch_dtype: 'float32';
  use_cache: true;
}

/** config.json for a model; special ids from the tokenizer. */
export function toHfConfig(c: ModelConfig, ids: { bos: number; eos: number; pad: number }): HfLlamaConfig {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numHeads,
    head_dim: headSize(c),
    max_position_embeddings: c.maxPositions,
    rms_norm_eps: c.rmsEps,
    rope_theta: c.ropeTheta,
    rope_scaling: null,
    tie_word_embeddings: c.tieEmbeddings,
    hidden_act: 'silu',
    attention_bias: false,
    mlp_bias: false,
    attention_dropout: 0,
    initializer_range: 0.02,
    bos_token_id: ids.bos,
    eos_token_id: ids.eos,
    pad_token_id: ids.pad,
    torch_dtype: 'float32',
    use_cache: true,
  };
}

/**
 * Reads a Llama config.json. Throws naming the field for a missing or wrong field, and for
 * features we do not implement (grouped-query attention, RoPE scaling, biases, another
 * activation).
 */
export function fromHfConfig(json: unknown): ModelConfig {
  if (!json || typeof json !== 'object') throw new Error('config.json: not a JSON object');
  const j = json as Record<string, unknown>;
  if (j.model_type !== 'llama') throw new Error(`config.json: model_type must be "llama", got ${JSON.stringify(j.model_type)}`);
  const num = (k: string, def?: number): number => {
    const v = j[k] ?? def;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`config.json: ${k} must be a number, got ${JSON.stringify(j[k])}`);
    return v;
  };
  // Sizes first, by their config.json names, so a bad one is reported as itself (not as a
  // head_dim or divisibility problem it causes further on).
  const size = (k: string): number => {
    const v = num(k);
    if (!Number.isInteger(v) || v <= 0) throw new Error(`config.json: ${k} must be a positive integer, got ${JSON.stringify(j[k])}`);
    return v;
  };
  for (const k of ['vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'max_position_embeddings']) size(k);
  const heads = num('num_attention_heads');
  if (num('num_key_value_heads', heads) !== heads) throw new Error('config.json: num_key_value_heads must equal num_attention_heads (grouped-query attention is not supported)');
  if (j.rope_scaling !== undefined && j.rope_scaling !== null) throw new Error('config.json: rope_scaling is not supported');
  if (j.hidden_act !== undefined && j.hidden_act !== 'silu') throw new Error(`config.json: hidden_act must be "silu", got ${JSON.stringify(j.hidden_act)}`);
  if (j.attention_bias === true || j.mlp_bias === true) throw new Error('config.json: attention_bias / mlp_bias are not supported');
  if (j.torch_dtype !== undefined && j.torch_dtype !== 'float32') throw new Error(`config.json: torch_dtype must be "float32", got ${JSON.stringify(j.torch_dtype)}`);
  const c: ModelConfig = {
    vocabSize: num('vocab_size'),
    hiddenSize: num('hidden_size'),
    intermediateSize: num('intermediate_size'),
    numLayers: num('num_hidden_layers'),
    numHeads: heads,
    maxPositions: num('max_position_embeddings'),
    rmsEps: num('rms_norm_eps'),
    ropeTheta: num('rope_theta', 10000),
    tieEmbeddings: j.tie_word_embeddings === undefined ? false : (j.tie_word_embeddings as boolean),
  };
  if (j.head_dim !== undefined && num('head_dim') !== c.hiddenSize / c.numHeads) throw new Error(`config.json: head_dim ${j.head_dim} is not hidden_size / num_attention_heads`);
  return validateConfig(c);
}
