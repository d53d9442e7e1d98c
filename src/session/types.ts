/**
 * The data the trainer worker's API exchanges with the page (src/session/trainer-api.ts): plain
 * objects, so comlink copies them, and the page renders them as they are.
 */
import type { Split } from '../corpus/types.ts';
import type { EvalMetrics, EvalMode, EvalRecord } from '../eval/evaluate.ts';
import type { Checkpoint } from '../io/checkpoint.ts';
import type { TokenScore } from '../rl/inspect.ts';
import type { LiveStep } from '../rl/live-rollout.ts';
import type { RewardParts } from '../rl/rewards.ts';
import type { FinishReason, RolloutSettings } from '../rl/rollout.ts';
import type { RolloutRecord, StepMetrics } from '../rl/trainer.ts';
import type { RlSettings } from '../rl/settings.ts';
import type { RolloutTrace, SearchListing } from '../protocol/trace.ts';

/** What the page needs to know after loading. */
export interface SessionInfo {
  backend: string;
  parameters: number;
  vocabulary: number;
  config: Checkpoint['config'];
  trainQuestions: number;
}

/**
 * Steps of each stage in the page by default. Stage 1 as on the command line: on the 8,000-step
 * base a seed may need 25 steps before its searches are on topic (issue 15: seed 9 at step 20, 0.10;
 * at 50, 0.94); Stage 2 as the page offers it.
 */
export const DEFAULT_STAGE_STEPS: Readonly<{ 1: number; 2: number }> = Object.freeze({ 1: 50, 2: 200 });

/**
 * Seed of the prompt's slot words for greedy decoding outside training: the prompt is rendered
 * the same way every time, so greedy decoding gives the same answer to the same question.
 */
export const GREEDY_PROMPT_SEED = 1;

/** A policy the page can ask about: the base, or the latest weights of an RL stage. */
export type PolicyName = 'base' | 'stage1' | 'stage2';
/** Every policy name, oldest first. */
export const POLICY_NAMES: readonly PolicyName[] = ['base', 'stage1', 'stage2'];
/** The stage whose weights a policy name means (0: the base). */
export const POLICY_STAGE: Readonly<Record<PolicyName, 0 | 1 | 2>> = { base: 0, stage1: 1, stage2: 2 };

/** Where a session stands: what the page redraws after a load, an import or a restore. */
export interface SessionProgress {
  /** The stage the trainer runs (null before the first stage starts). */
  stage: 1 | 2 | null;
  /** Steps done in that stage, and planned. */
  step: number;
  totalSteps: number;
  seed: number;
  settings: RlSettings | null;
  /** Metrics per stage, in step order. */
  metrics: { 1: StepMetrics[]; 2: StepMetrics[] };
  /** The latest step's rollouts. */
  rollouts: RolloutRecord[];
  /** Policies that exist now (base always). */
  policies: PolicyName[];
}

/** A request for one rollout outside training (Base model, Compare, the export check). */
export interface SampleRequest {
  policy: PolicyName;
  question: string;
  /** Gold answers: when given, the Stage-2 reward parts (F1, format, ...) are computed. */
  answers?: string[];
  /** Greedy decoding (evaluation's) instead of sampling at temperature 1, top-p 0.95. */
  greedy?: boolean;
  /**
   * Seed of the prompt's placeholder words and of sampling (default 1). Greedy decoding ignores
   * it: its prompt is always rendered with {@link GREEDY_PROMPT_SEED}.
   */
  seed?: number;
  promptPreset?: string;
  rollout?: Partial<RolloutSettings>;
}

/** One rollout outside training, as the page shows it. */
export interface SampleResult extends RolloutTrace {
  policy: PolicyName;
  question: string;
  /** How it was decoded: `greedy` (argmax, fixed prompt) or `sampled` (temperature and top-p of the stage). */
  decoding: 'greedy' | 'sampled';
  /** Seed of the prompt rendering (and of sampling when sampled). */
  seed: number;
  prompt: string;
  /** The completion's text (documents included, tags written out). */
  completion: string;
  /** The text of every token (T). */
  tokenTexts: string[];
  /** Stage-2 reward and parts against `answers` (null without answers). */
  reward: number | null;
  parts: RewardParts | null;
}

/** A per-token view of a rollout of the latest batch. */
export interface RolloutInspection {
  /** Index in the latest batch (-1 for a rollout of an earlier step, src/session/inspection.ts `inspectRecord`). */
  index: number;
  /** Text of every token of the rollout. */
  tokens: string[];
  /** Scores of positions promptLength .. T-1 (index i = position promptLength + i). */
  scores: TokenScore[];
  /** True when scored with the policy that sampled the batch (false after a restore, or for an earlier step: `scoredWith`). */
  exact: boolean;
  /** The policy that scored it when not exact. */
  scoredWith?: PolicyName;
}

/** One live step as the page shows it. */
export interface LiveView extends Omit<RolloutTrace, 'searches' | 'finishReason'> {
  step: LiveStep | null;
  /** The text of every token so far (T). */
  tokenTexts: string[];
  /** Each search with the token range [start, end) of its spliced block. */
  searches: (SearchListing & { start: number; end: number })[];
  /** Why it ended; null while it goes on. */
  finishReason: FinishReason | null;
  /** Stage-2 reward parts when finished and gold answers were given. */
  parts: RewardParts | null;
  prompt: string;
}

/** A request to evaluate a policy (src/eval/evaluate.ts) on a sample of questions. */
export interface EvalRequest {
  policy: PolicyName;
  splits: Split[];
  modes: EvalMode[];
  /** Questions per split (0 = all of them), drawn by `evaluationSample` (src/session/evaluation.ts). */
  limit: number;
  topK?: number;
  maxSearches?: number;
  maxNewTokens?: number;
}

/** One split x mode of an evaluation. */
export interface EvalRow {
  policy: PolicyName;
  /** Steps the policy had trained in its stage when evaluated (0 for the base). */
  steps: number;
  split: Split;
  mode: EvalMode;
  overall: EvalMetrics;
  byTemplate: Record<string, EvalMetrics>;
  byHops: Record<string, EvalMetrics>;
  /** The first few evaluated questions, to show what the numbers mean. */
  examples: EvalRecord[];
}

/** A run's files for the page's saved runs (src/io/run-store.ts) and where it stands. */
export interface SessionSnapshot {
  files: Map<string, Uint8Array>;
  stage: 1 | 2;
  step: number;
  totalSteps: number;
}

/** What an import did. */
export interface ImportSummary {
  /** `run`: a checkpoint with trainer state, resumed; `base`: a model that replaced the base. */
  kind: 'base' | 'run';
  notes: string[];
  info: SessionInfo;
  progress: SessionProgress;
}

/** A finished two-stage run to show without training (the `shipped-run` command writes it). */
export interface ShippedPolicies {
  /** Weights of the final Stage-1 and Stage-2 policies (F32, or F16 widened). */
  stage1: Uint8Array;
  stage2: Uint8Array;
  /** Both stages' metrics, in step order. */
  metrics: StepMetrics[];
}

/** Files a saved run holds besides the checkpoint: the base and the Stage-1 policy (for Compare and the KL reference). */
export const BASE_WEIGHTS_FILE = 'base.safetensors';
export const STAGE1_WEIGHTS_FILE = 'stage1.safetensors';
