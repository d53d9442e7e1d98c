/**
 * Importing a checkpoint from a folder's files or a zip: ours, or any Llama- or Qwen2-architecture
 * model saved as safetensors (grouped-query attention, head_dim, biases and Llama 3 RoPE
 * scaling as src/io/hf-config.ts reads them). Every field is validated before
 * anything is returned, and every error names the file and the tensor or field, so a learner
 * can tell what is wrong with a download. Importing only reads: nothing stored is touched, and
 * the caller stores the result (run-store.ts, checkpoint-fs.ts) only once it succeeded.
 *
 * Accepted beyond our own format (each one reported in `notes`):
 * - F16 and BF16 weights (and config.json `torch_dtype`/`dtype` float16 or bfloat16): converted
 *   to F32 exactly, since every 16-bit float is a float32;
 * - sharded weights (model.safetensors.index.json and its shards);
 * - an `lm_head.weight` identical to the embedding when config.json ties them (dropped);
 * - `rotary_emb.inv_freq` buffers that old Llama exports saved (dropped: we compute them);
 * - a single top folder inside the zip or the file list (`nano/config.json`).
 * Refused, with the reason: other architectures and config features we do not implement
 * (src/io/hf-config.ts), other dtypes, tokenizers that are not WordLevel or lack our special
 * tokens at ids 0..11 (src/protocol/tags.ts), and pickled `pytorch_model.bin` weights.
 */
import { CheckpointError, checkState, checkWeights, type Checkpoint } from './checkpoint.ts';
import { fromHfConfig, specialIdsOf } from './hf-config.ts';
import { readSafetensors, type HostTensor } from './safetensors.ts';
import { isZip, unzipFiles } from './zip.ts';
import { EMBED, LM_HEAD, paramSpecs } from '../model/params.ts';
import type { ModelConfig } from '../model/config.ts';
import { type TextTokenizer } from '../tokenizer/text-tokenizer.ts';
import { tokenizerFromHuggingFace } from '../tokenizer/from-hugging-face.ts';
import { ByteLevelBpeTokenizer, type SpecialIds } from '../tokenizer/byte-level.ts';

export class ImportError extends Error {
  constructor(message: string) {
    super(`import: ${message}`);
    this.name = 'ImportError';
  }
}

/** A folder's files (relative path -> bytes), or the bytes of a zip archive. */
export type ImportInput = ReadonlyMap<string, Uint8Array> | Uint8Array;

export interface ImportOptions {
  /** Skip the optimizer state and trainer state (inspection and evaluation need only the model). */
  modelOnly?: boolean;
  /** Largest total unzipped size accepted (bytes); src/io/zip.ts's default otherwise. */
  maxBytes?: number;
}

/** A validated import. */
export interface ImportResult {
  checkpoint: Checkpoint;
  /** Every file of the input after unzipping (metrics.jsonl, rollouts.json, eval.json, ...). */
  files: Map<string, Uint8Array>;
  /** What was converted or dropped on the way, one sentence each. */
  notes: string[];
}

/** Imports a checkpoint. @throws ImportError naming the file and the tensor or field. */
export async function importCheckpoint(input: ImportInput, opts: ImportOptions = {}): Promise<Checkpoint> {
  return (await importCheckpointFiles(input, opts)).checkpoint;
}

/** Imports a checkpoint and returns its other files and the conversion notes too. @throws ImportError. */
export async function importCheckpointFiles(input: ImportInput, opts: ImportOptions = {}): Promise<ImportResult> {
  try {
    return importFiles(checkpointFiles(input, opts), opts);
  } catch (e) {
    if (e instanceof ImportError) throw e;
    // Errors of the modules we call already name the file (config.json: ..., checkpoint: ...).
    throw new ImportError((e as Error).message.replace(/^(checkpoint|safetensors): /, ''));
  }
}

/**
 * The files of an input: a zip is unpacked (CRC-checked), and a single top folder is stripped.
 * @throws ImportError for bytes that are not a zip, or a corrupt one.
 */
export function checkpointFiles(input: ImportInput, opts: { maxBytes?: number } = {}): Map<string, Uint8Array> {
  if (input instanceof Uint8Array) {
    if (!isZip(input)) {
      const head = Array.from(input.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
      throw new ImportError(`the file is not a zip archive (it starts with bytes ${head || '(empty)'}, a zip starts with 50 4b 03 04)`);
    }
    return unzipFiles(input, opts.maxBytes === undefined ? {} : { maxBytes: opts.maxBytes });
  }
  const names = [...input.keys()].map((n) => n.replace(/^\.\//, ''));
  const top = names[0]?.split('/')[0];
  const strip = top && names.length > 0 && names.every((n) => n.startsWith(`${top}/`)) ? top.length + 1 : 0;
  const out = new Map<string, Uint8Array>();
  for (const [n, b] of input) out.set(n.replace(/^\.\//, '').slice(strip), b);
  return out;
}

function importFiles(files: Map<string, Uint8Array>, opts: ImportOptions): ImportResult {
  const notes: string[] = [];
  const need = (name: string) => {
    const b = files.get(name);
    if (!b) throw new ImportError(`${name} is missing (found: ${[...files.keys()].sort().join(', ') || 'no files'})`);
    return b;
  };
  const rawConfig = json('config.json', need('config.json'));
  const config = readConfig(rawConfig, notes);
  const tokenizer = readTokenizer(json('tokenizer.json', need('tokenizer.json')), config, specialIdsOf(rawConfig), notes);
  const weights = readWeights(files, config, notes);
  const checkpoint: Checkpoint = { config, tokenizer, weights };
  if (!opts.modelOnly) {
    const opt = files.get('optimizer.safetensors');
    if (opt) checkpoint.optimizer = readOptimizer(opt, config);
    const state = files.get('trainer_state.json');
    if (state) checkpoint.state = checkState(json('trainer_state.json', state));
  }
  return { checkpoint, files, notes };
}

function json(name: string, bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown;
  } catch (e) {
    throw new ImportError(`${name} is not valid JSON (${(e as Error).message})`);
  }
}

const HALF_DTYPES = ['float16', 'bfloat16'];

/** config.json -> ModelConfig; a 16-bit torch_dtype is accepted since the weights are widened. */
function readConfig(raw: unknown, notes: string[]): ModelConfig {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ImportError('config.json is not a JSON object');
  const j = { ...(raw as Record<string, unknown>) };
  const arch = j.architectures;
  const want = j.model_type === 'qwen2' ? 'Qwen2ForCausalLM' : 'LlamaForCausalLM';
  if (arch !== undefined && (!Array.isArray(arch) || !arch.includes(want))) {
    throw new ImportError(`config.json: architectures ${JSON.stringify(arch)} does not include "${want}" (LlamaForCausalLM and Qwen2ForCausalLM are read)`);
  }
  for (const key of ['torch_dtype', 'dtype']) {
    if (typeof j[key] === 'string' && HALF_DTYPES.includes(j[key] as string)) {
      notes.push(`config.json: ${key} ${j[key]} read as float32 (weights are converted exactly)`);
      j[key] = 'float32';
    }
  }
  if (j.dtype !== undefined && j.dtype !== 'float32') throw new ImportError(`config.json: dtype must be float32, float16 or bfloat16, got ${JSON.stringify(j.dtype)}`);
  if (j.torch_dtype !== undefined && j.torch_dtype !== 'float32') throw new ImportError(`config.json: torch_dtype must be float32, float16 or bfloat16, got ${JSON.stringify(j.torch_dtype)}`);
  if (typeof j.tie_word_embeddings !== 'boolean' && j.tie_word_embeddings !== undefined) throw new ImportError(`config.json: tie_word_embeddings must be true or false, got ${JSON.stringify(j.tie_word_embeddings)}`);
  if (typeof j.pretraining_tp === 'number' && j.pretraining_tp !== 1) notes.push(`config.json: pretraining_tp ${j.pretraining_tp} ignored (it only splits matrix products)`);
  try {
    return fromHfConfig(j); // throws "config.json: <field> ..." for the rest
  } catch (e) {
    const m = (e as Error).message;
    throw new ImportError(m.startsWith('config.json') ? m : `config.json: ${m.replace(/^model config: /, '')}`);
  }
}

/** tokenizer.json -> a tokenizer, checked against config.json and its own added_tokens. */
function readTokenizer(raw: unknown, config: ModelConfig, special: SpecialIds, notes: string[]): TextTokenizer {
  let tok: TextTokenizer;
  try {
    tok = tokenizerFromHuggingFace(raw, special); // WordLevel or BPE (ids 0..V-1, our special tokens) or a model's byte-level BPE
  } catch (e) {
    const m = (e as Error).message;
    throw new ImportError(m.startsWith('tokenizer.json') ? m : `tokenizer.json: ${m.replace(/^tokenizer: /, '')} (ids 0..11 must hold our special tokens)`);
  }
  const added = (raw as { added_tokens?: unknown }).added_tokens;
  if (added !== undefined) {
    if (!Array.isArray(added)) throw new ImportError('tokenizer.json: added_tokens is not a list');
    added.forEach((a: { id?: unknown; content?: unknown }, i) => {
      if (!Number.isInteger(a?.id) || typeof a?.content !== 'string') throw new ImportError(`tokenizer.json: added_tokens[${i}] lacks an integer id or a content string`);
      if (tok.vocab[a.id as number] !== a.content) {
        throw new ImportError(`tokenizer.json: added_tokens[${i}] says ${JSON.stringify(a.content)} has id ${a.id}, model.vocab gives ${a.id as number} to ${JSON.stringify(tok.vocab[a.id as number])}`);
      }
    });
  }
  if (tok instanceof ByteLevelBpeTokenizer && tok.size < config.vocabSize) {
    // Hub models often pad the embedding to a multiple of 64 or 128 rows beyond the tokenizer.
    notes.push(`tokenizer.json has ${tok.size} tokens, config.json vocab_size ${config.vocabSize}: the ${config.vocabSize - tok.size} rows beyond are padding`);
  } else if (tok.size !== config.vocabSize) throw new ImportError(`tokenizer.json has ${tok.size} tokens but config.json vocab_size is ${config.vocabSize}`);
  return tok;
}

/** The model's tensors from model.safetensors or a sharded index, validated against the config. */
function readWeights(files: Map<string, Uint8Array>, config: ModelConfig, notes: string[]): Map<string, HostTensor> {
  const w = new Map<string, HostTensor>();
  const single = files.get('model.safetensors');
  const index = files.get('model.safetensors.index.json');
  if (single) addShard(w, 'model.safetensors', single, notes);
  else if (index) readSharded(w, files, index, notes);
  else {
    const pickled = [...files.keys()].find((n) => /(^|\/)pytorch_model.*\.bin$/.test(n));
    throw new ImportError(`model.safetensors is missing${pickled ? ` (${pickled} found: only safetensors are read; in Python, save_pretrained(dir, safe_serialization=True) writes them)` : ''}`);
  }
  for (const name of [...w.keys()]) {
    if (/\.rotary_emb\.inv_freq$/.test(name)) {
      w.delete(name);
      if (!notes.some((n) => n.includes('rotary_emb.inv_freq'))) notes.push('model.safetensors: rotary_emb.inv_freq buffers dropped (computed from rope_theta)');
    }
  }
  const head = w.get(LM_HEAD), embed = w.get(EMBED);
  if (config.tieEmbeddings && head && embed) {
    if (!sameBits(head.data, embed.data)) throw new ImportError(`model.safetensors: tensor ${LM_HEAD} differs from ${EMBED}, but config.json ties the embeddings (tie_word_embeddings: true)`);
    w.delete(LM_HEAD);
    notes.push(`model.safetensors: ${LM_HEAD} dropped (identical to ${EMBED}; the embeddings are tied)`);
  }
  try {
    checkWeights(w, config, 'model.safetensors');
  } catch (e) {
    if (e instanceof CheckpointError && !config.tieEmbeddings && !w.has(LM_HEAD) && e.message.includes(`${LM_HEAD} is missing`)) {
      throw new ImportError(`model.safetensors: tensor ${LM_HEAD} is missing and config.json does not tie the embeddings (tie_word_embeddings is false or absent)`);
    }
    throw e;
  }
  return new Map(paramSpecs(config).map((s) => [s.name, w.get(s.name)!]));
}

function addShard(w: Map<string, HostTensor>, file: string, bytes: Uint8Array, notes: string[], expect?: Set<string>): void {
  let parsed;
  try {
    parsed = readSafetensors(bytes, { widen: true });
  } catch (e) {
    throw new ImportError(`${file}: ${(e as Error).message.replace(/^safetensors: /, '')}`);
  }
  if (parsed.widened?.length) notes.push(`${file}: ${parsed.widened.length} tensors converted from 16-bit floats to F32`);
  for (const [name, t] of parsed.tensors) {
    if (w.has(name)) throw new ImportError(`${file}: tensor ${name} is also in another shard`);
    if (expect && !expect.has(name)) throw new ImportError(`${file}: tensor ${name} is not mapped to this file by model.safetensors.index.json`);
    w.set(name, t);
  }
}

function readSharded(w: Map<string, HostTensor>, files: Map<string, Uint8Array>, indexBytes: Uint8Array, notes: string[]): void {
  const index = json('model.safetensors.index.json', indexBytes) as { weight_map?: unknown };
  const map = index?.weight_map;
  if (!map || typeof map !== 'object' || Array.isArray(map)) throw new ImportError('model.safetensors.index.json: weight_map is missing or not an object');
  const byFile = new Map<string, Set<string>>();
  for (const [tensor, file] of Object.entries(map as Record<string, unknown>)) {
    if (typeof file !== 'string') throw new ImportError(`model.safetensors.index.json: weight_map[${JSON.stringify(tensor)}] is not a file name`);
    if (!byFile.has(file)) byFile.set(file, new Set());
    byFile.get(file)!.add(tensor);
  }
  for (const [file, names] of byFile) {
    const bytes = files.get(file);
    if (!bytes) throw new ImportError(`${file} is missing (model.safetensors.index.json maps ${names.size} tensors to it)`);
    addShard(w, file, bytes, notes, names);
    for (const n of names) if (!w.has(n)) throw new ImportError(`${file}: tensor ${n} is missing (model.safetensors.index.json maps it to this file)`);
  }
  notes.push(`model.safetensors.index.json: ${byFile.size} shards merged`);
}

function readOptimizer(bytes: Uint8Array, config: ModelConfig): NonNullable<Checkpoint['optimizer']> {
  let t: Map<string, HostTensor>;
  try {
    t = readSafetensors(bytes).tensors;
  } catch (e) {
    throw new ImportError(`optimizer.safetensors: ${(e as Error).message.replace(/^safetensors: /, '')}`);
  }
  const m = new Map<string, HostTensor>(), v = new Map<string, HostTensor>();
  for (const [k, x] of t) {
    if (k.startsWith('m.')) m.set(k.slice(2), x);
    else if (k.startsWith('v.')) v.set(k.slice(2), x);
    else throw new ImportError(`optimizer.safetensors: unexpected tensor ${k} (names are m.<parameter> and v.<parameter>)`);
  }
  checkWeights(m, config, 'optimizer.safetensors (m)', { moments: true });
  checkWeights(v, config, 'optimizer.safetensors (v)', { moments: true });
  const order = (x: Map<string, HostTensor>) => new Map(paramSpecs(config).map((s) => [s.name, x.get(s.name)!]));
  return { m: order(m), v: order(v) };
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
