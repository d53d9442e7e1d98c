/**
 * The page's training session (src/session/training-session.ts and the tools in src/session/) and its helpers: per-token scores
 * (inspect.ts) against hand-computed softmaxes and the sampler's own log-probs, the live
 * rollout (live-rollout.ts) against the batched rollout, the evaluation sample, and save /
 * restore that continues a run bit for bit (as `train --resume` does), on the CPU backend.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.ts';
import { openPack, packTokenizer, type PackContext } from '../../src/cli/common.ts';
import type { Question } from '../../src/corpus/types.ts';
import { decodeCheckpoint, downloadParams, encodeCheckpoint, uploadParams, type Checkpoint } from '../../src/io/checkpoint.ts';
import { loadCheckpointDir } from '../../src/io/checkpoint-fs.ts';
import { validateConfig } from '../../src/model/config.ts';
import { Llama } from '../../src/model/llama.ts';
import { EMBED, initParams, LM_HEAD } from '../../src/model/params.ts';
import { ANSWER_CLOSE, DOCS_CLOSE, QUERY_CLOSE, QUERY_OPEN } from '../../src/protocol/tags.ts';
import { scoreTokens, softmaxTop } from '../../src/rl/inspect.ts';
import { LiveRollout } from '../../src/rl/live-rollout.ts';
import { generateRollouts, type RolloutSettings } from '../../src/rl/rollout.ts';
import { evaluationSample } from '../../src/session/evaluation.ts';
import { inspectRollout } from '../../src/session/inspection.ts';
import { LiveSampler } from '../../src/session/live.ts';
import { sample } from '../../src/session/samples.ts';
import { TrainingSession } from '../../src/session/training-session.ts';
import { type SettingsOverride } from '../../src/rl/settings.ts';
import { type StepMetrics } from '../../src/rl/trainer.ts';
import { slotAnswerWords } from '../../src/tokenizer/slot-words.ts';
import { getPromptPreset, renderPrompt } from '../../src/protocol/prompts.ts';
import { Rng } from '../../src/util/rng.ts';

const PACK = 'public/corpus/world';
const b = new CpuBackend();
let ctx: PackContext;
let tiny: Checkpoint;
let tinyFiles: Map<string, Uint8Array>;

beforeAll(async () => {
  ctx = await openPack(PACK);
  const tokenizer = await packTokenizer(ctx);
  const config = validateConfig({ vocabSize: tokenizer.size, hiddenSize: 16, intermediateSize: 24, numLayers: 1, numHeads: 2, maxPositions: 512, rmsEps: 1e-5, ropeTheta: 10000, tieEmbeddings: false });
  const weights = await downloadParams(b, initParams(b, config, 7));
  // A random model never writes a tag, so every reward would be 0 and no update would move a
  // weight. The embeddings and output rows below make a simple chain instead: after a word a
  // query opens or closes now and then, after <|end_of_documents|> comes </answer>. Rollouts
  // that search once then earn Stage 1's retrieval reward and the others do not.
  const C = config.hiddenSize, embed = weights.get(EMBED)!.data, head = weights.get(LM_HEAD)!.data;
  const id = (t: string) => tokenizer.id(t);
  for (let v = 0; v < config.vocabSize; v++) embed[v * C] = 1; // channel 0: "a word came last"
  embed[id(QUERY_OPEN) * C] = 0;
  embed[id(QUERY_OPEN) * C + 1] = 1; // channel 1: a query just opened (a word follows)
  embed[id(DOCS_CLOSE) * C] = 0;
  embed[id(DOCS_CLOSE) * C + 2] = 1; // channel 2: documents just ended
  head[id(QUERY_OPEN) * C] = 2;
  head[id(QUERY_CLOSE) * C] = 1.8;
  head[id(ANSWER_CLOSE) * C + 2] = 3;
  tiny = { config, tokenizer, weights };
  tinyFiles = encodeCheckpoint(tiny);
});

const reader = (files: Map<string, Uint8Array>) => async (name: string) => files.get(name) ?? null;

async function newSession(): Promise<TrainingSession> {
  const s = new TrainingSession(b);
  await s.load(reader(tinyFiles), ctx.pack.questions, ctx.retriever, 'world');
  return s;
}

/** Metrics without the wall-clock fields, which differ between any two runs. */
const stripTimes = (ms: StepMetrics[]) => ms.map(({ seconds: _s, rolloutSeconds: _r, updateSeconds: _u, ...rest }) => rest);

const SMALL: SettingsOverride = { promptsPerStep: 2, samplesPerPrompt: 3, rollout: { maxNewTokens: 8 }, reward: { retrievalReward: 'any' } };

describe('softmaxTop (the inspector\'s numbers)', () => {
  it('gives the probability of the chosen token and the top alternatives, by hand', () => {
    // Row 1 of two rows: logits 0, ln 2, ln 4, 0 -> probabilities 1/8, 2/8, 4/8, 1/8.
    const logits = Float32Array.from([9, 9, 9, 9, 0, Math.log(2), Math.log(4), 0]);
    const s = softmaxTop(logits, 4, 4, 1, 3);
    expect(s.p).toBeCloseTo(2 / 8, 6);
    expect(s.top.map((a) => a.id)).toEqual([2, 1, 0]); // ties (ids 0 and 3) keep the lower id
    expect(s.top.map((a) => a.p)).toEqual([expect.closeTo(0.5, 6), expect.closeTo(0.25, 6), expect.closeTo(0.125, 6)]);
    expect(() => softmaxTop(logits, 4, 4, 4, 3)).toThrow(/token id 4 outside \[0, 4\)/);
    expect(() => softmaxTop(logits, 6, 4, 0, 3)).toThrow(/row \[6, 10\) outside the 8 logits/);
  });

  it('scoreTokens gives a sampled token the probability the sampler recorded for it', async () => {
    const model = new Llama(b, tiny.config, uploadParams(b, tiny.weights));
    const settings: RolloutSettings = { maxNewTokens: 8, maxSearches: 1, topK: 3, docMaxWords: 40, temperature: 1, topP: 0.95, maxLength: 128 };
    const prompt = [tiny.tokenizer.bosId, ...tiny.tokenizer.encode('question : where was kreimpon born ? <think>')];
    const [r] = await generateRollouts(model, tiny.tokenizer, ctx.retriever, [prompt], 1, settings, new Rng(3));
    const scores = await scoreTokens(model, r!.tokens, r!.promptLength);
    expect(scores).toHaveLength(r!.tokens.length - r!.promptLength);
    scores.forEach((s, i) => {
      const t = r!.promptLength + i;
      if (r!.actionMask[t]) expect(s.p).toBeCloseTo(Math.exp(r!.logProbs[t]!), 5);
      expect(s.top[0]!.p).toBeGreaterThanOrEqual(s.p - 1e-7);
      expect(s.top).toHaveLength(5);
    });
    await expect(scoreTokens(model, r!.tokens, 0)).rejects.toThrow(/from must be an integer >= 1/);
  });
});

describe('evaluationSample', () => {
  it('spreads n questions over the templates, round-robin in pack order', () => {
    const q = (id: string, template: string) => ({ id, template }) as Question;
    const qs = [q('a1', 'a'), q('a2', 'a'), q('a3', 'a'), q('b1', 'b'), q('c1', 'c'), q('c2', 'c')];
    expect(evaluationSample(qs, 4).map((x) => x.id)).toEqual(['a1', 'b1', 'c1', 'a2']);
    expect(evaluationSample(qs, 5).map((x) => x.id)).toEqual(['a1', 'b1', 'c1', 'a2', 'c2']);
    expect(evaluationSample(qs, 0)).toHaveLength(6);
    expect(evaluationSample(qs, 99)).toHaveLength(6);
  });
});

describe('live rollout', () => {
  it('produces exactly the tokens, log-probs and searches of the batched rollout (nano base and a searching model)', async () => {
    const base = await loadCheckpointDir('public/models/nano-base');
    const settings: RolloutSettings = { maxNewTokens: 24, maxSearches: 2, topK: 3, docMaxWords: 20, temperature: 1, topP: 0.95, maxLength: 256 };
    let searched = 0;
    // The shipped base rarely closes a query (Stage 1 teaches that); the tiny chain model of
    // beforeAll searches now and then, so the splice path is compared too.
    for (const ck of [base, tiny]) {
      const model = new Llama(b, ck.config, uploadParams(b, ck.weights));
      const text = renderPrompt(getPromptPreset('compact'), 'Where was Kreimpon born?', new Rng(1), { answerWords: slotAnswerWords(ck.tokenizer) });
      const prompt = [ck.tokenizer.bosId, ...ck.tokenizer.encode(text)];
      for (let seed = 1; seed <= 30 && (seed <= 2 || (ck === tiny && searched === 0)); seed++) {
        const [batch] = await generateRollouts(model, ck.tokenizer, ctx.retriever, [prompt], 1, settings, new Rng(seed));
        const live = await LiveRollout.start(model, ck.tokenizer, ctx.retriever, prompt, settings, new Rng(seed));
        const steps = [];
        while (!live.done) steps.push(await live.next());
        expect(live.tokens).toEqual(batch!.tokens);
        expect(live.actionMask).toEqual(Array.from(batch!.actionMask));
        expect(live.retrieveMask).toEqual(Array.from(batch!.retrieveMask));
        expect(Float32Array.from(live.logProbs)).toEqual(batch!.logProbs);
        expect(live.finishReason).toBe(batch!.finishReason);
        expect(live.searches.map((c) => [c.query, c.start, c.end, c.hits.map((h) => h.id)])).toEqual(batch!.searches.map((c) => [c.query, c.start, c.end, c.hits.map((h) => h.id)]));
        // One step per generated token; a search is reported on the step that closed the query.
        expect(steps).toHaveLength(batch!.actionMask.reduce((n, m) => n + m, 0));
        expect(steps.filter((x) => x.search).length).toBe(batch!.searches.length);
        searched += batch!.searches.length;
        await expect(live.next()).rejects.toThrow(/already finished/);
      }
    }
    expect(searched).toBeGreaterThan(0);
  });
});

describe('training session', () => {
  it('a run saved at step 1 and restored in a new session continues bit for bit (Stage 1)', async () => {
    const straight = await newSession();
    await straight.startStage(1, SMALL, 3, 5);
    for (let i = 0; i < 3; i++) await straight.step();

    const first = await newSession();
    await first.startStage(1, SMALL, 3, 5);
    await first.step();
    const snap = await first.snapshot();
    expect(snap).toMatchObject({ stage: 1, step: 1, totalSteps: 3 });
    const p1 = first.progress();
    const resumed = await newSession();
    const summary = await resumed.restore(snap.files, p1.metrics[1], p1.rollouts);
    expect(summary.kind).toBe('run');
    expect(summary.progress).toMatchObject({ stage: 1, step: 1, totalSteps: 3, seed: 5 });
    await resumed.step();
    await resumed.step();
    await expect(resumed.step()).rejects.toThrow(/Stage 1 is complete \(3 steps\)/);

    expect(stripTimes(resumed.progress().metrics[1])).toEqual(stripTimes(straight.progress().metrics[1]));
    const [a, c] = [await straight.snapshot(), await resumed.snapshot()];
    for (const f of ['model.safetensors', 'optimizer.safetensors']) expect(Buffer.compare(a.files.get(f)!, c.files.get(f)!), f).toBe(0);
    // Rewards differed within groups and the weights moved: a test of nothing would pass too.
    expect(straight.progress().metrics[1].some((m) => m.groupsWithSpread > 0 && m.gradNorm > 0)).toBe(true);
    expect(Buffer.compare(a.files.get('model.safetensors')!, tinyFiles.get('model.safetensors')!)).not.toBe(0);
  });

  it('Stage 2 with a KL reference restores the Stage-1 policy and continues bit for bit', async () => {
    const s2: SettingsOverride = { ...SMALL, klCoef: 0.01 };
    const run = async (stopAt: number | null) => {
      let s = await newSession();
      await s.startStage(1, SMALL, 1, 5);
      await s.step();
      await s.startStage(2, s2, 2, 6);
      await s.step();
      if (stopAt !== null) {
        const snap = await s.snapshot();
        expect([...snap.files.keys()]).toContain('stage1.safetensors');
        const p = s.progress();
        s = await newSession();
        await s.restore(snap.files, [...p.metrics[1], ...p.metrics[2]], p.rollouts);
        expect(s.progress().policies).toEqual(['base', 'stage1', 'stage2']);
        expect(s.progress().metrics[1]).toHaveLength(1);
      }
      await s.step();
      return s;
    };
    const [straight, resumed] = [await run(null), await run(1)];
    expect(stripTimes(resumed.progress().metrics[2])).toEqual(stripTimes(straight.progress().metrics[2]));
    expect(straight.progress().metrics[2][0]!.kl).not.toBeNaN();
    // Stage 1 moved the weights, so a wrong KL reference (the base) would change the KL and fail above.
    expect(straight.progress().metrics[1].some((m) => m.gradNorm > 0)).toBe(true);
    const [a, c] = [await straight.snapshot(), await resumed.snapshot()];
    expect(Buffer.compare(a.files.get('model.safetensors')!, c.files.get('model.safetensors')!)).toBe(0);
  });

  it('samples, inspection and compare never draw from the trainer\'s generator', async () => {
    const quiet = await newSession();
    await quiet.startStage(1, SMALL, 2, 9);
    await quiet.step();
    await quiet.step();

    const busy = await newSession();
    await busy.startStage(1, SMALL, 2, 9);
    await busy.step();
    const result = await sample(busy, { policy: 'stage1', question: 'Where was Kreimpon born?', answers: ['Shorhy'], rollout: { maxNewTokens: 5 } });
    expect(result.parts).not.toBeNull();
    expect(result.tokenTexts.slice(0, 2)).toEqual(['<bos>', 'question']);
    await sample(busy, { policy: 'base', question: 'Where was Fygra born?', greedy: true });
    const insp = await inspectRollout(busy, 1);
    expect(insp.exact).toBe(true);
    // Under the policy that sampled the batch, a generated token's probability is the recorded one.
    const r = busy.progress().rollouts[1]!;
    insp.scores.forEach((s, i) => {
      const t = r.promptLength + i;
      if (r.actionMask[t]) expect(s.p).toBeCloseTo(Math.exp(r.logProbs[t]!), 5);
    });
    const live = new LiveSampler(busy);
    await live.start({ policy: 'stage1', question: 'Who founded Ovathi?' });
    await live.next();
    await busy.step();
    expect(stripTimes(busy.progress().metrics[1])).toEqual(stripTimes(quiet.progress().metrics[1]));
    await expect(sample(busy, { policy: 'stage2', question: 'x' })).rejects.toThrow(/no Stage-2 policy yet/);
  });

  it('refuses a checkpoint without an RL stage, a broken one, or impossible settings, and changes nothing', async () => {
    const s = await newSession();
    await s.startStage(1, SMALL, 2, 5);
    await s.step();
    const before = s.progress();
    await expect(s.restore(tinyFiles)).rejects.toThrow(/holds no RL stage to resume/);
    await expect(s.startStage(2, { ...SMALL, samplesPerPrompt: 1 }, 2, 5)).rejects.toThrow(/reinforce_baseline needs samplesPerPrompt >= 2/);
    await expect(s.startStage(1, { ...SMALL, rollout: { topK: 2, maxNewTokens: 4, foo: 1 } as never }, 2, 5)).rejects.toThrow(/unknown setting "rollout\.foo"/);
    const broken = new Map(tinyFiles);
    broken.set('config.json', new TextEncoder().encode('{"vocab_size": '));
    await expect(s.importCheckpoint(broken)).rejects.toThrow(/config\.json is not valid JSON/);
    expect(s.progress()).toEqual(before);
    // A plain model replaces the base and drops the stages.
    const summary = await s.importCheckpoint(tinyFiles);
    expect(summary.kind).toBe('base');
    expect(summary.progress).toMatchObject({ stage: null, step: 0, policies: ['base'] });
    const again = await decodeCheckpoint(reader(tinyFiles));
    expect(again.config).toEqual(tiny.config);
  });
});
