/**
 * The page's configuration lives in the URL, so a link reproduces a run: the pack, the base
 * model, the prompt preset, every RL setting the page offers, the seed, and the step of the
 * guided path that is open. Only known keys are read; a bad value is reported, not silently
 * replaced. Written back with only the values that differ from the defaults, so links stay
 * short and a default changed in the code reaches old links.
 *
 * Each stage has its own RL settings: `s1.lr`, `s2.lr`, ... (STAGE_KEYS). A plain key (`lr`, as
 * older links hold) sets both stages; a stage-prefixed key overrides it for that stage.
 */
import { ADVANTAGE_ESTIMATORS, type AdvantageEstimator } from '../rl/advantages.ts';
import { ALL_PROMPT_PRESETS } from '../protocol/prompts.ts';
import { RETRIEVAL_REWARD_RULES, type RetrievalRewardRule } from '../rl/rewards.ts';
import { DEFAULT_STAGE_STEPS, type SettingsOverride } from '../session/types.ts';
import { MAX_SPLICED_DOCUMENTS } from '../protocol/splice.ts';
import { defaultRlSettings } from '../rl/trainer.ts';

/** The six steps of the guided path, in order. */
export const STEP_IDS = ['corpus', 'base', 'stage1', 'stage2', 'evaluate', 'export'] as const;
export type StepId = (typeof STEP_IDS)[number];

export interface PageConfig {
  /** `auto` (best available), `cpu`, `wasm` or `webgpu`. */
  backend: 'auto' | 'cpu' | 'wasm' | 'webgpu';
  /** Corpus pack under public/corpus/. */
  pack: string;
  /** Base checkpoint under public/models/. */
  model: string;
  /** Prompt preset of training and sampling (src/protocol/prompts.ts). */
  preset: string;
  seed: number;
  stage1Steps: number;
  stage2Steps: number;
  promptsPerStep: number;
  samplesPerPrompt: number;
  maxNewTokens: number;
  lr: number;
  klCoef: number;
  advantageEstimator: AdvantageEstimator;
  maxSearches: number;
  topK: number;
  /** Stage 1's retrieval reward: `found` (default here) or the paper's `any`. */
  retrievalReward: RetrievalRewardRule;
  /** Stage 2's format penalty (<= 0; paper -2). */
  formatPenalty: number;
  /** Save the run to browser storage every this many steps (and at each stage's end). */
  saveEvery: number;
  /** Questions per split in the page's evaluation (0 = all). */
  evalLimit: number;
  /** The step of the guided path shown. */
  step: StepId;
  /** Per-stage values of STAGE_KEYS (`s1.lr` in the URL), over the plain keys' values. */
  stages: { 1: StageValues; 2: StageValues };
}

/** The settings each stage holds for itself (the rest are shared by both stages). */
export const STAGE_KEYS = [
  'promptsPerStep', 'samplesPerPrompt', 'maxNewTokens', 'lr', 'klCoef', 'advantageEstimator', 'maxSearches', 'topK', 'retrievalReward', 'formatPenalty',
] as const satisfies readonly (keyof PageConfig)[];
export type StageKey = (typeof STAGE_KEYS)[number];
export type StageValues = Partial<Pick<PageConfig, StageKey>>;

/** The value a stage trains with: its own when set, else the plain key's. */
export function stageValue<K extends StageKey>(config: PageConfig, stage: 1 | 2, key: K): PageConfig[K] {
  return (config.stages[stage][key] ?? config[key]) as PageConfig[K];
}

const s1 = defaultRlSettings(1), s2 = defaultRlSettings(2);

export const DEFAULT_PAGE_CONFIG: Readonly<PageConfig> = Object.freeze({
  backend: 'auto', pack: 'world', model: 'nano-base', preset: s1.promptPreset, seed: 1, stage1Steps: DEFAULT_STAGE_STEPS[1], stage2Steps: DEFAULT_STAGE_STEPS[2],
  promptsPerStep: s1.promptsPerStep, samplesPerPrompt: s1.samplesPerPrompt, maxNewTokens: s1.rollout.maxNewTokens,
  lr: s1.optimizer.lr, klCoef: s1.klCoef, advantageEstimator: s1.advantageEstimator, maxSearches: s1.rollout.maxSearches,
  topK: s1.rollout.topK, retrievalReward: s1.reward.retrievalReward, formatPenalty: s2.reward.formatPenalty, saveEvery: 1, evalLimit: 50,
  step: 'corpus', stages: Object.freeze({ 1: Object.freeze({}), 2: Object.freeze({}) }),
});

type Field =
  | { key: keyof PageConfig; kind: 'int'; min: number; max?: number }
  | { key: keyof PageConfig; kind: 'number'; check: (x: number) => boolean; expect: string }
  | { key: keyof PageConfig; kind: 'enum'; options: readonly string[] }
  | { key: keyof PageConfig; kind: 'name' };

/** Every key the URL may hold, in the order links write them. */
const FIELDS: readonly Field[] = [
  { key: 'step', kind: 'enum', options: STEP_IDS },
  { key: 'pack', kind: 'name' },
  { key: 'model', kind: 'name' },
  { key: 'preset', kind: 'enum', options: Object.keys(ALL_PROMPT_PRESETS).filter((p) => ALL_PROMPT_PRESETS[p]!.allowsSearch) },
  { key: 'backend', kind: 'enum', options: ['auto', 'cpu', 'wasm', 'webgpu'] },
  { key: 'seed', kind: 'int', min: 0 },
  { key: 'stage1Steps', kind: 'int', min: 1 },
  { key: 'stage2Steps', kind: 'int', min: 1 },
  { key: 'promptsPerStep', kind: 'int', min: 1 },
  { key: 'samplesPerPrompt', kind: 'int', min: 1 },
  { key: 'maxNewTokens', kind: 'int', min: 1, max: 400 },
  { key: 'lr', kind: 'number', check: (x) => x > 0 && x < 1, expect: 'a number between 0 and 1' },
  { key: 'klCoef', kind: 'number', check: (x) => x >= 0, expect: 'a number >= 0' },
  { key: 'advantageEstimator', kind: 'enum', options: ADVANTAGE_ESTIMATORS },
  { key: 'maxSearches', kind: 'int', min: 0, max: 16 },
  { key: 'topK', kind: 'int', min: 1, max: MAX_SPLICED_DOCUMENTS },
  { key: 'retrievalReward', kind: 'enum', options: [...RETRIEVAL_REWARD_RULES] },
  { key: 'formatPenalty', kind: 'number', check: (x) => x <= 0 && x >= -10, expect: 'a number between -10 and 0' },
  { key: 'saveEvery', kind: 'int', min: 1 },
  { key: 'evalLimit', kind: 'int', min: 0 },
];

/**
 * Reads the configuration from a query string; returns it with one message per bad value
 * (the default stays in force for that key).
 */
export function readPageConfig(search: string): { config: PageConfig; errors: string[] } {
  const p = new URLSearchParams(search);
  const config: PageConfig = { ...DEFAULT_PAGE_CONFIG, stages: { 1: {}, 2: {} } };
  const errors: string[] = [];
  const fields = [...FIELDS.map((f) => ({ f, name: f.key as string, target: config as unknown as Record<string, unknown> })),
    ...([1, 2] as const).flatMap((st) => FIELDS.filter((f) => (STAGE_KEYS as readonly string[]).includes(f.key))
      .map((f) => ({ f, name: `s${st}.${f.key}`, target: config.stages[st] as Record<string, unknown> })))];
  for (const { f, name, target } of fields) {
    const set = (_k: keyof PageConfig, v: unknown) => (target[f.key] = v);
    const v = p.get(name);
    if (v === null) continue;
    if (f.kind === 'name') {
      if (/^[a-z0-9][a-z0-9._-]*$/i.test(v)) set(f.key, v);
      else errors.push(`${name} "${v}" is not a plain name`);
    } else if (f.kind === 'enum') {
      if (f.options.includes(v)) set(f.key, v);
      else errors.push(`${name} "${v}" is not one of ${f.options.join(', ')}`);
    } else {
      const n = v.trim() === '' ? NaN : Number(v);
      if (f.kind === 'int') {
        if (Number.isInteger(n) && n >= f.min && (f.max === undefined || n <= f.max)) set(f.key, n);
        else errors.push(`${name} "${v}" is not an integer ${f.max === undefined ? `>= ${f.min}` : `from ${f.min} to ${f.max}`}`);
      } else if (Number.isFinite(n) && f.check(n)) set(f.key, n);
      else errors.push(`${name} "${v}" is not ${f.expect}`);
    }
  }
  return { config, errors };
}

/** The query string (with `?`, or "" when everything is default) for a configuration. */
export function writePageConfig(config: PageConfig): string {
  const p = new URLSearchParams();
  for (const f of FIELDS) {
    const v = config[f.key];
    if (v !== DEFAULT_PAGE_CONFIG[f.key]) p.set(f.key, String(v));
  }
  for (const st of [1, 2] as const) {
    for (const k of STAGE_KEYS) {
      const v = config.stages[st][k];
      if (v !== undefined && v !== config[k]) p.set(`s${st}.${k}`, String(v));
    }
  }
  const q = p.toString();
  return q ? `?${q}` : '';
}

/** The RL settings a stage starts with under this configuration (src/session/training-session.ts merges them into the defaults). */
export function stageOverride(config: PageConfig, stage: 1 | 2): SettingsOverride {
  const v = <K extends StageKey>(k: K) => stageValue(config, stage, k);
  return {
    promptsPerStep: v('promptsPerStep'),
    samplesPerPrompt: v('samplesPerPrompt'),
    advantageEstimator: v('advantageEstimator'),
    klCoef: v('klCoef'),
    promptPreset: config.preset,
    optimizer: { lr: v('lr') },
    rollout: { maxNewTokens: v('maxNewTokens'), maxSearches: v('maxSearches'), topK: v('topK') },
    reward: stage === 1 ? { retrievalReward: v('retrievalReward') } : { formatPenalty: v('formatPenalty') },
  };
}

/**
 * The configuration with `stage`'s own value of `key` set to `value` (dropped when it equals
 * the plain key's, so the link stays short). The other stage keeps its value.
 */
export function withStageValue<K extends StageKey>(config: PageConfig, stage: 1 | 2, key: K, value: PageConfig[K]): PageConfig {
  const own = { ...config.stages[stage] } as Record<string, unknown>;
  if (value === config[key]) delete own[key];
  else own[key] = value;
  return { ...config, stages: { ...config.stages, [stage]: own } };
}
