/**
 * One rollout generated one token per call, for the page's live mode: the learner clicks and
 * sees each sampled token, its probability and the alternatives, and the search that a closed
 * query triggers (recipe.md section 3). The sequence keeps its own one-slot KV cache, so a
 * click costs one decoding step, not a pass over the whole sequence.
 *
 * It follows src/rl/rollout.ts rule for rule (stops, query extraction, document splicing, one
 * uniform from `rng` per sampled token), so with the same prompt, settings and generator state
 * it produces exactly the tokens `generateRollouts` produces for one prompt and one sample
 * (tests/node/session.test.ts checks this).
 */
import type { Tensor } from '../backend/backend.ts';
import type { KVCache, Llama } from '../model/llama.ts';
import type { Retriever } from '../search/retriever.ts';
import { tagIds, type TextTokenizer } from '../tokenizer/text-tokenizer.ts';
import type { Rng } from '../util/rng.ts';
import { softmaxTop, type TokenScore } from './inspect.ts';
import { extractQuery, validateRolloutSettings, type FinishReason, type RolloutSettings, type SearchCall } from './rollout.ts';
import { formatDocuments } from './splice.ts';

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
  /** Prompt, generated tokens and spliced documents so far (T). */
  readonly tokens: number[];
  readonly promptLength: number;
  /** 1 where the policy generated the token (T). */
  readonly actionMask: number[];
  /** 0 on document tokens (T). */
  readonly retrieveMask: number[];
  /** log pi of each generated token, 0 elsewhere (T). */
  readonly logProbs: number[];
  readonly searches: SearchCall[] = [];
  finishReason: FinishReason | null = null;
  private generated = 0;
  private logits: Tensor | null = null;
  private readonly ids: { queryOpen: number; queryClose: number; docsOpen: number; docsClose: number; answerClose: number; eos: number; special: Set<number> };

  private constructor(
    private readonly model: Llama,
    private readonly tokenizer: TextTokenizer,
    private readonly retriever: Retriever,
    prompt: readonly number[],
    private readonly settings: RolloutSettings,
    private readonly rng: Rng,
    private readonly cache: KVCache,
  ) {
    this.tokens = [...prompt];
    this.promptLength = prompt.length;
    this.actionMask = prompt.map(() => 0);
    this.retrieveMask = prompt.map(() => 1);
    this.logProbs = prompt.map(() => 0);
    this.ids = tagIds(tokenizer);
  }

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

    const position = this.tokens.length;
    this.tokens.push(t);
    this.actionMask.push(1);
    this.retrieveMask.push(1);
    this.logProbs.push(logProb);
    this.generated++;
    let search: SearchCall | null = null;
    // Same stops, in the same order, as generateRollouts.
    if (t === ids.answerClose) this.finishReason = 'answer';
    else if (t === ids.eos) this.finishReason = 'eos';
    else if (this.generated >= s.maxNewTokens || this.tokens.length >= s.maxLength) this.finishReason = 'length';
    else if (t === ids.queryClose) {
      const query = extractQuery(this.tokens, this.promptLength, ids, this.tokenizer);
      if (query === '') this.finishReason = 'empty-query';
      else if (this.searches.length >= s.maxSearches) this.finishReason = 'search-limit';
      else search = await this.splice(query);
    }
    if (this.finishReason === null) this.feed(position);
    else this.model.disposeCache(this.cache);
    return { position, id: t, score, search, finishReason: this.finishReason };
  }

  /** Ends the rollout early and frees its cache (safe to call twice). */
  dispose(): void {
    if (this.logits) this.model.backend.dispose(this.logits);
    this.logits = null;
    if (this.finishReason === null) {
      this.finishReason = 'length';
      this.model.disposeCache(this.cache);
    }
  }

  /** Searches and appends the document block, or ends the rollout when it would not fit. */
  private async splice(query: string): Promise<SearchCall | null> {
    const s = this.settings, ids = this.ids;
    const hits = (await this.retriever.searchMany([query], s.topK))[0] ?? [];
    const block = [ids.docsOpen, ...this.tokenizer.encode(formatDocuments(hits, s.docMaxWords)), ids.docsClose];
    if (this.tokens.length + block.length >= s.maxLength) {
      this.finishReason = 'length';
      return null;
    }
    const start = this.tokens.length;
    for (const t of block) {
      this.tokens.push(t);
      this.actionMask.push(0);
      this.retrieveMask.push(0);
      this.logProbs.push(0);
    }
    const call: SearchCall = { query, hits, start, end: this.tokens.length };
    this.searches.push(call);
    return call;
  }

  /** Feeds tokens [from, T) into the cache and keeps the last row's logits. */
  private feed(from: number): void {
    const n = this.tokens.length - from;
    this.logits = this.model.forwardInfer(this.cache, {
      tokens: Int32Array.from(this.tokens.slice(from)),
      slots: new Int32Array(n),
      positions: Int32Array.from({ length: n }, (_, i) => from + i),
      outRows: Int32Array.of(n - 1),
    });
  }
}
