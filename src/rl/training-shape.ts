/**
 * The shape of one RL step for the memory estimate (src/model/memory.ts): rollouts decoded at
 * once, their longest length, and the rows of a training micro-batch, from the run's settings.
 */
import type { TrainingShape } from '../model/memory.ts';
import type { RlSettings } from './settings.ts';

/** The step shape of `s` (prompts x samples rollouts of up to rollout.maxLength tokens). */
export function trainingShapeOf(s: RlSettings): TrainingShape {
  const rollouts = s.promptsPerStep * s.samplesPerPrompt;
  return {
    rolloutSlots: rollouts, maxLength: s.rollout.maxLength,
    rowsPerPass: Math.min(s.update.microBatchTokens, rollouts * s.rollout.maxLength),
    scoredRows: Math.min(s.update.microBatchTokens, rollouts * s.rollout.maxNewTokens),
    reference: s.klCoef > 0 || s.klEvery > 0,
  };
}
