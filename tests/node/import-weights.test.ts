/**
 * Importing checkpoints (src/io/import.ts): ours and foreign Llama folders or zips are accepted
 * (16-bit weights converted exactly, shards merged, duplicate tied head and rotary buffers
 * dropped), and malformed inputs are refused with an error naming the file and the tensor or
 * field, leaving the input untouched.
 */
import { describe, expect, it } from 'vitest';
import { encodeCheckpoint, type Checkpoint, type TrainerState } from '../../src/io/checkpoint.ts';
import { importCheckpoint, importCheckpointFiles } from '../../src/io/import.ts';
import { writeSafetensors, type HostTensor } from '../../src/io/safetensors.ts';
import { zipFiles } from '../../src/io/zip.ts';
import { validateConfig, type ModelConfig } from '../../src/model/config.ts';
import { paramSpecs } from '../../src/model/params.ts';
import { Tokenizer } from '../../src/tokenizer/tokenizer.ts';
import { Rng } from '../../src/util/rng.ts';

const tok = Tokenizer.fromWords(['alpha', 'beta', 'gamma', 'delta', 'eps']);
const config: ModelConfig = validateConfig({ vocabSize: tok.size, hiddenSize: 8, intermediateSize: 12, numLayers: 1, numHeads: 2, maxPositions: 16, rmsEps: 1e-5, ropeTheta: 10000, tieEmbeddings: false });
const state: TrainerState = {
  format: 'r1s-trainer-state', version: 1, stage: 1, step: 3, totalSteps: 10, seed: 1, rngState: [1, 2, 3, 4], optimizerStep: 3,
  settings: {}, pack: 'world', preset: 'tiny', init: '', lineage: [{ stage: 1, steps: 3, pack: 'world' }], elapsedSeconds: 1,
};

function weightsFor(c: ModelConfig, seed: number): Map<string, HostTensor> {
  const rng = new Rng(seed);
  return new Map(paramSpecs(c).map((s) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    return [s.name, { shape: [...s.shape], data: Float32Array.from({ length: n }, () => rng.normal()) }];
  }));
}

const ckpt = (): Checkpoint => ({ config, tokenizer: tok, weights: weightsFor(config, 1), optimizer: { m: weightsFor(config, 2), v: weightsFor(config, 3) }, state });
const good = () => encodeCheckpoint(ckpt());
const enc = (x: unknown) => new TextEncoder().encode(typeof x === 'string' ? x : JSON.stringify(x));
const jsonOf = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b)) as Record<string, unknown>;
const withFile = (name: string, bytes: Uint8Array | null, base = good()) => {
  const f = new Map(base);
  if (bytes) f.set(name, bytes);
  else f.delete(name);
  return f;
};
const editJson = (name: string, edit: (j: Record<string, unknown>) => void) => {
  const base = good();
  const j = jsonOf(base.get(name)!);
  edit(j);
  return withFile(name, enc(j), base);
};
const withWeights = (edit: (w: Map<string, HostTensor>) => void) => {
  const w = weightsFor(config, 1);
  edit(w);
  return withFile('model.safetensors', writeSafetensors(w));
};

/** A safetensors file from raw entries (any dtype), header as given. */
function rawSafetensors(entries: { name: string; dtype: string; shape: number[]; bytes: Uint8Array }[]): Uint8Array {
  const header: Record<string, unknown> = {};
  let off = 0;
  for (const e of entries) {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [off, off + e.bytes.length] };
    off += e.bytes.length;
  }
  const h = enc(header);
  const out = new Uint8Array(8 + h.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  let p = 8 + h.length;
  for (const e of entries) {
    out.set(e.bytes, p);
    p += e.bytes.length;
  }
  return out;
}

/** Float32 values rounded down to bfloat16 (their top 16 bits), and those 16-bit patterns. */
function toBf16(data: Float32Array): { rounded: Float32Array; bytes: Uint8Array } {
  const bits = new Uint32Array(data.buffer.slice(0));
  const bytes = new Uint8Array(data.length * 2), dv = new DataView(bytes.buffer);
  for (let i = 0; i < bits.length; i++) {
    dv.setUint16(2 * i, bits[i]! >>> 16, true);
    bits[i] = bits[i]! & 0xffff0000;
  }
  return { rounded: new Float32Array(bits.buffer), bytes };
}

const u16 = (...v: number[]) => {
  const b = new Uint8Array(v.length * 2), dv = new DataView(b.buffer);
  v.forEach((x, i) => dv.setUint16(2 * i, x, true));
  return b;
};

describe('import: accepted inputs', () => {
  it('imports our checkpoint from a zip and from a folder listing with a top folder, bit for bit, leaving the input untouched', async () => {
    const files = good();
    const fromZip = await importCheckpoint(zipFiles(files, { root: 'run-7' }));
    const listing = new Map([...files].map(([k, v]) => [`run-7/${k}`, v]));
    const snapshot = new Map([...listing].map(([k, v]) => [k, v.slice()]));
    const fromFolder = await importCheckpoint(listing);
    expect(listing).toEqual(snapshot);
    for (const c of [fromZip, fromFolder]) {
      expect(c.config).toEqual(config);
      expect(c.state).toEqual(state);
      for (const [k, t] of ckpt().weights) expect(new Uint8Array(c.weights.get(k)!.data.buffer)).toEqual(new Uint8Array(t.data.buffer));
      expect(new Uint8Array(c.optimizer!.v.get('model.norm.weight')!.data.buffer)).toEqual(new Uint8Array(weightsFor(config, 3).get('model.norm.weight')!.data.buffer));
    }
  });

  it('converts F16 and BF16 weights to F32 exactly (hand-checked values) and notes it', async () => {
    const w = weightsFor(config, 1);
    const entries = paramSpecs(config).map((s) => {
      const t = w.get(s.name)!;
      if (s.name === 'model.norm.weight') {
        // F16: 1, -2, 2^-24 (smallest subnormal), 65504 (largest), 1/3 rounded, -0, 0.5, 3
        return { name: s.name, dtype: 'F16', shape: t.shape, bytes: u16(0x3c00, 0xc000, 0x0001, 0x7bff, 0x3555, 0x8000, 0x3800, 0x4200) };
      }
      const { bytes } = toBf16(t.data);
      return { name: s.name, dtype: 'BF16', shape: t.shape, bytes };
    });
    const files = withFile('model.safetensors', rawSafetensors(entries), editJson('config.json', (j) => { j.torch_dtype = 'bfloat16'; }));
    const { checkpoint, notes } = await importCheckpointFiles(files);
    expect(Array.from(checkpoint.weights.get('model.norm.weight')!.data)).toEqual([1, -2, 2 ** -24, 65504, 0.333251953125, -0, 0.5, 3]);
    const q = 'model.layers.0.self_attn.q_proj.weight';
    expect(checkpoint.weights.get(q)!.data).toEqual(toBf16(w.get(q)!.data).rounded);
    expect(notes).toEqual([
      'config.json: torch_dtype bfloat16 read as float32 (weights are converted exactly)',
      `model.safetensors: ${paramSpecs(config).length} tensors converted from 16-bit floats to F32`,
    ]);
  });

  it('merges sharded weights, drops a duplicate tied head and rotary buffers', async () => {
    const tiedConfig = { ...config, tieEmbeddings: true };
    const w = weightsFor(tiedConfig, 4);
    const names = [...w.keys()];
    const shard = (part: string[], extra: [string, HostTensor][] = []) => writeSafetensors([...part.map((n) => [n, w.get(n)!] as [string, HostTensor]), ...extra]);
    const head: [string, HostTensor] = ['lm_head.weight', w.get('model.embed_tokens.weight')!];
    const inv: [string, HostTensor] = ['model.layers.0.self_attn.rotary_emb.inv_freq', { shape: [2], data: Float32Array.from([1, 0.01]) }];
    const files = new Map<string, Uint8Array>([
      ['config.json', enc({ ...jsonOf(good().get('config.json')!), tie_word_embeddings: true })],
      ['tokenizer.json', good().get('tokenizer.json')!],
      ['model-00001-of-00002.safetensors', shard(names.slice(0, 4), [inv])],
      ['model-00002-of-00002.safetensors', shard(names.slice(4), [head])],
      ['model.safetensors.index.json', enc({ metadata: {}, weight_map: Object.fromEntries([
        ...names.slice(0, 4).map((n) => [n, 'model-00001-of-00002.safetensors']), [inv[0], 'model-00001-of-00002.safetensors'],
        ...names.slice(4).map((n) => [n, 'model-00002-of-00002.safetensors']), ['lm_head.weight', 'model-00002-of-00002.safetensors'],
      ]) })],
    ]);
    const { checkpoint, notes } = await importCheckpointFiles(files);
    expect([...checkpoint.weights.keys()]).toEqual(names);
    expect(checkpoint.weights.has('lm_head.weight')).toBe(false);
    expect(notes).toEqual([
      'model.safetensors.index.json: 2 shards merged',
      'model.safetensors: rotary_emb.inv_freq buffers dropped (computed from rope_theta)',
      'model.safetensors: lm_head.weight dropped (identical to model.embed_tokens.weight; the embeddings are tied)',
    ]);
  });
});

describe('import: malformed inputs are refused precisely', () => {
  const good0 = good();
  const zip = zipFiles(good0);
  const st = good0.get('model.safetensors')!;
  const headerLen = Number(new DataView(st.buffer, st.byteOffset).getBigUint64(0, true));
  const header = jsonOf(st.subarray(8, 8 + headerLen));
  const stWithHeader = (edit: (h: Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>) => void) => {
    const h = structuredClone(header) as Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>;
    edit(h);
    const hb = enc(h), data = st.subarray(8 + headerLen);
    const out = new Uint8Array(8 + hb.length + data.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
    out.set(hb, 8);
    out.set(data, 8 + hb.length);
    return withFile('model.safetensors', out);
  };
  const bpe = (() => {
    const j = jsonOf(good0.get('tokenizer.json')!);
    (j.model as Record<string, unknown>).type = 'BPE';
    return j;
  })();
  const nanWeights = withWeights((w) => { w.get('model.embed_tokens.weight')!.data[7] = NaN; });
  const Q = 'model.layers.0.self_attn.q_proj.weight';

  const cases: [string, () => Parameters<typeof importCheckpoint>[0], RegExp][] = [
    ['zip with a missing file', () => zipFiles(withFile('tokenizer.json', null)), /^import: tokenizer\.json is missing \(found: config\.json, generation_config\.json, model\.safetensors, optimizer\.safetensors, trainer_state\.json\)$/],
    ['corrupt (truncated) zip', () => zip.subarray(0, zip.length - 100), /^import: zip: archive is corrupt/],
    ['zip with a damaged entry', () => {
      // model.safetensors last, so the byte just before the central directory is in its (stored) data.
      const z = zipFiles(new Map([...withFile('model.safetensors', null), ['model.safetensors', st]]));
      const cdOffset = new DataView(z.buffer).getUint32(z.length - 22 + 16, true);
      z[cdOffset - 10]! ^= 0x55;
      return z;
    }, /^import: zip: model\.safetensors: CRC-32 mismatch, the archive is corrupt$/],
    ['not a zip at all', () => new Uint8Array([0x7b, 0x22, 0x61, 0x22]), /^import: the file is not a zip archive \(it starts with bytes 7b 22 61 22/],
    ['config.json not JSON', () => withFile('config.json', enc('{"model_type": "llama",')), /^import: config\.json is not valid JSON/],
    ['config with linear rope_scaling', () => editJson('config.json', (j) => { j.rope_scaling = { type: 'linear', factor: 2 }; }), /^import: config\.json: rope_scaling\.rope_type "linear" is not supported \(only "llama3"\)$/],
    ['config with kv heads not dividing the heads', () => editJson('config.json', (j) => { j.num_key_value_heads = 3; }), /^import: config\.json: num_attention_heads \d+ is not a multiple of num_key_value_heads 3 \(grouped-query attention/],
    ['config of another architecture', () => editJson('config.json', (j) => { j.architectures = ['MistralForCausalLM']; }), /^import: config\.json: architectures \["MistralForCausalLM"\] does not include "LlamaForCausalLM"/],
    ['config with float64 weights', () => editJson('config.json', (j) => { j.torch_dtype = 'float64'; }), /^import: config\.json: torch_dtype must be float32, float16 or bfloat16, got "float64"$/],
    ['config with an odd head size', () => editJson('config.json', (j) => { j.num_attention_heads = 8; j.num_key_value_heads = 8; delete j.head_dim; }), /^import: config\.json: head size 1 must be even for RoPE$/],
    ['tokenizer neither WordLevel nor BPE', () => editJson('tokenizer.json', (j) => { (j.model as Record<string, unknown>).type = 'Unigram'; }), /^import: tokenizer\.json: model\.type must be "WordLevel" or "BPE", got "Unigram"$/],
    ['BPE tokenizer without the end-of-word suffix', () => withFile('tokenizer.json', enc(bpe)), /^import: tokenizer\.json: model\.end_of_word_suffix must be "<\/w>", got undefined$/],
    ['tokenizer ids with a gap', () => editJson('tokenizer.json', (j) => { const v = (j.model as { vocab: Record<string, number> }).vocab; v.eps = 20; }), /^import: tokenizer\.json: model\.vocab\["eps"\] = 20 is not an id in \[0, 17\)$/],
    ['tokenizer without our special tokens first', () => editJson('tokenizer.json', (j) => { const v = (j.model as { vocab: Record<string, number> }).vocab; v['<pad>'] = 12; v.alpha = 0; j.added_tokens = []; }), /^import: tokenizer\.json: id 0 must be the special token <pad>, got "alpha" \(ids 0\.\.11 must hold our special tokens\)$/],
    ['tokenizer added_tokens disagreeing with the vocabulary', () => editJson('tokenizer.json', (j) => { (j.added_tokens as { id: number }[])[2]!.id = 3; }), /^import: tokenizer\.json: added_tokens\[2\] says "<eos>" has id 3, model\.vocab gives 3 to "<unk>"$/],
    ['vocabulary size mismatch', () => editJson('config.json', (j) => { j.vocab_size = 18; }), /^import: tokenizer\.json has 17 tokens but config\.json vocab_size is 18$/],
    ['pickled weights only', () => withFile('pytorch_model.bin', new Uint8Array(10), withFile('model.safetensors', null)), /^import: model\.safetensors is missing \(pytorch_model\.bin found: only safetensors are read/],
    ['safetensors header length beyond the file', () => { const b = st.slice(); new DataView(b.buffer).setBigUint64(0, 1n << 40n, true); return withFile('model.safetensors', b); }, /^import: model\.safetensors: header length 1099511627776 runs past the end of the file/],
    ['truncated safetensors', () => withFile('model.safetensors', st.subarray(0, st.length - 4)), /^import: model\.safetensors: tensor lm_head\.weight: data_offsets end \d+ is past the data/],
    ['safetensors header not JSON', () => { const b = st.slice(); b[9] = 0x7d; b[10] = 0x7d; return withFile('model.safetensors', b); }, /^import: model\.safetensors: header is not valid UTF-8 JSON/],
    ['wrong dtype', () => stWithHeader((h) => { h[Q]!.dtype = 'I32'; }), /^import: model\.safetensors: tensor model\.layers\.0\.self_attn\.q_proj\.weight: dtype "I32" is not supported \(F32, F16 and BF16 only\)$/],
    ['overlapping byte ranges', () => stWithHeader((h) => { const o = h[Q]!.data_offsets; h[Q]!.data_offsets = [o[0]! - 4, o[1]! - 4]; }), /^import: model\.safetensors: tensor model\.layers\.0\.self_attn\.q_proj\.weight: byte range \[\d+, \d+\) overlaps the previous tensor$/],
    ['shape mismatch with config.json', () => withWeights((w) => { w.set(Q, { shape: [8, 4, 2], data: w.get(Q)!.data }); }), /^import: model\.safetensors: tensor model\.layers\.0\.self_attn\.q_proj\.weight has shape \[8, 4, 2\], config\.json implies \[8, 8\]$/],
    ['missing tensor', () => withWeights((w) => { w.delete('model.norm.weight'); }), /^import: model\.safetensors: tensor model\.norm\.weight is missing$/],
    ['extra tensor', () => withWeights((w) => { w.set('model.layers.3.mlp.up_proj.weight', { shape: [1], data: new Float32Array(1) }); }), /^import: model\.safetensors: unexpected tensor model\.layers\.3\.mlp\.up_proj\.weight$/],
    ['NaN weights', () => nanWeights, /^import: model\.safetensors: tensor model\.embed_tokens\.weight: value NaN at index 7 is not finite$/],
    ['untied config without lm_head', () => withWeights((w) => { w.delete('lm_head.weight'); }), /^import: model\.safetensors: tensor lm_head\.weight is missing and config\.json does not tie the embeddings/],
    ['tied config with a different lm_head', () => editJson('config.json', (j) => { j.tie_word_embeddings = true; }), /^import: model\.safetensors: tensor lm_head\.weight differs from model\.embed_tokens\.weight, but config\.json ties the embeddings/],
    ['shard named by the index but absent', () => {
      const f = withFile('model.safetensors', null);
      f.set('model.safetensors.index.json', enc({ weight_map: { 'model.norm.weight': 'model-00002-of-00002.safetensors' } }));
      return f;
    }, /^import: model-00002-of-00002\.safetensors is missing \(model\.safetensors\.index\.json maps 1 tensors to it\)$/],
    ['optimizer state with a stray tensor', () => withFile('optimizer.safetensors', writeSafetensors([['w.model.norm.weight', { shape: [1], data: new Float32Array(1) }]])), /^import: optimizer\.safetensors: unexpected tensor w\.model\.norm\.weight/],
    ['trainer state with a bad stage', () => editJson('trainer_state.json', (j) => { j.stage = 3; }), /^import: trainer_state\.json: stage must be 0, 1 or 2, got 3$/],
  ];

  it(`has at least 15 cases (${cases.length})`, () => expect(cases.length).toBeGreaterThanOrEqual(15));
  for (const [label, make, re] of cases) {
    it(`refuses: ${label}`, async () => {
      const input = make();
      await expect(importCheckpoint(input)).rejects.toThrow(re);
    });
  }
});
