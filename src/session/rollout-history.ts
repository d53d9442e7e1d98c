/**
 * Rollouts kept from several steps of a stage, so a learner can go back to an early step (when
 * the group rewards still differed and advantages were not zero) while training goes on.
 *
 * Memory stays bounded: per stage at most `limit` steps are kept, always the first and the
 * latest, the others on a grid of every `stride`-th step; when the grid overflows its stride
 * doubles (steps 1, 2, 3, ... then 1, 3, 5, ... then 1, 5, 9, ...), the way a long log is thinned.
 * The page and the `shipped-run` command keep the same steps.
 */
import type { RolloutRecord } from '../rl/trainer.ts';

/** The rollouts of one step of a stage. */
export interface KeptStep {
  stage: 1 | 2;
  /** 1-based step number (StepMetrics.step). */
  step: number;
  rollouts: RolloutRecord[];
}

/** Steps kept per stage in the page and in the shipped run. */
export const HISTORY_STEPS = 8;

/**
 * The history with `entry` added: the stage's steps thinned to at most `limit` (>= 2), other
 * stages untouched, ordered by stage then step. An entry for a step already kept replaces it;
 * entries of that stage at later steps (a restarted stage) are dropped.
 * @throws RangeError when limit < 2.
 */
export function keepStep(history: readonly KeptStep[], entry: KeptStep, limit = HISTORY_STEPS): KeptStep[] {
  if (!(limit >= 2)) throw new RangeError(`rollout history: limit must be at least 2, got ${limit}`);
  const same = history.filter((h) => h.stage === entry.stage && h.step < entry.step);
  const steps = [...same, entry];
  let stride = 1;
  let kept = steps;
  while (kept.length > limit) {
    stride *= 2;
    kept = steps.filter((h, i) => i === steps.length - 1 || (h.step - 1) % stride === 0);
  }
  const others = history.filter((h) => h.stage !== entry.stage);
  return [...others, ...kept].sort((a, b) => a.stage - b.stage || a.step - b.step);
}

/**
 * Up to `groups` groups of a batch, those whose rewards differ first (they carry the
 * group-relative signal: non-zero advantages), in batch order otherwise. Shrinks the shipped run.
 */
export function pickGroups(rollouts: readonly RolloutRecord[], groups: number): RolloutRecord[] {
  const byGroup = new Map<number, RolloutRecord[]>();
  for (const r of rollouts) byGroup.set(r.group, [...(byGroup.get(r.group) ?? []), r]);
  const spread = (rs: RolloutRecord[]) => rs.some((r) => r.reward !== rs[0]!.reward);
  const ordered = [...byGroup.values()].sort((a, b) => Number(spread(b)) - Number(spread(a)));
  return ordered.slice(0, groups).flat();
}
