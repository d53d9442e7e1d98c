/**
 * The page's pure helpers (src/ui/): search-term highlighting, the URL configuration (its
 * defaults are the recipe's), the token layout of a rollout, and the greedy decoding behind
 * "Run the export" (src/onnx/decode.ts), which must reproduce the trainer's greedy rollout
 * through the exported ONNX model in onnxruntime-web. Plus a guard: no element renders strings
 * as HTML.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-web';
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.ts';
import { openPack } from '../../src/cli/common.ts';
import { uploadParams } from '../../src/io/checkpoint.ts';
import { loadCheckpointDir } from '../../src/io/checkpoint-fs.ts';
import { readSafetensors } from '../../src/io/safetensors.ts';
import { SHIPPED_RUN_FILES } from '../../src/session/shipped-run.ts';
import { exportOnnx } from '../../src/onnx/export.ts';
import { Llama } from '../../src/model/llama.ts';
import { DEFAULT_PROMPT_PRESET, getPromptPreset, renderPrompt } from '../../src/protocol/prompts.ts';
import { generateRollouts, type RolloutSettings } from '../../src/rl/rollout.ts';
import { mergeSettings } from '../../src/rl/settings.ts';
import { defaultRlSettings } from '../../src/rl/settings.ts';
import { slotAnswerWords } from '../../src/tokenizer/slot-words.ts';
import { Rng } from '../../src/util/rng.ts';
import { highlightSegments } from '../../src/ui/highlight.ts';
import { argmax, greedyRagDecode, maxAbsDiff, ortNextLogits, type OrtLike, type OrtSessionLike } from '../../src/onnx/decode.ts';
import { documentBlocks, recordTokenTexts, tokenRows } from '../../src/ui/token-rows.ts';
import { DEFAULT_PAGE_CONFIG, readPageConfig, stageOverride, stageValue, withStageValue, writePageConfig, type PageConfig } from '../../src/ui/url-config.ts';

ort.env.wasm.numThreads = 1; // no worker threads in the test process

describe('highlightSegments', () => {
  it('marks exactly the words that normalize to a query term, keeping the text whole', () => {
    const text = 'Kreimpon was born in 1904, in Shorhy. KREIMPON!';
    const segs = highlightSegments(text, 'kreimpon BORN the');
    expect(segs.map((s) => s.text).join('')).toBe(text);
    expect(segs.filter((s) => s.match).map((s) => s.text)).toEqual(['Kreimpon', 'born', 'KREIMPON']);
    // "the" is a term too but absent; punctuation-only queries mark nothing.
    expect(highlightSegments(text, ' ,. ')).toEqual([{ text, match: false }]);
    expect(highlightSegments('<img src=x onerror=alert(1)>', 'img alert').filter((s) => s.match).map((s) => s.text)).toEqual(['img', 'alert']);
    expect(highlightSegments('', 'x')).toEqual([]);
  });
});

describe('URL configuration', () => {
  it('round-trips, writes only what differs from the defaults, and reports bad values', () => {
    expect(writePageConfig(DEFAULT_PAGE_CONFIG)).toBe('');
    const c = { ...DEFAULT_PAGE_CONFIG, lr: 0.001, retrievalReward: 'any' as const, seed: 7, step: 'stage2' as const };
    const q = writePageConfig(c);
    expect(q).toBe('?step=stage2&seed=7&lr=0.001&retrievalReward=any');
    expect(readPageConfig(q)).toEqual({ config: c, errors: [] });
    const bad = readPageConfig('?seed=-1&lr=2&topK=11&advantageEstimator=ppo&pack=../x&step=nowhere&formatPenalty=1');
    expect(bad.config).toEqual(DEFAULT_PAGE_CONFIG);
    expect(bad.errors).toEqual([
      'step "nowhere" is not one of corpus, base, stage1, stage2, evaluate, export',
      'pack "../x" is not a plain name',
      'seed "-1" is not an integer >= 0',
      'lr "2" is not a number between 0 and 1',
      'advantageEstimator "ppo" is not one of reinforce_baseline, group_norm, reinforce',
      'topK "11" is not an integer from 1 to 10',
      'formatPenalty "1" is not a number between -10 and 0',
    ]);
  });

  it("the page's defaults are the recipe's: a default link trains with defaultRlSettings", () => {
    for (const stage of [1, 2] as const) expect(mergeSettings(stage, stageOverride(DEFAULT_PAGE_CONFIG, stage))).toEqual(defaultRlSettings(stage));
    const s = mergeSettings(1, stageOverride({ ...DEFAULT_PAGE_CONFIG, topK: 5, klCoef: 0.001 }, 1));
    expect([s.rollout.topK, s.klCoef]).toEqual([5, 0.001]);
  });

  it("a stage's own default (Stage 2 reads top-5, Stage 1 top-3) stays out of links until changed, and a plain key replaces it", () => {
    const topK = (c: PageConfig) => [stageValue(c, 1, 'topK'), stageValue(c, 2, 'topK')];
    expect([defaultRlSettings(1).rollout.topK, defaultRlSettings(2).rollout.topK]).toEqual([3, 5]);
    expect(topK(DEFAULT_PAGE_CONFIG)).toEqual([3, 5]);
    expect(topK(readPageConfig('').config)).toEqual([3, 5]);
    // Stage 2 set to Stage 1's value: its own key is kept, and the link names it.
    const same = withStageValue(DEFAULT_PAGE_CONFIG, 2, 'topK', 3);
    expect(topK(same)).toEqual([3, 3]);
    expect(writePageConfig(same)).toBe('?s2.topK=3');
    expect(topK(readPageConfig('?s2.topK=3').config)).toEqual([3, 3]);
    // Back to its default: the link is empty again.
    expect(writePageConfig(withStageValue(same, 2, 'topK', 5))).toBe('');
    // A plain key sets both stages (older links); a stage key after it still wins.
    expect(topK(readPageConfig('?topK=4').config)).toEqual([4, 4]);
    expect(writePageConfig(readPageConfig('?topK=4').config)).toBe('?topK=4');
    const both = readPageConfig('?topK=4&s2.topK=5').config;
    expect(topK(both)).toEqual([4, 5]);
    // Every link the page writes reads back to the same per-stage values.
    for (const c of [same, both, readPageConfig('?topK=3').config, withStageValue(readPageConfig('?topK=4').config, 2, 'topK', 3)]) {
      expect(topK(readPageConfig(writePageConfig(c)).config), writePageConfig(c)).toEqual(topK(c));
    }
  });
});

describe('token rows', () => {
  it('labels prompt, generated and document tokens, the loss, and which search each belongs to', () => {
    // prompt(2) | q-open word q-close | docs-open doc docs-close | answer-close
    const tokens = ['<bos>', 'q', '<|begin_of_query|>', 'w', '<|end_of_query|>', '<|begin_of_documents|>', 'd', '<|end_of_documents|>', '</answer>'];
    const action = [0, 0, 1, 1, 1, 0, 0, 0, 1];
    const retrieve = [1, 1, 1, 1, 1, 0, 0, 0, 1];
    const blocks = documentBlocks(retrieve, 2);
    expect(blocks).toEqual([{ start: 5, end: 8 }]);
    const rows = tokenRows(tokens, 2, action, retrieve, blocks);
    expect(rows.map((r) => r.kind)).toEqual(['prompt', 'prompt', 'generated', 'generated', 'generated', 'document', 'document', 'document', 'generated']);
    expect(rows.map((r) => +r.inLoss)).toEqual([0, 0, 1, 1, 1, 0, 0, 0, 1]);
    expect(rows.map((r) => r.search)).toEqual([-1, -1, -1, -1, 0, 0, 0, 0, -1]);
    expect(rows.map((r) => r.tag)).toEqual([false, false, true, false, true, true, false, true, true]);
    expect(() => tokenRows(tokens, 2, action.slice(1), retrieve)).toThrow(/9 tokens but masks of 8 and 9/);
  });

  it('rebuilds token texts from a record before the worker sends them', () => {
    const r = { tokens: [1, 5, 6, 7, 8, 9], promptLength: 4, prompt: 'Who, me', completion: '<answer> x' };
    expect(recordTokenTexts(r)).toEqual(['<bos>', 'who', ',', 'me', '<answer>', 'x']);
    // Counts that do not add up (a prompt that tokenized otherwise): the ids are shown instead.
    expect(recordTokenTexts({ ...r, promptLength: 3, tokens: [1, 5, 6, 8, 9] })).toEqual(['#1', '#5', '#6', '#8', '#9']);
  });
});

describe('greedy decoding of the exported model', () => {
  it('argmax takes the lowest index on ties; maxAbsDiff checks lengths', () => {
    expect(argmax([1, 3, 3, 2])).toBe(1);
    expect(maxAbsDiff([1, 2], [1.5, 1])).toBe(1);
    expect(() => maxAbsDiff([1], [1, 2])).toThrow(/lengths 1 and 2 differ/);
  });

  it('the ONNX export in onnxruntime-web writes the tokens and searches of the trainer\'s greedy rollout (shipped Stage-1 policy)', async () => {
    // The shipped run's Stage-1 policy (F16, widened) on the nano base's config and tokenizer:
    // its greedy rollouts search, so the splice path runs (the base's greedy rollouts do not).
    const ckpt = await loadCheckpointDir('public/models/nano-base');
    const stage1 = readSafetensors(new Uint8Array(await readFile(join('public/models/shipped-run', SHIPPED_RUN_FILES.stage1))), { widen: true }).tensors;
    const base = { ...ckpt, weights: new Map([...ckpt.weights.keys()].map((k) => [k, stage1.get(k)!])) };
    const ctx = await openPack('public/corpus/world');
    const b = new CpuBackend();
    const model = new Llama(b, base.config, uploadParams(b, base.weights));
    const settings: RolloutSettings = { maxNewTokens: 24, maxSearches: 2, topK: 3, docMaxWords: 20, temperature: 0, topP: 1, maxLength: 256 };
    // The first training question whose greedy rollout searches.
    let prompt: number[] = [];
    let ours;
    for (const q of ctx.pack.questions.filter((x) => x.split === 'train').slice(0, 200)) {
      // The preset the shipped run trained with (the default).
      const text = renderPrompt(getPromptPreset(DEFAULT_PROMPT_PRESET), q.question, new Rng(1), { answerWords: slotAnswerWords(base.tokenizer) });
      prompt = [base.tokenizer.bosId, ...base.tokenizer.encode(text)];
      [ours] = await generateRollouts(model, base.tokenizer, ctx.retriever, [prompt], 1, settings, new Rng(1));
      if (ours!.searches.length > 0) break;
    }
    const session = await ort.InferenceSession.create(exportOnnx(base.config, base.weights), { executionProviders: ['wasm'] });
    const next = ortNextLogits(ort as unknown as OrtLike, session as unknown as OrtSessionLike);
    const res = await greedyRagDecode(next, base.tokenizer, ctx.retriever, prompt, settings);
    await session.release();
    // The KV-cache export, fed only the new tokens (one per step, a documents block after a
    // search), decodes the same tokens; a sequence that does not extend the last starts over.
    const c = base.config, kv = { numLayers: c.numLayers, numHeads: c.numHeads, headSize: c.hiddenSize / c.numHeads };
    const kvSession = await ort.InferenceSession.create(exportOnnx(c, base.weights, { kvCache: true }), { executionProviders: ['wasm'] });
    expect(() => ortNextLogits(ort as unknown as OrtLike, kvSession as unknown as OrtSessionLike)).toThrow(/takes a KV cache/);
    const kvNext = ortNextLogits(ort as unknown as OrtLike, kvSession as unknown as OrtSessionLike, kv);
    const resKv = await greedyRagDecode(kvNext, base.tokenizer, ctx.retriever, prompt, settings);
    expect(resKv.tokens).toEqual(res.tokens);
    expect(maxAbsDiff(resKv.firstLogits, res.firstLogits)).toBeLessThan(1e-4);
    const again = await kvNext(prompt); // shorter than the last sequence: a fresh cache
    expect(maxAbsDiff(again, res.firstLogits)).toBeLessThan(1e-4);
    await kvSession.release();
    expect(res.tokens).toEqual(ours!.tokens);
    expect(res.finishReason).toBe(ours!.finishReason);
    expect(res.searches.map((s) => s.query)).toEqual(ours!.searches.map((s) => s.query));
    expect(res.searches.length).toBeGreaterThan(0); // the splice path ran
    // The first step's logits: ONNX against our forward pass.
    const cache = model.createCache(1, prompt.length);
    const lt = model.forwardInfer(cache, { tokens: Int32Array.from(prompt), slots: new Int32Array(prompt.length), positions: Int32Array.from(prompt, (_, i) => i), outRows: Int32Array.of(prompt.length - 1) });
    expect(maxAbsDiff(res.firstLogits, (await b.read(lt)) as Float32Array)).toBeLessThan(1e-4);
  });
});

describe('rendering', () => {
  it('no element of the page renders a string as HTML', async () => {
    const dir = 'src/ui';
    const offenders: string[] = [];
    for (const f of await readdir(dir)) {
      const src = await readFile(join(dir, f), 'utf8');
      if (/innerHTML|outerHTML|insertAdjacentHTML|unsafeHTML|unsafeSVG|document\.write/.test(src)) offenders.push(f);
    }
    expect(offenders).toEqual([]);
  });
});
