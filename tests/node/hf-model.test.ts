/**
 * Bringing a pretrained Hugging Face model (issue 19): the R1-Searcher tags added as new
 * tokens (rows initialized to the mean embedding, padding rows dropped, the old tokens' logits
 * unchanged, kept through export and reload), and the command line end to end: a random
 * grouped-query model folder (make-hf-model), Stage 1 then Stage 2 from it, the export
 * loading back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.ts';
import { run as makeHfModel } from '../../src/cli/commands/make-hf-model.ts';
import { run as trainCmd } from '../../src/cli/commands/train.ts';
import { run as exportCmd } from '../../src/cli/commands/export.ts';
import { decodeCheckpoint, encodeCheckpoint, uploadParams, type Checkpoint } from '../../src/io/checkpoint.ts';
import { loadCheckpointDir, loadModelFolder } from '../../src/io/checkpoint-fs.ts';
import { addTagTokens, preflightModelFolder } from '../../src/io/hf-model.ts';
import { HF_SHAPES } from '../../src/bench/hf-shapes.ts';
import { importCheckpointFiles } from '../../src/io/import.ts';
import { writeSafetensors, type HostTensor } from '../../src/io/safetensors.ts';
import { fromHfConfig } from '../../src/io/hf-config.ts';
import { Llama } from '../../src/model/llama.ts';
import { paramSpecs } from '../../src/model/params.ts';
import { byteLevelTokenizerJson, trainByteLevelMerges } from '../../src/tokenizer/byte-level-train.ts';
import { ByteLevelBpeTokenizer } from '../../src/tokenizer/byte-level.ts';
import { TAGS } from '../../src/protocol/tags.ts';
import { Rng } from '../../src/util/rng.ts';
import { expectClose } from './helpers/fd.ts';

const cpu = new CpuBackend();
const enc = (x: unknown) => new TextEncoder().encode(JSON.stringify(x));
const PACK = 'public/corpus/world';

/** A small imported model: byte-level tokenizer of `tokV` tokens, embedding padded to `V` rows. */
async function smallImport(untied: boolean): Promise<{ ckpt: Checkpoint; tokV: number }> {
  const merges = trainByteLevelMerges(['Who was born in Paris? The capital of France is Paris.', 'answer the question'], 40);
  const tj = byteLevelTokenizerJson(merges);
  const tokV = Object.keys((tj.model as { vocab: object }).vocab).length;
  const hf = {
    architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: tokV + 7, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 1,
    num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: !untied,
    bos_token_id: 0, eos_token_id: 0,
  };
  const config = fromHfConfig(hf);
  const rng = new Rng(2), w = new Map<string, HostTensor>();
  for (const s of paramSpecs(config)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    w.set(s.name, { shape: [...s.shape], data: new Float32Array(n).map(() => (s.init === 'ones' ? 1 : 0.5 * rng.normal())) });
  }
  const files = new Map([['config.json', enc(hf)], ['tokenizer.json', enc(tj)], ['model.safetensors', writeSafetensors(w)]]);
  const { checkpoint, notes } = await importCheckpointFiles(files, { modelOnly: true });
  expect(notes.join(' ')).toMatch(/the 7 rows beyond are padding/);
  return { ckpt: checkpoint, tokV };
}

async function logitsOf(ckpt: Checkpoint, ids: number[]): Promise<Float32Array> {
  const model = new Llama(cpu, ckpt.config, uploadParams(cpu, ckpt.weights));
  const cache = model.createCache(1, ids.length);
  const t = model.forwardInfer(cache, { tokens: Int32Array.from(ids), slots: new Int32Array(ids.length), positions: Int32Array.from(ids.map((_, i) => i)), outRows: Int32Array.from(ids.map((_, i) => i)) });
  return (await cpu.read(t)) as Float32Array;
}

describe('tags added to an imported vocabulary', () => {
  for (const untied of [false, true]) {
    it(`single tokens, mean-initialized rows, old logits unchanged, kept through export (${untied ? 'untied' : 'tied'})`, async () => {
      const { ckpt, tokV } = await smallImport(untied);
      const { checkpoint: c2, added, notes } = addTagTokens(ckpt);
      expect(added).toEqual([...TAGS]);
      expect(notes.join(' ')).toMatch(/dropped 7 padding rows/);
      const tok = c2.tokenizer;
      expect(tok.size).toBe(tokV + 8);
      expect(c2.config.vocabSize).toBe(tokV + 8);
      TAGS.forEach((t, i) => expect(tok.encode(t)).toEqual([tokV + i]));
      expect(tok.encode('Who <|begin_of_query|>Paris<|end_of_query|>')).toContain(tok.id('<|end_of_query|>'));
      // New rows: the mean of the tokenizer's rows (padding rows left out).
      const C = ckpt.config.hiddenSize;
      for (const name of untied ? ['model.embed_tokens.weight', 'lm_head.weight'] : ['model.embed_tokens.weight']) {
        const old = ckpt.weights.get(name)!.data, nw = c2.weights.get(name)!.data;
        const mean = new Float32Array(C);
        for (let c = 0; c < C; c++) { let s = 0; for (let r = 0; r < tokV; r++) s += old[r * C + c]!; mean[c] = s / tokV; }
        for (let r = tokV; r < tokV + 8; r++) expectClose(nw.subarray(r * C, (r + 1) * C), mean, 1e-7, 1e-6, `${name} row ${r}`);
        expect(nw.subarray(0, tokV * C)).toEqual(old.subarray(0, tokV * C));
      }
      // The old tokens' logits are unchanged.
      const ids = tok.encode('Who was born in Paris?');
      const before = await logitsOf(ckpt, ids), after = await logitsOf(c2, ids);
      const V0 = ckpt.config.vocabSize;
      for (let t = 0; t < ids.length; t++) expectClose(after.subarray(t * c2.config.vocabSize, t * c2.config.vocabSize + tokV), before.subarray(t * V0, t * V0 + tokV), 1e-6, 1e-6, `position ${t}`);
      // Export and reload: the same tokenizer ids and weights.
      const files = encodeCheckpoint(c2);
      const back = await decodeCheckpoint(async (n) => files.get(n) ?? null);
      expect(back.tokenizer).toBeInstanceOf(ByteLevelBpeTokenizer);
      expect(back.tokenizer.encode('x <think>Paris</think> <answer>y</answer>')).toEqual(tok.encode('x <think>Paris</think> <answer>y</answer>'));
      expect(back.config).toEqual(c2.config);
      for (const [n, t] of c2.weights) expect(back.weights.get(n)!.data).toEqual(t.data);
      // Nothing to add a second time.
      expect(addTagTokens(back).added).toEqual([]);
    });
  }
});

describe('a model folder before loading', () => {
  it('config.json alone gives the parameters and memory, and warns with the numbers when wasm cannot hold it', () => {
    const files = (cfg: object) => new Map([['smol/config.json', enc({ ...cfg, torch_dtype: 'bfloat16' })], ['smol/model.safetensors', new Uint8Array(8)]]);
    const shape = { rolloutSlots: 8, maxLength: 448, rowsPerPass: 3584, scoredRows: 512, reference: false };
    const big = preflightModelFolder(files(HF_SHAPES['smollm2-135m']!), shape);
    expect(big.summary).toMatch(/^134\.5M parameters; training needs about 6\.0\d GiB/);
    expect(big.warning).toMatch(/exceeds the wasm backend's 4\.00 GiB.*lower update\.microBatchTokens/);
    expect(preflightModelFolder(files(HF_SHAPES['smollm2-135m']!), { ...shape, rowsPerPass: 1024 }).warning).toBe('');
    expect(() => preflightModelFolder(files({ ...HF_SHAPES['smollm2-135m']!, quantization_config: {} }), shape)).toThrow(/unknown field "quantization_config"/);
    expect(() => preflightModelFolder(new Map([['model.safetensors', new Uint8Array(1)]]), shape)).toThrow(/config.json is missing \(found: model.safetensors\)/);
  });
});

describe('cli: train --init <Hugging Face folder>', () => {
  let root: string;
  beforeAll(async () => { root = await mkdtemp(join(tmpdir(), 'r1s-hf-')); });
  afterAll(async () => { await rm(root, { recursive: true, force: true }); });

  it('Stage 1 then Stage 2 on a random GQA model, tags added, the export loads back', async () => {
    const hfDir = join(root, 'tiny-gqa'), s1 = join(root, 's1'), s2 = join(root, 's2'), ex = join(root, 'export');
    await makeHfModel(['--shape', 'tiny-gqa', '--pack', PACK, '--out', hfDir, '--merges', '120']);
    const { checkpoint, imported } = await loadModelFolder(hfDir);
    expect(imported).toBe(true);
    expect(checkpoint.config.numKvHeads).toBe(2);
    const common = ['--pack', PACK, '--prompts-per-step', '2', '--samples-per-prompt', '2', '--set', 'rollout.maxNewTokens=12', '--backend', 'cpu', '--seed', '3', '--json'];
    const write = process.stdout.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      await trainCmd(['--stage', '1', '--init', hfDir, '--out', s1, '--steps', '2', ...common]);
      await trainCmd(['--stage', '2', '--init', s1, '--out', s2, '--steps', '1', ...common]);
      await exportCmd(['--checkpoint', s2, '--format', 'hf', '--out', ex]);
    } finally {
      process.stdout.write = write;
    }
    expect((await readFile(join(s1, 'metrics.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(2);
    expect(JSON.parse(await readFile(join(s2, 'trainer_state.json'), 'utf8')).lineage.map((l: { stage: number }) => l.stage)).toEqual([1, 2]);
    const back = await loadCheckpointDir(ex);
    expect(back.config.numKvHeads).toBe(2);
    expect(back.config.ropeScaling?.type).toBe('llama3');
    expect(back.tokenizer.size).toBe(checkpoint.tokenizer.size);
    for (const t of TAGS) expect(back.tokenizer.encode(t)).toEqual([checkpoint.tokenizer.id(t)]);
    const cfg = JSON.parse(await readFile(join(ex, 'config.json'), 'utf8'));
    expect(cfg).toMatchObject({ model_type: 'llama', num_key_value_heads: 2, head_dim: 16, vocab_size: checkpoint.tokenizer.size });
    const card = await readFile(join(ex, 'README.md'), 'utf8');
    expect(card).toMatch(/LlamaForCausalLM model imported from Hugging Face \(2 layers, hidden size 64, 4 heads, 2 key\/value heads, untied output head\) with its byte-level BPE vocabulary/);
    expect(card).not.toMatch(/WordLevel/);
  });
});
