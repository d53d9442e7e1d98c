/**
 * The page's "Run the export" check as the page runs it (src/ui/playground.ts `runExport`), in
 * Node: the ONNX check worker's API (src/onnx/parity-check.ts) behind comlink on a
 * MessageChannel, searching through the search worker's API on another, decodes the ONNX
 * export's zip of the nano base; the trainer's session gives its greedy sample and its logits,
 * and compareWithTrainer finds the same tokens and logits within 1e-4.
 */
import { expose, transfer, wrap, type Remote } from 'comlink';
import * as ort from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.ts';
import { openPack, type PackContext } from '../../src/cli/common.ts';
import { fsSource } from '../../src/corpus/pack-loader.ts';
import { encodeCheckpoint } from '../../src/io/checkpoint.ts';
import { loadCheckpointDir } from '../../src/io/checkpoint-fs.ts';
import { zipFiles } from '../../src/io/zip.ts';
import { maxAbsDiff, ortNextLogits, type KvCacheShape, type OrtLike, type OrtSessionLike } from '../../src/onnx/decode.ts';
import { exportFiles } from '../../src/onnx/export-folder.ts';
import { ONNX_MODEL_PATH } from '../../src/onnx/names.ts';
import { compareWithTrainer, createOnnxCheckApi, type OnnxCheckApi, type OpenOnnxModel } from '../../src/onnx/parity-check.ts';
import { TrainingSession } from '../../src/session/training-session.ts';
import { GREEDY_PROMPT_SEED } from '../../src/session/types.ts';
import { exportPolicyZip } from '../../src/session/export.ts';
import { policyLogits, sample, stagePrompt } from '../../src/session/samples.ts';
import { createSearchWorkerApi } from '../../src/search/worker-api.ts';

ort.env.wasm.numThreads = 1; // no worker threads in the test process

/** runtime.ts's openOnnxModel, on onnxruntime-web's wasm provider in Node. */
const openInNode: OpenOnnxModel = async (bytes, kv) => {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  return { provider: 'wasm', note: '', next: ortNextLogits(ort as unknown as OrtLike, session as unknown as OrtSessionLike, kv), release: () => session.release() };
};

type Port = Parameters<typeof wrap>[0] & Parameters<typeof expose>[1];
const ports: MessagePort[] = [];
function channel(): [Port, Port] {
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  return [port1 as unknown as Port, port2 as unknown as Port];
}

let ctx: PackContext;
let session: TrainingSession;
let check: Remote<OnnxCheckApi>;

beforeAll(async () => {
  ctx = await openPack('public/corpus/world');
  const base = await loadCheckpointDir('public/models/nano-base');
  const files = encodeCheckpoint(base);
  session = new TrainingSession(new CpuBackend());
  await session.load(async (name) => files.get(name) ?? null, ctx.pack.questions, ctx.retriever, 'world');
  // The search worker's API, loaded with the pack, and the check worker's API, each behind a port.
  const search = createSearchWorkerApi(fsSource);
  await search.loadPack('public/corpus/world');
  const [checkSide, pageSide] = channel();
  expose(createOnnxCheckApi(openInNode), checkSide);
  check = wrap<OnnxCheckApi>(pageSide);
  const [searchSide, checkSearchSide] = channel();
  search.connect(searchSide as unknown as MessagePort);
  await check.connect(transfer(checkSearchSide as unknown as MessagePort, [checkSearchSide as unknown as Transferable]));
});

afterAll(() => {
  for (const p of ports) p.close();
});

describe('the ONNX check (Run the export)', () => {
  it('decodes the export\'s zip off the page and matches the trainer\'s greedy tokens and logits, with and without the KV cache', async () => {
    const question = ctx.pack.questions.find((q) => q.split === 'train')!;
    const info = session.info();
    const c = info.config;
    const kv: KvCacheShape = { numLayers: c.numLayers, numHeads: c.numHeads, headSize: c.hiddenSize / c.numHeads };
    const settings = { maxNewTokens: 24, maxSearches: 2, topK: 3, docMaxWords: 20, maxLength: Math.min(448, c.maxPositions) };
    const prompt = stagePrompt(session, question.question, GREEDY_PROMPT_SEED);
    const ours = await sample(session, { policy: 'base', question: question.question, answers: question.answers, greedy: true, rollout: settings });
    let first: Float32Array | null = null;
    for (const kvCache of [false, true]) {
      const { zip } = await exportPolicyZip(session, 'onnx', 'base', { kvCache });
      const res = await check.decode({ zip, prompt, settings, ...(kvCache ? { kv } : {}) });
      expect(res.provider).toBe('wasm');
      expect(res.promptIds).toEqual(ours.tokens.slice(0, ours.promptLength));
      const trainerLogits = await policyLogits(session, 'base', res.promptIds);
      const parity = compareWithTrainer(res, { ids: ours.tokens, logits: trainerLogits });
      expect(parity.tokensMatch).toBe(true);
      expect(parity.maxLogitDiff).toBeLessThan(1e-4);
      expect(res.completion).toBe(ours.completion);
      expect(res.searches).toEqual(ours.searches);
      if (first) expect(maxAbsDiff(res.firstLogits, first)).toBeLessThan(1e-4);
      first = res.firstLogits;
    }
  });

  it('names what the zip lacks, and a worker that was never connected says so', async () => {
    const base = await loadCheckpointDir('public/models/nano-base');
    const files = exportFiles(base, 'onnx', { name: 'nano' });
    const settings = { maxNewTokens: 4, maxSearches: 1, topK: 1, docMaxWords: 5, maxLength: 64 };
    const noModel = new Map([...files].filter(([n]) => n !== ONNX_MODEL_PATH));
    await expect(check.decode({ zip: zipFiles(noModel), prompt: 'x', settings })).rejects.toThrow('the ONNX export lacks onnx/model.onnx');
    const noTokenizer = new Map([...files].filter(([n]) => n !== 'tokenizer.json'));
    await expect(check.decode({ zip: zipFiles(noTokenizer), prompt: 'x', settings })).rejects.toThrow('the ONNX export lacks tokenizer.json');
    await expect(createOnnxCheckApi(openInNode).decode({ zip: zipFiles(files), prompt: 'x', settings })).rejects.toThrow('call connect() first');
  });
});
