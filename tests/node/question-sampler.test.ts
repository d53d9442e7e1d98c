import { describe, expect, it } from 'vitest';
import type { Question } from '../../src/corpus/types.ts';
import { LEARNABILITY_FLOOR, SUCCESS_EMA, failureRateWeight, learnabilityWeight, pickBalanced, pickByTemplateWeight, templateWeight, updateSuccess } from '../../src/rl/question-sampler.ts';
import { Rng } from '../../src/util/rng.ts';

/** 1-hop questions of templates a (40), b (40), c (20); 2-hop questions of template d (30). */
const qs: Question[] = [
  ...Array.from({ length: 40 }, (_, i) => ({ id: `a${i}`, hops: 1, template: 'a' })),
  ...Array.from({ length: 40 }, (_, i) => ({ id: `b${i}`, hops: 1, template: 'b' })),
  ...Array.from({ length: 20 }, (_, i) => ({ id: `c${i}`, hops: 1, template: 'c' })),
  ...Array.from({ length: 30 }, (_, i) => ({ id: `d${i}`, hops: 2, template: 'd' })),
] as Question[];

describe('learnability sampling', () => {
  it('weighs a template by p(1 - p) plus the floor', () => {
    expect(learnabilityWeight(0.5)).toBeCloseTo(0.25 + LEARNABILITY_FLOOR, 12);
    expect(learnabilityWeight(1)).toBeCloseTo(LEARNABILITY_FLOOR, 12);
    expect(learnabilityWeight(0.8)).toBeCloseTo(0.16 + LEARNABILITY_FLOOR, 12);
  });

  it('keeps the hop split of balanced sampling and draws distinct questions', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const hopsOf = (xs: Question[]) => xs.map((q) => q.hops).sort().join();
      const learn = pickByTemplateWeight(qs, [1, 2], 7, new Rng(seed), new Map([['a', 1]]));
      expect(hopsOf(learn)).toBe(hopsOf(pickBalanced(qs, [1, 2], 7, new Rng(seed))));
      expect(new Set(learn.map((q) => q.id)).size).toBe(7);
    }
    expect(() => pickByTemplateWeight(qs, [3], 4, new Rng(1), new Map())).toThrow(/no question has 3 hops/);
    expect(() => pickByTemplateWeight(qs, [3], 4, new Rng(1), new Map(), false)).toThrow(/no question has 3 hops/);
  });

  it('draws templates in proportion to their weights, whatever their sizes', () => {
    // a solved (weight 0.05), b at 0.5 (0.30), c unseen (0.5: 0.30): expected shares 1/13, 6/13, 6/13.
    const success = new Map([['a', 1], ['b', 0.5]]);
    const rng = new Rng(3), counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    const draws = 4000;
    for (let i = 0; i < draws; i++) counts[pickByTemplateWeight(qs, [1], 1, rng, success)[0]!.template]!++;
    expect(counts.a! / draws).toBeCloseTo(1 / 13, 1);
    expect(counts.b! / draws).toBeCloseTo(6 / 13, 1);
    expect(counts.c! / draws).toBeCloseTo(6 / 13, 1);
    // Uniform sampling would draw a twice as often as c (40 against 20 questions).
    expect(counts.c!).toBeGreaterThan(4 * counts.a!);
  });

  it('uses every question of a template before repeating one, and every template before giving up', () => {
    const two = [{ id: 'x', hops: 1, template: 'x' }, { id: 'y', hops: 1, template: 'y' }] as Question[];
    const out = pickByTemplateWeight(two, [1], 5, new Rng(1), new Map([['x', 1]]));
    expect(out.slice(0, 2).map((q) => q.id).sort()).toEqual(['x', 'y']);
    expect(out).toHaveLength(5);
  });

  it('folds each group into its template: first observation sets, later ones average with weight SUCCESS_EMA', () => {
    const s = new Map<string, number>();
    updateSuccess(s, [{ template: 'a', rewards: [1, 0, 0.5, -2] }, { template: 'b', rewards: [1.5, 1] }]);
    // Rewards clamped to [0, 1]: a = (1 + 0 + 0.5 + 0) / 4, b = 1.
    expect(s.get('a')).toBeCloseTo(0.375, 12);
    expect(s.get('b')).toBe(1);
    updateSuccess(s, [{ template: 'a', rewards: [1, 1] }, { template: 'c', rewards: [] }]);
    expect(s.get('a')).toBeCloseTo((1 - SUCCESS_EMA) * 0.375 + SUCCESS_EMA, 12);
    expect(s.has('c')).toBe(false);
  });
});

describe('failure-rate sampling', () => {
  it('weighs a template by 1 - p plus the floor, so a template never answered is drawn most', () => {
    expect(failureRateWeight(0)).toBeCloseTo(1 + LEARNABILITY_FLOOR, 12);
    expect(failureRateWeight(1)).toBeCloseTo(LEARNABILITY_FLOOR, 12);
    expect(failureRateWeight(0.8)).toBeCloseTo(0.2 + LEARNABILITY_FLOOR, 12);
    expect(templateWeight('failure-rate')).toBe(failureRateWeight);
    expect(templateWeight('learnability')).toBe(learnabilityWeight);
  });

  it('draws templates in proportion to their failure rates, where learnability would not', () => {
    // a never answered (1.05), b solved (0.05), c at 0.5 (0.55): expected shares 21/33, 1/33, 11/33.
    const success = new Map([['a', 0], ['b', 1], ['c', 0.5]]);
    const draw = (weight: (p: number) => number) => {
      const rng = new Rng(5), counts: Record<string, number> = { a: 0, b: 0, c: 0 };
      for (let i = 0; i < 4000; i++) counts[pickByTemplateWeight(qs, [1], 1, rng, success, true, weight)[0]!.template]!++;
      return counts;
    };
    const fail = draw(failureRateWeight);
    expect(fail.a! / 4000).toBeCloseTo(21 / 33, 1);
    expect(fail.b! / 4000).toBeCloseTo(1 / 33, 1);
    expect(fail.c! / 4000).toBeCloseTo(11 / 33, 1);
    // Learnability draws the never-answered template as rarely as the solved one.
    const learn = draw(learnabilityWeight);
    expect(Math.abs(learn.a! - learn.b!)).toBeLessThan(0.03 * 4000);
  });
});
