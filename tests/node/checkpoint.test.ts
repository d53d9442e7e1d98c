/**
 * Checkpoint folders and safetensors: bit-exact round trips, and malformed files refused with
 * an error that names the file and the tensor or field; nothing already saved is overwritten.
 */
import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors, writeSafetensors, type HostTensor } from '../../src/io/safetensors.ts';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from '../../src/io/checkpoint.ts';
import { loadCheckpointDir, saveCheckpointDir } from '../../src/io/checkpoint-fs.ts';
import { fromHfConfig, toHfConfig } from '../../src/io/hf-config.ts';
import { validateConfig, type ModelConfig } from '../../src/model/config.ts';
import { paramSpecs } from '../../src/model/params.ts';
import { Tokenizer } from '../../src/tokenizer/tokenizer.ts';
import { Rng } from '../../src/util/rng.ts';

const tok = Tokenizer.fromWords(['a', 'b', 'c', 'd']);
const config: ModelConfig = validateConfig({ vocabSize: tok.size, hiddenSize: 4, intermediateSize: 6, numLayers: 1, numHeads: 2, maxPositions: 16, rmsEps: 1e-5, ropeTheta: 10000, tieEmbeddings: false });

function randomWeights(seed: number): Map<string, HostTensor> {
  const rng = new Rng(seed);
  return new Map(paramSpecs(config).map((s) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    return [s.name, { shape: [...s.shape], data: Float32Array.from({ length: n }, () => rng.normal()) }];
  }));
}

const ckpt = (): Checkpoint => ({ config, tokenizer: tok, weights: randomWeights(1) });
const enc = (x: unknown) => new TextEncoder().encode(JSON.stringify(x));
const reader = (files: Map<string, Uint8Array>) => async (name: string) => files.get(name) ?? null;

/** A safetensors file whose header JSON is replaced (data kept). */
function withHeader(header: unknown, data: Uint8Array): Uint8Array {
  const h = enc(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

describe('safetensors', () => {
  it('round-trips bit for bit, including -0, subnormals and extremes', () => {
    const data = Float32Array.from([0, -0, 1.401298464324817e-45, 3.4028234663852886e38, -1.5, Math.PI]);
    const bytes = writeSafetensors(new Map([['x', { shape: [2, 3], data }]]), { format: 'pt' });
    expect(new DataView(bytes.buffer).getBigUint64(0, true) % 8n).toBe(0n); // header padded to 8 bytes
    const back = readSafetensors(bytes);
    expect(back.metadata).toEqual({ format: 'pt' });
    const x = back.tensors.get('x')!;
    expect(x.shape).toEqual([2, 3]);
    expect(new Uint8Array(x.data.buffer)).toEqual(new Uint8Array(data.buffer));
  });

  const good = writeSafetensors(new Map([['a', { shape: [2], data: Float32Array.from([1, 2]) }], ['b', { shape: [1], data: Float32Array.from([3]) }]]));
  const headerLen = Number(new DataView(good.buffer).getBigUint64(0, true));
  const data = good.subarray(8 + headerLen);
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty file', new Uint8Array(3), /too short/],
    ['truncated data', good.subarray(0, good.length - 2), /past the data|trailing|do not hold/],
    ['header length beyond the file', (() => { const c = good.slice(); new DataView(c.buffer).setBigUint64(0, 10_000n, true); return c; })(), /runs past the end/],
    ['header not JSON', withHeader('x', data).map((v, i) => (i === 8 ? 0x7b : v)), /not valid UTF-8 JSON/],
    ['header an array', withHeader([1], data), /not a JSON object/],
    ['wrong dtype', withHeader({ a: { dtype: 'F16', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, data), /tensor a: dtype "F16"/],
    ['bad shape', withHeader({ a: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, data), /tensor a: shape/],
    ['shape does not match bytes', withHeader({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, data), /tensor a: 8 bytes do not hold/],
    ['overlapping ranges', withHeader({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, data), /tensor b: byte range \[4, 8\) overlaps/],
    ['gap between tensors', withHeader({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, data), /tensor b: gap of 4 bytes/],
    ['offsets past the data', withHeader({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, data), /tensor b: data_offsets end 16 is past/],
    ['reversed offsets', withHeader({ a: { dtype: 'F32', shape: [0], data_offsets: [8, 0] } }, data), /tensor a: data_offsets/],
    ['NaN weights', writeSafetensors(new Map([['w', { shape: [2], data: Float32Array.from([1, NaN]) }]])), /tensor w: value NaN at index 1/],
    ['infinite weights', writeSafetensors(new Map([['w', { shape: [1], data: Float32Array.from([Infinity]) }]])), /tensor w: value Infinity/],
    ['bad metadata', withHeader({ __metadata__: { k: 1 }, a: { dtype: 'F32', shape: [3], data_offsets: [0, 12] } }, data), /__metadata__.k is not a string/],
  ];
  for (const [name, bytes, re] of cases) {
    it(`refuses: ${name}`, () => expect(() => readSafetensors(bytes)).toThrow(re));
  }
});

describe('checkpoint folder', () => {
  it('encodes a Hugging Face Llama folder and decodes it back exactly', async () => {
    const files = encodeCheckpoint(ckpt());
    expect([...files.keys()].sort()).toEqual(['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json']);
    const cfg = JSON.parse(new TextDecoder().decode(files.get('config.json')));
    expect(cfg).toMatchObject({ architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: tok.size, hidden_size: 4, num_key_value_heads: 2, torch_dtype: 'float32', tie_word_embeddings: false });
    const names = [...readSafetensors(files.get('model.safetensors')!).tensors.keys()];
    expect(names).toContain('model.layers.0.self_attn.q_proj.weight');
    expect(names).toContain('lm_head.weight');
    const back = await decodeCheckpoint(reader(files));
    expect(back.config).toEqual(config);
    expect(back.tokenizer.vocab).toEqual(tok.vocab);
    for (const [k, t] of ckpt().weights) expect(back.weights.get(k)!.data).toEqual(t.data);
  });

  it('refuses tensors that disagree with config.json, naming the tensor', async () => {
    const base = encodeCheckpoint(ckpt());
    const mutate = (f: (w: Map<string, HostTensor>) => void) => {
      const w = randomWeights(2);
      f(w);
      return new Map([...base, ['model.safetensors', writeSafetensors(w)]]);
    };
    await expect(decodeCheckpoint(reader(mutate((w) => w.delete('model.norm.weight'))))).rejects.toThrow(/model.safetensors: tensor model.norm.weight is missing/);
    await expect(decodeCheckpoint(reader(mutate((w) => w.set('model.norm.weight', { shape: [5], data: new Float32Array(5) }))))).rejects.toThrow(/tensor model.norm.weight has shape \[5\], config.json implies \[4\]/);
    await expect(decodeCheckpoint(reader(mutate((w) => w.set('extra.weight', { shape: [1], data: new Float32Array(1) }))))).rejects.toThrow(/unexpected tensor extra.weight/);
    const badVocab = new Map([...base, ['config.json', enc({ ...toHfConfig(config, { bos: 1, eos: 2, pad: 0 }), vocab_size: tok.size + 1 })]]);
    await expect(decodeCheckpoint(reader(badVocab))).rejects.toThrow(/tokenizer.json has 16 tokens but config.json vocab_size is 17/);
    await expect(decodeCheckpoint(reader(new Map([...base, ['config.json', enc({ model_type: 'gpt2' })]])))).rejects.toThrow(/model_type must be "llama"/);
    await expect(decodeCheckpoint(reader(new Map([...base, ['config.json', new TextEncoder().encode('{')]])))).rejects.toThrow(/config.json is not valid JSON/);
    const noModel = new Map(base);
    noModel.delete('model.safetensors');
    await expect(decodeCheckpoint(reader(noModel))).rejects.toThrow(/model.safetensors is missing/);
    // Grouped-query attention is read since issue 19; a kv head count that does not divide the heads is not.
    expect(() => fromHfConfig({ ...toHfConfig(config, { bos: 1, eos: 2, pad: 0 }), num_key_value_heads: 3 })).toThrow(/grouped-query/);
  });

  it('saves atomically and never replaces an existing folder unless asked', async () => {
    const root = await mkdtemp(join(tmpdir(), 'r1s-ckpt-'));
    const dir = join(root, 'run');
    await saveCheckpointDir(dir, ckpt(), { extra: new Map([['metrics.jsonl', '{"step":1}\n']]) });
    expect((await readdir(dir)).sort()).toEqual(['config.json', 'generation_config.json', 'metrics.jsonl', 'model.safetensors', 'tokenizer.json']);
    const before = await readFile(join(dir, 'model.safetensors'));
    const other = ckpt();
    other.weights = randomWeights(9);
    await expect(saveCheckpointDir(dir, other)).rejects.toThrow(/already exists and is not empty/);
    expect(await readFile(join(dir, 'model.safetensors'))).toEqual(before);
    await saveCheckpointDir(dir, other, { overwrite: true });
    const loaded = await loadCheckpointDir(dir);
    expect(loaded.weights.get('lm_head.weight')!.data).toEqual(other.weights.get('lm_head.weight')!.data);
    expect((await readdir(root)).filter((n) => n.startsWith('.'))).toEqual([]); // no temp folder left behind
    await writeFile(join(dir, 'model.safetensors'), new Uint8Array([1, 2, 3]));
    await expect(loadCheckpointDir(dir)).rejects.toThrow(/checkpoint: model.safetensors: file is 3 bytes/);
    await expect(loadCheckpointDir(join(root, 'nope'))).rejects.toThrow(/does not exist/);
  });
});
