/**
 * The checkpoint folder: what a Hugging Face `LlamaForCausalLM` loads, plus our trainer's
 * state in separate files so that a run resumes exactly.
 *
 * - `config.json`, `generation_config.json`, `model.safetensors`, `tokenizer.json`: the model;
 * - `optimizer.safetensors` (`m.<name>`, `v.<name>`) and `trainer_state.json`: the trainer;
 * - `metrics.jsonl`, `rollouts.json`: what the run reported (written by the runner).
 *
 * Encoding and decoding work on bytes (browser and Node alike); checkpoint-fs.ts reads and
 * writes folders in Node. Every file is validated on load and errors name the file and field.
 */
import type { Backend } from '../backend/backend.ts';
import type { ModelConfig } from '../model/config.ts';
import { paramSpecs, type ParamSet } from '../model/params.ts';
import { type TextTokenizer } from '../tokenizer/text-tokenizer.ts';
import { tokenizerFromHuggingFace } from '../tokenizer/from-hugging-face.ts';
import type { RngState } from '../util/rng.ts';
import { fromHfConfig, specialIdsOf, toHfConfig } from './hf-config.ts';
import { readSafetensors, writeSafetensors, type HostTensor } from './safetensors.ts';

/** Our trainer's state (trainer_state.json). */
export interface TrainerState {
  format: 'r1s-trainer-state';
  version: 1;
  /** 0 = pretraining (Stage 0), 1 and 2 = the RL stages. */
  stage: 0 | 1 | 2;
  /** Steps done in this stage. */
  step: number;
  /** Steps planned for this stage (the learning-rate schedule depends on it). */
  totalSteps: number;
  seed: number;
  rngState: RngState;
  /** AdamW updates applied (bias correction). */
  optimizerStep: number;
  /** The stage's settings, as given. */
  settings: unknown;
  /** Pack the run trains on (name), and preset. */
  pack: string;
  /** SHA-256 of the pack's manifest.json when the run was saved (its identity; absent in older checkpoints). */
  packSha256?: string;
  preset: string;
  /** Checkpoint the stage started from (its reference policy); "" for a fresh model. */
  init: string;
  /** Stages this model went through, oldest first. */
  lineage: { stage: 0 | 1 | 2; steps: number; pack: string }[];
  /** Wall time spent in this stage so far, seconds. */
  elapsedSeconds: number;
  /**
   * RL with questionSampling 'learnability' or 'failure-rate': per template, the estimated share
   * of reward earned (src/rl/question-sampler.ts), so a resumed run draws the questions it would
   * have drawn.
   */
  templateSuccess?: Record<string, number>;
}

/** A checkpoint in host memory. */
export interface Checkpoint {
  config: ModelConfig;
  tokenizer: TextTokenizer;
  /** Parameters by Hugging Face name, in paramSpecs order. */
  weights: Map<string, HostTensor>;
  optimizer?: { m: Map<string, HostTensor>; v: Map<string, HostTensor> };
  state?: TrainerState;
}

export class CheckpointError extends Error {
  constructor(message: string) {
    super(`checkpoint: ${message}`);
    this.name = 'CheckpointError';
  }
}

/** The files of a checkpoint (name -> bytes). */
export function encodeCheckpoint(c: Checkpoint): Map<string, Uint8Array> {
  checkWeights(c.weights, c.config, 'model.safetensors');
  const enc = new TextEncoder();
  const json = (x: unknown) => enc.encode(`${JSON.stringify(x, null, 2)}\n`);
  const tok = c.tokenizer;
  const files = new Map<string, Uint8Array>();
  files.set('config.json', json(toHfConfig(c.config, { bos: tok.bosId, eos: tok.eosId, pad: tok.padId })));
  files.set('generation_config.json', json({ bos_token_id: tok.bosId, eos_token_id: tok.eosId, pad_token_id: tok.padId, do_sample: true, temperature: 1.0, top_p: 0.95 }));
  files.set('model.safetensors', writeSafetensors(orderedWeights(c.weights, c.config), { format: 'pt' }));
  files.set('tokenizer.json', json(tok.toHuggingFace()));
  if (c.optimizer) {
    checkWeights(c.optimizer.m, c.config, 'optimizer.safetensors (m)', { moments: true });
    checkWeights(c.optimizer.v, c.config, 'optimizer.safetensors (v)', { moments: true });
    const entries: [string, HostTensor][] = [];
    for (const s of paramSpecs(c.config)) entries.push([`m.${s.name}`, c.optimizer.m.get(s.name)!], [`v.${s.name}`, c.optimizer.v.get(s.name)!]);
    files.set('optimizer.safetensors', writeSafetensors(entries));
  }
  if (c.state) files.set('trainer_state.json', json(c.state));
  return files;
}

/**
 * Reads a checkpoint through `read(name)` (null for a missing file). The model files are
 * required; optimizer and trainer state are read when present, unless `modelOnly`.
 * @throws CheckpointError naming the file and the field or tensor.
 */
export async function decodeCheckpoint(read: (name: string) => Promise<Uint8Array | null>, opts: { modelOnly?: boolean } = {}): Promise<Checkpoint> {
  const need = async (name: string) => {
    const b = await read(name);
    if (!b) throw new CheckpointError(`${name} is missing`);
    return b;
  };
  const parse = (name: string, bytes: Uint8Array) => {
    try {
      return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown;
    } catch (e) {
      throw new CheckpointError(`${name} is not valid JSON (${(e as Error).message})`);
    }
  };
  let config: ModelConfig;
  const rawConfig = parse('config.json', await need('config.json'));
  try {
    config = fromHfConfig(rawConfig);
  } catch (e) {
    throw e instanceof CheckpointError ? e : new CheckpointError((e as Error).message);
  }
  let tokenizer: TextTokenizer;
  try {
    // An imported model's byte-level tokenizer takes its bos/eos/pad ids from config.json.
    tokenizer = tokenizerFromHuggingFace(parse('tokenizer.json', await need('tokenizer.json')), specialIdsOf(rawConfig));
  } catch (e) {
    throw e instanceof CheckpointError ? e : new CheckpointError((e as Error).message);
  }
  if (tokenizer.size !== config.vocabSize) throw new CheckpointError(`tokenizer.json has ${tokenizer.size} tokens but config.json vocab_size is ${config.vocabSize}`);
  const model = safe('model.safetensors', async () => readSafetensors(await need('model.safetensors')));
  const w = (await model).tensors;
  checkWeights(w, config, 'model.safetensors');
  const out: Checkpoint = { config, tokenizer, weights: orderedWeights(w, config) };
  if (opts.modelOnly) return out;
  const optBytes = await read('optimizer.safetensors');
  if (optBytes) {
    const t = (await safe('optimizer.safetensors', async () => readSafetensors(optBytes))).tensors;
    const m = new Map<string, HostTensor>(), v = new Map<string, HostTensor>();
    for (const [k, x] of t) {
      if (k.startsWith('m.')) m.set(k.slice(2), x);
      else if (k.startsWith('v.')) v.set(k.slice(2), x);
      else throw new CheckpointError(`optimizer.safetensors: unexpected tensor ${k}`);
    }
    checkWeights(m, config, 'optimizer.safetensors (m)', { moments: true });
    checkWeights(v, config, 'optimizer.safetensors (v)', { moments: true });
    out.optimizer = { m, v };
  }
  const stateBytes = await read('trainer_state.json');
  if (stateBytes) out.state = checkState(parse('trainer_state.json', stateBytes));
  return out;
}

async function safe<T>(file: string, f: () => Promise<T> | T): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw new CheckpointError(`${file}: ${(e as Error).message.replace(/^safetensors: /, '')}`);
  }
}

/**
 * Largest magnitude a model weight may have: the float16 maximum. Every half-precision
 * checkpoint fits by construction, trained weights are orders of magnitude smaller, and a
 * forward pass through larger ones overflows float32 (e.g. 3e38 weights give NaN logits).
 */
export const MAX_ABS_WEIGHT = 65504;

/**
 * Throws unless `w` holds exactly the tensors of the config with the right shapes, every value
 * finite, and (for model weights, not optimizer moments: `moments`) every |value| <= {@link MAX_ABS_WEIGHT}.
 * @throws CheckpointError naming the file, the tensor and the first bad element.
 */
export function checkWeights(w: ReadonlyMap<string, HostTensor>, config: ModelConfig, file: string, opts: { moments?: boolean } = {}): void {
  const specs = paramSpecs(config);
  const names = new Set(specs.map((s) => s.name));
  const limit = opts.moments ? Infinity : MAX_ABS_WEIGHT;
  for (const s of specs) {
    const t = w.get(s.name);
    if (!t) throw new CheckpointError(`${file}: tensor ${s.name} is missing`);
    if (t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i])) {
      throw new CheckpointError(`${file}: tensor ${s.name} has shape [${t.shape.join(', ')}], config.json implies [${s.shape.join(', ')}]`);
    }
    const d = t.data;
    for (let i = 0; i < d.length; i++) {
      const x = d[i]!;
      // One comparison for the common case; NaN fails it too.
      if (!(x <= limit && x >= -limit)) {
        const what = Number.isNaN(x) ? 'NaN' : !Number.isFinite(x) ? String(x) : `${x} (beyond +-${MAX_ABS_WEIGHT}: a forward pass would overflow)`;
        throw new CheckpointError(`${file}: tensor ${s.name} holds ${what} at element ${i}; refused`);
      }
    }
  }
  for (const k of w.keys()) {
    if (!names.has(k)) throw new CheckpointError(`${file}: unexpected tensor ${k}${k === 'lm_head.weight' && config.tieEmbeddings ? ' (config.json ties the embeddings)' : ''}`);
  }
}

function orderedWeights(w: ReadonlyMap<string, HostTensor>, config: ModelConfig): Map<string, HostTensor> {
  return new Map(paramSpecs(config).map((s) => [s.name, w.get(s.name)!]));
}

/** Validates a parsed trainer_state.json. @throws CheckpointError naming the field. */
export function checkState(x: unknown): TrainerState {
  const s = x as Partial<TrainerState> | null;
  if (!s || typeof s !== 'object') throw new CheckpointError('trainer_state.json is not an object');
  if (s.format !== 'r1s-trainer-state' || s.version !== 1) throw new CheckpointError('trainer_state.json: format must be "r1s-trainer-state" version 1');
  if (s.stage !== 0 && s.stage !== 1 && s.stage !== 2) throw new CheckpointError(`trainer_state.json: stage must be 0, 1 or 2, got ${JSON.stringify(s.stage)}`);
  for (const k of ['step', 'totalSteps', 'seed', 'optimizerStep'] as const) {
    if (!Number.isInteger(s[k]) || (s[k] as number) < 0) throw new CheckpointError(`trainer_state.json: ${k} must be a non-negative integer`);
  }
  if (s.step! > s.totalSteps!) throw new CheckpointError(`trainer_state.json: step ${s.step} is beyond totalSteps ${s.totalSteps}`);
  if (!Array.isArray(s.rngState) || s.rngState.length !== 4 || s.rngState.some((x) => !Number.isInteger(x) || x < 0 || x > 0xffffffff)) {
    throw new CheckpointError(`trainer_state.json: rngState must be four unsigned 32-bit integers, got ${JSON.stringify(s.rngState)}`);
  }
  // xoshiro128** never leaves the all-zero state: every draw would be 0 (identical rollouts).
  if (s.rngState.every((x) => x === 0)) throw new CheckpointError('trainer_state.json: rngState is all zero, a state the generator never reaches (every draw would be 0); the file was altered');
  if (s.packSha256 !== undefined && (typeof s.packSha256 !== 'string' || !/^[0-9a-f]{64}$/.test(s.packSha256))) {
    throw new CheckpointError('trainer_state.json: packSha256 must be 64 lowercase hex digits when present');
  }
  if (!Array.isArray(s.lineage)) throw new CheckpointError('trainer_state.json: lineage must be a list');
  if (s.templateSuccess !== undefined) {
    const t = s.templateSuccess as unknown;
    if (!t || typeof t !== 'object' || Array.isArray(t)) throw new CheckpointError('trainer_state.json: templateSuccess must be an object of template -> number when present');
    for (const [k, v] of Object.entries(t)) {
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new CheckpointError(`trainer_state.json: templateSuccess.${k} must be a number in [0, 1], got ${JSON.stringify(v)}`);
    }
  }
  return s as TrainerState;
}

/** Uploads host weights to a backend. */
export function uploadParams(backend: Backend, w: ReadonlyMap<string, HostTensor>): ParamSet {
  const out: ParamSet = new Map();
  for (const [k, t] of w) out.set(k, backend.fromArray(t.data, t.shape));
  return out;
}

/** Copies a backend's parameters (or moments) to the host. */
export async function downloadParams(backend: Backend, p: ParamSet): Promise<Map<string, HostTensor>> {
  const out = new Map<string, HostTensor>();
  for (const [k, t] of p) out.set(k, { shape: [...t.shape], data: (await backend.read(t)) as Float32Array });
  return out;
}
