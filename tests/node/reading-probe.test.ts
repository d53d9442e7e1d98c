/**
 * The reading probe (src/eval/reading-probe.ts): its items are held-out reading passages cut
 * right after `<answer>`, and on the shipped base it measures the reading the README reports
 * (about half of the plain passages' answers, few years).
 */
import { describe, expect, it } from 'vitest';
import { WasmBackend } from '../../src/backend/wasm/wasm-backend.ts';
import { probeReading, readingItems } from '../../src/eval/reading-probe.ts';
import { uploadParams } from '../../src/io/checkpoint.ts';
import { loadCheckpointDir } from '../../src/io/checkpoint-fs.ts';
import { Llama } from '../../src/model/llama.ts';
import { createStage0Sampler } from '../../src/stage0/world-mix.ts';

describe('reading probe', () => {
  it('cuts held-out passages after <answer>, with the answer the passage goes on with', () => {
    for (const layout of ['plain', 'spliced'] as const) {
      const items = readingItems(1, layout, 30);
      for (const it of items) {
        expect(it.prefix.endsWith(' <answer>')).toBe(true);
        expect(it.answer.length).toBeGreaterThan(0);
        expect(it.answer).not.toContain('</answer>');
      }
    }
    // Not the passages pretraining drew (its stream is seeded with the run's seed).
    const pretrain = createStage0Sampler(1, { rngSeed: 1, mix: { document: 0, reading: 1, prompt: 0 } });
    const seen = new Set(Array.from({ length: 30 }, () => pretrain.next().text));
    expect(readingItems(1, 'plain', 30).filter((it) => [...seen].some((t) => t.startsWith(it.prefix))).length).toBe(0);
    expect(() => readingItems(1, 'plain', 0)).toThrow(/n must be a positive integer/);
  });

  it('on the shipped base: about half of the plain passages read right, more names than years', async () => {
    const ckpt = await loadCheckpointDir('public/models/nano-base');
    const b = await WasmBackend.create({ threads: 1 });
    const model = new Llama(b, ckpt.config, uploadParams(b, ckpt.weights));
    const r = await probeReading(model, ckpt.tokenizer, readingItems(1, 'plain', 60), 'plain');
    expect(r.overall.passages).toBe(60);
    const rate = r.overall.exact / 60;
    expect(rate).toBeGreaterThan(0.25);
    expect(rate).toBeLessThan(0.75);
    expect(r.byKind.name.exact / r.byKind.name.passages).toBeGreaterThan(r.byKind.year.passages ? r.byKind.year.exact / r.byKind.year.passages : 0);
    expect(r.misses.length).toBe(Math.min(8, 60 - r.overall.exact));
  }, 120_000);
});
