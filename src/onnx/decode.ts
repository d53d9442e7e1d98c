/**
 * Greedy RAG decoding over any next-token function: the page's "Run the export" check drives
 * the exported ONNX model (onnxruntime-web) with it, and compares the answer and the logits with
 * the trainer's own policy. It drives the rollout's decoding step (src/protocol/decode-step.ts:
 * stops, query extraction, document splicing) with the argmax token (lowest id on ties), which is
 * src/rl/rollout.ts at temperature 0 (evaluation's decoding), so an exact export reproduces the
 * trainer's tokens.
 *
 * A plain export runs the whole sequence at each step (fine for a nano model and a few dozen
 * tokens); a KV-cache export is fed the new tokens only (ortNextLogits).
 */
import type { Retriever } from '../search/retriever.ts';
import type { SearchHit } from '../search/search-index.ts';
import { rolloutTrace, type RolloutTrace } from '../protocol/trace.ts';
import { tagIds, type TextTokenizer } from '../tokenizer/text-tokenizer.ts';
import { spliceSearch, startSequence, stepSequence, type DecodeLimits } from '../protocol/decode-step.ts';
import { ONNX_ATTENTION_MASK, ONNX_INPUT_IDS, ONNX_LOGITS, onnxPastNames, onnxPresentNames } from './names.ts';

/** Next-token logits (V) after a sequence of token ids. */
export type NextLogits = (ids: readonly number[]) => Promise<Float32Array>;

/** A greedy rollout (its trace: ids, masks, searches, why it ended) and the first step's logits (V). */
export interface GreedyResult extends RolloutTrace {
  /** Logits after the prompt (the first decoding step), for a parity check. */
  firstLogits: Float32Array;
}

/** Index of the largest value, lowest index on ties (as `Backend.sample` at temperature 0). */
export function argmax(xs: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i]! > xs[best]!) best = i;
  return best;
}

/**
 * Decodes greedily from `prompt` (ids, BOS first), searching through `retriever` whenever a
 * query closes, within the rollout's limits `s`.
 * @throws Error when the prompt is empty or not shorter than maxLength.
 */
export async function greedyRagDecode(
  next: NextLogits, tokenizer: TextTokenizer, retriever: Retriever, prompt: readonly number[],
  s: DecodeLimits,
): Promise<GreedyResult> {
  if (prompt.length === 0 || prompt.length >= s.maxLength) throw new Error(`greedy decode: the prompt has ${prompt.length} tokens, it must be 1 to ${s.maxLength - 1}`);
  const ids = tagIds(tokenizer);
  const seq = startSequence<SearchHit>(prompt);
  let firstLogits: Float32Array | null = null;
  while (seq.finish === null) {
    const logits = await next(seq.tokens);
    firstLogits ??= logits;
    const query = stepSequence(seq, argmax(logits), 0, ids, tokenizer, s);
    if (query !== null) spliceSearch(seq, query, (await retriever.searchMany([query], s.topK))[0] ?? [], ids, tokenizer, s);
  }
  return { ...rolloutTrace(seq, seq.finish), firstLogits: firstLogits! };
}

/** The part of onnxruntime's API the check uses (the web and node builds share it). */
export interface OrtLike {
  Tensor: new (type: 'int64' | 'float32', data: BigInt64Array | Float32Array, dims: number[]) => unknown;
}
/** The part of an onnxruntime InferenceSession the check uses. */
export interface OrtSessionLike {
  readonly inputNames: readonly string[];
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown; dims: readonly number[] }>>;
}

/** Sizes of the attention cache of a KV-cache export: layers, heads, head size. */
export interface KvCacheShape {
  numLayers: number;
  numHeads: number;
  headSize: number;
}

/**
 * Next-token logits from an exported model (src/onnx/export.ts: input_ids, attention_mask ->
 * logits). A model exported with a KV cache (it has `past_key_values.0.key` among its inputs) is
 * fed only the tokens after those it has seen, with the cache of the previous call, as long as
 * each sequence extends the previous one (a decoding loop); any other sequence starts over with
 * an empty cache. `kv` gives the cache's sizes.
 * @throws Error for a KV-cache model without `kv`, and when the model has no `logits` output.
 */
export function ortNextLogits(ort: OrtLike, session: OrtSessionLike, kv?: KvCacheShape): NextLogits {
  const lastRow = (out: Record<string, { data: unknown; dims: readonly number[] }>) => {
    const logits = out[ONNX_LOGITS];
    if (!logits) throw new Error('onnx: the model has no "logits" output');
    const T = logits.dims[1]!, V = logits.dims[2]!;
    return (logits.data as Float32Array).slice((T - 1) * V, T * V);
  };
  const ids = (xs: readonly number[]) => new ort.Tensor('int64', BigInt64Array.from(xs, (x) => BigInt(x)), [1, xs.length]);
  const ones = (n: number) => new ort.Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]);
  if (!session.inputNames.includes(onnxPastNames(0).key)) {
    return async (seq) => lastRow(await session.run({ [ONNX_INPUT_IDS]: ids(seq), [ONNX_ATTENTION_MASK]: ones(seq.length) }));
  }
  if (!kv) throw new Error('onnx: the model takes a KV cache (past_key_values.*); its sizes (layers, heads, head size) are needed');
  let seen: number[] = [];
  let past: Record<string, unknown> = {};
  return async (seq) => {
    const extendsSeen = seen.length > 0 && seen.length < seq.length && seen.every((x, i) => seq[i] === x);
    if (!extendsSeen) {
      seen = [];
      past = {};
      for (let l = 0; l < kv.numLayers; l++) {
        for (const name of Object.values(onnxPastNames(l))) past[name] = new ort.Tensor('float32', new Float32Array(0), [1, kv.numHeads, 0, kv.headSize]);
      }
    }
    const out = await session.run({ [ONNX_INPUT_IDS]: ids(seq.slice(seen.length)), [ONNX_ATTENTION_MASK]: ones(seq.length), ...past });
    past = {};
    for (let l = 0; l < kv.numLayers; l++) {
      const p = onnxPastNames(l), q = onnxPresentNames(l);
      past[p.key] = out[q.key];
      past[p.value] = out[q.value];
    }
    seen = [...seq];
    return lastRow(out);
  };
}

/** Largest absolute difference between two equally long arrays. @throws RangeError on a length mismatch. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`maxAbsDiff: lengths ${a.length} and ${b.length} differ`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
