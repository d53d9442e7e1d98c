/**
 * Making an imported pretrained model (a Hugging Face folder with a byte-level BPE tokenizer)
 * ready for R1-Searcher training: the eight tags of recipe.md section 2 become single tokens.
 *
 * A tag the vocabulary lacks is appended as a special added token (ids V, V+1, ... of the
 * tokenizer); the embedding (and an untied output head) get one row per new id, initialized to
 * the mean of the tokenizer's existing rows (the usual choice, e.g. Hewitt 2021, "Initializing
 * new word embeddings for pretrained language models": the new tokens start as an average
 * token, so the model's outputs barely move). Padding rows beyond the tokenizer (Hub models
 * round vocab_size up) are dropped, so the vocabulary is exactly the tokenizer's, as
 * transformers' `resize_token_embeddings(len(tokenizer))` leaves it. The export keeps the tags
 * (tokenizer.json added_tokens, the resized tensors, config.json vocab_size).
 */
import type { Checkpoint } from './checkpoint.ts';
import { fromHfConfig } from './hf-config.ts';
import { checkMemoryFits, describeEstimate, estimateTrainingMemory, type TrainingShape } from '../model/memory.ts';
import type { HostTensor } from './safetensors.ts';
import { EMBED, LM_HEAD } from '../model/params.ts';
import { ByteLevelBpeTokenizer } from '../tokenizer/byte-level.ts';
import { TAGS } from '../protocol/tags.ts';

/** What addTagTokens did. */
export interface AddedTags {
  checkpoint: Checkpoint;
  /** The tags appended, in TAGS order (empty when the vocabulary had them all). */
  added: string[];
  /** One sentence per change. */
  notes: string[];
}

/**
 * Adds the missing tags to an imported model (see the file comment). The input is not mutated.
 * @throws Error when the tokenizer is not a byte-level BPE (our own tokenizers hold the tags).
 */
export function addTagTokens(ckpt: Checkpoint): AddedTags {
  const tok = ckpt.tokenizer;
  if (!(tok instanceof ByteLevelBpeTokenizer)) throw new Error('addTagTokens: only an imported byte-level BPE tokenizer can take new tokens');
  const { tokenizer, added } = tok.withAddedTokens(TAGS);
  const oldV = ckpt.config.vocabSize, used = tok.size, newV = tokenizer.size, C = ckpt.config.hiddenSize;
  if (added.length === 0 && newV === oldV) return { checkpoint: ckpt, added, notes: [] };
  const resize = (t: HostTensor): HostTensor => {
    const data = new Float32Array(newV * C);
    data.set(t.data.subarray(0, Math.min(used, newV) * C));
    // Mean of the rows the tokenizer uses (padding rows are untrained and left out).
    const mean = new Float64Array(C);
    for (let r = 0; r < used; r++) for (let c = 0; c < C; c++) mean[c] += t.data[r * C + c]!;
    for (let r = used; r < newV; r++) for (let c = 0; c < C; c++) data[r * C + c] = mean[c]! / used;
    return { shape: [newV, C], data };
  };
  const weights = new Map(ckpt.weights);
  weights.set(EMBED, resize(ckpt.weights.get(EMBED)!));
  if (!ckpt.config.tieEmbeddings) weights.set(LM_HEAD, resize(ckpt.weights.get(LM_HEAD)!));
  const notes: string[] = [];
  if (added.length) notes.push(`added ${added.length} tag tokens (${added.join(' ')}) as ids ${used}..${used + added.length - 1}, embedding rows initialized to the mean embedding`);
  if (oldV > used) notes.push(`dropped ${oldV - used} padding rows beyond the tokenizer's ${used} tokens`);
  return { checkpoint: { ...ckpt, config: { ...ckpt.config, vocabSize: newV }, tokenizer, weights, optimizer: undefined }, added, notes };
}

/**
 * What a model folder's config.json alone says before its weights are read: the parameter count
 * and training memory at `shape` (one line), and a warning with the numbers when the wasm
 * backend's 4 GiB cannot hold it.
 * @throws Error naming config.json's problem (missing, not JSON, a field we refuse).
 */
export function preflightModelFolder(files: ReadonlyMap<string, Uint8Array>, shape: TrainingShape): { summary: string; warning: string } {
  const name = [...files.keys()].find((k) => k === 'config.json' || /^[^/]+\/config\.json$/.test(k));
  if (!name) throw new Error(`config.json is missing (found: ${[...files.keys()].sort().join(', ') || 'no files'})`);
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(files.get(name)!));
  } catch (e) {
    throw new Error(`config.json is not valid JSON (${(e as Error).message})`);
  }
  const j = { ...(raw as Record<string, unknown>) };
  for (const k of ['torch_dtype', 'dtype']) if (j[k] === 'float16' || j[k] === 'bfloat16') j[k] = 'float32'; // widened on import
  const est = estimateTrainingMemory(fromHfConfig(j), shape);
  let warning = '';
  try {
    checkMemoryFits(est, { backend: 'wasm', totalBytes: 4 * 2 ** 30 });
  } catch (e) {
    warning = `${(e as Error).message} (On WebGPU the limit is the GPU's memory and buffer size.)`;
  }
  return { summary: describeEstimate(est), warning };
}
