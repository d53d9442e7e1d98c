/**
 * Stage 0: next-token pretraining of the base model (recipe.md section 11). The texts come from
 * a sampler (for the world pack: src/stage0/world-mix.ts): documents of a pretraining world, reading
 * passages whose answer tokens weigh `answerWeight` times more, and rendered prompts that show
 * the tags in trajectory order. Never search trajectories, never search-world facts.
 */
import type { Backend } from '../backend/backend.ts';
import type { TextTokenizer } from '../tokenizer/text-tokenizer.ts';
import { normalizeText } from '../protocol/normalize.ts';
import type { ModelConfig } from '../model/config.ts';
import { Llama, packSequences } from '../model/llama.ts';
import { AdamW, learningRate, validateOptimizer, type OptimizerSettings } from '../model/optimizer.ts';
import { zerosLike, type ParamSet } from '../model/params.ts';

/** One pretraining text. */
export interface PretrainSample {
  kind: string;
  text: string;
  /** Word indexes [start, end) (of the normalized text) whose tokens get `answerWeight`. */
  answerSpan?: { start: number; end: number };
  /**
   * More word ranges [start, end) weighted `answerWeight`: the follow-up queries of spliced
   * reading passages when the sampler weights them (issue 15: a name copied out of the block
   * before, a reading skill the query of a second search needs).
   */
  weightedSpans?: { start: number; end: number }[];
  /**
   * Word ranges [start, end) that are context only, never targets (weight 0): the spliced
   * document blocks of reading passages. As the retrieve mask does in RL, this keeps the base
   * from learning to write documents itself: trained on, a base wrote a document block right
   * after the prompt's `<think>` instead of a query (issue 15).
   */
  contextSpans?: { start: number; end: number }[];
}

/** A source of pretraining texts. */
export interface PretrainSampler {
  next(): PretrainSample;
}

export interface PretrainSettings {
  steps: number;
  /** Sequences per step. */
  batchSize: number;
  optimizer: OptimizerSettings;
  warmup: number;
  /** Cosine decay to this fraction of lr. */
  lrMinRatio: number;
  /** Sequences are cut to this many tokens. */
  maxLength: number;
  /** Loss weight of answer tokens in reading passages (prototype: 5). */
  answerWeight: number;
  /** Upper bound of tokens per forward/backward pass. */
  microBatchTokens: number;
}

/**
 * The settings that worked in the prototype (recipe.md section 11), for the nano preset, with
 * the shipped base's length: reading the answer out of a passage appears late (reading probe,
 * README: none at 1,000 steps, 0.64 of plain passages and 0.46 of years at 8,000), and only a base
 * that reads gives Stage 2 something to learn (issue 15). About 45 minutes on 2 cores (wasm).
 */
export function defaultPretrainSettings(): PretrainSettings {
  return {
    steps: 8000,
    batchSize: 32,
    optimizer: { lr: 3e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, gradClip: 1.0 },
    warmup: 50,
    lrMinRatio: 0.1,
    maxLength: 256,
    answerWeight: 5,
    microBatchTokens: 4096,
  };
}

export function validatePretrainSettings(s: PretrainSettings, config: ModelConfig): PretrainSettings {
  for (const k of ['steps', 'batchSize', 'maxLength', 'microBatchTokens'] as const) {
    if (!Number.isInteger(s[k]) || s[k] < 1) throw new Error(`pretrain: ${k} must be a positive integer, got ${s[k]}`);
  }
  if (!Number.isInteger(s.warmup) || s.warmup < 0) throw new Error(`pretrain: warmup must be an integer >= 0, got ${s.warmup}`);
  if (s.maxLength > config.maxPositions) throw new Error(`pretrain: maxLength ${s.maxLength} exceeds the model's maxPositions ${config.maxPositions}`);
  if (!(s.answerWeight >= 1)) throw new Error(`pretrain: answerWeight must be >= 1, got ${s.answerWeight}`);
  if (!(s.lrMinRatio > 0 && s.lrMinRatio <= 1)) throw new Error(`pretrain: lrMinRatio must be in (0, 1], got ${s.lrMinRatio}`);
  validateOptimizer(s.optimizer);
  return s;
}

/** Token ids and per-token loss weights of a sample: `<bos>` text, and `<eos>` after documents and passages. */
export function encodeSample(tok: TextTokenizer, s: PretrainSample, maxLength: number, answerWeight: number): { ids: number[]; weights: number[] } {
  const n = normalizeText(s.text);
  const perWord = tok.encodeWords(n ? n.split(' ') : []);
  const ids = [tok.bosId];
  const weights = [1];
  // The answer span counts words; a word may be several tokens (BPE), all of them weighted.
  perWord.forEach((wordIds, w) => {
    const weight = s.contextSpans?.some((c) => w >= c.start && w < c.end) ? 0
      : (s.answerSpan && w >= s.answerSpan.start && w < s.answerSpan.end) || s.weightedSpans?.some((c) => w >= c.start && w < c.end) ? answerWeight : 1;
    for (const id of wordIds) {
      ids.push(id);
      weights.push(weight);
    }
  });
  // A rendered prompt ends with an open <think>: the trajectory continues, so no <eos> after it.
  if (s.kind !== 'prompt') {
    ids.push(tok.eosId);
    weights.push(1);
  }
  return { ids: ids.slice(0, maxLength), weights: weights.slice(0, maxLength) };
}

export interface PretrainStepMetrics {
  step: number;
  /** Present (true) only when the step was skipped for a non-finite loss or gradient (weights and moments unchanged). */
  skipped?: boolean;
  /** Weighted mean negative log-likelihood per token (nats). */
  loss: number;
  lr: number;
  gradNorm: number;
  tokens: number;
  seconds: number;
}

/** Runs Stage 0 step by step. */
export class Pretrainer {
  readonly model: Llama;
  readonly optimizer: AdamW;
  readonly grads: ParamSet;
  step = 0;

  constructor(
    backend: Backend,
    readonly config: ModelConfig,
    params: ParamSet,
    readonly tokenizer: TextTokenizer,
    readonly sampler: PretrainSampler,
    readonly settings: PretrainSettings,
  ) {
    validatePretrainSettings(settings, config);
    this.model = new Llama(backend, config, params);
    this.optimizer = new AdamW(backend, config, settings.optimizer);
    this.grads = zerosLike(backend, config);
  }

  /**
   * One optimizer step on `batchSize` fresh samples. A step whose loss or gradient is not
   * finite is skipped before anything is written (the weights and moments stay as they were;
   * the metrics say `skipped: true`).
   * @throws NonFiniteError (src/model/optimizer.ts) after too many skipped steps in a row.
   */
  async runStep(): Promise<PretrainStepMetrics> {
    const t0 = performance.now(), s = this.settings, b = this.model.backend;
    const seqs = Array.from({ length: s.batchSize }, () => encodeSample(this.tokenizer, this.sampler.next(), s.maxLength, s.answerWeight));
    const totalWeight = seqs.reduce((a, q) => a + q.weights.slice(1).reduce((x, y) => x + y, 0), 0);
    const lossT = b.zeros([1]);
    let tokens = 0;
    let start = 0;
    while (start < seqs.length) {
      let end = start, n = 0;
      while (end < seqs.length && (end === start || n + seqs[end]!.ids.length <= s.microBatchTokens)) n += seqs[end++]!.ids.length;
      const micro = seqs.slice(start, end);
      // Rows of weight 0 (spliced document blocks: context, never targets) are not scored, so
      // the head's products skip them: half the rows of a spliced third run. Their gradient
      // was an exact zero, so the weights come out the same.
      const batch = packSequences(micro.map((q) => q.ids), (k, t) => micro[k]!.weights[t]! > 0);
      const w = new Float32Array(batch.lossRows.length);
      let m = 0;
      for (const q of micro) for (let t = 1; t < q.ids.length; t++) if (q.weights[t]! > 0) w[m++] = q.weights[t]! / totalWeight;
      const st = this.model.forward(batch);
      const wT = b.fromArray(w, [w.length]), dLp = b.zeros([w.length]);
      b.nllLoss(st.logProbs, wT, lossT, dLp);
      this.model.backward(st, dLp, this.grads);
      b.dispose(wT);
      b.dispose(dLp);
      tokens += batch.tokens.length;
      start = end;
    }
    const lr = learningRate(s.optimizer.lr, this.step, { warmup: s.warmup, total: s.steps, minRatio: s.lrMinRatio });
    let upd;
    try {
      upd = await this.optimizer.updateIfFinite(this.model.params, this.grads, lr, lossT);
    } catch (e) {
      throw new Error(`pretrain: step ${this.step + 1}: ${(e as Error).message}`);
    } finally {
      b.dispose(lossT);
    }
    this.step++;
    return {
      step: this.step, ...(upd.applied ? {} : { skipped: true }), loss: upd.loss, lr, gradNorm: Math.sqrt(upd.gradNormSq), tokens,
      seconds: (performance.now() - t0) / 1000,
    };
  }
}
