/**
 * The page's configuration lives in the URL, so a link reproduces a run: the pack, the base
 * model, the prompt preset, every RL setting the page offers, the seed, and the step of the
 * guided path that is open. Only known keys are read; a bad value is reported, not silently
 * replaced. Written back with only the values that differ from the defaults, so links stay
 * short and a default changed in the code reaches old links.
 *
 * Each stage has its own RL settings: `s1.lr`, `s2.lr`, ... (STAGE_KEYS). A plain key (`lr`, as
 * older links hold) sets both stages; a stage-prefixed key overrides it for that stage. Where the
 * recipe's default differs between the stages (Stage 2 reads top-5, Stage 1 top-3), the plain key
 * holds the first stage's default and the other stage's default is its own value in the default
 * configuration; a link without that key keeps it, a plain key in the link replaces it.
 *
 * The RL settings' keys, bounds, defaults and paths come from the settings table
 * (src/rl/settings-fields.ts `url`, `page`); this file adds the page's own keys (pack, model,
 * step, seed, ...) and the order links write them in.
 */
import type { AdvantageEstimator } from '../rl/advantages.ts';
import type { RetrievalRewardRule } from '../rl/rewards.ts';
import type { QuestionSampling } from '../rl/question-sampler.ts';
import { DEFAULT_STAGE_STEPS } from '../session/types.ts';
import { fieldOfUrlKey, inRange, pageRangeOf, type Range } from '../rl/settings-fields.ts';
import { settingDefault, type SettingsOverride } from '../rl/settings.ts';

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
  /** Stage 1's retrieval reward (`relevant`, `follow-up`, `found` or the paper's `any`). */
  retrievalReward: RetrievalRewardRule;
  /** Stage 2's format penalty (<= 0; paper -2). */
  formatPenalty: number;
  /**
   * How a step's questions are drawn (`uniform`, `learnability` or `failure-rate`,
   * src/rl/question-sampler.ts).
   */
  questionSampling: QuestionSampling;
  /** Save the run to browser storage every this many steps (and at each stage's end). */
  saveEvery: number;
  /** Questions per split in the page's evaluation (0 = all). */
  evalLimit: number;
  /** The step of the guided path shown. */
  step: StepId;
  /** Per-stage values of STAGE_KEYS (`s1.lr` in the URL), over the plain keys' values. */
  stages: { 1: StageValues; 2: StageValues };
}

/**
 * The settings each stage holds for itself (the rest are shared by both stages), in the order
 * links write them; each is a settings-table field's `url` key.
 */
export const STAGE_KEYS = [
  'promptsPerStep', 'samplesPerPrompt', 'maxNewTokens', 'lr', 'klCoef', 'advantageEstimator', 'maxSearches', 'topK', 'retrievalReward', 'formatPenalty',
  'questionSampling',
] as const satisfies readonly (keyof PageConfig)[];
export type StageKey = (typeof STAGE_KEYS)[number];
export type StageValues = Partial<Pick<PageConfig, StageKey>>;

/** The value a stage trains with: its own when set, else the plain key's. */
export function stageValue<K extends StageKey>(config: PageConfig, stage: 1 | 2, key: K): PageConfig[K] {
  return (config.stages[stage][key] ?? config[key]) as PageConfig[K];
}

/** The page's keys that are RL settings: the shared prompt preset, then the per-stage keys. */
const RL_KEYS = ['preset', ...STAGE_KEYS] as const;
type RlKey = (typeof RL_KEYS)[number];

/** Each RL key's default: the recipe's (defaultRlSettings) in the first stage the setting acts in. */
const RL_DEFAULTS = Object.fromEntries(RL_KEYS.map((k) => {
  const f = fieldOfUrlKey(k);
  return [k, settingDefault(f, f.stages?.[0] ?? 1)];
})) as Pick<PageConfig, RlKey>;
const { preset: DEFAULT_PRESET, ...STAGE_DEFAULTS } = RL_DEFAULTS;

/** Per stage, the recipe's defaults that differ from the plain key's (the first stage's). */
const OWN_STAGE_DEFAULTS = Object.fromEntries(([1, 2] as const).map((stage) => [stage, Object.freeze(Object.fromEntries(
  STAGE_KEYS.flatMap((k) => {
    const f = fieldOfUrlKey(k);
    const v = settingDefault(f, stage);
    return (!f.stages || f.stages.includes(stage)) && v !== STAGE_DEFAULTS[k] ? [[k, v]] : [];
  }),
) as StageValues)])) as { 1: Readonly<StageValues>; 2: Readonly<StageValues> };

export const DEFAULT_PAGE_CONFIG: Readonly<PageConfig> = Object.freeze({
  backend: 'auto', pack: 'world', model: 'nano-base', preset: DEFAULT_PRESET, seed: 1, stage1Steps: DEFAULT_STAGE_STEPS[1], stage2Steps: DEFAULT_STAGE_STEPS[2],
  ...STAGE_DEFAULTS, saveEvery: 1, evalLimit: 50, step: 'corpus', stages: Object.freeze(OWN_STAGE_DEFAULTS),
});

/** One URL key: how its text is read and what it may hold. */
export type UrlField =
  | { key: keyof PageConfig; kind: 'int' | 'number'; range: Range }
  | { key: keyof PageConfig; kind: 'enum'; options: readonly string[] }
  | { key: keyof PageConfig; kind: 'name' };

/** An RL setting's URL key, from the settings table: what the page offers of it. */
function rlField(key: RlKey): UrlField {
  const f = fieldOfUrlKey(key);
  const { options, ...range } = pageRangeOf(f);
  if (f.type === 'enum') return { key, kind: 'enum', options: options! };
  if (f.type !== 'int' && f.type !== 'number') throw new Error(`url-config: setting "${f.path}" (${f.type}) cannot be a URL key`);
  return { key, kind: f.type, range };
}

/** Every key the URL may hold, in the order links write them. */
const FIELDS: readonly UrlField[] = [
  { key: 'step', kind: 'enum', options: STEP_IDS },
  { key: 'pack', kind: 'name' },
  { key: 'model', kind: 'name' },
  rlField('preset'),
  { key: 'backend', kind: 'enum', options: ['auto', 'cpu', 'wasm', 'webgpu'] },
  { key: 'seed', kind: 'int', range: { min: 0 } },
  { key: 'stage1Steps', kind: 'int', range: { min: 1 } },
  { key: 'stage2Steps', kind: 'int', range: { min: 1 } },
  ...STAGE_KEYS.map(rlField),
  { key: 'saveEvery', kind: 'int', range: { min: 1 } },
  { key: 'evalLimit', kind: 'int', range: { min: 0 } },
];

/**
 * The URL key `key`: its kind and what it accepts (the settings form shows the same bounds).
 * @throws Error for `stages`, which is no key of its own (its keys are `s1.<key>`, `s2.<key>`).
 */
export function urlField(key: keyof PageConfig): UrlField {
  const f = FIELDS.find((x) => x.key === key);
  if (!f) throw new Error(`url-config: "${key}" is not a URL key`);
  return f;
}

/** "a number between 0 and 1", "a number >= 0": what a number key holds, as the URL's messages say it. */
function numberWords(r: Range): string {
  if (r.min !== undefined && r.max !== undefined) return `a number between ${r.min} and ${r.max}`;
  if (r.min !== undefined) return `a number ${r.minOpen ? '>' : '>='} ${r.min}`;
  return r.max !== undefined ? `a number ${r.maxOpen ? '<' : '<='} ${r.max}` : 'a number';
}

/**
 * Reads the configuration from a query string; returns it with one message per bad value
 * (the default stays in force for that key).
 */
export function readPageConfig(search: string): { config: PageConfig; errors: string[] } {
  const p = new URLSearchParams(search);
  const config: PageConfig = { ...DEFAULT_PAGE_CONFIG, stages: { 1: { ...OWN_STAGE_DEFAULTS[1] }, 2: { ...OWN_STAGE_DEFAULTS[2] } } };
  const errors: string[] = [];
  // A plain key sets both stages: it replaces a stage's own default (stage-prefixed keys come after it).
  const plain = (k: keyof PageConfig) => (value: unknown) => {
    (config as unknown as Record<string, unknown>)[k] = value;
    for (const st of [1, 2] as const) delete (config.stages[st] as Record<string, unknown>)[k];
  };
  const fields = [...FIELDS.map((f) => ({ f, name: f.key as string, set: plain(f.key) })),
    ...([1, 2] as const).flatMap((st) => FIELDS.filter((f) => (STAGE_KEYS as readonly string[]).includes(f.key))
      .map((f) => ({ f, name: `s${st}.${f.key}`, set: (v: unknown) => ((config.stages[st] as Record<string, unknown>)[f.key] = v) })))];
  for (const { f, name, set } of fields) {
    const v = p.get(name);
    if (v === null) continue;
    if (f.kind === 'name') {
      if (/^[a-z0-9][a-z0-9._-]*$/i.test(v)) set(v);
      else errors.push(`${name} "${v}" is not a plain name`);
    } else if (f.kind === 'enum') {
      if (f.options.includes(v)) set(v);
      else errors.push(`${name} "${v}" is not one of ${f.options.join(', ')}`);
    } else {
      const n = v.trim() === '' ? NaN : Number(v);
      const { min, max } = f.range;
      if (f.kind === 'int') {
        if (Number.isInteger(n) && inRange(n, f.range)) set(n);
        else errors.push(`${name} "${v}" is not an integer ${max === undefined ? `>= ${min}` : `from ${min} to ${max}`}`);
      } else if (Number.isFinite(n) && inRange(n, f.range)) set(n);
      else errors.push(`${name} "${v}" is not ${numberWords(f.range)}`);
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
      const v = stageValue(config, st, k);
      if (v !== linkFallback(config, st, k)) p.set(`s${st}.${k}`, String(v));
    }
  }
  const q = p.toString();
  return q ? `?${q}` : '';
}

/**
 * The value `stage` takes for `key` when a link written from `config` has no `s<stage>.<key>`:
 * the plain key's when the link holds it (it differs from the default), else the stage's own
 * default when it has one, else the plain key's.
 */
function linkFallback<K extends StageKey>(config: PageConfig, stage: 1 | 2, key: K): PageConfig[K] {
  if (config[key] !== DEFAULT_PAGE_CONFIG[key]) return config[key];
  return (OWN_STAGE_DEFAULTS[stage][key] ?? config[key]) as PageConfig[K];
}

/**
 * The RL settings a stage starts with under this configuration: each RL key's value at its
 * setting's path, for the settings that act in this stage (src/rl/settings.ts mergeSettings
 * merges them into the defaults).
 */
export function stageOverride(config: PageConfig, stage: 1 | 2): SettingsOverride {
  const out: Record<string, unknown> = {};
  for (const key of RL_KEYS) {
    const f = fieldOfUrlKey(key);
    if (f.stages && !f.stages.includes(stage)) continue;
    const value = key === 'preset' ? config.preset : stageValue(config, stage, key);
    const parts = f.path.split('.');
    let obj = out;
    for (const p of parts.slice(0, -1)) obj = (obj[p] ??= {}) as Record<string, unknown>;
    obj[parts[parts.length - 1]!] = value;
  }
  return out as SettingsOverride;
}

/**
 * The configuration with `stage`'s own value of `key` set to `value` (dropped when it equals
 * the plain key's and a link without it reads back the same, so the link stays short). The
 * other stage keeps its value.
 */
export function withStageValue<K extends StageKey>(config: PageConfig, stage: 1 | 2, key: K, value: PageConfig[K]): PageConfig {
  const own = { ...config.stages[stage] } as Record<string, unknown>;
  if (value === config[key] && linkFallback(config, stage, key) === config[key]) delete own[key];
  else own[key] = value;
  return { ...config, stages: { ...config.stages, [stage]: own } };
}
