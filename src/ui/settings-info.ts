/**
 * The RL settings the page offers, each with a one-line explanation and the values the paper
 * and its code use (recipe.md sections 3, 6 and 7), for the stage settings form. Data only.
 */
import { ADVANTAGE_ESTIMATORS } from '../rl/advantages.ts';
import type { PageConfig } from './url-config.ts';

/** One setting of the form. */
export interface SettingInfo {
  key: keyof PageConfig;
  label: string;
  /** One plain sentence: what it does and why it matters. */
  help: string;
  /** What the paper (or its code) uses. */
  paper: string;
  kind: 'int' | 'number' | 'select';
  options?: readonly string[];
  min?: number;
  max?: number;
  step?: number;
  /** Shown only for this stage. */
  stage?: 1 | 2;
}

export const SETTINGS_INFO: readonly SettingInfo[] = [
  { key: 'samplesPerPrompt', label: 'Samples per question', kind: 'int', min: 1, max: 64,
    help: 'G rollouts per question; their mean reward is the baseline each one is compared with.', paper: '16' },
  { key: 'promptsPerStep', label: 'Questions per step', kind: 'int', min: 1, max: 64,
    help: 'Questions drawn per step; each step is one batch of rollouts and one update.', paper: '64' },
  { key: 'lr', label: 'Learning rate', kind: 'number', min: 1e-6, max: 0.01, step: 1e-5,
    help: 'AdamW step size. A tiny model trained from scratch needs far more than a 7B one (1e-3 collapsed it).', paper: '2e-6 (7B)' },
  { key: 'klCoef', label: 'KL coefficient', kind: 'number', min: 0, max: 1, step: 1e-4,
    help: "Penalty per token for drifting from the stage's initial policy.", paper: '0 (Qwen), 1e-4 (Llama)' },
  { key: 'advantageEstimator', label: 'Advantage estimator', kind: 'select', options: ADVANTAGE_ESTIMATORS,
    help: 'reinforce_baseline: reward minus the group mean; group_norm: also divided by the group std (GRPO); reinforce: no baseline.', paper: 'reinforce_baseline' },
  { key: 'maxSearches', label: 'Max searches', kind: 'int', min: 0, max: 16,
    help: 'Searches allowed per rollout; a query beyond the limit ends it.', paper: '8' },
  { key: 'topK', label: 'Documents per search (top-k)', kind: 'int', min: 1, max: 10,
    help: 'How many ranked documents are spliced into the rollout after each query.', paper: '3 in training, 5 in evaluation' },
  { key: 'maxNewTokens', label: 'Max new tokens', kind: 'int', min: 4, max: 400,
    help: 'Tokens the policy may write per rollout; spliced documents do not count.', paper: '512 per segment' },
  { key: 'retrievalReward', label: 'Retrieval reward', kind: 'select', options: ['relevant', 'found', 'any'], stage: 1,
    help: "relevant: 0.5 only when a search returned documents and every query shares a word with the question or the documents before it (a constant query earns nothing); found: only the first condition; any: the paper's, paid for any well-formed search (it can lock in a query that finds nothing).", paper: 'any' },
  { key: 'formatPenalty', label: 'Format penalty', kind: 'number', min: -10, max: 0, step: 0.5, stage: 2,
    help: 'Added to the reward of a completion that breaks the format.', paper: '-2 (Qwen), -1 (Llama code)' },
];
