/**
 * The settings of an RL stage: their type, their defaults, the one way a change is applied to
 * the defaults ({@link mergeSettings}) and the one validation ({@link validateRlSettings}).
 * What each setting is (bounds, help, paper value, CLI flag, URL key) is src/rl/settings-fields.ts;
 * how a change reaches a path safely is src/rl/settings-schema.ts.
 */
import type { RunSettingsSummary } from '../corpus/export/common.ts';
import type { ModelConfig } from '../model/config.ts';
import type { OptimizerSettings } from '../model/optimizer.ts';
import type { AdvantageEstimator } from './advantages.ts';
import type { UpdateSettings } from './policy-update.ts';
import { DEFAULT_PROMPT_PRESET } from '../protocol/prompts.ts';
import { resolveRewardSettings, type RewardSettings } from './rewards.ts';
import { validateRolloutSettings, type RolloutSettings } from './rollout.ts';
import { curriculumProblem, describeRange, fieldAllows, SETTINGS_FIELDS, type SettingField } from './settings-fields.ts';
import { mergeSettingsInto, settingAt } from './settings-schema.ts';
import type { QuestionSampling } from './question-sampler.ts';

/** A curriculum phase: from `fromStep` on, questions with these hop counts are drawn. */
export interface CurriculumPhase {
  fromStep: number;
  hops: number[];
}

/**
 * Every setting of an RL stage. Defaults: {@link defaultRlSettings}; bounds, help and paper
 * values: src/rl/settings-fields.ts.
 */
export interface RlSettings {
  stage: 1 | 2;
  /** Questions per step (paper: 64). */
  promptsPerStep: number;
  /** Samples per question, G (paper: 16). */
  samplesPerPrompt: number;
  /** Baseline of REINFORCE++ (recipe.md section 7). */
  advantageEstimator: AdvantageEstimator;
  /** KL coefficient beta to the stage's initial policy (Qwen runs: 0). */
  klCoef: number;
  /** Compute the KL to the reference every this many steps for the curves even when klCoef is 0 (0 = never). */
  klEvery: number;
  optimizer: OptimizerSettings;
  /** Cosine decay of the learning rate to this fraction over the stage's steps (recipe.md: 0.1). */
  lrMinRatio: number;
  update: UpdateSettings;
  rollout: RolloutSettings;
  reward: RewardSettings;
  /** Prompt preset name (src/rl/prompts.ts). */
  promptPreset: string;
  curriculum: CurriculumPhase[];
  /**
   * Draw the same number of questions of each hop count of the curriculum phase (true), or
   * questions uniformly from the phase's pool (false; 1-hop questions are then ~70% of the
   * world's train split, and a second search rarely pays often enough to be learned).
   */
  balanceHops: boolean;
  /**
   * How a step's questions are drawn within the hop counts: 'uniform' (every question alike),
   * 'learnability' (templates weighted by p(1 - p) of their estimated success p, so the rollouts
   * go where a group's rewards differ) or 'failure-rate' (weighted by 1 - p, so the rollouts go
   * to what the policy misses most); src/rl/question-sampler.ts.
   */
  questionSampling: QuestionSampling;
  /** Mask document tokens out of the loss (recipe.md section 3). false = the ablation. */
  maskDocuments: boolean;
}

/**
 * Defaults that learn on the nano preset (recipe.md section 11 and our runs). Stage 1 pays half
 * the retrieval part for an on-topic first search that returned documents and the other half for
 * a follow-up search naming a word read in them ('follow-up', issue 15: under 'relevant' a second
 * search only risked the reward and was pruned within a few steps; 'found' collapsed into one
 * constant query on two seeds); the paper's 'any', 'found' and 'relevant' are settings; its format
 * part needs a search too (`formatNeedsSearch`), and it pays a KL penalty to the base (0.05).
 * Stage 1 draws 1-, 2- and 3-hop questions in equal numbers; Stage 2 trains on 3-hop questions
 * for 10 steps, then on 1-, 2- and 3-hop questions, hop counts balanced. Prompts use the `chain`
 * preset (DEFAULT_PROMPT_PRESET; `compact` is a setting). A fresh object each call: callers change it.
 */
export function defaultRlSettings(stage: 1 | 2): RlSettings {
  return {
    stage,
    promptsPerStep: 8,
    samplesPerPrompt: 16,
    advantageEstimator: 'reinforce_baseline',
    // Stage 1 keeps a KL penalty to the base (k1, per token, recipe.md section 7). Without it, seed
    // 131 pruned the second search of 3-hop questions by step 15 (searches 2.28 -> 1.00: the
    // follow-up half of R_retrieval was never earned) and Stage 2 never found it again (3-hop
    // Cover-EM 0.00, test 0.799); with 0.05 its 3-hop questions kept 2.0-2.9 searches and the
    // second query named the bridge in half of them (test 0.905, 3-hop 0.85). 0.01 kept the
    // searches but not the lead. On seeds 7, 41, 149, 167 it cost nothing: test 0.910 +- 0.013
    // (0.897 +- 0.008 without), 3-hop 0.84 (0.76). Stage 2 leaves the base behind: its KL stays 0.
    klCoef: stage === 1 ? 0.05 : 0,
    klEvery: 0,
    optimizer: { lr: 3e-4, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, gradClip: 1.0 },
    lrMinRatio: 1,
    update: { clipEps: 0.2, miniBatches: 1, microBatchTokens: 4096, lossAggregation: 'sequence-mean' },
    // Stage 2 reads five documents per search, as evaluation does (recipe.md section 3: the paper
    // trains at 3, evaluates at 5). Trained at 3, a policy read worse at 5 where more documents
    // name another person or city: `founder` 0.71-0.83 and `location` 0.71-1.00 at top-5 against 1.00
    // at top-1 and top-2 (issue 15, seeds 7, 41, 53, 61). Trained at 5 (200 steps, seeds 7 and 41):
    // `founder` 0.90 / 0.97, test 0.900 / 0.902 (0.875 / 0.844 trained at 3). 512 positions hold two
    // searches of five documents.
    rollout: { maxNewTokens: 64, maxSearches: 3, topK: stage === 1 ? 3 : 5, docMaxWords: 40, temperature: 1, topP: 0.95, maxLength: stage === 1 ? 448 : 512 },
    reward: stage === 1 ? { ...resolveRewardSettings(), retrievalReward: 'follow-up', formatNeedsSearch: true } : resolveRewardSettings(),
    promptPreset: DEFAULT_PROMPT_PRESET,
    // Stage 2 opens with 10 steps of 3-hop questions only, then draws every hop count in equal
    // numbers. A 3-hop question is the one that one search never answers, so it is what makes a
    // second search pay. With 3-hop questions only from step 50 (the earlier default) the 1- and
    // 2-hop questions had pruned every second search by then (issue 15, seed 7: 3-hop searches
    // 1.00); with every hop count from step 0 they still did on one seed of four (seed 12, by
    // step 6), and the 3-hop opening kept it there (3-hop searches 2.00 from step 8 on).
    // Stage 1 sees 3-hop questions too: there the base already searches twice (2.5 searches per
    // 3-hop question at step 1), so the follow-up half of R_retrieval has second queries to pay and
    // teaches copying a name out of the documents into the next query (seed 41: second queries
    // naming a word of the documents 7 of 127 at step 1, 112 of 112 at step 50). With 1- and 2-hop
    // questions only (the earlier default) the base searched once, the follow-up half was almost
    // never paid, and on seed 41 the second search was gone by Stage 2 (3-hop Cover-EM 0.00).
    curriculum: stage === 1 ? [{ fromStep: 0, hops: [1, 2, 3] }] : [{ fromStep: 0, hops: [3] }, { fromStep: 10, hops: [1, 2, 3] }],
    balanceHops: true,
    questionSampling: 'uniform',
    maskDocuments: true,
  };
}

/** A field's default in `stage` (its value in {@link defaultRlSettings}). */
export function settingDefault(field: SettingField, stage: 1 | 2): unknown {
  return settingAt(defaultRlSettings(stage), field.path);
}

/**
 * Settings stored by an earlier version (a checkpoint's trainer state), completed with the
 * values that reproduce what that version did: questions drawn uniformly from the phase's pool,
 * every template alike, and Stage 1's format part paid without a search (`formatNeedsSearch` false).
 */
export function upgradeRlSettings(stored: RlSettings): RlSettings {
  const reward = stored.reward && typeof stored.reward === 'object' ? { ...stored.reward, formatNeedsSearch: stored.reward.formatNeedsSearch ?? false } : stored.reward;
  return { ...stored, balanceHops: stored.balanceHops ?? false, questionSampling: stored.questionSampling ?? 'uniform', reward };
}

/** Settings a learner may change, as a partial of RlSettings (nested objects merged). */
export type SettingsOverride = Partial<Omit<RlSettings, 'optimizer' | 'update' | 'rollout' | 'reward'>> & {
  optimizer?: Partial<RlSettings['optimizer']>;
  update?: Partial<RlSettings['update']>;
  rollout?: Partial<RlSettings['rollout']>;
  reward?: Partial<RlSettings['reward']>;
};

/**
 * The stage's defaults with `override` deep-merged in (nested objects key by key, arrays and
 * leaves replaced), and `stage` set: the one merge behind the page's overrides, a stored run's
 * settings (the worker session, `train --resume`, `export-pack --checkpoint`).
 * Not validated: see {@link validateRlSettings}.
 * @throws SettingsError (src/rl/settings-schema.ts) naming `what` and the path of an unknown
 *   key, a prototype key or a value of the wrong type.
 */
export function mergeSettings(stage: 1 | 2, override: SettingsOverride = {}, what = 'settings'): RlSettings {
  const s = defaultRlSettings(stage);
  mergeSettingsInto(s, override, what);
  s.stage = stage;
  return s;
}

/**
 * A stored run's settings (a checkpoint's trainer_state.json `settings`, as read): upgraded
 * ({@link upgradeRlSettings}) and merged into the stage's defaults by {@link mergeSettings}.
 * @throws SettingsError naming `what`: not an object, an unknown path, a value of the wrong type.
 */
export function storedRlSettings(stage: 1 | 2, stored: unknown, what: string): RlSettings {
  const isObject = typeof stored === 'object' && stored !== null && !Array.isArray(stored);
  return mergeSettings(stage, (isObject ? upgradeRlSettings(stored as RlSettings) : stored) as SettingsOverride, what);
}

/**
 * Checks every field against its type and bounds (src/rl/settings-fields.ts), then what the
 * table cannot say: a group baseline needs two samples, the rollout fits the model's
 * `maxPositions`, the reward settings have no unknown key. Returns `s` unchanged.
 * @throws Error naming the first impossible setting: `<group>: <key> must be <bounds>, got <value>`
 *   (group `settings` for top-level keys, else `optimizer`, `update`, `rollout`, `reward`).
 */
export function validateRlSettings(s: RlSettings, config: ModelConfig): RlSettings {
  for (const f of SETTINGS_FIELDS) {
    const v = settingAt(s, f.path);
    if (!fieldAllows(f, v)) throw new Error(fieldError(f, v));
  }
  if (s.advantageEstimator !== 'reinforce' && s.samplesPerPrompt < 2) throw new Error(`settings: ${s.advantageEstimator} needs samplesPerPrompt >= 2 (a group of one has no baseline)`);
  validateRolloutSettings(s.rollout, config.maxPositions);
  resolveRewardSettings(s.reward);
  return s;
}

/** The message for a value the field refuses, in the words the group's own validator uses. */
function fieldError(f: SettingField, v: unknown): string {
  const dot = f.path.lastIndexOf('.');
  const group = dot < 0 ? 'settings' : f.path.slice(0, dot), key = f.path.slice(dot + 1);
  const got = typeof v === 'number' || v === undefined ? String(v) : JSON.stringify(v);
  switch (f.type) {
    case 'enum':
      return `${group}: unknown ${key} ${got} (known: ${f.options!.join(', ')})`;
    case 'boolean':
      return `${group}: ${key} must be true or false, got ${got}`;
    case 'curriculum':
      return `${group}: ${curriculumProblem(v)}`;
    default:
      return `${group}: ${key} must be ${describeRange(f.type, f)}, got ${got}`;
  }
}

/**
 * The summary of a run's two stages: Stage 2's values for what both stages share (the page
 * sets them once for both), Stage 1's retrieval reward, hop counts and KL coefficient, Stage 2's
 * format and ungrounded-answer penalties.
 * The pack export writes it into its README (src/corpus/export/readme.ts).
 */
export function runSettingsSummary(stage1: RlSettings, stage2: RlSettings, steps: { stage1?: number; stage2?: number } = {}): RunSettingsSummary {
  return {
    promptsPerStep: stage2.promptsPerStep,
    samplesPerPrompt: stage2.samplesPerPrompt,
    miniBatches: stage2.update.miniBatches,
    advantageEstimator: stage2.advantageEstimator,
    klCoef: stage2.klCoef,
    stage1KlCoef: stage1.klCoef,
    lr: stage2.optimizer.lr,
    maxSearches: stage2.rollout.maxSearches,
    topK: stage2.rollout.topK,
    maxNewTokens: stage2.rollout.maxNewTokens,
    retrievalReward: stage1.reward.retrievalReward,
    formatPenalty: stage2.reward.formatPenalty,
    ungroundedPenalty: stage2.reward.ungroundedPenalty,
    stage1Hops: [...new Set(stage1.curriculum.flatMap((p) => p.hops))].sort((a, b) => a - b),
    ...(steps.stage1 !== undefined ? { stage1Steps: steps.stage1 } : {}),
    ...(steps.stage2 !== undefined ? { stage2Steps: steps.stage2 } : {}),
  };
}
