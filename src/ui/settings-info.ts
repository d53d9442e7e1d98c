/**
 * The settings the stage form offers, each with a label, a one-line explanation, the value the
 * paper (or its code) uses and its bounds. The RL settings' texts come from the settings table
 * (src/rl/settings-fields.ts) and every bound from the URL's keys (url-config.ts), so the form
 * offers exactly what a link may hold; only the page's own settings (steps, seed, save
 * interval) are explained here. Data only.
 */
import { fieldOfUrlKey } from '../rl/settings-fields.ts';
import { urlField, type PageConfig, type StageKey } from './url-config.ts';

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

/** The RL settings the form shows, in its order (what shapes a step first). */
const FORM_ORDER = [
  'samplesPerPrompt', 'promptsPerStep', 'lr', 'klCoef', 'advantageEstimator', 'maxSearches', 'topK', 'maxNewTokens', 'retrievalReward', 'formatPenalty', 'questionSampling',
] as const satisfies readonly StageKey[];

/** `text` for the URL key `key`, with the kind and bounds (or options) the URL accepts. */
function withBounds(key: keyof PageConfig, text: Pick<SettingInfo, 'label' | 'help' | 'paper' | 'step' | 'stage'>): SettingInfo {
  const u = urlField(key);
  if (u.kind === 'enum') return { key, kind: 'select', options: u.options, ...text };
  if (u.kind === 'name') throw new Error(`settings-info: "${key}" is a name, not a form setting`);
  return { key, kind: u.kind, min: u.range.min, max: u.range.max, ...text };
}

/** The RL settings of the form (a stage's own values; src/rl/settings-fields.ts explains each). */
export const SETTINGS_INFO: readonly SettingInfo[] = FORM_ORDER.map((key) => {
  const f = fieldOfUrlKey(key);
  return withBounds(key, { label: f.label ?? key, help: f.help, paper: f.paper ?? '-', step: f.page?.step, stage: f.stages?.length === 1 ? f.stages[0] : undefined });
});

/** The stage's number of steps (the page's own setting, one per stage). */
export function stepsInfo(stage: 1 | 2): SettingInfo {
  return withBounds(stage === 1 ? 'stage1Steps' : 'stage2Steps', {
    label: 'Steps in this stage', help: 'Rollout batches and updates the stage runs; the learning-rate schedule spans them.',
    paper: stage === 1 ? '~350 questions' : '8,148 questions',
  });
}

/** The seed, shared by both stages. */
export const SEED_INFO: SettingInfo = withBounds('seed', {
  label: 'Seed (both stages)', help: 'Shared by both stages (Stage s draws with seed + s): the same seed and settings give the same run.', paper: '-',
});

/** How often the run is saved to the browser, shared by both stages. */
export const SAVE_EVERY_INFO: SettingInfo = withBounds('saveEvery', {
  label: 'Save every (steps, both stages)', help: 'Shared by both stages: the run is saved to this browser every this many steps, on pause and at the end of each stage.', paper: '-',
});
