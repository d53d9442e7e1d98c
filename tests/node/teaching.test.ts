/**
 * What the teaching page builds on, in Node: the rollout history (bounded, first and latest kept,
 * thinned on a doubling grid), F16 weights (bit patterns by hand, round trip through the
 * reader), the shipped run's rollouts file, per-stage settings in the URL, the cycle diagram's
 * token parts, and the session: greedy answers repeat whatever the seed, and a shipped run's
 * policies answer without a stage running.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run as shippedRunCmd } from '../../src/cli/commands/shipped-run.ts';
import { saveCheckpointDir } from '../../src/io/checkpoint-fs.ts';
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.ts';
import { openPack, packTokenizer } from '../../src/cli/common.ts';
import { downloadParams, encodeCheckpoint } from '../../src/io/checkpoint.ts';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors.ts';
import { validateConfig } from '../../src/model/config.ts';
import { initParams } from '../../src/model/params.ts';
import { keepStep, pickGroups, type KeptStep } from '../../src/session/rollout-history.ts';
import { TrainingSession } from '../../src/session/training-session.ts';
import { mergeSettings } from '../../src/rl/settings.ts';
import { exportPolicyZip } from '../../src/session/export.ts';
import { sample } from '../../src/session/samples.ts';
import { checkShippedManifest, decodeShippedRollouts, encodeShippedRollouts, parseMetricsJsonl, SHIPPED_RUN_FILES } from '../../src/session/shipped-run.ts';
import { type RolloutRecord } from '../../src/rl/trainer.ts';
import { defaultRlSettings } from '../../src/rl/settings.ts';
import { litBoxes, tokenParts } from '../../src/ui/cycle-parts.ts';
import { tokenRows } from '../../src/ui/token-rows.ts';
import { DEFAULT_PAGE_CONFIG, readPageConfig, stageOverride, stageValue, withStageValue, writePageConfig } from '../../src/ui/url-config.ts';

const rec = (group: number, reward: number, extra: Partial<RolloutRecord> = {}): RolloutRecord => ({
  questionId: 'q', question: 'q?', answers: ['a'], template: 't', hops: 1, group, prompt: 'p', completion: 'c', reward,
  parts: {} as RolloutRecord['parts'], shapedReward: 0, searches: [], finishReason: 'answer', tokens: [1, 2], promptLength: 1,
  actionMask: [0, 1], retrieveMask: [1, 1], logProbs: [0, -0.123456789], advantages: [0, 0.987654321], ...extra,
});

describe('rollout history', () => {
  it('keeps at most `limit` steps per stage: the first, the latest, and a doubling grid between', () => {
    let h: KeptStep[] = [];
    for (let step = 1; step <= 20; step++) h = keepStep(h, { stage: 1, step, rollouts: [] }, 4);
    const steps = h.map((x) => x.step);
    expect(steps.length).toBeLessThanOrEqual(4);
    expect(steps[0]).toBe(1);
    expect(steps.at(-1)).toBe(20);
    // The grid: stride 8 after 20 steps (1, 9, 17), plus the latest.
    expect(steps).toEqual([1, 9, 17, 20]);
    // Another stage is kept apart; a restarted stage drops its later steps.
    h = keepStep(h, { stage: 2, step: 1, rollouts: [] }, 4);
    expect(h.filter((x) => x.stage === 1).length).toBe(4);
    h = keepStep(h, { stage: 1, step: 1, rollouts: [] }, 4);
    expect(h.filter((x) => x.stage === 1).map((x) => x.step)).toEqual([1]);
    expect(() => keepStep([], { stage: 1, step: 1, rollouts: [] }, 1)).toThrow(/at least 2/);
  });

  it('pickGroups keeps whole groups, those whose rewards differ first', () => {
    const batch = [rec(0, 1), rec(0, 1), rec(1, 0), rec(1, 1), rec(2, 0.5), rec(2, 0)];
    expect(pickGroups(batch, 2).map((r) => [r.group, r.reward])).toEqual([[1, 0], [1, 1], [2, 0.5], [2, 0]]);
    expect(pickGroups(batch, 5).length).toBe(6);
  });

  it('the shipped rollouts file round-trips (per-token floats to 4 decimals), gzip or plain JSON', () => {
    const h: KeptStep[] = [{ stage: 1, step: 3, rollouts: [rec(0, 1)] }];
    const bytes = encodeShippedRollouts(h);
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
    const back = decodeShippedRollouts(bytes);
    expect(back[0]!.rollouts[0]!.logProbs).toEqual([0, -0.1235]);
    expect(back[0]!.rollouts[0]!.advantages).toEqual([0, 0.9877]);
    expect(decodeShippedRollouts(new TextEncoder().encode(JSON.stringify(back)))).toEqual(back);
    expect(() => decodeShippedRollouts(new TextEncoder().encode('{"a":1}'))).toThrow(/rollouts.json.gz: expected a list/);
  });
});

describe('F16 safetensors', () => {
  it('rounds to the nearest half float (ties to even, subnormals) and reads back exactly', () => {
    const values = [1, -2, 65504, 1 / 3, 2 ** -24, 2 ** -25 * 1.5, 2 ** -26, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 0, -0.0001];
    const bytes = writeSafetensors([['x', { shape: [values.length], data: Float32Array.from(values) }]], undefined, { dtype: 'F16' });
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true)))));
    expect(header.x.dtype).toBe('F16');
    const got = [...readSafetensors(bytes, { widen: true }).tensors.get('x')!.data];
    // 1/3 -> 0x3555 = 0.333251953125; 1.5 * 2^-25 rounds up to 2^-24; 2^-26 to 0;
    // 1 + 2^-11 is a tie -> 1 (even); 1 + 3 * 2^-11 is a tie -> 1 + 2^-9 (even); -0.0001 -> 0x868e = -(1 + 654/1024) 2^-14.
    expect(got).toEqual([1, -2, 65504, 0.333251953125, 2 ** -24, 2 ** -24, 0, 1, 1 + 2 ** -9, 0, -(1 + 654 / 1024) * 2 ** -14]);
    expect(() => writeSafetensors([['big', { shape: [1], data: Float32Array.of(70000) }]], undefined, { dtype: 'F16' })).toThrow(/big: value 70000 at 0 does not fit in F16/);
  });
});

describe('per-stage settings in the URL', () => {
  it('a stage-prefixed key sets one stage, a plain key both; links round-trip and stay short', () => {
    const { config, errors } = readPageConfig('?s1.lr=0.001&s2.topK=4&klCoef=0.01&s2.lr=2');
    expect(errors).toEqual(['s2.lr "2" is not a number between 0 and 1']);
    expect([stageValue(config, 1, 'lr'), stageValue(config, 2, 'lr')]).toEqual([0.001, DEFAULT_PAGE_CONFIG.lr]);
    expect([stageValue(config, 1, 'topK'), stageValue(config, 2, 'topK')]).toEqual([DEFAULT_PAGE_CONFIG.topK, 4]);
    expect([stageValue(config, 1, 'klCoef'), stageValue(config, 2, 'klCoef')]).toEqual([0.01, 0.01]);
    expect(writePageConfig(config)).toBe('?klCoef=0.01&s1.lr=0.001&s2.topK=4');
    expect(readPageConfig(writePageConfig(config)).config).toEqual(config);
    expect(mergeSettings(1, stageOverride(config, 1)).optimizer.lr).toBe(0.001);
    expect(mergeSettings(2, stageOverride(config, 2)).optimizer.lr).toBe(defaultRlSettings(2).optimizer.lr);
    // Setting a stage's value to the plain one drops its own key.
    const back = withStageValue(config, 1, 'lr', DEFAULT_PAGE_CONFIG.lr);
    expect(writePageConfig(back)).toBe('?klCoef=0.01&s2.topK=4');
  });
});

describe('cycle diagram parts', () => {
  it('names the part of every token and lights the reward at the last generated token', () => {
    const tokens = ['<bos>', 'q', '<think>', 'w', '<|begin_of_query|>', 'x', '<|end_of_query|>', '<|begin_of_documents|>', 'd', '<|end_of_documents|>', '<answer>', 'a', '</answer>'];
    const action = [0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1];
    const retrieve = [1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1];
    const rows = tokenRows(tokens, 2, action, retrieve, [{ start: 7, end: 10 }]);
    const parts = tokenParts(rows);
    expect(parts).toEqual(['prompt', 'prompt', 'think', 'think', 'query', 'query', 'search', 'documents', 'documents', 'documents', 'answer', 'answer', 'answer']);
    expect(litBoxes(rows, parts, 1)).toEqual(['prompt']);
    expect(litBoxes(rows, parts, 8)).toEqual(['documents']);
    expect(litBoxes(rows, parts, 5)).toEqual(['query', 'advantage', 'loss', 'update']);
    expect(litBoxes(rows, parts, 12)).toEqual(['answer', 'reward', 'baseline', 'advantage', 'loss', 'update']);
  });
});

describe('session: greedy answers and a shipped run', () => {
  it('greedy decoding gives the same text whatever the seed; a shipped run answers with no stage running', async () => {
    const ctx = await openPack('public/corpus/world');
    const tokenizer = await packTokenizer(ctx);
    const config = validateConfig({ vocabSize: tokenizer.size, hiddenSize: 16, intermediateSize: 24, numLayers: 1, numHeads: 2, maxPositions: 512, rmsEps: 1e-5, ropeTheta: 10000, tieEmbeddings: false });
    const b = new CpuBackend();
    const weights = await downloadParams(b, initParams(b, config, 3));
    const files = encodeCheckpoint({ config, tokenizer, weights });
    const s = new TrainingSession(b);
    await s.load(async (n) => files.get(n) ?? null, ctx.pack.questions, ctx.retriever, 'world');
    const q = ctx.pack.questions.find((x) => x.split === 'test')!;
    const req = { policy: 'base' as const, question: q.question, answers: q.answers, greedy: true, rollout: { maxNewTokens: 8 } };
    const [a, c] = [await sample(s, { ...req, seed: 11 }), await sample(s, { ...req, seed: 12 })];
    expect(c.prompt).toBe(a.prompt);
    expect(c.completion).toBe(a.completion);
    expect(a.decoding).toBe('greedy');
    const sampled = await sample(s, { ...req, greedy: false, seed: 11 });
    expect([sampled.decoding, sampled.seed]).toEqual(['sampled', 11]);

    // A shipped run: two other policies (F16), no stage running; Stage 2 answers, a new stage drops it.
    const other = await downloadParams(b, initParams(b, config, 5));
    const f16 = (w: typeof other) => writeSafetensors([...w], undefined, { dtype: 'F16' });
    const progress = s.adoptShipped({ stage1: f16(other), stage2: f16(other), metrics: [{ stage: 1, step: 1 } as never, { stage: 2, step: 1 } as never] });
    expect(progress.stage).toBeNull();
    expect(progress.policies).toEqual(['base', 'stage1', 'stage2']);
    expect([progress.metrics[1].length, progress.metrics[2].length]).toEqual([1, 1]);
    const s2 = await sample(s, { ...req, policy: 'stage2' });
    expect(s2.policy).toBe('stage2');
    // Its policies export as models (no trainer state: nothing to resume).
    const ex = await exportPolicyZip(s, 'hf', 'stage2');
    expect(ex.name).toBe('r1s-world-stage2-step1');
    expect(ex.files).toContain('model.safetensors');
    expect(ex.files).not.toContain('trainer_state.json');
    await s.startStage(1, { promptsPerStep: 1, samplesPerPrompt: 2 }, 1, 1);
    expect(s.progress().policies).toEqual(['base', 'stage1']);
    expect(() => s.adoptShipped({ stage1: new Uint8Array(8), stage2: new Uint8Array(8), metrics: [] })).toThrow(/shipped run: stage1.safetensors/);
  });
});

describe('shipped-run command', () => {
  it('writes a run the session can show (F16 policies, metrics, kept rollouts, evaluation with steps), and never overwrites unasked', async () => {
    const root = await mkdtemp(join(tmpdir(), 'r1s-shipped-'));
    try {
      const ctx = await openPack('public/corpus/world');
      const tokenizer = await packTokenizer(ctx);
      const config = validateConfig({ vocabSize: tokenizer.size, hiddenSize: 16, intermediateSize: 24, numLayers: 1, numHeads: 2, maxPositions: 512, rmsEps: 1e-5, ropeTheta: 10000, tieEmbeddings: false });
      const b = new CpuBackend();
      const base = join(root, 'tiny-base');
      await saveCheckpointDir(base, { config, tokenizer, weights: await downloadParams(b, initParams(b, config, 4)) });
      const out = join(root, 'shipped');
      await mkdir(out);
      await writeFile(join(out, 'keep.txt'), 'mine');
      const args = ['--base', base, '--out', out, '--stage1-steps', '2', '--stage2-steps', '3', '--eval-limit', '1', '--groups', '1', '--prompts-per-step', '2', '--samples-per-prompt', '3'];
      await expect(shippedRunCmd(args)).rejects.toThrow(/already exists and is not empty \(nothing was written; use --overwrite/);
      expect(await readdir(out)).toEqual(['keep.txt']);
      await shippedRunCmd([...args, '--overwrite']);
      expect((await readdir(out)).sort()).toEqual(Object.values(SHIPPED_RUN_FILES).sort());
      const m = checkShippedManifest(JSON.parse(await readFile(join(out, SHIPPED_RUN_FILES.manifest), 'utf8')));
      expect([m.base, m.pack, m.seed, m.stages[1].steps, m.stages[2].steps]).toEqual(['tiny-base', 'world', 1, 2, 3]);
      expect(m.stages[2].settings).toEqual({ ...defaultRlSettings(2), promptsPerStep: 2, samplesPerPrompt: 3 });
      expect(m.wallSeconds).toBeGreaterThan(0);
      expect(m.eval.map((r) => `${r.policy}:${r.steps}`)).toEqual(expect.arrayContaining(['base:0', 'stage1:2', 'stage2:3']));
      const metrics = parseMetricsJsonl(await readFile(join(out, SHIPPED_RUN_FILES.metrics), 'utf8'));
      expect(metrics.map((x) => `${x.stage}:${x.step}`)).toEqual(['1:1', '1:2', '2:1', '2:2', '2:3']);
      const kept = decodeShippedRollouts(new Uint8Array(await readFile(join(out, SHIPPED_RUN_FILES.rollouts))));
      expect(kept.map((h) => `${h.stage}:${h.step}`)).toEqual(['1:1', '1:2', '2:1', '2:2', '2:3']);
      expect(kept.every((h) => h.rollouts.length === 3)).toBe(true); // one whole group each
      const w1 = new Uint8Array(await readFile(join(out, SHIPPED_RUN_FILES.stage1)));
      expect(readSafetensors(w1, { widen: true }).widened?.length).toBeGreaterThan(0);
      // The page's session shows it.
      const s = new TrainingSession(b);
      const files = new Map([...(await readdir(base))].map((f) => [f, f] as const));
      await s.load(async (n) => (files.has(n) ? new Uint8Array(await readFile(join(base, n))) : null), ctx.pack.questions, ctx.retriever, 'world');
      const w2 = new Uint8Array(await readFile(join(out, SHIPPED_RUN_FILES.stage2)));
      expect(s.adoptShipped({ stage1: w1, stage2: w2, metrics }).policies).toEqual(['base', 'stage1', 'stage2']);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
