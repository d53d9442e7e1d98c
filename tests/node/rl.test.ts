/**
 * RL machinery: REINFORCE++ advantages against hand-computed values, retrieve masking, the RAG
 * rollout loop with a scripted policy, and one real policy update.
 */
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.ts';
import type { Tensor } from '../../src/backend/backend.ts';
import { Llama, packSequences, type InferBatch, type KVCache } from '../../src/model/llama.ts';
import { validateConfig, type ModelConfig } from '../../src/model/config.ts';
import { initParams, zerosLike, type ParamSet } from '../../src/model/params.ts';
import { AdamW } from '../../src/model/optimizer.ts';
import { computeAdvantages, shapeRewards } from '../../src/rl/advantages.ts';
import { generateRollouts, type RolloutSettings } from '../../src/rl/rollout.ts';
import { policyUpdate, microBatches } from '../../src/rl/policy-update.ts';
import { trainingMasks } from '../../src/rl/trainer.ts';
import type { Retriever } from '../../src/search/retriever.ts';
import type { SearchHit } from '../../src/search/search-index.ts';
import { Tokenizer } from '../../src/tokenizer/tokenizer.ts';
import * as T from '../../src/protocol/tags.ts';
import { Rng } from '../../src/util/rng.ts';

const b = new CpuBackend();
const u8 = (xs: number[]) => Uint8Array.from(xs);

describe('advantages (recipe.md section 7)', () => {
  it('shapes outcome rewards per group for each estimator', () => {
    const r = [1, 0, 0, 0, 0.5, 0.5];
    const g = [0, 0, 0, 0, 1, 1];
    expect(shapeRewards(r, g, 'reinforce')).toEqual(r);
    expect(shapeRewards(r, g, 'reinforce_baseline')).toEqual([0.75, -0.25, -0.25, -0.25, 0, 0]);
    // group 0: mean .25, unbiased std sqrt(.75/3) = .5
    const gn = shapeRewards(r, g, 'group_norm');
    expect(gn[0]).toBeCloseTo(1.5, 6);
    expect(gn[1]).toBeCloseTo(-0.5, 6);
    expect(gn[4]).toBe(0);
    expect(() => shapeRewards(r, g, 'ppo' as never)).toThrow(/unknown advantageEstimator "ppo"/);
  });

  it('returns, KL token rewards, retrieve mask and batch whitening by hand', () => {
    // Rollout A: prompt(2) gen gen [doc doc] gen ; rollout B: prompt(2) gen gen. One group.
    const a = { group: 0, reward: 1, actionMask: u8([0, 0, 1, 1, 0, 0, 1]), retrieveMask: u8([1, 1, 1, 1, 0, 0, 1]), kl: Float32Array.from([0, 0, 0.1, 0.2, 9, 9, 0.3]) };
    const bb = { group: 0, reward: 0, actionMask: u8([0, 0, 1, 1]), retrieveMask: u8([1, 1, 1, 1]), kl: Float32Array.from([0, 0, 0, 0.4]) };
    const [oa, ob] = computeAdvantages([a, bb], 'reinforce', 0.5);
    // Token rewards A: -.05, -.1, (doc ignored), -.15 + 1 = .85 -> returns .7, .75, 0, 0, .85
    expect(Array.from(oa!.returns).map((x) => +x.toFixed(6))).toEqual([0, 0, 0.7, 0.75, 0, 0, 0.85]);
    // B: 0, -.2 -> returns -.2, -.2
    expect(Array.from(ob!.returns).map((x) => +x.toFixed(6))).toEqual([0, 0, -0.2, -0.2]);
    // Whitening over the 5 loss tokens.
    const vals = [0.7, 0.75, 0.85, -0.2, -0.2];
    const mean = vals.reduce((s, v) => s + v, 0) / 5;
    const std = Math.sqrt(vals.reduce((s, v) => s + (v - mean) ** 2, 0) / 5);
    expect(oa!.advantages[2]).toBeCloseTo((0.7 - mean) / std, 5);
    expect(oa!.advantages[4]).toBe(0); // document token: no advantage
    expect(oa!.advantages[5]).toBe(0);
    expect(ob!.advantages[3]).toBeCloseTo((-0.2 - mean) / std, 5);
    // group_norm is not whitened again.
    const [gA] = computeAdvantages([{ ...a, kl: undefined }, { ...bb, kl: undefined }], 'group_norm', 0);
    // rewards [1, 0]: mean .5, unbiased std sqrt(.5) -> (1 - .5) / .7071 on every loss token of A.
    expect(gA!.advantages[6]).toBeCloseTo(0.5 / Math.SQRT1_2, 5);
    expect(gA!.advantages[2]).toBeCloseTo(0.5 / Math.SQRT1_2, 5);
    expect(() => computeAdvantages([{ ...a, kl: undefined }], 'reinforce', 0.1)).toThrow(/no kl/);
  });

  it('the ablation with the retrieve mask off trains on document tokens', () => {
    const rollout = {
      group: 0, tokens: [1, 2, 3, 4, 5, 6], promptLength: 2, actionMask: u8([0, 0, 1, 0, 0, 1]), retrieveMask: u8([1, 1, 1, 0, 0, 1]),
      logProbs: new Float32Array(6), searches: [], finishReason: 'answer' as const,
    };
    expect(Array.from(trainingMasks(rollout, true).loss)).toEqual([0, 0, 1, 0, 0, 1]);
    expect(Array.from(trainingMasks(rollout, false).loss)).toEqual([0, 0, 1, 1, 1, 1]);
  });
});

describe('policy update', () => {
  const cfg: ModelConfig = validateConfig({ vocabSize: 20, hiddenSize: 8, intermediateSize: 12, numLayers: 1, numHeads: 2, maxPositions: 32, rmsEps: 1e-5, ropeTheta: 10000, tieEmbeddings: true });

  it('document tokens get no gradient: the update equals the loss over non-document tokens only', async () => {
    const rng = new Rng(3);
    const tokens = Array.from({ length: 10 }, () => rng.int(20));
    const lossMask = u8([0, 0, 1, 1, 0, 0, 0, 1, 1, 0]); // positions 4-6 are a document block
    const adv = Float32Array.from(tokens.map(() => rng.normal()));
    const seq = { tokens, lossMask, advantages: adv, oldLogProbs: new Float32Array(10) };
    // oldLogProbs = current log-probs, so the ratio is 1 and the gradient is -A/n dlogp.
    const model = new Llama(b, cfg, initParams(b, cfg, 1));
    const st = model.forward(packSequences([tokens], (_s, t) => lossMask[t] === 1));
    const lp = b.view(st.logProbs) as Float32Array;
    let m = 0;
    for (let t = 1; t < 10; t++) if (lossMask[t]) seq.oldLogProbs[t] = lp[m++]!;
    model.release(st);
    const grads = zerosLike(b, cfg);
    // Take the gradient out before the optimizer consumes it: lr tiny, read grads via a spy optimizer.
    let captured: ParamSet | null = null;
    const spy = { updateIfFinite: async (_p: ParamSet, g: ParamSet) => { captured = new Map([...g].map(([k, v]) => [k, b.fromArray((b.view(v) as Float32Array).slice(), v.shape)])); return { applied: true, gradNormSq: 0, loss: 0, extra: [0] }; } } as unknown as AdamW;
    await policyUpdate(model, spy, grads, [seq], 1e-3, { clipEps: 0.2, miniBatches: 1, microBatchTokens: 64, lossAggregation: 'token-mean' }, rng);
    // Reference: weighted NLL with weights A_t / 4 on the four loss tokens.
    const refGrads = zerosLike(b, cfg);
    const st2 = model.forward(packSequences([tokens], (_s, t) => lossMask[t] === 1));
    const w = b.fromArray(Float32Array.from([2, 3, 7, 8].map((t) => adv[t]! / 4)), [4]);
    const loss = b.zeros([1]), dLp = b.zeros([4]);
    b.nllLoss(st2.logProbs, w, loss, dLp);
    model.backward(st2, dLp, refGrads);
    for (const [name, g] of refGrads) {
      const got = b.view(captured!.get(name)!) as Float32Array, want = b.view(g) as Float32Array;
      want.forEach((x, i) => expect(got[i]).toBeCloseTo(x, 5));
    }
  });

  it('one real update lowers the loss of rewarded tokens (advantage > 0)', async () => {
    const rng = new Rng(4);
    const model = new Llama(b, cfg, initParams(b, cfg, 2));
    const tokens = [1, 5, 6, 7, 8];
    const lossMask = u8([0, 0, 1, 1, 1]);
    const score = () => {
      const st = model.forward(packSequences([tokens], (_s, t) => lossMask[t] === 1));
      const s = (b.view(st.logProbs) as Float32Array).reduce((a, x) => a + x, 0);
      model.release(st);
      return s;
    };
    const before = score();
    const opt = new AdamW(b, cfg, { lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, gradClip: 1 });
    const seq = { tokens, lossMask, advantages: Float32Array.from([0, 0, 1, 1, 1]), oldLogProbs: new Float32Array(5) };
    const st = model.forward(packSequences([tokens], (_s, t) => lossMask[t] === 1));
    (b.view(st.logProbs) as Float32Array).forEach((x, i) => (seq.oldLogProbs[i + 2] = x));
    model.release(st);
    const stats = await policyUpdate(model, opt, zerosLike(b, cfg), [seq], 1e-2, { clipEps: 0.2, miniBatches: 1, microBatchTokens: 64, lossAggregation: 'sequence-mean' }, rng);
    expect(stats.loss).toBeCloseTo(-1, 5); // -mean(r A) with r = 1, A = 1
    expect(score()).toBeGreaterThan(before);
  });

  it('splits micro-batches by token budget', () => {
    expect(microBatches([0, 1, 2, 3], (i) => [5, 5, 20, 1][i]!, 10)).toEqual([[0, 1], [2], [3]]);
  });
});

describe('RAG rollout loop (recipe.md section 3) with a scripted policy', () => {
  const words = ['aldric', 'born', 'kovar', 'none', '(', ')', '1', '2', ':', 'was', 'in', 'question'];
  const tok = Tokenizer.fromWords(words);
  const cfg: ModelConfig = validateConfig({ vocabSize: tok.size, hiddenSize: 8, intermediateSize: 8, numLayers: 1, numHeads: 2, maxPositions: 96, rmsEps: 1e-5, ropeTheta: 10000, tieEmbeddings: true });
  const id = (w: string) => tok.id(w);
  // Next token as a function of the last token fed: the script of a perfect searcher.
  const script = new Map<number, number>([
    [id(T.THINK_OPEN), id(T.QUERY_OPEN)], [id(T.QUERY_OPEN), id('aldric')], [id('aldric'), id('born')], [id('born'), id(T.QUERY_CLOSE)],
    [id(T.DOCS_CLOSE), id(T.THINK_CLOSE)], [id(T.THINK_CLOSE), id(T.ANSWER_OPEN)], [id(T.ANSWER_OPEN), id('kovar')], [id('kovar'), id(T.ANSWER_CLOSE)],
  ]);
  class ScriptedLlama extends Llama {
    fed: number[][] = [];
    override forwardInfer(_cache: KVCache, batch: InferBatch): Tensor {
      this.fed.push(Array.from(batch.tokens));
      const M = batch.outRows.length, V = this.V, logits = new Float32Array(M * V);
      batch.outRows.forEach((row, m) => { logits[m * V + (script.get(batch.tokens[row]!) ?? id(T.EOS))] = 30; });
      return this.backend.fromArray(logits, [M, V]);
    }
  }
  const hit: SearchHit = { id: 'd1', title: 'Aldric', text: 'Aldric was born in Kovar in 1873 and more words here', score: 3 };
  const queries: string[] = [];
  const retriever: Retriever = {
    search: async (q) => (queries.push(q), [hit]),
    searchMany: async (qs) => qs.map((q) => (queries.push(q), q === 'aldric born' ? [hit] : [])),
  };
  const settings: RolloutSettings = { maxNewTokens: 20, maxSearches: 2, topK: 3, docMaxWords: 4, temperature: 1, topP: 0.95, maxLength: 96 };

  it('pauses at the query, splices masked documents, resumes, stops at </answer>', async () => {
    const model = new ScriptedLlama(b, cfg, initParams(b, cfg, 1));
    const prompt = tok.encode('question : aldric born <think>');
    const [r, r2] = await generateRollouts(model, tok, retriever, [prompt], 2, settings, new Rng(1));
    expect(queries).toEqual(['aldric born', 'aldric born']);
    const completion = tok.decode(r!.tokens.slice(r!.promptLength));
    expect(completion).toBe(
      `${T.QUERY_OPEN} aldric born ${T.QUERY_CLOSE} ${T.DOCS_OPEN} ( 1 ) aldric : aldric was born in ${T.DOCS_CLOSE} ${T.THINK_CLOSE} ${T.ANSWER_OPEN} kovar ${T.ANSWER_CLOSE}`,
    );
    expect(r!.finishReason).toBe('answer');
    expect(r2!.tokens).toEqual(r!.tokens);
    const gen = r!.tokens.map((_, t) => t >= r!.promptLength);
    const [s] = r!.searches;
    expect(s!.query).toBe('aldric born');
    // Documents: retrieve mask 0 from <|begin_of_documents|> through <|end_of_documents|>, not actions.
    r!.tokens.forEach((t, i) => {
      const inDocs = i >= s!.start && i < s!.end;
      expect(r!.retrieveMask[i]).toBe(inDocs ? 0 : 1);
      expect(r!.actionMask[i]).toBe(gen[i] && !inDocs ? 1 : 0);
      if (r!.actionMask[i]) expect(r!.logProbs[i]).toBeGreaterThan(-1e-6 - 1e-9 * t);
    });
    expect(r!.tokens[s!.start]).toBe(id(T.DOCS_OPEN));
    expect(r!.tokens[s!.end - 1]).toBe(id(T.DOCS_CLOSE));
    expect(r!.tokens[s!.start - 1]).toBe(id(T.QUERY_CLOSE)); // <|end_of_query|> stays an action
    // The prompt was prefilled once for both samples; the document block was fed with the query close.
    expect(model.fed[0]).toEqual(prompt);
    expect(model.fed.some((f) => f.length === 2 * (s!.end - s!.start + 1))).toBe(true);
  });

  it('ends on an empty query and on the search limit', async () => {
    const emptyScript = new Map(script);
    emptyScript.set(id(T.QUERY_OPEN), id(T.QUERY_CLOSE));
    class EmptyQuery extends ScriptedLlama {
      override forwardInfer(c: KVCache, batch: InferBatch): Tensor {
        const M = batch.outRows.length, V = this.V, logits = new Float32Array(M * V);
        batch.outRows.forEach((row, m) => { logits[m * V + (emptyScript.get(batch.tokens[row]!) ?? id(T.EOS))] = 30; });
        void c;
        return this.backend.fromArray(logits, [M, V]);
      }
    }
    const [e] = await generateRollouts(new EmptyQuery(b, cfg, initParams(b, cfg, 1)), tok, retriever, [tok.encode('question <think>')], 1, settings, new Rng(2));
    expect(e!.finishReason).toBe('empty-query');
    expect(e!.searches).toHaveLength(0);
    const [l] = await generateRollouts(new ScriptedLlama(b, cfg, initParams(b, cfg, 1)), tok, retriever, [tok.encode('question <think>')], 1, { ...settings, maxSearches: 0 }, new Rng(2));
    expect(l!.finishReason).toBe('search-limit');
  });

  it('refuses impossible settings with the setting named', async () => {
    const model = new ScriptedLlama(b, cfg, initParams(b, cfg, 1));
    await expect(generateRollouts(model, tok, retriever, [[1, 2]], 0, settings, new Rng(1))).rejects.toThrow(/samplesPerPrompt/);
    await expect(generateRollouts(model, tok, retriever, [[1, 2]], 1, { ...settings, topP: 0 }, new Rng(1))).rejects.toThrow(/topP/);
    await expect(generateRollouts(model, tok, retriever, [[1, 2]], 1, { ...settings, maxLength: 1000 }, new Rng(1))).rejects.toThrow(/maxPositions/);
  });
});
