/**
 * Hugging Face `config.json` for LlamaForCausalLM (and Qwen2ForCausalLM), to and from our
 * ModelConfig, so that a checkpoint folder loads in `transformers`
 * (`AutoModelForCausalLM.from_pretrained(dir)`) with the same logits, and a model downloaded
 * from the Hub loads here.
 *
 * Covered: grouped-query attention (`num_key_value_heads`), `head_dim`, tied or untied output
 * head, `rope_theta`, Llama 3 `rope_scaling` (`rope_type: "llama3"`), `attention_bias` (Llama:
 * q/k/v/o biases; Qwen2: q/k/v biases always, no o bias). Every other field is either known to
 * be harmless (listed in IGNORED) or refused naming it, so a model we would compute wrongly
 * never loads. Sources: transformers' LlamaConfig, Qwen2Config and modeling_rope_utils.py.
 */
import { headSize, kvHeads, validateConfig, type ModelConfig } from '../model/config.ts';
import type { SpecialIds } from '../tokenizer/byte-level.ts';

/** The fields of a config.json we write. */
export interface HfLlamaConfig {
  architectures: ['LlamaForCausalLM'] | ['Qwen2ForCausalLM'];
  model_type: 'llama' | 'qwen2';
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  head_dim?: number;
  max_position_embeddings: number;
  rms_norm_eps: number;
  rope_theta: number;
  rope_scaling: null | { rope_type: 'llama3'; factor: number; low_freq_factor: number; high_freq_factor: number; original_max_position_embeddings: number };
  tie_word_embeddings: boolean;
  hidden_act: 'silu';
  attention_bias?: boolean;
  mlp_bias?: false;
  use_sliding_window?: false;
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
  const qwen = c.family === 'qwen2';
  const rs = c.ropeScaling;
  return {
    architectures: qwen ? ['Qwen2ForCausalLM'] : ['LlamaForCausalLM'],
    model_type: qwen ? 'qwen2' : 'llama',
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: kvHeads(c),
    // Qwen2Config has no head_dim (always C / H).
    ...(qwen ? {} : { head_dim: headSize(c) }),
    max_position_embeddings: c.maxPositions,
    rms_norm_eps: c.rmsEps,
    rope_theta: c.ropeTheta,
    rope_scaling: rs
      ? { rope_type: 'llama3', factor: rs.factor, low_freq_factor: rs.lowFreqFactor, high_freq_factor: rs.highFreqFactor, original_max_position_embeddings: rs.originalMaxPositions }
      : null,
    tie_word_embeddings: c.tieEmbeddings,
    hidden_act: 'silu',
    ...(qwen ? { use_sliding_window: false as const } : { attention_bias: !!c.attentionBias, mlp_bias: false as const }),
    attention_dropout: 0,
    initializer_range: 0.02,
    bos_token_id: ids.bos,
    eos_token_id: ids.eos,
    pad_token_id: ids.pad,
    torch_dtype: 'float32',
    use_cache: true,
  };
}

/** Fields that do not change the forward pass (or are checked elsewhere, e.g. torch_dtype in import.ts). */
const IGNORED = new Set([
  'architectures', '_name_or_path', 'transformers_version', 'torch_dtype', 'dtype', 'use_cache', 'initializer_range',
  'bos_token_id', 'eos_token_id', 'pad_token_id', 'pretraining_tp', 'is_llama_config', 'transformers.js_config',
  'tokenizer_class', 'max_window_layers', 'sliding_window', 'output_attentions', 'output_hidden_states', 'return_dict',
]);
/** Fields we read (below); anything neither here nor in IGNORED is refused. */
const READ = new Set([
  'model_type', 'vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads',
  'num_key_value_heads', 'head_dim', 'max_position_embeddings', 'rms_norm_eps', 'rope_theta', 'rope_scaling',
  'tie_word_embeddings', 'hidden_act', 'attention_bias', 'mlp_bias', 'attention_dropout', 'rope_interleaved',
  'use_sliding_window', 'use_mrope', 'layer_types', 'rope_parameters',
]);
const ROPE_SCALING_KEYS = new Set(['rope_type', 'type', 'factor', 'low_freq_factor', 'high_freq_factor', 'original_max_position_embeddings']);

/**
 * Reads a Llama or Qwen2 config.json. Throws naming the field for a missing or wrong field,
 * an unknown field, and a feature we do not implement (another RoPE scaling, MLP biases,
 * sliding-window attention, interleaved RoPE, another activation, dropout).
 */
export function fromHfConfig(json: unknown): ModelConfig {
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new Error('config.json: not a JSON object');
  const j = { ...(json as Record<string, unknown>) }; // a copy: rope_parameters is folded in below
  if (j.model_type !== 'llama' && j.model_type !== 'qwen2') throw new Error(`config.json: model_type must be "llama" or "qwen2", got ${JSON.stringify(j.model_type)}`);
  const qwen = j.model_type === 'qwen2';
  const unknown = Object.keys(j).filter((k) => !READ.has(k) && !IGNORED.has(k));
  if (unknown.length) throw new Error(`config.json: unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')} (not read by this importer, so the model could compute differently here)`);
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
  const flag = (k: string, def: boolean): boolean => {
    const v = j[k] ?? def;
    if (typeof v !== 'boolean') throw new Error(`config.json: ${k} must be true or false, got ${JSON.stringify(j[k])}`);
    return v;
  };
  const heads = num('num_attention_heads');
  const kv = num('num_key_value_heads', heads);
  if (!Number.isInteger(kv) || kv <= 0 || heads % kv !== 0) throw new Error(`config.json: num_attention_heads ${heads} is not a multiple of num_key_value_heads ${kv} (grouped-query attention shares each key/value head among a whole number of query heads)`);
  if (j.hidden_act !== undefined && j.hidden_act !== 'silu') throw new Error(`config.json: hidden_act must be "silu", got ${JSON.stringify(j.hidden_act)}`);
  if (flag('mlp_bias', false)) throw new Error('config.json: mlp_bias true is not supported (MLP projections without biases only)');
  if (qwen && j.attention_bias !== undefined) throw new Error('config.json: attention_bias is not a Qwen2 field (Qwen2 always has q/k/v biases)');
  if (flag('rope_interleaved', false)) throw new Error('config.json: rope_interleaved true is not supported (rotate-half RoPE only)');
  if (flag('use_sliding_window', false)) throw new Error('config.json: use_sliding_window true is not supported (full causal attention only)');
  if (flag('use_mrope', false)) throw new Error('config.json: use_mrope true is not supported (1-D RoPE only)');
  if (num('attention_dropout', 0) !== 0) throw new Error(`config.json: attention_dropout must be 0, got ${JSON.stringify(j.attention_dropout)}`);
  // Newer transformers write the attention kind of every layer (Qwen2: "full_attention" unless sliding).
  if (j.layer_types !== undefined && (!Array.isArray(j.layer_types) || j.layer_types.some((t) => t !== 'full_attention'))) {
    throw new Error(`config.json: layer_types must all be "full_attention" (sliding-window layers are not supported), got ${JSON.stringify(j.layer_types)}`);
  }
  // transformers 5 moves rope_theta and rope_scaling into rope_parameters.
  const rp = j.rope_parameters;
  if (rp !== undefined && rp !== null) {
    if (typeof rp !== 'object' || Array.isArray(rp)) throw new Error(`config.json: rope_parameters must be an object, got ${JSON.stringify(rp)}`);
    if (j.rope_scaling !== undefined && j.rope_scaling !== null) throw new Error('config.json: rope_parameters and rope_scaling are both given');
    const { rope_theta: theta, ...rest } = rp as Record<string, unknown>;
    if (theta !== undefined) {
      if (j.rope_theta !== undefined && j.rope_theta !== theta) throw new Error(`config.json: rope_parameters.rope_theta ${JSON.stringify(theta)} differs from rope_theta ${JSON.stringify(j.rope_theta)}`);
      j.rope_theta = theta;
    }
    if ((rest.rope_type ?? 'default') !== 'default' || Object.keys(rest).some((k) => k !== 'rope_type')) j.rope_scaling = rest;
  }
  const c: ModelConfig = {
    vocabSize: num('vocab_size'),
    hiddenSize: num('hidden_size'),
    intermediateSize: num('intermediate_size'),
    numLayers: num('num_hidden_layers'),
    numHeads: heads,
    maxPositions: num('max_position_embeddings'),
    rmsEps: num('rms_norm_eps'),
    ropeTheta: num('rope_theta', 10000),
    tieEmbeddings: flag('tie_word_embeddings', false),
  };
  // Optional fields only where they differ from our defaults, so that our own checkpoints read
  // back into exactly the config they were saved from.
  if (kv !== heads) c.numKvHeads = kv;
  if (j.head_dim !== undefined && j.head_dim !== null && num('head_dim') * heads !== c.hiddenSize) c.headDim = num('head_dim');
  if (qwen) {
    c.family = 'qwen2';
    c.attentionBias = 'qkv';
  } else if (flag('attention_bias', false)) c.attentionBias = 'qkvo';
  const rs = j.rope_scaling;
  if (rs !== undefined && rs !== null) {
    if (typeof rs !== 'object' || Array.isArray(rs)) throw new Error(`config.json: rope_scaling must be an object or null, got ${JSON.stringify(rs)}`);
    const r = rs as Record<string, unknown>;
    const type = r.rope_type ?? r.type;
    if (type !== 'llama3') throw new Error(`config.json: rope_scaling.rope_type ${JSON.stringify(type)} is not supported (only "llama3")`);
    const extra = Object.keys(r).filter((k) => !ROPE_SCALING_KEYS.has(k));
    if (extra.length) throw new Error(`config.json: unknown rope_scaling field${extra.length > 1 ? 's' : ''} ${extra.map((k) => JSON.stringify(k)).join(', ')}`);
    const rn = (k: string): number => {
      const v = r[k];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`config.json: rope_scaling.${k} must be a number, got ${JSON.stringify(v)}`);
      return v;
    };
    c.ropeScaling = {
      type: 'llama3', factor: rn('factor'), lowFreqFactor: rn('low_freq_factor'), highFreqFactor: rn('high_freq_factor'),
      originalMaxPositions: rn('original_max_position_embeddings'),
    };
  }
  return validateConfig(c);
}

/** config.json's bos/eos/pad ids (integers only; Llama 3 lists several eos ids: the first is taken). */
export function specialIdsOf(raw: unknown): SpecialIds {
  const j = (raw ?? {}) as Record<string, unknown>;
  const one = (v: unknown) => (Array.isArray(v) ? v[0] : v);
  const out: SpecialIds = {};
  for (const [k, f] of [['bos', 'bos_token_id'], ['eos', 'eos_token_id'], ['pad', 'pad_token_id']] as const) {
    const v = one(j[f]);
    if (Number.isInteger(v)) out[k] = v as number;
  }
  return out;
}
