/**
 * The RAG-based rollout (recipe.md section 3), batched over prompts and samples.
 *
 * Every sequence decodes in its own KV-cache slot. A prompt is prefilled once and its cache
 * copied to the G slots of its samples. Each decoding step feeds every active sequence the
 * tokens it has not fed yet: normally the one token just sampled, and after a sequence closes
 * a query, that `<|end_of_query|>` together with the spliced document block. The documents'
 * tokens are marked retrieveMask 0 (never trained on, never in the KL), and actionMask 0
 * (the policy did not produce them).
 *
 * The stop rules, the query extraction and the splice are src/protocol/decode-step.ts, shared with
 * the live view and the ONNX check; this file drives them over a batch and a KV cache.
 */
import type { Backend } from '../backend/backend.ts';
import type { KVCache, Llama } from '../model/llama.ts';
import type { Retriever } from '../search/retriever.ts';
import type { SearchHit } from '../search/search-index.ts';
import { tagIds, type TextTokenizer } from '../tokenizer/text-tokenizer.ts';
import type { Rng } from '../util/rng.ts';
import {
  spliceSearch, startSequence, stepSequence, type DecodeLimits, type DecodeSequence, type FinishReason, type SearchCall as DecodeSearchCall, type TagIds,
} from '../protocol/decode-step.ts';

/** Settings of a rollout batch: the decode limits and the sampler's. */
export interface RolloutSettings extends DecodeLimits {
  /** Sampling temperature; 0 = greedy (evaluation). */
  temperature: number;
  /** Nucleus mass (paper: 0.95 in training). */
  topP: number;
}

/** One search call inside a rollout, with the search engine's hits. */
export type SearchCall = DecodeSearchCall<SearchHit>;

export type { FinishReason };

/** One finished rollout. Arrays are indexed by token position (T = tokens.length). */
export interface Rollout {
  /** Index of its prompt in the batch (its group for the baseline). */
  group: number;
  /** Prompt, generated tokens and spliced documents, in order (T). */
  tokens: number[];
  /** Number of prompt tokens. */
  promptLength: number;
  /** 1 where the policy generated the token (T). */
  actionMask: Uint8Array;
  /** 0 on the tokens of document blocks, 1 elsewhere (T). */
  retrieveMask: Uint8Array;
  /** log pi_old of each generated token, 0 elsewhere (T), from the sampling pass at temperature 1. */
  logProbs: Float32Array;
  searches: SearchCall[];
  finishReason: FinishReason;
}

/** Throws naming the first impossible setting. */
export function validateRolloutSettings(s: RolloutSettings, maxPositions: number): RolloutSettings {
  const posInt = (k: keyof RolloutSettings) => {
    if (!Number.isInteger(s[k]) || (s[k] as number) < 1) throw new Error(`rollout: ${k} must be a positive integer, got ${s[k]}`);
  };
  (['maxNewTokens', 'topK', 'maxLength'] as const).forEach(posInt);
  if (!Number.isInteger(s.maxSearches) || s.maxSearches < 0) throw new Error(`rollout: maxSearches must be an integer >= 0, got ${s.maxSearches}`);
  if (!Number.isInteger(s.docMaxWords) || s.docMaxWords < 1) throw new Error(`rollout: docMaxWords must be a positive integer, got ${s.docMaxWords}`);
  if (!(s.temperature >= 0)) throw new Error(`rollout: temperature must be >= 0, got ${s.temperature}`);
  if (!(s.topP > 0 && s.topP <= 1)) throw new Error(`rollout: topP must be in (0, 1], got ${s.topP}`);
  if (s.maxLength > maxPositions) throw new Error(`rollout: maxLength ${s.maxLength} exceeds the model's maxPositions ${maxPositions}`);
  return s;
}

/** A sequence being decoded in slot `i` of the batch's KV cache. */
interface Slot extends DecodeSequence<SearchHit> {
  group: number;
  /** Tokens already in the KV cache. */
  fed: number;
}

/**
 * Generates `samplesPerPrompt` rollouts for each prompt (token ids), searching through
 * `retriever` whenever a sequence closes a query. Rollouts come back ordered by prompt, then
 * sample. Uniforms for sampling come from `rng`, so a seeded call is reproducible.
 */
export async function generateRollouts(
  model: Llama, tokenizer: TextTokenizer, retriever: Retriever, prompts: readonly number[][], samplesPerPrompt: number,
  settings: RolloutSettings, rng: Rng,
): Promise<Rollout[]> {
  validateRolloutSettings(settings, model.config.maxPositions);
  if (!Number.isInteger(samplesPerPrompt) || samplesPerPrompt < 1) throw new Error(`rollout: samplesPerPrompt must be a positive integer, got ${samplesPerPrompt}`);
  const b = model.backend, G = samplesPerPrompt, ids = tagIds(tokenizer);
  prompts.forEach((p, i) => {
    if (p.length === 0) throw new Error(`rollout: prompt ${i} is empty`);
    if (p.length >= settings.maxLength) throw new Error(`rollout: prompt ${i} has ${p.length} tokens, maxLength is ${settings.maxLength}`);
  });
  const slots: Slot[] = [];
  prompts.forEach((p, group) => {
    for (let g = 0; g < G; g++) {
      slots.push({ ...startSequence<SearchHit>(p), group, fed: p.length });
    }
  });
  const cache = model.createCache(slots.length, settings.maxLength);
  try {
    // Prefill each prompt once, then share its cache with the group's other slots.
    const prefill = packChunks(prompts.map((p, i) => ({ slot: i * G, tokens: p, start: 0 })));
    let logits = model.forwardInfer(cache, prefill);
    for (let i = 0; i < prompts.length; i++) for (let g = 1; g < G; g++) model.copyCacheSlot(cache, i * G, i * G + g, prompts[i]!.length);
    // Every slot samples from its prompt's last row.
    const rowOf = b.fromArray(Int32Array.from(slots, (s) => s.group), [slots.length]);
    const expanded = b.zeros([slots.length, model.V]);
    b.gatherRows(logits, rowOf, expanded);
    b.dispose(logits);
    b.dispose(rowOf);
    logits = expanded;
    let active = slots.map((_, i) => i);
    for (;;) {
      const { tokens, logProbs } = await sampleRows(b, logits, active.length, settings, rng);
      b.dispose(logits);
      const wantSearch: { slot: Slot; query: string }[] = [];
      active.forEach((si, r) => {
        const query = stepSequence(slots[si]!, tokens[r]!, logProbs[r]!, ids, tokenizer, settings);
        if (query !== null) wantSearch.push({ slot: slots[si]!, query });
      });
      if (wantSearch.length > 0) await spliceSearches(wantSearch, retriever, tokenizer, ids, settings);
      active = active.filter((i) => slots[i]!.finish === null);
      if (active.length === 0) break;
      const batch = packChunks(active.map((i) => ({ slot: i, tokens: slots[i]!.tokens.slice(slots[i]!.fed), start: slots[i]!.fed })));
      logits = model.forwardInfer(cache, batch);
      for (const i of active) slots[i]!.fed = slots[i]!.tokens.length;
    }
  } finally {
    model.disposeCache(cache);
  }
  return slots.map((s) => ({
    group: s.group,
    tokens: s.tokens,
    promptLength: s.promptLength,
    actionMask: Uint8Array.from(s.actionMask),
    retrieveMask: Uint8Array.from(s.retrieveMask),
    logProbs: Float32Array.from(s.logProbs),
    searches: s.searches,
    finishReason: s.finish!,
  }));
}

/** Draws one token per logits row; returns host copies of the ids and their log-probs. */
async function sampleRows(b: Backend, logits: ReturnType<Backend['zeros']>, rows: number, s: RolloutSettings, rng: Rng) {
  const u = new Float32Array(rows);
  for (let i = 0; i < rows; i++) u[i] = rng.next();
  const uniforms = b.fromArray(u, [rows]);
  const tok = b.zeros([rows], 'i32'), lp = b.zeros([rows]);
  b.sample(logits, uniforms, tok, lp, { temperature: s.temperature, topP: s.topP });
  const [tokens, logProbs] = [(await b.read(tok)) as Int32Array, (await b.read(lp)) as Float32Array];
  for (const t of [uniforms, tok, lp]) b.dispose(t);
  // Non-finite logits (NaN or overflowing weights or activations) leave no token to draw (-1)
  // or a non-finite log-probability: stop here with that cause, not at the next embedding.
  for (let i = 0; i < rows; i++) {
    if (tokens[i]! < 0 || !Number.isFinite(logProbs[i]!)) {
      throw new Error(`rollout: the policy's logits are not finite (row ${i} of ${rows}: drew token ${tokens[i]}, log-probability ${logProbs[i]}); the weights or activations hold NaN or overflow`);
    }
  }
  return { tokens, logProbs };
}

/** Runs the searches of the sequences that just closed a query (one batch) and splices each one's documents. */
async function spliceSearches(
  pending: { slot: Slot; query: string }[], retriever: Retriever, tokenizer: TextTokenizer, ids: TagIds, settings: RolloutSettings,
): Promise<void> {
  const results = await retriever.searchMany(pending.map((p) => p.query), settings.topK, pending.map((p) => p.slot.group));
  pending.forEach((p, i) => spliceSearch(p.slot, p.query, results[i] ?? [], ids, tokenizer, settings));
}

/** A ragged inference batch from per-slot chunks; the last row of each chunk is returned. */
function packChunks(chunks: { slot: number; tokens: readonly number[]; start: number }[]) {
  const N = chunks.reduce((n, c) => n + c.tokens.length, 0);
  const tokens = new Int32Array(N), slots = new Int32Array(N), positions = new Int32Array(N), outRows = new Int32Array(chunks.length);
  let n = 0;
  chunks.forEach((c, i) => {
    for (let j = 0; j < c.tokens.length; j++, n++) {
      tokens[n] = c.tokens[j]!;
      slots[n] = c.slot;
      positions[n] = c.start + j;
    }
    outRows[i] = n - 1;
  });
  return { tokens, slots, positions, outRows };
}

export type { KVCache };
