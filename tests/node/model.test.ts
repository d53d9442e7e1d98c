/**
 * The policy model on the CPU backend: full-loss gradients against finite differences,
 * KV-cache decoding against the training forward pass, batch packing.
 */
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.ts';
import type { Tensor } from '../../src/backend/backend.ts';
import { Llama, packSequences } from '../../src/model/llama.ts';
import { countParams, initParams, paramSpecs, zerosLike } from '../../src/model/params.ts';
import { presetConfig, validateConfig, type ModelConfig } from '../../src/model/config.ts';
import { Rng } from '../../src/util/rng.ts';
import { expectClose, fdGrad } from './helpers/fd.ts';

const b = new CpuBackend();
const view = (t: Tensor) => b.view(t) as Float32Array;

const tiny: ModelConfig = validateConfig({
  vocabSize: 13, hiddenSize: 8, intermediateSize: 12, numLayers: 2, numHeads: 2,
  maxPositions: 32, rmsEps: 1e-5, ropeTheta: 10000, tieEmbeddings: false,
});

function randomSeqs(rng: Rng, lens: number[], V: number) {
  return lens.map((T) => Array.from({ length: T }, () => rng.int(V)));
}

describe('model: full gradient against finite differences', () => {
  for (const tie of [false, true]) {
    it(`every parameter tensor (tied embeddings: ${tie})`, () => {
      const cfg = { ...tiny, tieEmbeddings: tie };
      const params = initParams(b, cfg, 7);
      // Larger weights than the init so that every path carries signal.
      for (const t of params.values()) { const d = view(t); for (let i = 0; i < d.length; i++) if (d[i] !== 1) d[i] = d[i]! * 5; }
      const model = new Llama(b, cfg, params);
      const rng = new Rng(11);
      const seqs = randomSeqs(rng, [6, 3, 5], cfg.vocabSize);
      const batch = packSequences(seqs, (s, t) => (s + t) % 3 !== 0);
      const M = batch.lossRows.length;
      const w = new Float32Array(M).map(() => rng.normal());
      const weights = b.fromArray(w, [M]);
      const lossOf = () => {
        const st = model.forward(batch);
        const lp = view(st.logProbs);
        let s = 0;
        for (let m = 0; m < M; m++) s -= w[m]! * lp[m]!;
        model.release(st);
        return s;
      };
      const grads = zerosLike(b, cfg);
      const st = model.forward(batch);
      const loss = b.zeros([1]), dLp = b.zeros([M]);
      b.nllLoss(st.logProbs, weights, loss, dLp);
      expect(Math.abs(view(loss)[0]! - lossOf())).toBeLessThan(1e-5 * Math.abs(lossOf()) + 1e-6);
      model.backward(st, dLp, grads);
      for (const spec of paramSpecs(cfg)) {
        const p = view(params.get(spec.name)!), g = view(grads.get(spec.name)!);
        const idx = Array.from({ length: 6 }, () => rng.int(p.length));
        const fd = idx.map((i) => fdGrad(p, i, lossOf, 1e-2));
        expectClose(idx.map((i) => g[i]!), fd, 3e-3, 3e-2, spec.name);
      }
    });
  }
});

describe('model: KV-cache decoding', () => {
  it('gives the training forward pass logits, token by token and in chunks, with slot copies', () => {
    const params = initParams(b, tiny, 3);
    for (const t of params.values()) { const d = view(t); for (let i = 0; i < d.length; i++) if (d[i] !== 1) d[i] = d[i]! * 20; }
    const model = new Llama(b, tiny, params);
    const rng = new Rng(5);
    const seq = randomSeqs(rng, [9], tiny.vocabSize)[0]!;
    // Reference: the training forward scores every position; log-probs of all V targets via one row each.
    const refLogits: Float32Array[] = [];
    for (let t = 0; t < seq.length - 1; t++) {
      const batch = packSequences([seq], (_s, u) => u === t + 1);
      const st = model.forward(batch);
      refLogits.push(view(st.logits).slice());
      model.release(st);
    }
    const cache = model.createCache(3, 16);
    // Slot 0: prompt of 4 tokens as one chunk, then one token at a time.
    let logits = model.forwardInfer(cache, { tokens: Int32Array.from(seq.slice(0, 4)), slots: new Int32Array(4), positions: Int32Array.from([0, 1, 2, 3]), outRows: Int32Array.from([3]) });
    expectClose(view(logits), refLogits[3]!, 1e-5, 1e-4, 'chunk');
    // Copy the 4-token prefix into slot 2 and continue there.
    model.copyCacheSlot(cache, 0, 2, 4);
    for (let t = 4; t < seq.length - 1; t++) {
      logits = model.forwardInfer(cache, { tokens: Int32Array.from([seq[t]!, seq[t]!]), slots: Int32Array.from([0, 2]), positions: Int32Array.from([t, t]), outRows: Int32Array.from([0, 1]) });
      const l = view(logits);
      expectClose(l.subarray(0, tiny.vocabSize), refLogits[t]!, 1e-5, 1e-4, `slot 0, position ${t}`);
      expectClose(l.subarray(tiny.vocabSize), refLogits[t]!, 1e-5, 1e-4, `slot 2, position ${t}`);
    }
  });
});

describe('model: config and packing', () => {
  it('nano preset has about 1M parameters and small 5-10M at a ~2.7k vocabulary', () => {
    const nano = countParams(presetConfig('nano', 2700));
    const small = countParams(presetConfig('small', 2700));
    expect(nano).toBeGreaterThan(0.8e6);
    expect(nano).toBeLessThan(1.2e6);
    expect(small).toBeGreaterThan(5e6);
    expect(small).toBeLessThan(10e6);
  });

  it('refuses impossible configs with the field named', () => {
    expect(() => validateConfig({ ...tiny, numHeads: 3 })).toThrow(/numHeads/);
    expect(() => validateConfig({ ...tiny, hiddenSize: 0 })).toThrow(/hiddenSize/);
    expect(() => presetConfig('huge', 10)).toThrow(/unknown model preset "huge"/);
  });

  it('packs sequences end to end with next-token targets', () => {
    const batch = packSequences([[1, 2, 3], [4, 5]], (s, t) => !(s === 0 && t === 1));
    expect(Array.from(batch.tokens)).toEqual([1, 2, 4]);
    expect(Array.from(batch.positions)).toEqual([0, 1, 0]);
    expect(Array.from(batch.kvStart)).toEqual([0, 0, 2]);
    expect(Array.from(batch.lossRows)).toEqual([1, 2]);
    expect(Array.from(batch.targets)).toEqual([3, 5]);
  });
});
