/**
 * Which training questions a step draws: uniformly, balanced across hop counts, or (within each
 * hop count) weighted by template: toward the templates the policy sometimes answers and
 * sometimes does not ('learnability'), or toward those it misses most ('failure-rate').
 *
 * Why 'learnability': with a group baseline (REINFORCE++ baseline, GRPO) a group whose samples
 * all earn the same reward contributes no gradient. For a question answered right with
 * probability p the expected within-group reward variance is p(1 - p), so drawing templates in
 * proportion to it spends the step's rollouts where there is something to learn (Foster &
 * Foerster 2025, "Learning to Reason at the Frontier of Learnability"; Prioritized Level Replay,
 * Jiang et al. 2021, does the same for levels). p is estimated per template from the rewards of
 * earlier steps (an exponential moving average), which costs no extra rollout.
 *
 * Why 'failure-rate' too: p(1 - p) draws a template the policy almost never answers (p near 0)
 * as rarely as a solved one, so a reading skill the base lacks is rehearsed least. Weighting by
 * 1 - p (error-driven prioritization, as in prioritized experience replay's use of the error,
 * Schaul et al. 2016) spends the rollouts on it instead; a group of sixteen samples at a small p
 * still holds the occasional success, whose normalized advantage is large.
 */
import type { Question } from '../corpus/types.ts';
import type { Rng } from '../util/rng.ts';

/** How a step's questions are drawn (RlSettings.questionSampling). */
export const QUESTION_SAMPLING = ['uniform', 'learnability', 'failure-rate'] as const;
export type QuestionSampling = (typeof QUESTION_SAMPLING)[number];

/** `n` distinct elements drawn uniformly (all of them, shuffled, when the pool is smaller). */
export function pickDistinct<T>(pool: readonly T[], n: number, rng: Rng): T[] {
  if (pool.length === 0) throw new Error('pickDistinct: empty pool');
  const idx = pool.map((_, i) => i);
  for (let i = 0; i < Math.min(n, idx.length); i++) {
    const j = i + rng.int(idx.length - i);
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  const out = idx.slice(0, Math.min(n, idx.length)).map((i) => pool[i]!);
  // A pool smaller than n repeats questions (still one group each).
  while (out.length < n) out.push(pool[rng.int(pool.length)]!);
  return out;
}

/** The question pools of `hops` (one per hop count that has questions) and how many to draw from each. */
function hopQuotas(questions: readonly Question[], hops: readonly number[], n: number, rng: Rng): { pool: Question[]; count: number }[] {
  const pools = hops.map((h) => questions.filter((q) => q.hops === h)).filter((p) => p.length > 0);
  if (pools.length === 0) throw new Error(`question sampling: no question has ${hops.join(' or ')} hops`);
  const counts = pools.map(() => Math.floor(n / pools.length));
  for (const k of rng.shuffle(pools.map((_, i) => i)).slice(0, n % pools.length)) counts[k]!++;
  return pools.map((pool, k) => ({ pool, count: counts[k]! }));
}

/**
 * `n` questions with hop counts in `hops`, as evenly split between the hop counts as `n` allows
 * (the remainder goes to hop counts drawn at random), distinct within each hop count; hop counts
 * with no question are skipped. Order: by hop count as listed.
 * @throws Error when no question has any of the hop counts.
 */
export function pickBalanced(questions: readonly Question[], hops: readonly number[], n: number, rng: Rng): Question[] {
  return hopQuotas(questions, hops, n, rng).flatMap(({ pool, count }) => (count > 0 ? pickDistinct(pool, count, rng) : []));
}

/** Weight of a template never sampled yet is that of p = 0.5 (the most to learn). */
const UNSEEN_SUCCESS = 0.5;
/**
 * Added to every template's weight p(1 - p), so a template the policy answers always (or never)
 * is still drawn now and then: its estimate stays current and what was learnt is rehearsed. At
 * 0.05, a solved template is drawn a sixth as often as one at p = 0.5.
 */
export const LEARNABILITY_FLOOR = 0.05;
/** Weight of the newest step in a template's success estimate (about the last five draws count). */
export const SUCCESS_EMA = 0.2;

/** A template's drawing weight from its estimated success rate p in [0, 1]: p(1 - p) + floor. */
export function learnabilityWeight(p: number): number {
  return p * (1 - p) + LEARNABILITY_FLOOR;
}

/** A template's drawing weight under 'failure-rate': 1 - p plus the floor. */
export function failureRateWeight(p: number): number {
  return 1 - p + LEARNABILITY_FLOOR;
}

/** The template weight of a weighted sampling mode. */
export function templateWeight(mode: Exclude<QuestionSampling, 'uniform'>): (p: number) => number {
  return mode === 'learnability' ? learnabilityWeight : failureRateWeight;
}

/**
 * `n` questions with hop counts in `hops`, each drawn by first drawing its template with weight
 * `weight(success.get(template))` ({@link learnabilityWeight} by default; unseen templates:
 * p = 0.5), then a question of that template not drawn yet. With `balanceHops`, within each hop
 * count after the split of {@link pickBalanced}; without, over the whole pool of those hop counts.
 * @param success template -> estimated share of reward earned (see {@link updateSuccess}).
 * @throws Error when no question has any of the hop counts.
 */
export function pickByTemplateWeight(questions: readonly Question[], hops: readonly number[], n: number, rng: Rng, success: ReadonlyMap<string, number>, balanceHops = true, weight: (p: number) => number = learnabilityWeight): Question[] {
  const quotas = balanceHops ? hopQuotas(questions, hops, n, rng) : [{ pool: questions.filter((q) => hops.includes(q.hops)), count: n }];
  if (quotas[0]!.pool.length === 0) throw new Error(`question sampling: no question has ${hops.join(' or ')} hops`);
  return quotas.flatMap(({ pool, count }) => {
    const byTemplate = new Map<string, Question[]>();
    for (const q of pool) {
      const list = byTemplate.get(q.template);
      if (list) list.push(q);
      else byTemplate.set(q.template, [q]);
    }
    const out: Question[] = [];
    for (let i = 0; i < count; i++) {
      // Templates with questions left (all of them again once the pool is used up).
      let open = [...byTemplate.entries()].filter(([, qs]) => qs.some((q) => !out.includes(q)));
      if (open.length === 0) open = [...byTemplate.entries()];
      const weights = open.map(([t]) => weight(success.get(t) ?? UNSEEN_SUCCESS));
      let r = rng.next() * weights.reduce((a, b) => a + b, 0), k = 0;
      while (k < open.length - 1 && r >= weights[k]!) r -= weights[k++]!;
      const left = open[k]![1].filter((q) => !out.includes(q));
      const from = left.length > 0 ? left : open[k]![1];
      out.push(from[rng.int(from.length)]!);
    }
    return out;
  });
}

/**
 * Folds a step's groups into the per-template success estimates, in place: for each group, the
 * mean of its rewards clamped to [0, 1] (Stage 2: the answer's F1, a broken format counting 0;
 * Stage 1: retrieval plus format), averaged with weight {@link SUCCESS_EMA} into its template's
 * estimate (the first observation of a template sets it).
 * @param groups one entry per question of the step: its template and its samples' rewards.
 */
export function updateSuccess(success: Map<string, number>, groups: readonly { template: string; rewards: readonly number[] }[]): void {
  for (const g of groups) {
    if (g.rewards.length === 0) continue;
    const mean = g.rewards.reduce((a, r) => a + Math.min(1, Math.max(0, r)), 0) / g.rewards.length;
    const old = success.get(g.template);
    success.set(g.template, old === undefined ? mean : (1 - SUCCESS_EMA) * old + SUCCESS_EMA * mean);
  }
}
