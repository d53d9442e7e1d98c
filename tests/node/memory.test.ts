/**
 * The training memory estimate (src/model/memory.ts): SmolLM2-135M's parameter count, the
 * estimate of one forward/backward pass against the bytes a counting backend really holds at
 * its peak, and refusals that give the numbers and a micro-batch that fits.
 */
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.ts';
import type { Backend, Tensor } from '../../src/backend/backend.ts';
import { fromHfConfig } from '../../src/io/hf-config.ts';
import { HF_SHAPES } from '../../src/bench/hf-shapes.ts';
import { Llama, packSequences } from '../../src/model/llama.ts';
import { countParams, initParams, zerosLike } from '../../src/model/params.ts';
import { checkMemoryFits, estimateTrainingMemory, largestFittingMicroBatch, type TrainingShape } from '../../src/model/memory.ts';
import { Rng } from '../../src/util/rng.ts';
import { WasmBackend } from '../../src/backend/wasm/wasm-backend.ts';
import { backendMemoryLimits, checkTrainingFits } from '../../src/rl/memory-check.ts';
import { defaultRlSettings } from '../../src/rl/settings.ts';

/** A cpu backend that counts the bytes of live tensors and their peak. */
function countingBackend(): { b: Backend; live: () => number; peak: () => number; resetPeak: () => void } {
  const cpu = new CpuBackend();
  const sizes = new WeakMap<Tensor, number>();
  let live = 0, peak = 0;
  const track = (t: Tensor) => { sizes.set(t, t.size * 4); live += t.size * 4; peak = Math.max(peak, live); return t; };
  const b = new Proxy(cpu, {
    get(target, prop, recv) {
      if (prop === 'zeros' || prop === 'empty') return (shape: number[], dtype?: 'f32' | 'i32') => track(target.zeros(shape, dtype));
      if (prop === 'fromArray') return (d: Float32Array | Int32Array, shape: number[]) => track(target.fromArray(d, shape));
      if (prop === 'dispose') return (t: Tensor) => { live -= sizes.get(t) ?? 0; sizes.delete(t); target.dispose(t); };
      const v = Reflect.get(target, prop, recv);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as Backend;
  return { b, live: () => live, peak: () => peak, resetPeak: () => { peak = live; } };
}

describe('training memory estimate', () => {
  it('SmolLM2-135M: 134,515,008 parameters, and a 4,096-row micro-batch does not fit wasm32', () => {
    const c = fromHfConfig(HF_SHAPES['smollm2-135m']!);
    expect(countParams(c)).toBe(134_515_008);
    const shape: TrainingShape = { rolloutSlots: 8, maxLength: 448, rowsPerPass: 4096, scoredRows: 512, reference: false };
    const e = estimateTrainingMemory(c, shape);
    expect(e.weights).toBe(134_515_008 * 4);
    expect(() => checkMemoryFits(e, { backend: 'wasm', totalBytes: 4 * 2 ** 30 })).toThrow(/memory: this model does not fit: about \d+\.\d\d GiB \(\+15% headroom\) exceeds the wasm backend's 4\.00 GiB.*weights 513 MiB, gradients 513 MiB, AdamW moments 1\.00 GiB.*lower update\.microBatchTokens/);
    const n = largestFittingMicroBatch(c, shape, 4 * 2 ** 30);
    expect(n).toBeGreaterThanOrEqual(256);
    expect(n).toBeLessThan(4096);
    expect(() => checkMemoryFits(estimateTrainingMemory(c, { ...shape, rowsPerPass: n }), { backend: 'wasm', totalBytes: 4 * 2 ** 30 })).not.toThrow();
    expect(() => checkMemoryFits(e, { backend: 'webgpu', maxTensorBytes: 64 * 2 ** 20 })).toThrow(/the largest tensor, 108 MiB, exceeds the webgpu device's buffer limit of 64 MiB/);
  });

  for (const [label, hf] of [['GQA, untied', HF_SHAPES['tiny-gqa']!], ['our nano shape', { ...HF_SHAPES['tiny-gqa']!, num_key_value_heads: 4, head_dim: 16, rope_scaling: null, tie_word_embeddings: true }]] as const) {
    it(`a forward/backward pass holds no more than the estimate, and at least 70% of it (${label})`, () => {
      const c = fromHfConfig({ ...hf, vocab_size: 300 });
      const { b, live, peak, resetPeak } = countingBackend();
      const params = initParams(b, c, 1), grads = zerosLike(b, c);
      const base = live();
      expect(base).toBe(2 * countParams(c) * 4);
      const rng = new Rng(3);
      const seqs = [40, 25, 60].map((T) => Array.from({ length: T }, () => rng.int(c.vocabSize)));
      const batch = packSequences(seqs, (_s, t) => t > 10);
      const N = batch.tokens.length, M = batch.lossRows.length;
      resetPeak();
      const model = new Llama(b, c, params);
      const st = model.forward(batch);
      const d = b.zeros([M]);
      b.fill(d, 1 / M);
      model.backward(st, d, grads);
      const measured = peak() - base;
      const est = estimateTrainingMemory(c, { rolloutSlots: 0, maxLength: 0, rowsPerPass: N, scoredRows: M, reference: false }).activations;
      expect(measured).toBeLessThanOrEqual(est);
      expect(measured).toBeGreaterThan(0.7 * est);
    });
  }

  it('checks a run against the backend it would train on, before upload', async () => {
    const c = fromHfConfig({ ...HF_SHAPES['tiny-gqa']!, vocab_size: 400 });
    const cpu = new CpuBackend();
    expect(backendMemoryLimits(cpu)).toEqual({ backend: 'cpu' });
    expect(checkTrainingFits(c, defaultRlSettings(1), cpu).line).toMatch(/^0\.1M parameters; training needs about \d+ MiB/);
    const small = await WasmBackend.create({ threads: 1, maxMemoryMiB: 16 });
    try {
      expect(backendMemoryLimits(small)).toEqual({ backend: 'wasm', totalBytes: 16 * 2 ** 20 });
      const s0 = defaultRlSettings(1), s = { ...s0, promptsPerStep: 2, samplesPerPrompt: 2 };
      let msg = '';
      try { checkTrainingFits(c, s, small); } catch (e) { msg = (e as Error).message; }
      expect(msg).toMatch(/^memory: this model does not fit: about \d+ MiB \(\+15% headroom\) exceeds the wasm backend's 16 MiB\..*lower update\.microBatchTokens.*\(update\.microBatchTokens=\d+ fits 16 MiB\)$/);
      const n = Number(/microBatchTokens=(\d+) fits/.exec(msg)![1]);
      expect(() => checkTrainingFits(c, { ...s, update: { ...s.update, microBatchTokens: n } }, small)).not.toThrow();
    } finally {
      small.destroy();
    }
  });
});
