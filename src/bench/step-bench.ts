/**
 * Whole-step timings of a model preset on a backend, with random weights and tokens:
 *
 * - pretraining step (Stage 0): forward + backward over a ragged batch of `tokens` rows, every
 *   row scored, then one AdamW update of every parameter;
 * - RL step (recipe.md sections 3 and 7, without the search engine): decode `prompts x G`
 *   rollouts through the KV cache (prompts prefilled once and copied to their group's slots,
 *   then one token per rollout per call, temperature 1, top-p 0.95), then the policy update:
 *   forward + backward of the full sequences with the PPO loss on the generated tokens, AdamW.
 *
 * Each phase is timed separately (wall clock; `read` at the end of a phase makes a queued
 * backend finish). The first run of each kind is an untimed warm-up.
 */
import type { Backend, Tensor } from '../backend/backend.ts';
import { Llama, packSequences } from '../model/llama.ts';
import { initParams, paramSpecs, zerosLike, type ParamSet } from '../model/params.ts';
import type { ModelConfig } from '../model/config.ts';
import { Rng } from '../util/rng.ts';
import { profiled, type OpProfile } from './profile.ts';

/** Milliseconds of one pretraining step, by phase. */
export interface PretrainTiming {
  tokens: number;
  forwardMs: number;
  backwardMs: number;
  optimizerMs: number;
  totalMs: number;
}

/** Milliseconds of one RL step, by phase. */
export interface RlTiming {
  rollouts: number;
  generatedTokens: number;
  trainTokens: number;
  generateMs: number;
  trainMs: number;
  totalMs: number;
}

/** Shape of the RL step. Defaults follow the prototype in recipe.md section 11. */
export interface RlStepOptions {
  prompts?: number; // default 8
  samplesPerPrompt?: number; // default 8
  promptLength?: number; // default 64
  newTokens?: number; // default 48
}

/** A model with random weights and zeroed gradients and Adam moments. */
class Fixture {
  readonly params: ParamSet;
  readonly grads: ParamSet;
  readonly m: ParamSet;
  readonly v: ParamSet;
  readonly one: Tensor;
  readonly model: Llama;

  constructor(readonly backend: Backend, readonly config: ModelConfig, seed: number, modelBackend: Backend = backend) {
    this.params = initParams(backend, config, seed);
    this.grads = zerosLike(backend, config);
    this.m = zerosLike(backend, config);
    this.v = zerosLike(backend, config);
    this.one = backend.fromArray(Float32Array.of(1), [1]);
    this.model = new Llama(modelBackend, config, this.params);
  }

  /** One AdamW update of every parameter (clip factor 1), then zeroed gradients. */
  optimizerStep(step: number): void {
    const b = this.backend;
    for (const s of paramSpecs(this.config)) {
      b.adamw(this.params.get(s.name)!, this.grads.get(s.name)!, this.m.get(s.name)!, this.v.get(s.name)!, this.one,
        { lr: 1e-4, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, step });
      b.fill(this.grads.get(s.name)!, 0);
    }
  }

  dispose(): void {
    for (const set of [this.params, this.grads, this.m, this.v]) for (const t of set.values()) this.backend.dispose(t);
    this.backend.dispose(this.one);
  }
}

/** Random sequences of `len` tokens adding up to about `tokens` rows. */
function randomSequences(rng: Rng, V: number, tokens: number, len: number): number[][] {
  const n = Math.max(1, Math.round(tokens / (len - 1)));
  return Array.from({ length: n }, () => Array.from({ length: len }, () => rng.int(V)));
}

async function pretrainOnce(f: Fixture, seqs: number[][], step: number): Promise<PretrainTiming> {
  const b = f.backend;
  const batch = packSequences(seqs, () => true);
  const M = batch.lossRows.length;
  const t0 = performance.now();
  const st = f.model.forward(batch);
  await b.read(st.logProbs);
  const t1 = performance.now();
  const weights = b.fromArray(new Float32Array(M).fill(1 / M), [M]), loss = b.zeros([1]), dLp = b.zeros([M]);
  b.nllLoss(st.logProbs, weights, loss, dLp);
  f.model.backward(st, dLp, f.grads);
  await b.read(f.grads.get(paramSpecs(f.config)[0]!.name)!);
  const t2 = performance.now();
  f.optimizerStep(step);
  await b.read(f.params.get(paramSpecs(f.config)[0]!.name)!);
  const t3 = performance.now();
  for (const t of [weights, loss, dLp]) b.dispose(t);
  return { tokens: batch.tokens.length, forwardMs: t1 - t0, backwardMs: t2 - t1, optimizerMs: t3 - t2, totalMs: t3 - t0 };
}

/**
 * Times pretraining steps of about `tokens` rows (sequences of `seqLen` tokens): one warm-up
 * step, then the median of `reps` steps by total time. With `profile`, the last step's time
 * per backend op is added to it. The warm-up is full size unless `smallWarmup` (a backend with
 * its own memory, like wasm, must also touch its grown memory once: fresh pages fault on first
 * use, which costs ~30% of a cold step).
 */
export async function benchPretrainStep(
  backend: Backend, config: ModelConfig,
  opts: { tokens?: number; seqLen?: number; reps?: number; profile?: OpProfile; smallWarmup?: boolean } = {},
): Promise<PretrainTiming> {
  const { tokens = 4096, seqLen = 257, reps = 3 } = opts;
  const rng = new Rng(1);
  const seqs = randomSequences(rng, config.vocabSize, tokens, seqLen);
  const warm = new Fixture(backend, config, 1);
  await pretrainOnce(warm, opts.smallWarmup ? seqs.slice(0, Math.max(1, seqs.length >> 2)) : seqs, 1);
  warm.dispose();
  const runs: PretrainTiming[] = [];
  for (let r = 0; r < reps; r++) {
    const last = r === reps - 1 && opts.profile;
    const f = new Fixture(backend, config, 2 + r, last ? profiled(backend, opts.profile!) : backend);
    runs.push(await pretrainOnce(f, seqs, 1));
    f.dispose();
  }
  runs.sort((a, b) => a.totalMs - b.totalMs);
  return runs[runs.length >> 1]!;
}

async function rlOnce(f: Fixture, o: Required<RlStepOptions>, rng: Rng): Promise<RlTiming> {
  const b = f.backend, model = f.model, V = f.config.vocabSize, G = o.samplesPerPrompt;
  const slots = o.prompts * G, maxLen = o.promptLength + o.newTokens;
  const prompts = Array.from({ length: o.prompts }, () => Array.from({ length: o.promptLength }, () => rng.int(V)));
  const seqs: number[][] = prompts.flatMap((p) => Array.from({ length: G }, () => [...p]));
  const t0 = performance.now();
  // ---- generation
  const cache = model.createCache(slots, maxLen);
  const P = o.promptLength;
  let logits = model.forwardInfer(cache, {
    tokens: Int32Array.from(prompts.flat()),
    slots: Int32Array.from({ length: o.prompts * P }, (_, i) => Math.floor(i / P) * G),
    positions: Int32Array.from({ length: o.prompts * P }, (_, i) => i % P),
    outRows: Int32Array.from({ length: o.prompts }, (_, i) => i * P + P - 1),
  });
  for (let i = 0; i < o.prompts; i++) for (let g = 1; g < G; g++) model.copyCacheSlot(cache, i * G, i * G + g, P);
  const rowOf = b.fromArray(Int32Array.from({ length: slots }, (_, s) => Math.floor(s / G)), [slots]);
  const expanded = b.zeros([slots, V]);
  b.gatherRows(logits, rowOf, expanded);
  b.dispose(logits);
  b.dispose(rowOf);
  logits = expanded;
  const oldLogProbs: number[] = [];
  const slotIds = Int32Array.from({ length: slots }, (_, s) => s);
  for (let t = 0; t < o.newTokens; t++) {
    const u = b.fromArray(Float32Array.from({ length: slots }, () => rng.next()), [slots]);
    const tok = b.zeros([slots], 'i32'), lp = b.zeros([slots]);
    b.sample(logits, u, tok, lp, { temperature: 1, topP: 0.95 });
    const next = (await b.read(tok)) as Int32Array, lps = (await b.read(lp)) as Float32Array;
    for (const x of [u, tok, lp, logits]) b.dispose(x);
    next.forEach((x, s) => { seqs[s]!.push(x); oldLogProbs.push(lps[s]!); });
    if (t === o.newTokens - 1) break;
    logits = model.forwardInfer(cache, { tokens: next, slots: slotIds, positions: new Int32Array(slots).fill(P + t), outRows: slotIds });
  }
  model.disposeCache(cache);
  const t1 = performance.now();
  // ---- policy update: PPO loss on the generated tokens (recipe.md section 7)
  const batch = packSequences(seqs, (_s, t) => t >= P);
  const M = batch.lossRows.length;
  const st = model.forward(batch);
  const old = b.fromArray(Float32Array.from({ length: M }, () => -Math.log(V) + 0.1 * rng.normal()), [M]);
  const adv = b.fromArray(Float32Array.from({ length: M }, () => rng.normal()), [M]);
  const w = b.fromArray(new Float32Array(M).fill(1 / M), [M]);
  const loss = b.zeros([1]), dLp = b.zeros([M]), stats = b.zeros([1]);
  b.policyLoss(st.logProbs, old, adv, w, 0.2, loss, dLp, stats);
  model.backward(st, dLp, f.grads);
  f.optimizerStep(1);
  await b.read(loss);
  const t2 = performance.now();
  for (const x of [old, adv, w, loss, dLp, stats]) b.dispose(x);
  return {
    rollouts: slots, generatedTokens: slots * o.newTokens, trainTokens: batch.tokens.length,
    generateMs: t1 - t0, trainMs: t2 - t1, totalMs: t2 - t0,
  };
}

/**
 * Times RL steps: one warm-up step (full size unless `smallWarmup`), then the median of
 * `reps` steps by total time.
 */
export async function benchRlStep(
  backend: Backend, config: ModelConfig, opts: RlStepOptions & { reps?: number; smallWarmup?: boolean } = {},
): Promise<RlTiming> {
  const o: Required<RlStepOptions> = {
    prompts: opts.prompts ?? 8, samplesPerPrompt: opts.samplesPerPrompt ?? 8,
    promptLength: opts.promptLength ?? 64, newTokens: opts.newTokens ?? 48,
  };
  if (o.promptLength + o.newTokens > config.maxPositions) throw new Error(`bench: prompt + new tokens exceed maxPositions ${config.maxPositions}`);
  const rng = new Rng(3);
  const warm = new Fixture(backend, config, 1);
  await rlOnce(warm, opts.smallWarmup ? { ...o, newTokens: Math.min(4, o.newTokens) } : o, rng);
  warm.dispose();
  const runs: RlTiming[] = [];
  for (let r = 0; r < (opts.reps ?? 3); r++) {
    const f = new Fixture(backend, config, 5 + r);
    runs.push(await rlOnce(f, o, rng));
    f.dispose();
  }
  runs.sort((a, b) => a.totalMs - b.totalMs);
  return runs[runs.length >> 1]!;
}
