/**
 * Model-level parity: one full training step (forward, clipped policy loss, backward, gradient
 * clipping and AdamW) and KV-cache decoding, run on two backends from the same weights.
 * Shapes are the tiny test model's, made awkward (C = 18, H = 3, D = 6, F = 26, V = 43).
 */
import type { Backend } from '../../src/backend/backend.ts';
import type { ModelConfig } from '../../src/model/config.ts';
import { Llama, packSequences, type InferBatch } from '../../src/model/llama.ts';
import { AdamW, DEFAULT_OPTIMIZER } from '../../src/model/optimizer.ts';
import { paramSpecs, zerosLike, type ParamSet } from '../../src/model/params.ts';
import { Rng } from '../../src/util/rng.ts';
import type { Outputs } from './kernel-cases.ts';

export const AWKWARD_CONFIG: ModelConfig = {
  vocabSize: 43, hiddenSize: 18, intermediateSize: 26, numLayers: 2, numHeads: 3, maxPositions: 64,
  rmsEps: 1e-5, ropeTheta: 10000, tieEmbeddings: true,
};

export const TINY_UNTIED_CONFIG: ModelConfig = {
  vocabSize: 41, hiddenSize: 16, intermediateSize: 24, numLayers: 2, numHeads: 2, maxPositions: 64,
  rmsEps: 1e-5, ropeTheta: 10000, tieEmbeddings: false,
};

/**
 * An imported Hugging Face shape (issue 19): grouped-query attention (4 query heads, 2 kv
 * heads), head size 8 != C/H = 5, q/k/v/o biases and Llama 3 RoPE scaling, untied.
 */
export const IMPORTED_CONFIG: ModelConfig = {
  vocabSize: 39, hiddenSize: 20, intermediateSize: 28, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 8, maxPositions: 64,
  rmsEps: 1e-5, ropeTheta: 100, tieEmbeddings: false, attentionBias: 'qkvo',
  ropeScaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 128 },
};

/** Weights with more spread than a fresh model's (std `std`, norms 1 +- 0.1), so every path carries signal. */
export function hostWeights(c: ModelConfig, seed: number, std: number): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const out = new Map<string, Float32Array>();
  for (const s of paramSpecs(c)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = s.init === 'ones' ? 1 + 0.1 * rng.normal() : std * rng.normal();
    out.set(s.name, a);
  }
  return out;
}

export function upload(b: Backend, c: ModelConfig, w: Map<string, Float32Array>): ParamSet {
  const p: ParamSet = new Map();
  for (const s of paramSpecs(c)) p.set(s.name, b.fromArray(w.get(s.name)!, s.shape));
  return p;
}

/** The host-side inputs of one RL training step. */
export interface StepInputs {
  seqs: number[][];
  scored: boolean[][];
  oldLogProbs: Float32Array;
  advantages: Float32Array;
  weights: Float32Array;
}

export function stepInputs(c: ModelConfig, seed: number, lengths: number[]): Omit<StepInputs, 'oldLogProbs'> {
  const rng = new Rng(seed);
  const seqs = lengths.map((L) => Array.from({ length: L }, () => rng.int(c.vocabSize)));
  const scored = lengths.map((L) => Array.from({ length: L }, (_, t) => t > 0 && rng.next() < 0.75));
  const M = scored.flat().filter(Boolean).length;
  const advantages = new Float32Array(M).map(() => rng.normal());
  const weights = new Float32Array(M).fill(1 / M);
  return { seqs, scored, advantages, weights };
}

/**
 * One training step on `b`: forward, policy loss against `oldLogProbs` (defaults to the step's
 * own log-probs plus `oldNoise`), backward, AdamW with clipping. Returns every output, the
 * log-probs first (the caller feeds the first backend's into the second run).
 */
export async function trainingStep(
  b: Backend, c: ModelConfig, w: Map<string, Float32Array>, inp: Omit<StepInputs, 'oldLogProbs'>, old: Float32Array | null,
): Promise<{ outputs: Outputs; logProbs: Float32Array }> {
  const params = upload(b, c, w);
  const grads = zerosLike(b, c);
  const model = new Llama(b, c, params);
  const batch = packSequences(inp.seqs, (s, t) => inp.scored[s]![t]!);
  const st = model.forward(batch);
  const logProbs = (await b.read(st.logProbs)) as Float32Array;
  const M = logProbs.length;
  const oldLp = old ?? logProbs.map((x, i) => x + 0.2 * Math.sin(3 * i));
  const oldT = b.fromArray(oldLp, [M]), advT = b.fromArray(inp.advantages, [M]), wT = b.fromArray(inp.weights, [M]);
  const loss = b.zeros([1]), clip = b.zeros([1]), dLp = b.zeros([M]);
  b.policyLoss(st.logProbs, oldT, advT, wT, 0.2, loss, dLp, clip);
  const dLogProbs = await b.read(dLp);
  model.backward(st, dLp, grads);
  const outputs: Outputs = { logProbs, dLogProbs, loss: await b.read(loss), clipFraction: await b.read(clip) };
  for (const [name, g] of grads) outputs[`grad ${name}`] = await b.read(g);
  const opt = new AdamW(b, c, { ...DEFAULT_OPTIMIZER, lr: 1e-2, weightDecay: 0.01, gradClip: 0.5 });
  const normSq = opt.update(params, grads, 1e-2);
  outputs['grad norm^2'] = await b.read(normSq);
  for (const [name, p] of params) outputs[`updated ${name}`] = await b.read(p);
  for (const t of [oldT, advT, wT, loss, clip, dLp, ...params.values(), ...grads.values(), ...opt.m.values(), ...opt.v.values()]) b.dispose(t);
  return { outputs, logProbs: oldLp };
}

/**
 * Batched KV-cache decoding of `steps` tokens for each prompt: prefill all prompts in one
 * call, then one row per sequence per call. Temperature 0 is greedy; otherwise the uniforms
 * come from Rng(`seed`). Returns the generated ids (per prompt, in order) and the prefill logits.
 */
export async function generate(
  b: Backend, c: ModelConfig, w: Map<string, Float32Array>, prompts: number[][], steps: number,
  temperature: number, topP: number, seed: number,
): Promise<{ ids: Int32Array; prefillLogits: Float32Array; logProbs: Float32Array }> {
  const params = upload(b, c, w);
  const model = new Llama(b, c, params);
  const S = prompts.length;
  const cache = model.createCache(S, Math.max(...prompts.map((p) => p.length)) + steps);
  const rng = new Rng(seed);
  const seqs = prompts.map((p) => [...p]);
  const ids = new Int32Array(S * steps), lps = new Float32Array(S * steps);
  let batch: InferBatch = {
    tokens: Int32Array.from(prompts.flat()),
    slots: Int32Array.from(prompts.flatMap((p, s) => p.map(() => s))),
    positions: Int32Array.from(prompts.flatMap((p) => p.map((_, t) => t))),
    outRows: new Int32Array(S),
  };
  let row = 0;
  prompts.forEach((p, s) => { row += p.length; batch.outRows[s] = row - 1; });
  let prefillLogits: Float32Array = new Float32Array(0);
  for (let step = 0; step < steps; step++) {
    const logits = model.forwardInfer(cache, batch);
    if (step === 0) prefillLogits = (await b.read(logits)) as Float32Array;
    const u = b.fromArray(new Float32Array(S).map(() => rng.next()), [S]);
    const tok = b.zeros([S], 'i32'), lp = b.zeros([S]);
    b.sample(logits, u, tok, lp, { temperature, topP });
    const t = (await b.read(tok)) as Int32Array, l = (await b.read(lp)) as Float32Array;
    for (const x of [logits, u, tok, lp]) b.dispose(x);
    for (let s = 0; s < S; s++) {
      ids[s * steps + step] = t[s]!;
      lps[s * steps + step] = l[s]!;
      seqs[s]!.push(t[s]!);
    }
    batch = {
      tokens: Int32Array.from(t), slots: Int32Array.from({ length: S }, (_, s) => s),
      positions: Int32Array.from(seqs.map((q) => q.length - 1)), outRows: Int32Array.from({ length: S }, (_, s) => s),
    };
  }
  model.disposeCache(cache);
  for (const p of params.values()) b.dispose(p);
  return { ids, prefillLogits, logProbs: lps };
}
