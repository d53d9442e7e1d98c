/**
 * Settings parsing of the experiment's ablations and of the browser benchmark page: names and
 * values are checked, and a bad one is refused with an error that names it.
 */
import { describe, expect, it } from 'vitest';
import { ABLATIONS, parseSeedList, pickAblations } from '../../src/cli/commands/experiment.ts';
import { benchSettingsFromUrl, DEFAULT_BROWSER_BENCH } from '../../src/bench/browser-bench.ts';

describe('experiment --ablation-names', () => {
  it('all ablations when absent, the named ones in the given order otherwise, unknown names refused', () => {
    expect(pickAblations(undefined)).toBe(ABLATIONS);
    expect(pickAblations('group-norm,no-mask').map((a) => a.name)).toEqual(['group-norm', 'no-mask']);
    expect(pickAblations('no-stage1')[0]).toMatchObject({ from: 'base', flags: [] });
    expect(pickAblations('no-mask')[0]!.flags).toEqual(['--no-mask-documents']);
    expect(() => pickAblations('no-mask,no-kl')).toThrow(/unknown ablation 'no-kl' \(known: no-mask, no-stage1, group-norm, kl\)/);
  });
});

describe('experiment --seed-list', () => {
  it('keeps the seeds in the given order, refuses a non-integer or a repeated seed by name', () => {
    expect(parseSeedList('7, 9,11,12')).toEqual([7, 9, 11, 12]);
    expect(parseSeedList('0')).toEqual([0]);
    expect(() => parseSeedList('7,x')).toThrow('--seed-list: "x" is not a non-negative integer');
    expect(() => parseSeedList('7,-1')).toThrow('"-1" is not a non-negative integer');
    expect(() => parseSeedList('7,,9')).toThrow('"" is not a non-negative integer');
    expect(() => parseSeedList('7,9,7')).toThrow('--seed-list: seed 7 is listed twice');
  });
});

describe('bench.html URL settings', () => {
  it('defaults, every parameter, and errors naming the parameter', () => {
    expect(benchSettingsFromUrl('')).toEqual(DEFAULT_BROWSER_BENCH);
    const s = benchSettingsFromUrl('?backends=webgpu,wasm-1&presets=nano,small&rows=1024&tokens=4096&seqLen=256&reps=3&vocab=3000&rl=8,8,64,48&forward=8,128&onnx=0');
    expect(s).toEqual({
      backends: ['webgpu', 'wasm-1'], presets: ['nano', 'small'],
      sizes: { rows: 1024, tokens: 4096, seqLen: 256, reps: 3, vocabSize: 3000, rl: { prompts: 8, samplesPerPrompt: 8, promptLength: 64, newTokens: 48 } },
      forward: { batch: 8, seqLen: 128 }, onnx: false,
    });
    expect(() => benchSettingsFromUrl('?tokens=0')).toThrow(/tokens must be a positive integer, got "0"/);
    expect(() => benchSettingsFromUrl('?rl=8,8,64')).toThrow(/rl must be 4 positive integers, got "8,8,64"/);
    expect(() => benchSettingsFromUrl('?forward=8,x')).toThrow(/forward must be 2 positive integers/);
  });
});
