/**
 * Hugging Face config.json of model shapes worth measuring without a download (random weights):
 * `make-hf-model` writes folders of them, the browser bench and the memory test use them.
 * SmolLM2-135M's numbers are those of its config.json on the Hub (HuggingFaceTB/SmolLM2-135M).
 */
/** config.json of each shape; vocab_size is filled in from the tokenizer (or fixed). */
export const HF_SHAPES: Record<string, Record<string, unknown>> = {
  'smollm2-135m': {
    architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 576, intermediate_size: 1536, num_hidden_layers: 30,
    num_attention_heads: 9, num_key_value_heads: 3, max_position_embeddings: 8192, rms_norm_eps: 1e-5, rope_theta: 100000,
    rope_scaling: null, tie_word_embeddings: true, hidden_act: 'silu', attention_bias: false, mlp_bias: false, vocab_size: 49152,
    bos_token_id: 0, eos_token_id: 0, torch_dtype: 'float32', use_cache: true, is_llama_config: true, pretraining_tp: 1,
  },
  'tiny-gqa': {
    architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2,
    num_attention_heads: 4, num_key_value_heads: 2, head_dim: 16, max_position_embeddings: 1024, rms_norm_eps: 1e-5, rope_theta: 10000,
    rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 256 },
    tie_word_embeddings: false, hidden_act: 'silu', attention_bias: false, mlp_bias: false,
    bos_token_id: 0, eos_token_id: 0, torch_dtype: 'float32', use_cache: true,
  },
};

