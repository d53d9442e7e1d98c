/**
 * Exports: the ONNX model runs in onnxruntime-web (Node, wasm) and gives our CPU backend's
 * logits within 1e-4 (all-ones mask, right padding, left padding; tied and untied heads; the
 * shipped base checkpoint when present); the Hugging Face folder holds the weights bit for bit
 * and imports back to the same checkpoint; the model card names pack, stages, steps and
 * evaluation figures; zips round-trip and catch corruption; the CLI commands write, refuse to
 * overwrite, and print the logits contract.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { encodeCheckpoint, type Checkpoint, type TrainerState } from '../../src/io/checkpoint.ts';
import { loadCheckpointDir, saveCheckpointDir } from '../../src/io/checkpoint-fs.ts';
import { exportOnnx, ONNX_ATTENTION_MASK, ONNX_INPUT_IDS, ONNX_LOGITS, onnxPastNames, onnxPresentNames } from '../../src/onnx/export.ts';
import { decodeModel, ONNX_OPSET } from '../../src/onnx/proto.ts';
import { exportFiles } from '../../src/onnx/export-folder.ts';
import { importCheckpoint, importCheckpointFiles } from '../../src/io/import.ts';
import { lastMetricsLine, modelCard, parseEvalJson } from '../../src/io/model-card.ts';
import { readSafetensors, type HostTensor } from '../../src/io/safetensors.ts';
import { crc32, unzipFiles, zipFiles } from '../../src/io/zip.ts';
import { positionLogits, run as logitsCmd } from '../../src/cli/commands/logits.ts';
import { run as exportCmd } from '../../src/cli/commands/export.ts';
import { validateConfig, type ModelConfig } from '../../src/model/config.ts';
import { paramSpecs } from '../../src/model/params.ts';
import { Tokenizer } from '../../src/tokenizer/tokenizer.ts';
import { Rng } from '../../src/util/rng.ts';

ort.env.wasm.numThreads = 1; // no worker threads in the test process

const tok = Tokenizer.fromWords('who wrote the book ? it was written by a poet from the north'.split(' '));
const untied = validateConfig({ vocabSize: tok.size, hiddenSize: 16, intermediateSize: 24, numLayers: 2, numHeads: 2, maxPositions: 32, rmsEps: 1e-5, ropeTheta: 10000, tieEmbeddings: false });
// Other eps and theta: the export must carry the config's values, not defaults.
const tied: ModelConfig = { ...untied, tieEmbeddings: true, rmsEps: 1e-6, ropeTheta: 500000, numHeads: 4 };

function randomWeights(c: ModelConfig, seed: number): Map<string, HostTensor> {
  const rng = new Rng(seed);
  return new Map(paramSpecs(c).map((s) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const data = s.init === 'ones' ? Float32Array.from({ length: n }, () => 1 + 0.2 * rng.normal()) : Float32Array.from({ length: n }, () => 0.4 * rng.normal());
    return [s.name, { shape: [...s.shape], data }];
  }));
}

function randomSeqs(V: number, lengths: number[], seed: number): number[][] {
  const rng = new Rng(seed);
  return lengths.map((T) => Array.from({ length: T }, (_, t) => (t === 0 ? tok.bosId : 4 + Math.floor(rng.next() * (V - 4)))));
}

type Padding = 'right' | 'left';

/** Runs the ONNX model on sequences padded to one length; returns each sequence's (T, V) logits. */
async function ortLogits(session: ort.InferenceSession, seqs: number[][], V: number, pad: Padding): Promise<Float32Array[]> {
  const B = seqs.length, T = Math.max(...seqs.map((s) => s.length));
  const ids = new BigInt64Array(B * T), mask = new BigInt64Array(B * T);
  seqs.forEach((s, b) => {
    const off = pad === 'right' ? 0 : T - s.length;
    s.forEach((id, t) => {
      ids[b * T + off + t] = BigInt(id);
      mask[b * T + off + t] = 1n;
    });
  });
  const out = await session.run({ [ONNX_INPUT_IDS]: new ort.Tensor('int64', ids, [B, T]), [ONNX_ATTENTION_MASK]: new ort.Tensor('int64', mask, [B, T]) });
  const logits = out[ONNX_LOGITS]!;
  expect(logits.dims).toEqual([B, T, V]);
  const data = logits.data as Float32Array;
  return seqs.map((s, b) => {
    const off = pad === 'right' ? 0 : T - s.length;
    return data.slice((b * T + off) * V, (b * T + off + s.length) * V);
  });
}

function maxAbsDiff(a: Float32Array[], b: Float32Array[]): number {
  let m = 0;
  a.forEach((x, i) => {
    expect(x.length).toBe(b[i]!.length);
    for (let j = 0; j < x.length; j++) m = Math.max(m, Math.abs(x[j]! - b[i]![j]!));
  });
  return m;
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'r1s-export-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('onnx export', () => {
  for (const [label, config, seed] of [['untied', untied, 3], ['tied, other eps/theta/heads', tied, 4]] as const) {
    it(`matches the CPU backend within 1e-4 in onnxruntime-web (${label})`, async () => {
      const weights = randomWeights(config, seed);
      const session = await ort.InferenceSession.create(exportOnnx(config, weights), { executionProviders: ['wasm'] });
      const seqs = randomSeqs(config.vocabSize, [9, 3, 14, 1], seed);
      const ours = await positionLogits(config, weights, seqs);
      // One sequence at a time (mask all ones), then one padded batch each way.
      const single: Float32Array[] = [];
      for (const s of seqs) single.push(...(await ortLogits(session, [s], config.vocabSize, 'right')));
      const right = await ortLogits(session, seqs, config.vocabSize, 'right');
      const left = await ortLogits(session, seqs, config.vocabSize, 'left');
      expect(maxAbsDiff(single, ours)).toBeLessThan(1e-4);
      expect(maxAbsDiff(right, ours)).toBeLessThan(1e-4);
      expect(maxAbsDiff(left, ours)).toBeLessThan(1e-4);
      // The logits are not trivially small: a wrong layer would show.
      expect(Math.max(...ours[2]!.map(Math.abs))).toBeGreaterThan(1);
      await session.release();
    });
  }

  it('with a KV cache: a left-padded prefill then one token per call gives the whole sequences\' logits', async () => {
    const config = untied, V = config.vocabSize, H = config.numHeads, D = config.hiddenSize / config.numHeads;
    const weights = randomWeights(config, 6);
    const session = await ort.InferenceSession.create(exportOnnx(config, weights, { kvCache: true }), { executionProviders: ['wasm'] });
    const prefixes = randomSeqs(V, [7, 4], 6), extra = randomSeqs(V, [4, 4], 16).map((s) => s.slice(1));
    const full = prefixes.map((p, b) => [...p, ...extra[b]!]);
    const ours = await positionLogits(config, weights, full); // (T_b, V) per sequence
    const B = 2, T0 = 7;
    // Prefill: prefixes left-padded to T0, an empty cache (P = 0).
    const ids = new BigInt64Array(B * T0), mask: bigint[][] = [[], []];
    prefixes.forEach((p, b) => {
      for (let t = 0; t < T0; t++) {
        const i = t - (T0 - p.length);
        ids[b * T0 + t] = BigInt(i >= 0 ? p[i]! : 0);
        mask[b]!.push(i >= 0 ? 1n : 0n);
      }
    });
    let past: Record<string, ort.Tensor> = {};
    for (let l = 0; l < config.numLayers; l++) {
      const n = onnxPastNames(l);
      past[n.key] = new ort.Tensor('float32', new Float32Array(0), [B, H, 0, D]);
      past[n.value] = new ort.Tensor('float32', new Float32Array(0), [B, H, 0, D]);
    }
    const call = async (idsT: ort.Tensor) => {
      const S = mask[0]!.length;
      const out = await session.run({ [ONNX_INPUT_IDS]: idsT, [ONNX_ATTENTION_MASK]: new ort.Tensor('int64', BigInt64Array.from([...mask[0]!, ...mask[1]!]), [B, S]), ...past });
      const next: Record<string, ort.Tensor> = {};
      for (let l = 0; l < config.numLayers; l++) {
        const p = onnxPastNames(l), q = onnxPresentNames(l);
        expect(out[q.key]!.dims).toEqual([B, H, S, D]);
        next[p.key] = out[q.key]!;
        next[p.value] = out[q.value]!;
      }
      past = next;
      return out[ONNX_LOGITS]!;
    };
    const first = await call(new ort.Tensor('int64', ids, [B, T0]));
    let worst = 0;
    const cmp = (got: Float32Array, want: Float32Array) => {
      expect(got.length).toBe(want.length);
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
    };
    prefixes.forEach((p, b) => cmp((first.data as Float32Array).slice((b * T0 + T0 - p.length) * V, (b + 1) * T0 * V), ours[b]!.slice(0, p.length * V)));
    for (let k = 0; k < 3; k++) {
      mask.forEach((m) => m.push(1n));
      const out = await call(new ort.Tensor('int64', BigInt64Array.from(extra.map((e) => BigInt(e[k]!))), [B, 1]));
      expect(out.dims).toEqual([B, 1, V]);
      prefixes.forEach((p, b) => cmp((out.data as Float32Array).slice(b * V, (b + 1) * V), ours[b]!.slice((p.length + k) * V, (p.length + k + 1) * V)));
    }
    expect(worst).toBeLessThan(1e-4);
    await session.release();
  });

  it('has opset 17, the documented inputs and output, only standard ops, and the weights bit for bit', () => {
    const weights = randomWeights(untied, 5);
    const m = decodeModel(exportOnnx(untied, weights));
    expect(m.ir_version).toBe(8);
    expect(m.opset_import).toEqual([{ domain: '', version: ONNX_OPSET }]);
    expect(ONNX_OPSET).toBeGreaterThanOrEqual(17);
    const dims = (v: (typeof m.graph.input)[number]) => v.type.tensor_type.shape.dim.map((d) => ('dim_param' in d && d.dim_param ? d.dim_param : (d as { dim_value: number }).dim_value));
    expect(m.graph.input.map((i) => [i.name, i.type.tensor_type.elem_type, dims(i)])).toEqual([
      ['input_ids', 7, ['batch', 'sequence']], ['attention_mask', 7, ['batch', 'sequence']],
    ]);
    expect(m.graph.output.map((o) => [o.name, o.type.tensor_type.elem_type, dims(o)])).toEqual([['logits', 1, ['batch', 'sequence', untied.vocabSize]]]);
    const ops = new Set(m.graph.node.map((n) => n.op_type));
    const standard = ['Gather', 'Mul', 'Add', 'Sub', 'Max', 'MatMul', 'ReduceMean', 'Sqrt', 'Reciprocal', 'Sigmoid', 'Softmax', 'Transpose', 'Reshape', 'Concat', 'Slice', 'Neg', 'Where', 'And', 'LessOrEqual', 'Range', 'Shape', 'Squeeze', 'Unsqueeze', 'Cast', 'CumSum', 'Cos', 'Sin', 'Identity'];
    expect([...ops].filter((o) => !standard.includes(o))).toEqual([]);
    for (const [name, t] of weights) {
      const init = m.graph.initializer.find((i) => i.name === name)!;
      expect(init.dims).toEqual(t.shape);
      expect(new Uint8Array(init.raw_data)).toEqual(new Uint8Array(t.data.buffer));
    }
  });

  it('refuses weights that do not match the config, naming the tensor', () => {
    const w = randomWeights(untied, 6);
    w.delete('model.layers.1.mlp.up_proj.weight');
    expect(() => exportOnnx(untied, w)).toThrow(/model\.layers\.1\.mlp\.up_proj\.weight is missing/);
  });

  const BASE = 'public/models/nano-base';
  it.skipIf(!existsSync(join(BASE, 'model.safetensors')))('reproduces the shipped base checkpoint within 1e-4', async () => {
    const ckpt = await loadCheckpointDir(BASE);
    const texts = ['the capital of the country is', 'who wrote the book ? <think>', 'answer : the river'];
    const seqs = texts.map((t) => [ckpt.tokenizer.bosId, ...ckpt.tokenizer.encode(t)]);
    const session = await ort.InferenceSession.create(exportOnnx(ckpt.config, ckpt.weights), { executionProviders: ['wasm'] });
    const ours = await positionLogits(ckpt.config, ckpt.weights, seqs);
    const theirs = await ortLogits(session, seqs, ckpt.config.vocabSize, 'right');
    expect(maxAbsDiff(theirs, ours)).toBeLessThan(1e-4);
    await session.release();
  });
});

const state: TrainerState = {
  format: 'r1s-trainer-state', version: 1, stage: 2, step: 40, totalSteps: 200, seed: 7, rngState: [1, 2, 3, 4], optimizerStep: 140,
  settings: { lr: 3e-4 }, pack: 'world', preset: 'tiny', init: 'runs/s1',
  lineage: [{ stage: 0, steps: 1200, pack: 'world' }, { stage: 1, steps: 100, pack: 'world' }, { stage: 2, steps: 40, pack: 'world' }], elapsedSeconds: 12.5,
};
const evalJson = new TextEncoder().encode(JSON.stringify({
  checkpoint: 'x', pack: 'world',
  results: [
    { split: 'test', mode: 'naive', overall: { n: 120, coverEm: 0.008, f1: 0.01, em: 0.008, formatRate: 0.95, searchesPerQuestion: 0 } },
    { split: 'test', mode: 'search', overall: { n: 120, coverEm: 0.1575, f1: 0.2, em: 0.15, formatRate: 0.97, searchesPerQuestion: 1.02 } },
  ],
}));
const metricsJsonl = new TextEncoder().encode('{"step":39,"reward":0.1}\n{"step":40,"reward":0.25,"f1":0.27,"formatRate":0.968}\n');

function fullCheckpoint(): Checkpoint {
  const weights = randomWeights(untied, 8);
  const moment = (s: number) => new Map([...randomWeights(untied, s)].map(([k, t]) => [k, { shape: t.shape, data: t.data.map(Math.abs) }]));
  return { config: untied, tokenizer: tok, weights, optimizer: { m: randomWeights(untied, 9), v: moment(10) }, state };
}

describe('hugging face export', () => {
  it('writes the folder with the weights bit for bit and imports back to the same model', async () => {
    const ckpt = fullCheckpoint();
    const files = exportFiles(ckpt, 'hf', { name: 'stage2', evalJson, metricsJsonl });
    expect([...files.keys()].sort()).toEqual(['README.md', 'config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    const back = readSafetensors(files.get('model.safetensors')!).tensors;
    expect([...back.keys()]).toEqual(paramSpecs(untied).map((s) => s.name));
    for (const [k, t] of ckpt.weights) expect(new Uint8Array(back.get(k)!.data.buffer)).toEqual(new Uint8Array(t.data.buffer));
    const cfg = JSON.parse(new TextDecoder().decode(files.get('config.json'))) as Record<string, unknown>;
    expect(cfg).toMatchObject({ architectures: ['LlamaForCausalLM'], hidden_size: 16, num_hidden_layers: 2, vocab_size: tok.size, tie_word_embeddings: false, torch_dtype: 'float32' });
    const tcfg = JSON.parse(new TextDecoder().decode(files.get('tokenizer_config.json'))) as Record<string, unknown>;
    expect(tcfg).toMatchObject({ tokenizer_class: 'PreTrainedTokenizerFast', bos_token: '<bos>', add_bos_token: false });
    const imported = await importCheckpoint(files);
    expect(imported.config).toEqual(untied);
    expect(imported.tokenizer.vocab).toEqual(tok.vocab);
    for (const [k, t] of ckpt.weights) expect(new Uint8Array(imported.weights.get(k)!.data.buffer)).toEqual(new Uint8Array(t.data.buffer));
    expect(imported.optimizer).toBeUndefined(); // the HF folder carries the model only
  });

  it('round-trips a full checkpoint (optimizer, trainer state) bit for bit through a zip', async () => {
    const ckpt = fullCheckpoint();
    const zip = zipFiles(encodeCheckpoint(ckpt), { root: 'stage2' });
    const { checkpoint, notes } = await importCheckpointFiles(zip);
    expect(notes).toEqual([]);
    for (const part of ['m', 'v'] as const) {
      for (const [k, t] of ckpt.optimizer![part]) expect(new Uint8Array(checkpoint.optimizer![part].get(k)!.data.buffer)).toEqual(new Uint8Array(t.data.buffer));
    }
    expect(checkpoint.state).toEqual(state);
  });

  it('writes a model card naming the pack, stages, steps and evaluation figures', () => {
    const card = new TextDecoder().decode(exportFiles(fullCheckpoint(), 'hf', { name: 'stage2', evalJson, metricsJsonl }).get('README.md'));
    expect(card.startsWith('---\nlibrary_name: transformers\n')).toBe(true);
    expect(card).toContain('# stage2');
    expect(card).toContain('Pack: `world`, model preset `tiny`, seed 7.');
    expect(card).toContain('| 0 | Stage 0: pretraining (documents, reading passages, tag skeletons) | 1200 | world |');
    expect(card).toContain('| 2 | Stage 2 RL: reward = answer F1 + format penalty (recipe.md section 6) | 40 | world |');
    expect(card).toContain('This checkpoint: stage 2, step 40 of 200, started from `runs/s1`.');
    expect(card).toContain('| test | search | 120 | 0.158 | 0.200 | 0.150 | 0.970 | 1.020 |'); // 0.1575 rounds up
    expect(card).toContain('Last training step (40) from metrics.jsonl: reward 0.250, f1 0.270, formatRate 0.968.');
    // Without eval.json or a trainer state, the card says so instead of inventing figures.
    const bare = modelCard({ name: 'x', format: 'onnx', config: untied });
    expect(bare).toContain('No trainer_state.json');
    expect(bare).toContain('No eval.json');
    // The ONNX card is a transformers.js card (issue 17): the Hub's front matter says so.
    expect(bare).toContain('---\nlibrary_name: transformers.js\npipeline_tag: text-generation\n');
    expect(() => parseEvalJson(new TextEncoder().encode('{"results":[{"split":"test"}]}'))).toThrow(/results\[0\] lacks split, mode or overall/);
    expect(lastMetricsLine(new TextEncoder().encode(''))).toBeUndefined();
  });
});

describe('zip', () => {
  it('computes the standard CRC-32 check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('round-trips files, strips a single top folder, and catches a flipped byte in a stored entry', () => {
    const files = new Map([['config.json', new TextEncoder().encode('{"a":1}')], ['model.safetensors', Uint8Array.from({ length: 1000 }, (_, i) => i % 251)]]);
    const zip = zipFiles(files, { root: 'my-model' });
    expect(zipFiles(files, { root: 'my-model' })).toEqual(zip); // reproducible
    const back = unzipFiles(zip);
    expect([...back.keys()]).toEqual(['config.json', 'model.safetensors']);
    expect(back.get('model.safetensors')).toEqual(files.get('model.safetensors'));
    // The safetensors entry is stored: find its bytes and flip one.
    const at = zip.findIndex((_, i) => zip[i] === 0 && zip[i + 1] === 1 && zip[i + 2] === 2 && zip[i + 3] === 3 && zip[i + 4] === 4);
    const bad = zip.slice();
    bad[at + 500]! ^= 0xff;
    expect(() => unzipFiles(bad)).toThrow(/zip: my-model\/model\.safetensors: CRC-32 mismatch/);
    expect(() => unzipFiles(zip.subarray(0, zip.length - 30))).toThrow(/zip: archive is corrupt/);
    expect(() => unzipFiles(zip, { maxBytes: 500 })).toThrow(/unpacks to more than 500 bytes/);
  });
});

/** Runs a command capturing stdout. */
async function capture(f: () => Promise<void>): Promise<string> {
  const write = process.stdout.write.bind(process.stdout);
  let out = '';
  process.stdout.write = ((chunk: string | Uint8Array) => { out += String(chunk); return true; }) as typeof process.stdout.write;
  try {
    await f();
  } finally {
    process.stdout.write = write;
  }
  return out;
}

describe('cli export and logits', () => {
  it('exports hf and onnx folders and zips, refuses to overwrite, and prints logits for parity', async () => {
    const ckptDir = join(root, 'ckpt');
    const ckpt = fullCheckpoint();
    await saveCheckpointDir(ckptDir, ckpt, { extra: new Map([['eval.json', evalJson], ['metrics.jsonl', metricsJsonl]]) });

    const hfDir = join(root, 'hf');
    const r = JSON.parse(await capture(() => exportCmd(['--checkpoint', ckptDir, '--format', 'hf', '--out', hfDir, '--json']))) as { files: { name: string }[] };
    expect(r.files.map((f) => f.name)).toContain('model.safetensors');
    expect((await readdir(hfDir)).sort()).toEqual(['README.md', 'config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    expect(await readFile(join(hfDir, 'README.md'), 'utf8')).toContain('| test | search | 120 |');
    const before = (await stat(join(hfDir, 'model.safetensors'))).mtimeMs;
    await expect(exportCmd(['--checkpoint', ckptDir, '--format', 'onnx', '--out', hfDir])).rejects.toThrow(/already exists \(nothing was written; pass --overwrite/);
    expect((await stat(join(hfDir, 'model.safetensors'))).mtimeMs).toBe(before);
    await expect(exportCmd(['--checkpoint', ckptDir, '--format', 'gguf', '--out', join(root, 'x')])).rejects.toThrow(/--format must be hf or onnx, got "gguf"/);

    const onnxZip = join(root, 'policy.zip');
    await capture(() => exportCmd(['--checkpoint', ckptDir, '--format', 'onnx', '--out', onnxZip, '--zip', '--json']));
    const unzipped = unzipFiles(new Uint8Array(await readFile(onnxZip)));
    expect([...unzipped.keys()].sort()).toEqual(['README.md', 'config.json', 'generation_config.json', 'onnx/model.onnx', 'tokenizer.json', 'tokenizer_config.json']);
    const session = await ort.InferenceSession.create(unzipped.get('onnx/model.onnx')!, { executionProviders: ['wasm'] });

    const out = JSON.parse(await capture(() => logitsCmd(['--checkpoint', ckptDir, '--text', 'Who wrote the book?', '--json']))) as { ids: number[]; tokens: string[]; logits: number[][] };
    expect(out.tokens).toEqual(['<bos>', 'who', 'wrote', 'the', 'book', '?']);
    expect(out.ids).toEqual(out.tokens.map((t) => tok.id(t)));
    expect(out.logits).toHaveLength(6);
    expect(out.logits.every((row) => row.length === untied.vocabSize)).toBe(true);
    const [fromOnnx] = await ortLogits(session, [out.ids], untied.vocabSize, 'right');
    expect(maxAbsDiff([fromOnnx!], [Float32Array.from(out.logits.flat())])).toBeLessThan(1e-4);
    await session.release();
    await expect(logitsCmd(['--checkpoint', ckptDir, '--text', 'x '.repeat(40), '--json'])).rejects.toThrow(/is 41 tokens, the model takes at most 32/);

    // --kv-cache: the model takes and returns the cache, and the card says how to feed it.
    await expect(exportCmd(['--checkpoint', ckptDir, '--format', 'hf', '--kv-cache', '--out', join(root, 'hf-kv')])).rejects.toThrow(/--kv-cache needs --format onnx/);
    const kvDir = join(root, 'onnx-kv');
    await capture(() => exportCmd(['--checkpoint', ckptDir, '--format', 'onnx', '--kv-cache', '--out', kvDir, '--json']));
    const kv = await ort.InferenceSession.create(new Uint8Array(await readFile(join(kvDir, 'onnx', 'model.onnx'))), { executionProviders: ['wasm'] });
    expect(kv.inputNames).toEqual([ONNX_INPUT_IDS, ONNX_ATTENTION_MASK, 'past_key_values.0.key', 'past_key_values.0.value', 'past_key_values.1.key', 'past_key_values.1.value']);
    expect(kv.outputNames).toEqual([ONNX_LOGITS, 'present.0.key', 'present.0.value', 'present.1.key', 'present.1.value']);
    await kv.release();
    expect(await readFile(join(kvDir, 'README.md'), 'utf8')).toContain('With the KV cache: inputs `past_key_values.{0..1}.key`');
  });
});
