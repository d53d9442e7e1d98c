/**
 * The files of an exported folder, as bytes (the page zips them, the CLI writes them):
 *
 * - `hf`: what `LlamaForCausalLM.from_pretrained(dir)` loads: config.json, model.safetensors,
 *   generation_config.json, tokenizer.json, tokenizer_config.json, and the model card README.md.
 *   The trainer's own files (optimizer.safetensors, trainer_state.json) are left out.
 * - `onnx`: the Hugging Face Hub layout that transformers.js (`@huggingface/transformers`) reads
 *   with its default options: `onnx/model.onnx` (src/onnx/export.ts; with `kvCache`, the
 *   variant that takes and returns the attention keys and values; transformers.js looks for the
 *   model in the `onnx/` subfolder) with the same config, generation config, tokenizer and card
 *   at the root.
 */
import { ByteLevelBpeTokenizer } from '../tokenizer/byte-level.ts';
import { encodeCheckpoint, type Checkpoint } from '../io/checkpoint.ts';
import { lastMetricsLine, modelCard, parseEvalJson } from '../io/model-card.ts';
import { exportOnnx } from './export.ts';
import { ONNX_MODEL_PATH } from './names.ts';

export type ExportFormat = 'hf' | 'onnx';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['hf', 'onnx'];

/** Run files found beside a checkpoint that the model card reads. */
export interface ExportExtras {
  /** Title of the model card (e.g. the checkpoint folder's name). */
  name: string;
  /** eval.json (written by `eval --out`). */
  evalJson?: Uint8Array;
  /** metrics.jsonl (one line per training step). */
  metricsJsonl?: Uint8Array;
  /** `onnx` only: a model that takes and returns the KV cache (src/onnx/export.ts), for decoding one token per call. */
  kvCache?: boolean;
}

/**
 * The export's files, name -> bytes, in a fixed order.
 * @throws CheckpointError for weights that do not match the config; Error for a malformed eval.json.
 */
export function exportFiles(ckpt: Checkpoint, format: ExportFormat, extras: ExportExtras): Map<string, Uint8Array> {
  if (!EXPORT_FORMATS.includes(format)) throw new Error(`export: format must be one of ${EXPORT_FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
  if (extras.kvCache && format !== 'onnx') throw new Error('export: a KV cache exists only in the onnx format');
  const model = encodeCheckpoint({ config: ckpt.config, tokenizer: ckpt.tokenizer, weights: ckpt.weights });
  const tok = ckpt.tokenizer;
  const enc = new TextEncoder();
  const card = modelCard({
    name: extras.name,
    format,
    ...(extras.kvCache ? { kvCache: true } : {}),
    config: ckpt.config,
    ...(ckpt.state ? { state: ckpt.state } : {}),
    ...(extras.evalJson ? { evaluation: parseEvalJson(extras.evalJson) } : {}),
    ...(extras.metricsJsonl ? { lastMetrics: lastMetricsLine(extras.metricsJsonl) } : {}),
    ...(tok instanceof ByteLevelBpeTokenizer ? { importedTokenizer: 'byte-level BPE' as const } : {}),
  });
  // Lets AutoTokenizer load tokenizer.json as a plain fast tokenizer that adds no tokens of its
  // own (a Llama tokenizer class would insert "<s>", which our vocabulary does not have).
  const tokenizerConfig = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: tok.vocab[tok.bosId], eos_token: tok.vocab[tok.eosId], pad_token: tok.vocab[tok.padId], unk_token: tok.vocab[tok.unkId],
    add_bos_token: false, add_eos_token: false, model_max_length: ckpt.config.maxPositions, clean_up_tokenization_spaces: false,
  };
  const out = new Map<string, Uint8Array>();
  if (format === 'hf') out.set('model.safetensors', model.get('model.safetensors')!);
  else {
    const meta: Record<string, string> = {};
    if (ckpt.state) meta.lineage = JSON.stringify(ckpt.state.lineage);
    out.set(ONNX_MODEL_PATH, exportOnnx(ckpt.config, ckpt.weights, { specialIds: { bos: tok.bosId, eos: tok.eosId, pad: tok.padId }, metadata: meta, kvCache: !!extras.kvCache }));
  }
  out.set('config.json', model.get('config.json')!);
  out.set('generation_config.json', model.get('generation_config.json')!);
  out.set('tokenizer.json', model.get('tokenizer.json')!);
  out.set('tokenizer_config.json', enc.encode(`${JSON.stringify(tokenizerConfig, null, 2)}\n`));
  out.set('README.md', enc.encode(card));
  return out;
}
