/**
 * One rollout generated one token per call, for the page's live mode: the learner clicks and
 * sees each sampled token, its probability and the alternatives, and the search that a closed
 * query triggers (recipe.md section 3). The sequence keeps its own one-slot KV cache, so a
 * click costs one decoding step, not a pass over the whole sequence.
 *
 * It drives the same decoding step as src/rl/rollout.ts (src/protocol/decode-step.ts: stops, query
 * extraction, document splicing) with one uniform from `rng` per sampled token, so with the same
 * prompt, settings and generator state it produces exactly the tokens `generateRollouts`
 * produces for one prompt and one sample (tests/node/session.test.ts checks this).
 */
import type { Tensor } from '../backend/backend.ts';
import type { KVCache, Llama } from '../model/llama.ts';
import type { Retriever } from '../search/retriever.ts';
import { spliceSearch, startSequence, stepSequence, type DecodeSequence, type TagIds } from '../protocol/decode-step.ts';
import type { SearchHit } from '../search/search-index.ts';
import { tagIds, type TextTokenizer } from '../tokenizer/text-tokenizer.ts';
import type { Rng } from '../util/rng.ts';
import { softmaxTop, type TokenScore } from './inspect.ts';
import { validateRolloutSettings, type FinishReason, type RolloutSettings, type SearchCall } from './rollout.ts';

/** What one call of {@link LiveRollout.next} did. */
export interface LiveStep {
  /** Position of the sampled token in the sequence. */
  position: number;
  /** The sampled token id. */
  id: number;
  /** Its probability (exp of the sampler's log-prob, temperature 1) and the top alternatives. */
  score: TokenScore;
  /** The search this token triggered (it closed a query), with the spliced block's range. */
  search: SearchCall | null;
  /** Why the rollout ended with this token; null while it goes on. */
  finishReason: FinishReason | null;
}

/** A rollout in progress, one token per {@link LiveRollout.next} call (see the file comment). */
export class LiveRollout {
  /** The sequence so far: tokens (T), masks, log-probs, searches, finish reason. */
  private readonly seq: DecodeSequence<SearchHit>;
  private logits: Tensor | null = null;
  private readonly ids: TagIds;

  private constructor(
    private readonly model: Llama,
    private readonly tokenizer: TextTokenizer,
    private readonly retriever: Retriever,
    prompt: readonly number[],
    private readonly settings: RolloutSettings,
    private readonly rng: Rng,
    private readonly cache: KVCache,
  ) {
    this.seq = startSequence<SearchHit>(prompt);
    this.ids = tagIds(tokenizer);
  }

  /** Prompt, generated tokens and spliced documents so far (T). */
  get tokens(): readonly number[] { return this.seq.tokens; }
  get promptLength(): number { return this.seq.promptLength; }
  /** 1 where the policy generated the token (T). */
  get actionMask(): readonly number[] { return this.seq.actionMask; }
  /** 0 on document tokens (T). */
  get retrieveMask(): readonly number[] { return this.seq.retrieveMask; }
  /** log pi of each generated token, 0 elsewhere (T). */
  get logProbs(): readonly number[] { return this.seq.logProbs; }
  get searches(): readonly SearchCall[] { return this.seq.searches; }
  /** Why the rollout ended; null while it goes on. */
  get finishReason(): FinishReason | null { return this.seq.finish; }

  /**
   * Prefills `prompt` (token ids, BOS first) and returns a rollout ready for its first token.
   * @throws Error for invalid settings, an empty prompt or one of maxLength tokens or more.
   */
  static async start(model: Llama, tokenizer: TextTokenizer, retriever: Retriever, prompt: readonly number[], settings: RolloutSettings, rng: Rng): Promise<LiveRollout> {
    validateRolloutSettings(settings, model.config.maxPositions);
    if (prompt.length === 0) throw new Error('live rollout: the prompt is empty');
    if (prompt.length >= settings.maxLength) throw new Error(`live rollout: the prompt has ${prompt.length} tokens, maxLength is ${settings.maxLength}`);
    const live = new LiveRollout(model, tokenizer, retriever, prompt, settings, rng, model.createCache(1, settings.maxLength));
    live.feed(0);
    return live;
  }

  /** Whether the rollout has ended (then `next` throws). */
  get done(): boolean {
    return this.finishReason !== null;
  }

  /**
   * Samples the next token; if it closes a query, runs the search and splices the documents
   * (masked: actionMask 0, retrieveMask 0). Frees the cache once the rollout ends.
   * @throws Error when the rollout has already ended.
   */
  async next(topN = 5): Promise<LiveStep> {
    if (this.finishReason !== null || !this.logits) throw new Error(`live rollout: already finished (${this.finishReason})`);
    const b = this.model.backend, s = this.settings, ids = this.ids;
    const uniforms = b.fromArray(Float32Array.of(this.rng.next()), [1]);
    const tok = b.zeros([1], 'i32'), lp = b.zeros([1]);
    b.sample(this.logits, uniforms, tok, lp, { temperature: s.temperature, topP: s.topP });
    const t = ((await b.read(tok)) as Int32Array)[0]!;
    const logProb = ((await b.read(lp)) as Float32Array)[0]!;
    const score = softmaxTop((await b.read(this.logits)) as Float32Array, 0, this.model.V, t, topN);
    score.p = Math.exp(logProb); // the sampler's own number, exactly what training records
    for (const x of [uniforms, tok, lp, this.logits]) b.dispose(x);
    this.logits = null;

    const position = this.seq.tokens.length;
    const query = stepSequence(this.seq, t, logProb, ids, this.tokenizer, s);
    let search: SearchCall | null = null;
    if (query !== null) {
      const hits = (await this.retriever.searchMany([query], s.topK))[0] ?? [];
      search = spliceSearch(this.seq, query, hits, ids, this.tokenizer, s);
    }
    if (this.seq.finish === null) this.feed(position);
    else this.model.disposeCache(this.cache);
    return { position, id: t, score, search, finishReason: this.seq.finish };
  }

  /** Ends the rollout early and frees its cache (safe to call twice). */
  dispose(): void {
    if (this.logits) this.model.backend.dispose(this.logits);
    this.logits = null;
    if (this.seq.finish === null) {
      this.seq.finish = 'length';
      this.model.disposeCache(this.cache);
    }
  }

  /** Feeds tokens [from, T) into the cache and keeps the last row's logits. */
  private feed(from: number): void {
    const n = this.seq.tokens.length - from;
    this.logits = this.model.forwardInfer(this.cache, {
      tokens: Int32Array.from(this.seq.tokens.slice(from)),
      slots: new Int32Array(n),
      positions: Int32Array.from({ length: n }, (_, i) => from + i),
      outRows: Int32Array.of(n - 1),
    });
  }
}
