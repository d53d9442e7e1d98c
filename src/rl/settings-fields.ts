/**
 * Every RL setting, once: its path in `RlSettings`, its type and bounds, one line of help, the
 * paper's value (recipe.md) and its names on the command line and in the page's URL. The
 * defaults are not written here: they are `defaultRlSettings` (src/rl/settings.ts), read by
 * path, so each default has one home.
 *
 * Derived from this table: `validateRlSettings` (src/rl/settings.ts), the train command's
 * setting flags and their usage (src/cli/settings-flags.ts), the URL's RL keys and their
 * bounds (src/ui/url-config.ts) and the settings form's explanations (src/ui/settings-info.ts).
 * A bound changed here changes all four.
 *
 * The modules that own a group of settings still check their group when called on their own
 * (`validateOptimizer`, `validateUpdateSettings`, `validateRolloutSettings`,
 * `resolveRewardSettings`); tests/node/settings-fields.test.ts checks that each of them refuses
 * exactly what the table refuses.
 */
import { ADVANTAGE_ESTIMATORS } from './advantages.ts';
import type { UpdateSettings } from './policy-update.ts';
import { ALL_PROMPT_PRESETS } from '../protocol/prompts.ts';
import { RETRIEVAL_REWARD_RULES } from './rewards.ts';
import { LEARNABILITY_FLOOR, QUESTION_SAMPLING } from './question-sampler.ts';
import { MAX_SPLICED_DOCUMENTS } from '../protocol/splice.ts';

/**
 * The values a number may take: `min` and `max` inclusive unless `minOpen` / `maxOpen`
 * (an open end, as in lr in (0, 1)); an absent end is unbounded.
 */
export interface Range {
  min?: number;
  max?: number;
  minOpen?: boolean;
  maxOpen?: boolean;
}

/**
 * The type of a setting. `int` and `number` are finite numbers within the field's {@link Range};
 * `enum` is one of `options`; `curriculum` is a list of phases (src/rl/settings.ts
 * `CurriculumPhase`), checked by {@link curriculumProblem}.
 */
export type SettingType = 'int' | 'number' | 'enum' | 'boolean' | 'curriculum';

/** How the train command sets a field (src/cli/settings-flags.ts). */
export interface SettingFlag {
  /** Flag name without `--`. */
  name: string;
  /** A boolean flag (no value) that sets the setting to this value (`--no-mask-documents`: false). */
  sets?: boolean;
  /**
   * A flag whose value is a comma-separated list of integers in `items` (`--hops 1,2`), turned
   * into the setting by `toSetting`.
   */
  list?: { items: Range; toSetting: (values: number[]) => unknown; example: string };
}

/** What the page offers where it offers less than the setting allows (URL keys and the form). */
export interface PageRange extends Range {
  options?: readonly string[];
  /** The form's input step (a presentation hint; integers step by 1). */
  step?: number;
}

/** One setting. */
export interface SettingField extends Range {
  /** Dotted path in `RlSettings` (`optimizer.lr`). */
  path: string;
  type: SettingType;
  /** The allowed values of an `enum`. */
  options?: readonly (string | number)[];
  /** One line: what it does and why it matters. */
  help: string;
  /** The paper's (or its code's) value, as recipe.md gives it; absent where it gives none. */
  paper?: string;
  /** The settings form's label (fields the page shows). */
  label?: string;
  /** The stages it acts in (absent: both). The page offers it only there; the CLI takes it in any stage. */
  stages?: readonly (1 | 2)[];
  flag?: SettingFlag;
  /** The page's URL key (`lr`; the stage-prefixed `s1.lr`, `s2.lr` come from src/ui/url-config.ts). */
  url?: string;
  /** The page's narrower range or options, when it offers less than the setting allows. */
  page?: PageRange;
}

const LOSS_AGGREGATIONS = ['sequence-mean', 'token-mean'] as const satisfies readonly UpdateSettings['lossAggregation'][];

/** Every leaf of `RlSettings`, in the order of its declaration (tests/node/settings-fields.test.ts checks both). */
export const SETTINGS_FIELDS: readonly SettingField[] = [
  { path: 'stage', type: 'int', min: 1, max: 2, help: 'The stage: 1 pays for well-formed searches, 2 for the answer (set by the command, not a choice).' },
  { path: 'promptsPerStep', type: 'int', min: 1, label: 'Questions per step', paper: '64', flag: { name: 'prompts-per-step' }, url: 'promptsPerStep',
    help: 'Questions drawn per step; each step is one batch of rollouts and one update.' },
  { path: 'samplesPerPrompt', type: 'int', min: 1, label: 'Samples per question', paper: '16', flag: { name: 'samples-per-prompt' }, url: 'samplesPerPrompt',
    help: 'G rollouts per question; their mean reward is the baseline each one is compared with.' },
  { path: 'advantageEstimator', type: 'enum', options: ADVANTAGE_ESTIMATORS, label: 'Advantage estimator', paper: 'reinforce_baseline', flag: { name: 'advantage-estimator' }, url: 'advantageEstimator',
    help: 'reinforce_baseline: reward minus the group mean; group_norm: also divided by the group std (GRPO); reinforce: no baseline.' },
  { path: 'klCoef', type: 'number', min: 0, label: 'KL coefficient', paper: '0 (Qwen), 1e-4 (Llama)', flag: { name: 'kl-coef' }, url: 'klCoef', page: { step: 1e-4 },
    help: "Penalty per token for drifting from the stage's initial policy." },
  { path: 'klEvery', type: 'int', min: 0, help: 'Compute the KL to the reference every this many steps for the curves even when klCoef is 0 (0 = never).' },
  { path: 'optimizer.lr', type: 'number', min: 0, max: 1, minOpen: true, maxOpen: true, label: 'Learning rate', paper: '2e-6 (7B)', flag: { name: 'lr' }, url: 'lr', page: { step: 1e-5 },
    help: 'AdamW step size. A tiny model trained from scratch needs far more than a 7B one (1e-3 collapsed it).' },
  { path: 'optimizer.beta1', type: 'number', min: 0, max: 1, maxOpen: true, paper: '0.9', help: "AdamW's decay of the gradient's running mean." },
  { path: 'optimizer.beta2', type: 'number', min: 0, max: 1, maxOpen: true, paper: '0.95', help: "AdamW's decay of the squared gradient's running mean." },
  { path: 'optimizer.eps', type: 'number', min: 0, minOpen: true, help: "AdamW's epsilon, added to the root of the second moment." },
  { path: 'optimizer.weightDecay', type: 'number', min: 0, paper: '0', help: 'Decoupled weight decay per step, times the learning rate.' },
  { path: 'optimizer.gradClip', type: 'number', min: 0, paper: '1.0', help: 'Global gradient-norm clip (L2 over all parameters); 0 disables clipping.' },
  { path: 'lrMinRatio', type: 'number', min: 0, max: 1, minOpen: true, paper: '0.1', help: "Cosine decay of the learning rate to this fraction over the stage's steps (1 = constant)." },
  { path: 'update.clipEps', type: 'number', min: 0, max: 1, minOpen: true, maxOpen: true, paper: '0.2', help: 'PPO clip epsilon: how far one update may move a token probability ratio from 1.' },
  { path: 'update.miniBatches', type: 'int', min: 1, paper: '4', help: 'Optimizer steps per rollout batch (one epoch over the batch).' },
  { path: 'update.microBatchTokens', type: 'int', min: 16, help: 'Upper bound on tokens per forward/backward pass (memory, not the result).' },
  { path: 'update.lossAggregation', type: 'enum', options: LOSS_AGGREGATIONS,
    help: 'sequence-mean: token losses averaged per sequence, then over sequences (OpenRLHF); token-mean: over every token of the mini-batch.' },
  { path: 'rollout.maxNewTokens', type: 'int', min: 1, label: 'Max new tokens', paper: '512 per segment', url: 'maxNewTokens', page: { max: 400 },
    help: 'Tokens the policy may write per rollout; spliced documents do not count.' },
  { path: 'rollout.maxSearches', type: 'int', min: 0, label: 'Max searches', paper: '8', flag: { name: 'max-searches' }, url: 'maxSearches', page: { max: 16 },
    help: 'Searches allowed per rollout; a query beyond the limit ends it.' },
  { path: 'rollout.topK', type: 'int', min: 1, label: 'Documents per search (top-k)', paper: '3 in training, 5 in evaluation', flag: { name: 'top-k' }, url: 'topK',
    page: { max: MAX_SPLICED_DOCUMENTS }, help: 'How many ranked documents are spliced into the rollout after each query.' },
  { path: 'rollout.docMaxWords', type: 'int', min: 1, help: 'Each spliced document is cut to this many words.' },
  { path: 'rollout.temperature', type: 'number', min: 0, paper: '1.0', help: 'Sampling temperature of the rollouts; 0 = greedy.' },
  { path: 'rollout.topP', type: 'number', min: 0, max: 1, minOpen: true, paper: '0.95', help: 'Nucleus mass of the rollouts: tokens are drawn from the smallest set holding this probability.' },
  { path: 'rollout.maxLength', type: 'int', min: 1, help: "Longest whole sequence (prompt, completion and documents) in tokens; at most the model's maxPositions." },
  { path: 'reward.retrievalReward', type: 'enum', options: RETRIEVAL_REWARD_RULES, stages: [1], label: 'Retrieval reward', paper: 'any', flag: { name: 'retrieval-reward' }, url: 'retrievalReward',
    help: "relevant: 0.5 only when a search returned documents and every query shares a word with the question or the documents before it (a constant query earns nothing); found: only the first condition; any: the paper's, paid for any well-formed search (it can lock in a query that finds nothing); follow-up: 0.25 for a first query naming the question that found documents, 0.25 more for a later query naming a word read in the documents (not in the question) that found documents." },
  { path: 'reward.answerBonus', type: 'boolean', stages: [1], paper: 'off (the Llama Stage-1 code: on)', help: 'Stage 1 adds +1 / -1 for a Cover-EM correct / wrong answer.' },
  { path: 'reward.formatNeedsSearch', type: 'boolean', stages: [1], paper: 'off', flag: { name: 'paper-format-reward', sets: false },
    help: "on: the 0.5 for a well-formed completion is paid only with the retrieval part (a completion that never searches earns nothing); off: the paper's, each part on its own (a base that rarely searches can learn to answer without searching)." },
  { path: 'reward.formatPenalty', type: 'number', max: 0, stages: [2], label: 'Format penalty', paper: '-2 (Qwen), -1 (Llama code)', flag: { name: 'format-penalty' }, url: 'formatPenalty',
    page: { min: -10, step: 0.5 }, help: 'Added to the reward of a completion that breaks the format.' },
  { path: 'reward.ungroundedPenalty', type: 'number', max: 0, stages: [2], paper: 'none (0)', flag: { name: 'ungrounded-penalty' },
    help: 'Added to the reward of a wrong answer whose words are in neither the retrieved documents nor the question (a recalled or made-up answer); 0 turns it off. Tried at -0.5: the guesses became wrong names read off the page.' },
  { path: 'promptPreset', type: 'enum', options: Object.keys(ALL_PROMPT_PRESETS), paper: 'paper', url: 'preset',
    page: { options: Object.keys(ALL_PROMPT_PRESETS).filter((p) => ALL_PROMPT_PRESETS[p]!.allowsSearch) },
    help: 'The prompt preset (src/rl/prompts.ts); the page offers those whose format allows a search.' },
  { path: 'curriculum', type: 'curriculum',
    flag: { name: 'hops', list: { items: { min: 1 }, toSetting: (hops) => [{ fromStep: 0, hops }], example: '1,2' } },
    help: 'Phases of the curriculum: from step fromStep on, questions with these hop counts are drawn.' },
  { path: 'balanceHops', type: 'boolean', help: "Draw the same number of questions of each hop count of the phase (true), or uniformly from the phase's pool (false)." },
  { path: 'questionSampling', type: 'enum', options: QUESTION_SAMPLING, label: 'Question sampling', paper: 'uniform', flag: { name: 'question-sampling' }, url: 'questionSampling',
    help: `uniform: every question of the phase alike; learnability: each template drawn with weight p(1 - p) + ${LEARNABILITY_FLOOR}, p its share of reward over earlier steps, so rollouts go to the templates the policy answers only sometimes (a group whose rewards are all equal teaches nothing); failure-rate: weight 1 - p + ${LEARNABILITY_FLOOR}, so rollouts go to the templates the policy misses most, those it never answers included.` },
  { path: 'maskDocuments', type: 'boolean', paper: 'true', flag: { name: 'no-mask-documents', sets: false }, help: 'Mask document tokens out of the loss; false is the ablation.' },
];

/** The field at `path`. @throws Error for a path that names no setting. */
export function settingField(path: string): SettingField {
  const f = SETTINGS_FIELDS.find((x) => x.path === path);
  if (!f) throw new Error(`no setting "${path}"`);
  return f;
}

/** The field whose page URL key is `key`. @throws Error for a key no setting has. */
export function fieldOfUrlKey(key: string): SettingField {
  const f = SETTINGS_FIELDS.find((x) => x.url === key);
  if (!f) throw new Error(`no setting has the URL key "${key}"`);
  return f;
}

/**
 * Whether `v` is a value of the field: of its type and within `range` (the field's own bounds
 * unless given, e.g. the page's). Numbers must be finite; a curriculum is checked by shape only
 * here ({@link curriculumProblem} says what is wrong).
 */
export function fieldAllows(f: SettingField, v: unknown, range: Range & { options?: readonly (string | number)[] } = f): boolean {
  switch (f.type) {
    case 'boolean':
      return typeof v === 'boolean';
    case 'enum':
      return (range.options ?? f.options ?? []).includes(v as string);
    case 'curriculum':
      return curriculumProblem(v) === null;
    default:
      return typeof v === 'number' && Number.isFinite(v) && (f.type !== 'int' || Number.isInteger(v)) && inRange(v, range);
  }
}

/** Whether the finite number `v` is within `r`. */
export function inRange(v: number, r: Range): boolean {
  if (r.min !== undefined && (r.minOpen ? !(v > r.min) : !(v >= r.min))) return false;
  if (r.max !== undefined && (r.maxOpen ? !(v < r.max) : !(v <= r.max))) return false;
  return true;
}

/**
 * What an integer or number must be, as the messages say it: `a positive integer`,
 * `an integer >= 16`, `1 or 2`, `in (0, 1]`, `>= 0`, `<= 0`, `a number` (unbounded).
 * Interval ends are written as given (no spaces in numbers, so messages stay greppable).
 */
export function describeRange(type: 'int' | 'number', r: Range): string {
  const { min, max } = r;
  if (type === 'int') {
    if (min !== undefined && max !== undefined) return max - min === 1 ? `${min} or ${max}` : `an integer from ${min} to ${max}`;
    if (min === 1) return 'a positive integer';
    if (min !== undefined) return `an integer >= ${min}`;
    if (max !== undefined) return `an integer <= ${max}`;
    return 'an integer';
  }
  if (min !== undefined && max !== undefined) return `in ${r.minOpen ? '(' : '['}${min}, ${max}${r.maxOpen ? ')' : ']'}`;
  if (min !== undefined) return `${r.minOpen ? '>' : '>='} ${min}`;
  if (max !== undefined) return `${r.maxOpen ? '<' : '<='} ${max}`;
  return 'a number';
}

/**
 * What is wrong with a curriculum, or null: at least one phase; each an object with `fromStep`
 * an integer >= 0 and `hops` a non-empty list; the first from step 0. Messages are relative
 * (`curriculum[1].fromStep must be ...`); the caller adds its prefix.
 */
export function curriculumProblem(v: unknown): string | null {
  if (!Array.isArray(v) || v.length === 0) return 'curriculum needs at least one phase';
  for (let i = 0; i < v.length; i++) {
    const p = v[i] as { fromStep?: unknown; hops?: unknown } | null;
    if (!Number.isInteger(p?.fromStep) || (p!.fromStep as number) < 0) return `curriculum[${i}].fromStep must be an integer >= 0`;
    if (!Array.isArray(p!.hops) || p!.hops.length === 0) return `curriculum[${i}].hops must list hop counts`;
  }
  if ((v[0] as { fromStep: number }).fromStep !== 0) return 'curriculum[0].fromStep must be 0';
  return null;
}

/**
 * What the page offers of a field: its own bounds with the ends (or options) the page narrows
 * (`page`) in their place. The URL accepts exactly this; the form's inputs show it.
 */
export function pageRangeOf(f: SettingField): Range & { options?: readonly string[] } {
  const { min, max, minOpen, maxOpen } = f;
  const own: Range = { min, max, minOpen, maxOpen };
  const page = f.page ?? {};
  if (page.min !== undefined) Object.assign(own, { min: page.min, minOpen: page.minOpen });
  if (page.max !== undefined) Object.assign(own, { max: page.max, maxOpen: page.maxOpen });
  const options = page.options ?? (f.options as readonly string[] | undefined);
  return options ? { ...own, options } : own;
}
