/**
 * Imported Hugging Face architectures (issue 19): grouped-query attention, head_dim != C/H,
 * tied and untied heads, Llama 3 RoPE scaling, q/k/v(/o) biases, Qwen2 configs and sharded
 * weights. Logits are checked against an independent plain-loop forward pass written below
 * (double precision, straight from the Hugging Face definitions), a GQA model against the
 * multi-head model with repeated K/V heads, gradients against finite differences, and the
 * wasm backend against the cpu reference.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.ts';
import type { Backend, Tensor } from '../../src/backend/backend.ts';
import { WasmBackend } from '../../src/backend/wasm/wasm-backend.ts';
import { Llama, packSequences } from '../../src/model/llama.ts';
import { paramSpecs, zerosLike, type ParamSet } from '../../src/model/params.ts';
import type { ModelConfig } from '../../src/model/config.ts';
import { importCheckpointFiles } from '../../src/io/import.ts';
import { encodeCheckpoint } from '../../src/io/checkpoint.ts';
import { fromHfConfig } from '../../src/io/hf-config.ts';
import { exportOnnx } from '../../src/onnx/export.ts';
import { writeSafetensors, type HostTensor } from '../../src/io/safetensors.ts';
import { Tokenizer } from '../../src/tokenizer/tokenizer.ts';
import { Rng } from '../../src/util/rng.ts';
import { expectClose, fdGrad } from './helpers/fd.ts';

const cpu = new CpuBackend();
const view = (t: Tensor) => cpu.view(t) as Float32Array;
const enc = (x: unknown) => new TextEncoder().encode(JSON.stringify(x));

// A tokenizer of 12 special tokens + 25 words = 37 ids (the import checks vocab_size against it).
const tok = Tokenizer.fromWords(Array.from({ length: 25 }, (_, i) => `w${i}`));
const V = tok.size;

/** Llama: GQA (4 query heads, 2 kv heads), D = 8 != C/H = 5, untied, llama3 scaling, attention_bias. */
const LLAMA_HF = {
  architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: V, hidden_size: 20, intermediate_size: 28,
  num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 8, max_position_embeddings: 64,
  rms_norm_eps: 1e-5, rope_theta: 100, tie_word_embeddings: false, hidden_act: 'silu', attention_bias: true, mlp_bias: false,
  // theta 100, D 8: wavelengths 6.3, 19.9, 62.8, 199 tokens against 128/4 = 32 and 128/1 = 128:
  // kept, kept, blended, divided by the factor (every branch of the rule).
  rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 128 },
  torch_dtype: 'bfloat16', transformers_version: '4.45.0', bos_token_id: 1, eos_token_id: 2, pretraining_tp: 1,
};
/** Qwen2: GQA with one kv head, tied, q/k/v biases and no o bias. */
const QWEN_HF = {
  architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', vocab_size: V, hidden_size: 16, intermediate_size: 24,
  num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 1, max_position_embeddings: 64, rms_norm_eps: 1e-6,
  rope_theta: 1000000, tie_word_embeddings: true, hidden_act: 'silu', use_sliding_window: false, sliding_window: 4096,
  max_window_layers: 21, attention_dropout: 0, torch_dtype: 'float32', use_cache: true, rope_scaling: null,
};

/** Random weights (std 0.4; norms 1 +- 0.2; biases std 0.4) by Hugging Face name, shaped from the config. */
function randomWeights(c: ModelConfig, seed: number): Map<string, HostTensor> {
  const rng = new Rng(seed), out = new Map<string, HostTensor>();
  for (const s of paramSpecs(c)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const d = new Float32Array(n);
    for (let i = 0; i < n; i++) d[i] = s.init === 'ones' ? 1 + 0.2 * rng.normal() : 0.4 * rng.normal();
    out.set(s.name, { shape: [...s.shape], data: d });
  }
  return out;
}

// ------------------------------------------------------------------ independent reference

/**
 * The Hugging Face forward pass, one sequence, plain loops in doubles, written from the
 * transformers definitions (LlamaRMSNorm, rotate_half, repeat_kv, eager attention,
 * _compute_llama3_parameters) without our model code. Returns logits (T, V).
 */
function referenceLogits(hf: Record<string, unknown>, w: Map<string, HostTensor>, ids: number[]): number[][] {
  const C = hf.hidden_size as number, H = hf.num_attention_heads as number, Hkv = (hf.num_key_value_heads as number) ?? H;
  const D = (hf.head_dim as number | undefined) ?? C / H, F = hf.intermediate_size as number, L = hf.num_hidden_layers as number;
  const eps = hf.rms_norm_eps as number, theta = hf.rope_theta as number, T = ids.length;
  const qwen = hf.model_type === 'qwen2';
  const get = (n: string) => w.get(n)?.data;
  const linear = (x: number[], W: Float32Array, out: number, bias?: Float32Array) => {
    const inn = x.length, y: number[] = [];
    for (let o = 0; o < out; o++) {
      let s = bias ? bias[o]! : 0;
      for (let i = 0; i < inn; i++) s += W[o * inn + i]! * x[i]!;
      y.push(s);
    }
    return y;
  };
  const rms = (x: number[], g: Float32Array) => {
    const ms = x.reduce((a, b) => a + b * b, 0) / x.length;
    return x.map((v, i) => (v / Math.sqrt(ms + eps)) * g[i]!);
  };
  // Inverse frequencies, then Llama 3's rescaling.
  const inv: number[] = [];
  for (let j = 0; j < D; j += 2) inv.push(1 / theta ** (j / D));
  const rs = hf.rope_scaling as Record<string, number> | null | undefined;
  if (rs) {
    const old = rs.original_max_position_embeddings!, lowWl = old / rs.low_freq_factor!, highWl = old / rs.high_freq_factor!;
    for (let i = 0; i < inv.length; i++) {
      const wl = (2 * Math.PI) / inv[i]!;
      if (wl > lowWl) inv[i] = inv[i]! / rs.factor!;
      else if (wl >= highWl) {
        const sm = (old / wl - rs.low_freq_factor!) / (rs.high_freq_factor! - rs.low_freq_factor!);
        inv[i] = ((1 - sm) * inv[i]!) / rs.factor! + sm * inv[i]!;
      }
    }
  }
  const rope = (x: number[], heads: number, p: number) => {
    const y = x.slice();
    for (let h = 0; h < heads; h++) for (let i = 0; i < D / 2; i++) {
      const a = h * D + i, b = a + D / 2, ang = p * inv[i]!;
      y[a] = x[a]! * Math.cos(ang) - x[b]! * Math.sin(ang);
      y[b] = x[b]! * Math.cos(ang) + x[a]! * Math.sin(ang);
    }
    return y;
  };
  const E = get('model.embed_tokens.weight')!;
  let xs = ids.map((id) => Array.from(E.subarray(id * C, (id + 1) * C)));
  const hasBias = qwen || hf.attention_bias === true;
  for (let l = 0; l < L; l++) {
    const p = `model.layers.${l}.`;
    const ks: number[][] = [], vs: number[][] = [];
    const next: number[][] = [];
    for (let t = 0; t < T; t++) {
      const h = rms(xs[t]!, get(`${p}input_layernorm.weight`)!);
      const q = rope(linear(h, get(`${p}self_attn.q_proj.weight`)!, H * D, hasBias ? get(`${p}self_attn.q_proj.bias`) : undefined), H, t);
      ks.push(rope(linear(h, get(`${p}self_attn.k_proj.weight`)!, Hkv * D, hasBias ? get(`${p}self_attn.k_proj.bias`) : undefined), Hkv, t));
      vs.push(linear(h, get(`${p}self_attn.v_proj.weight`)!, Hkv * D, hasBias ? get(`${p}self_attn.v_proj.bias`) : undefined));
      const att: number[] = new Array(H * D).fill(0);
      for (let hh = 0; hh < H; hh++) {
        const kvh = Math.floor(hh / (H / Hkv)); // repeat_kv: query head hh reads kv head hh / n_rep
        const sc: number[] = [];
        for (let u = 0; u <= t; u++) {
          let s = 0;
          for (let d = 0; d < D; d++) s += q[hh * D + d]! * ks[u]![kvh * D + d]!;
          sc.push(s / Math.sqrt(D));
        }
        const mx = Math.max(...sc), ex = sc.map((s) => Math.exp(s - mx)), z = ex.reduce((a, b) => a + b, 0);
        for (let u = 0; u <= t; u++) for (let d = 0; d < D; d++) att[hh * D + d] += (ex[u]! / z) * vs[u]![kvh * D + d]!;
      }
      const o = linear(att, get(`${p}self_attn.o_proj.weight`)!, C, !qwen && hasBias ? get(`${p}self_attn.o_proj.bias`) : undefined);
      const mid = xs[t]!.map((v, i) => v + o[i]!);
      const h2 = rms(mid, get(`${p}post_attention_layernorm.weight`)!);
      const g = linear(h2, get(`${p}mlp.gate_proj.weight`)!, F), up = linear(h2, get(`${p}mlp.up_proj.weight`)!, F);
      const a = g.map((v, i) => (v / (1 + Math.exp(-v))) * up[i]!);
      const dn = linear(a, get(`${p}mlp.down_proj.weight`)!, C);
      next.push(mid.map((v, i) => v + dn[i]!));
    }
    xs = next;
  }
  const head = get('lm_head.weight') ?? E;
  return xs.map((x) => linear(rms(x, get('model.norm.weight')!), head, V));
}

// ------------------------------------------------------------------ helpers

/** A Hugging Face folder: config.json, tokenizer.json and the weights, sharded in two files when asked. */
function folder(hf: object, w: Map<string, HostTensor>, sharded: boolean): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>([['config.json', enc(hf)], ['tokenizer.json', enc(tok.toHuggingFace())]]);
  if (!sharded) files.set('model.safetensors', writeSafetensors(w));
  else {
    const names = [...w.keys()], half = Math.ceil(names.length / 2);
    const shards = [names.slice(0, half), names.slice(half)];
    const map: Record<string, string> = {};
    shards.forEach((ns, i) => {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      files.set(file, writeSafetensors(new Map(ns.map((n) => [n, w.get(n)!]))));
      for (const n of ns) map[n] = file;
    });
    files.set('model.safetensors.index.json', enc({ metadata: { total_size: 0 }, weight_map: map }));
  }
  return files;
}

function upload(b: Backend, w: ReadonlyMap<string, HostTensor>): ParamSet {
  return new Map([...w].map(([n, t]) => [n, b.fromArray(t.data, t.shape)]));
}

/** Logits (T, V) of every position from one KV-cache prefill. */
async function modelLogits(b: Backend, c: ModelConfig, w: ReadonlyMap<string, HostTensor>, ids: number[]): Promise<Float32Array> {
  const model = new Llama(b, c, upload(b, w));
  const T = ids.length, cache = model.createCache(1, T);
  const logits = model.forwardInfer(cache, {
    tokens: Int32Array.from(ids), slots: new Int32Array(T), positions: Int32Array.from(ids.map((_, t) => t)), outRows: Int32Array.from(ids.map((_, t) => t)),
  });
  const out = (await b.read(logits)) as Float32Array;
  b.dispose(logits);
  model.disposeCache(cache);
  return out;
}

const IDS = [1, 14, 20, 3, 35, 7, 19, 22, 5, 30, 12, 36, 17];

describe('imported architectures: logits against an independent implementation', () => {
  for (const [label, hf, sharded] of [['llama: GQA 4/2, D 8 != C/H 5, untied, llama3 rope scaling, q/k/v/o biases, sharded', LLAMA_HF, true], ['qwen2: GQA 4/1, tied, q/k/v biases, no o bias', QWEN_HF, false]] as const) {
    it(label, async () => {
      const config = fromHfConfig({ ...hf, torch_dtype: 'float32' });
      const w = randomWeights(config, 3);
      const { checkpoint, notes } = await importCheckpointFiles(folder(hf, w, sharded));
      expect(checkpoint.config).toEqual(config);
      if (sharded) expect(notes.join(' ')).toMatch(/2 shards merged/);
      const ref = referenceLogits(hf, w, IDS).flat();
      const got = await modelLogits(cpu, checkpoint.config, checkpoint.weights, IDS);
      expectClose(got, ref, 1e-4, 1e-4, label);
      // The training forward pass scores the same logits.
      const model = new Llama(cpu, checkpoint.config, upload(cpu, checkpoint.weights));
      const batch = packSequences([IDS], () => true);
      const st = model.forward(batch);
      const lp = view(st.logProbs);
      for (let t = 0; t + 1 < IDS.length; t++) {
        const row = ref.slice(t * V, (t + 1) * V), mx = Math.max(...row);
        const lse = mx + Math.log(row.reduce((a, v) => a + Math.exp(v - mx), 0));
        expect(Math.abs(lp[t]! - (row[IDS[t + 1]!]! - lse))).toBeLessThan(1e-4);
      }
      model.release(st);
    });
  }

  it('the reference sees every feature: dropping one changes the logits', async () => {
    const config = fromHfConfig(LLAMA_HF);
    const w = randomWeights(config, 3);
    const ref = referenceLogits(LLAMA_HF, w, IDS).flat();
    const variants: [string, Record<string, unknown>][] = [
      ['no rope scaling', { rope_scaling: null }],
      ['another theta', { rope_theta: 10000 }],
    ];
    for (const [what, edit] of variants) {
      const other = referenceLogits({ ...LLAMA_HF, ...edit }, w, IDS).flat();
      const diff = Math.max(...other.map((v, i) => Math.abs(v - ref[i]!)));
      expect(diff, what).toBeGreaterThan(1e-2);
    }
    // Zero biases: the model must change too (the biases are used).
    const w0 = new Map([...w].map(([n, t]) => [n, n.endsWith('.bias') ? { shape: t.shape, data: new Float32Array(t.data.length) } : t]));
    const got0 = await modelLogits(cpu, config, w0, IDS);
    expect(Math.max(...Array.from(got0, (v, i) => Math.abs(v - ref[i]!)))).toBeGreaterThan(1e-2);
  });
});

describe('grouped-query attention', () => {
  it('equals the multi-head model whose K/V heads are repeated', async () => {
    const gqa = fromHfConfig(LLAMA_HF);
    const w = randomWeights(gqa, 5);
    const H = gqa.numHeads, Hkv = gqa.numKvHeads!, D = gqa.headDim!, C = gqa.hiddenSize;
    const mha: ModelConfig = { ...gqa, numKvHeads: undefined };
    delete mha.numKvHeads;
    const wm = new Map(w);
    for (let l = 0; l < gqa.numLayers; l++) {
      for (const proj of ['k_proj', 'v_proj']) {
        const wn = `model.layers.${l}.self_attn.${proj}.weight`, bn = `model.layers.${l}.self_attn.${proj}.bias`;
        const W = w.get(wn)!.data, B = w.get(bn)!.data;
        const W2 = new Float32Array(H * D * C), B2 = new Float32Array(H * D);
        for (let h = 0; h < H; h++) {
          const src = Math.floor(h / (H / Hkv));
          W2.set(W.subarray(src * D * C, (src + 1) * D * C), h * D * C);
          B2.set(B.subarray(src * D, (src + 1) * D), h * D);
        }
        wm.set(wn, { shape: [H * D, C], data: W2 });
        wm.set(bn, { shape: [H * D], data: B2 });
      }
    }
    const a = await modelLogits(cpu, gqa, w, IDS), b = await modelLogits(cpu, mha, wm, IDS);
    expectClose(a, b, 1e-6, 1e-6, 'GQA vs repeated MHA');
  });
});

describe('imported architectures: gradients against finite differences', () => {
  for (const [label, hf] of [['llama GQA + biases + D != C/H + llama3', LLAMA_HF], ['qwen2 tied', QWEN_HF]] as const) {
    it(label, () => {
      const config = fromHfConfig(hf);
      const w = randomWeights(config, 9);
      const params = upload(cpu, w);
      const model = new Llama(cpu, config, params);
      const rng = new Rng(4);
      const seqs = [[1, 5, 9, 22, 30, 3], [2, 17, 8, 11]];
      const batch = packSequences(seqs, (s, t) => (s + t) % 3 !== 0);
      const M = batch.lossRows.length;
      const wts = new Float32Array(M).map(() => rng.normal());
      const lossOf = () => {
        const st = model.forward(batch);
        const lp = view(st.logProbs);
        let s = 0;
        for (let m = 0; m < M; m++) s -= wts[m]! * lp[m]!;
        model.release(st);
        return s;
      };
      const grads = zerosLike(cpu, config);
      const st = model.forward(batch);
      const loss = cpu.zeros([1]), dLp = cpu.zeros([M]);
      cpu.nllLoss(st.logProbs, cpu.fromArray(wts, [M]), loss, dLp);
      model.backward(st, dLp, grads);
      const names = paramSpecs(config).map((s) => s.name).filter((n) => /bias|k_proj|v_proj|q_proj|o_proj|embed/.test(n));
      expect(names.some((n) => n.endsWith('q_proj.bias'))).toBe(true);
      for (const name of names) {
        const p = view(params.get(name)!), g = view(grads.get(name)!);
        const idx = Array.from({ length: 5 }, () => rng.int(p.length));
        const fd = idx.map((i) => fdGrad(p, i, lossOf, 1e-2));
        expectClose(idx.map((i) => g[i]!), fd, 3e-3, 3e-2, name);
      }
    });
  }
});

describe('imported architectures: wasm backend against cpu', () => {
  let wasm: WasmBackend;
  beforeAll(async () => { wasm = await WasmBackend.create({ threads: 2, minParallelWork: 0 }); });
  afterAll(() => wasm.destroy());

  for (const [label, hf] of [['llama', LLAMA_HF], ['qwen2', QWEN_HF]] as const) {
    it(`${label}: prefill logits, log-probs and every gradient`, async () => {
      const config = fromHfConfig(hf);
      const w = randomWeights(config, 13);
      expectClose(await modelLogits(wasm, config, w, IDS), await modelLogits(cpu, config, w, IDS), 1e-4, 1e-4, 'logits');
      const run = async (b: Backend) => {
        const model = new Llama(b, config, upload(b, w));
        const batch = packSequences([[1, 5, 9, 22, 30, 3, 8], [2, 17, 8, 11]], () => true);
        const M = batch.lossRows.length;
        const st = model.forward(batch);
        const lp = (await b.read(st.logProbs)) as Float32Array;
        const loss = b.zeros([1]), dLp = b.zeros([M]);
        b.nllLoss(st.logProbs, b.fromArray(new Float32Array(M).fill(1 / M), [M]), loss, dLp);
        const grads = zerosLike(b, config);
        model.backward(st, dLp, grads);
        const g = new Map<string, Float32Array>();
        for (const [n, t] of grads) g.set(n, (await b.read(t)) as Float32Array);
        return { lp, g };
      };
      const c = await run(cpu), x = await run(wasm);
      expectClose(x.lp, c.lp, 1e-4, 1e-4, 'logProbs');
      for (const [n, gc] of c.g) expectClose(x.g.get(n)!, gc, 1e-5, 1e-3, `grad ${n}`);
    });
  }
});

describe('imported configs: refusals and export', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['an unknown field', { ...LLAMA_HF, sliding_window_pattern: 2 }, /unknown field "sliding_window_pattern"/],
    ['another rope scaling', { ...LLAMA_HF, rope_scaling: { rope_type: 'yarn', factor: 4 } }, /rope_scaling.rope_type "yarn" is not supported/],
    ['an unknown rope_scaling field', { ...LLAMA_HF, rope_scaling: { ...LLAMA_HF.rope_scaling, beta_fast: 32 } }, /unknown rope_scaling field "beta_fast"/],
    ['MLP biases', { ...LLAMA_HF, mlp_bias: true }, /mlp_bias true is not supported/],
    ['kv heads not dividing the heads', { ...LLAMA_HF, num_key_value_heads: 3 }, /num_attention_heads 4 is not a multiple of num_key_value_heads 3/],
    ['Qwen2 sliding-window attention', { ...QWEN_HF, use_sliding_window: true }, /use_sliding_window true is not supported/],
    ['another model type', { ...LLAMA_HF, model_type: 'mistral' }, /model_type must be "llama" or "qwen2", got "mistral"/],
  ];
  for (const [what, json, re] of cases) it(`refuses ${what}`, () => expect(() => fromHfConfig(json)).toThrow(re));

  it('reads the newer layouts: layer_types all full attention, transformers 5 rope_parameters', () => {
    const base = fromHfConfig(LLAMA_HF);
    const { rope_theta: theta, rope_scaling: scaling, ...rest } = LLAMA_HF;
    const v5 = { ...rest, rope_parameters: { rope_theta: theta, ...scaling }, layer_types: ['full_attention', 'full_attention'] };
    expect(fromHfConfig(v5)).toEqual(base);
    expect(v5.rope_parameters).toHaveProperty('rope_theta'); // the input is not changed
    const { rope_theta: qt, rope_scaling: _qs, ...qrest } = QWEN_HF;
    expect(fromHfConfig({ ...qrest, rope_parameters: { rope_theta: qt, rope_type: 'default' } })).toEqual(fromHfConfig(QWEN_HF));
    expect(() => fromHfConfig({ ...QWEN_HF, layer_types: ['full_attention', 'sliding_attention'] })).toThrow(/layer_types must all be "full_attention"/);
    expect(() => fromHfConfig({ ...rest, rope_parameters: { rope_theta: 10, rope_type: 'yarn', factor: 2 } })).toThrow(/rope_scaling.rope_type "yarn" is not supported/);
  });

  it('writes the config back in the same family, and the ONNX export names what it cannot do', () => {
    for (const hf of [LLAMA_HF, QWEN_HF]) {
      const config = fromHfConfig(hf);
      const files = encodeCheckpoint({ config, tokenizer: tok, weights: randomWeights(config, 1) });
      const back = JSON.parse(new TextDecoder().decode(files.get('config.json')!)) as Record<string, unknown>;
      expect(back.model_type).toBe(hf.model_type);
      expect(back.architectures).toEqual(hf.architectures);
      expect(back.num_key_value_heads).toBe(hf.num_key_value_heads);
      expect(back.rope_scaling).toEqual(hf.rope_scaling);
      expect(fromHfConfig(back)).toEqual(config);
      expect(() => exportOnnx(config, randomWeights(config, 1))).toThrow(/ONNX export: not supported for this model \(grouped-query attention/);
    }
  });
});
