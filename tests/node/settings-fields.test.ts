/**
 * The settings table (src/rl/settings-fields.ts) is the one description of the RL settings:
 * it covers every setting, holds every default, and each of its bounds is enforced alike by
 * validateRlSettings, the group validators that still check on their own, the train command's
 * flags and the page's URL keys (where the page offers less, it never offers more).
 */
import { describe, expect, it } from 'vitest';
import { applySettingFlags, SETTING_FLAG_FIELDS, SETTING_FLAGS_USAGE } from '../../src/cli/settings-flags.ts';
import type { ModelConfig } from '../../src/model/config.ts';
import { validateOptimizer, type OptimizerSettings } from '../../src/model/optimizer.ts';
import { validateUpdateSettings, type UpdateSettings } from '../../src/rl/policy-update.ts';
import { resolveRewardSettings } from '../../src/rl/rewards.ts';
import { validateRolloutSettings, type RolloutSettings } from '../../src/rl/rollout.ts';
import { defaultRlSettings, mergeSettings, settingDefault, storedRlSettings, validateRlSettings, type RlSettings } from '../../src/rl/settings.ts';
import { fieldAllows, pageRangeOf, SETTINGS_FIELDS, settingField, type Range, type SettingField } from '../../src/rl/settings-fields.ts';
import { setSettingPath, settingAt } from '../../src/rl/settings-schema.ts';
import { SETTINGS_INFO } from '../../src/ui/settings-info.ts';
import { DEFAULT_PAGE_CONFIG, readPageConfig, STAGE_KEYS, stageOverride, urlField, withStageValue, writePageConfig, type PageConfig } from '../../src/ui/url-config.ts';

const CONFIG = { maxPositions: 1 << 20 } as ModelConfig;
const STAGES = [1, 2] as const;

/** Dotted paths of the leaves of an object (arrays are leaves), in key order. */
function leafPaths(o: object, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' && !Array.isArray(v) ? leafPaths(v, `${prefix}${k}.`) : [`${prefix}${k}`]));
}

/** Values just inside and just outside a range's ends (and a fraction, for an integer). */
function edges(type: 'int' | 'number', r: Range): { inside: number[]; outside: number[] } {
  const d = type === 'int' ? 1 : 1e-3, inside: number[] = [], outside: number[] = [];
  if (r.min !== undefined) {
    if (r.minOpen) inside.push(r.min + d), outside.push(r.min);
    else inside.push(r.min), outside.push(r.min - d);
  }
  if (r.max !== undefined) {
    if (r.maxOpen) inside.push(r.max - d), outside.push(r.max);
    else inside.push(r.max), outside.push(r.max + d);
  }
  if (type === 'int') outside.push((r.min ?? r.max ?? 0) + 0.5);
  return { inside, outside };
}

/** Values to try on a field: inside and outside its own bounds. */
function tries(f: SettingField): { inside: unknown[]; outside: unknown[] } {
  if (f.type === 'int' || f.type === 'number') return edges(f.type, f);
  if (f.type === 'enum') return { inside: [...f.options!], outside: ['nope', 3] };
  if (f.type === 'boolean') return { inside: [true, false], outside: ['yes', 1] };
  return { inside: [[{ fromStep: 0, hops: [2] }]], outside: [[], [{ fromStep: 1, hops: [1] }], [{ fromStep: 0, hops: [] }]] };
}

/** Stage-1 defaults with `path` set to `v` (and what another setting needs for `v` to be possible). */
function withValue(path: string, v: unknown): RlSettings {
  const s = defaultRlSettings(1);
  // A group baseline needs two samples: one sample is only possible without a baseline.
  if (path === 'samplesPerPrompt') s.advantageEstimator = 'reinforce';
  (function put(obj: Record<string, unknown>, parts: string[]) {
    if (parts.length === 1) obj[parts[0]!] = v;
    else put(obj[parts[0]!] as Record<string, unknown>, parts.slice(1));
  })(s as unknown as Record<string, unknown>, path.split('.'));
  return s;
}

/** The validator of the module that owns a group of settings, called on its own. */
function groupValidator(path: string): ((s: RlSettings) => unknown) | null {
  const group = path.split('.')[0];
  if (group === 'optimizer') return (s) => validateOptimizer(s.optimizer as OptimizerSettings);
  if (group === 'update') return (s) => validateUpdateSettings(s.update as UpdateSettings);
  if (group === 'rollout') return (s) => validateRolloutSettings(s.rollout as RolloutSettings, CONFIG.maxPositions);
  if (group === 'reward') return (s) => resolveRewardSettings(s.reward);
  return null;
}

describe('the settings table', () => {
  it('describes every setting once, in the order RlSettings declares them, and holds every default', () => {
    for (const stage of STAGES) expect(SETTINGS_FIELDS.map((f) => f.path)).toEqual(leafPaths(defaultRlSettings(stage)));
    for (const f of SETTINGS_FIELDS) {
      expect(f.help.length, f.path).toBeGreaterThan(10);
      for (const stage of STAGES) expect(fieldAllows(f, settingDefault(f, stage)), `${f.path} default in stage ${stage}`).toBe(true);
      for (const stage of f.stages ?? STAGES) if (f.url) expect(fieldAllows(f, settingDefault(f, stage), pageRangeOf(f)), `${f.path}: the page offers its stage-${stage} default`).toBe(true);
    }
    for (const stage of STAGES) expect(validateRlSettings(defaultRlSettings(stage), CONFIG)).toEqual(defaultRlSettings(stage));
  });

  it('each bound is enforced alike by validateRlSettings and by the validator of its group', () => {
    for (const f of SETTINGS_FIELDS) {
      const { inside, outside } = tries(f);
      const group = groupValidator(f.path);
      for (const v of inside) {
        expect(() => validateRlSettings(withValue(f.path, v), CONFIG), `${f.path} = ${JSON.stringify(v)}`).not.toThrow();
        if (group) expect(() => group(withValue(f.path, v)), `${f.path} = ${JSON.stringify(v)} (its group)`).not.toThrow();
      }
      for (const v of outside) {
        expect(() => validateRlSettings(withValue(f.path, v), CONFIG), `${f.path} = ${JSON.stringify(v)}`).toThrow();
        // The group validators check types loosely (a string enum, a boolean); they must refuse every out-of-range number.
        if (group && typeof v === 'number' && (f.type === 'int' || f.type === 'number')) expect(() => group(withValue(f.path, v)), `${f.path} = ${v} (its group)`).toThrow();
      }
    }
  });

  it("validateRlSettings' messages name the group, the key, the bounds and the value", () => {
    const bad = (path: string, v: unknown) => () => validateRlSettings(withValue(path, v), CONFIG);
    expect(bad('stage', 3)).toThrow('settings: stage must be 1 or 2, got 3');
    expect(bad('promptsPerStep', 0)).toThrow('settings: promptsPerStep must be a positive integer, got 0');
    expect(bad('klEvery', -1)).toThrow('settings: klEvery must be an integer >= 0, got -1');
    expect(bad('klCoef', -1)).toThrow('settings: klCoef must be >= 0, got -1');
    expect(bad('lrMinRatio', 0)).toThrow('settings: lrMinRatio must be in (0, 1], got 0');
    expect(bad('advantageEstimator', 'ppo')).toThrow('settings: unknown advantageEstimator "ppo" (known: reinforce_baseline, group_norm, reinforce)');
    expect(bad('balanceHops', 'yes')).toThrow('settings: balanceHops must be true or false, got "yes"');
    expect(bad('curriculum', [{ fromStep: 2, hops: [1] }])).toThrow('settings: curriculum[0].fromStep must be 0');
    // Where a group's validator has its words, the table's are the same.
    expect(bad('optimizer.lr', 1)).toThrow('optimizer: lr must be in (0, 1), got 1');
    expect(() => validateOptimizer({ ...defaultRlSettings(1).optimizer, lr: 1 })).toThrow('optimizer: lr must be in (0, 1), got 1');
    expect(bad('update.microBatchTokens', 8)).toThrow('update: microBatchTokens must be an integer >= 16, got 8');
    expect(bad('rollout.topP', 0)).toThrow('rollout: topP must be in (0, 1], got 0');
    expect(bad('rollout.topK', 0)).toThrow('rollout: topK must be a positive integer, got 0');
    expect(bad('samplesPerPrompt', 1)).not.toThrow();
    expect(() => validateRlSettings({ ...defaultRlSettings(1), samplesPerPrompt: 1 }, CONFIG)).toThrow('reinforce_baseline needs samplesPerPrompt >= 2');
    expect(() => validateRlSettings(defaultRlSettings(1), { maxPositions: 100 } as ModelConfig)).toThrow(/maxLength 448 exceeds the model's maxPositions 100/);
  });
});

describe('the train command\'s setting flags', () => {
  it('every flag of the usage parses, and a flag given its default changes nothing', () => {
    const names = [...SETTING_FLAGS_USAGE.matchAll(/\[--([a-z-]+)( [^\]]+)?\]/g)].map((m) => m[1]);
    expect(names).toEqual(SETTING_FLAG_FIELDS.map((f) => f.flag.name));
    expect(names).toEqual(['prompts-per-step', 'samples-per-prompt', 'advantage-estimator', 'kl-coef', 'lr', 'max-searches', 'top-k', 'retrieval-reward', 'paper-format-reward', 'format-penalty', 'ungrounded-penalty', 'hops', 'question-sampling', 'no-mask-documents']);
    for (const stage of STAGES) {
      for (const f of SETTING_FLAG_FIELDS) {
        if (f.flag.sets !== undefined || f.flag.list) continue;
        const s = defaultRlSettings(stage);
        applySettingFlags(s, { [f.flag.name]: String(settingDefault(f, stage)) });
        expect(s, f.flag.name).toEqual(defaultRlSettings(stage));
      }
    }
    const s = defaultRlSettings(2);
    applySettingFlags(s, { hops: '1,3', 'no-mask-documents': true, lr: '', 'top-k': '5', 'retrieval-reward': 'any', 'format-penalty': '-1' });
    expect(s).toEqual({ ...defaultRlSettings(2), curriculum: [{ fromStep: 0, hops: [1, 3] }], maskDocuments: false,
      rollout: { ...defaultRlSettings(2).rollout, topK: 5 }, reward: { ...defaultRlSettings(2).reward, retrievalReward: 'any', formatPenalty: -1 } });
  });

  it('each flag takes exactly the values its setting allows, and says what it takes', () => {
    for (const f of SETTING_FLAG_FIELDS) {
      if (f.flag.sets !== undefined || f.flag.list) continue;
      const { inside, outside } = tries(f);
      for (const v of inside) expect(() => applySettingFlags(defaultRlSettings(1), { [f.flag.name]: String(v) }), `--${f.flag.name} ${String(v)}`).not.toThrow();
      for (const v of outside) expect(() => applySettingFlags(defaultRlSettings(1), { [f.flag.name]: String(v) }), `--${f.flag.name} ${String(v)}`).toThrow(`--${f.flag.name} must be`);
    }
    const flag = (name: string, v: string) => () => applySettingFlags(defaultRlSettings(1), { [name]: v });
    expect(flag('samples-per-prompt', '0')).toThrow('--samples-per-prompt must be an integer >= 1, got "0"');
    expect(flag('lr', '2')).toThrow('--lr must be a number in (0, 1), got "2"');
    expect(flag('kl-coef', 'abc')).toThrow('--kl-coef must be a number >= 0, got "abc"');
    expect(flag('advantage-estimator', 'ppo')).toThrow('--advantage-estimator must be one of reinforce_baseline, group_norm, reinforce, got "ppo"');
    expect(flag('hops', '1,x')).toThrow('--hops must be an integer >= 1, got "x"');
    expect(flag('hops', '0')).toThrow('--hops must be an integer >= 1, got "0"');
  });
});

describe("the page's URL keys", () => {
  it('are the table\'s url keys; each accepts what the page offers of its setting, never more than the setting allows', () => {
    const urlKeys = SETTINGS_FIELDS.filter((f) => f.url).map((f) => f.url);
    expect(new Set(urlKeys)).toEqual(new Set(['preset', ...STAGE_KEYS]));
    for (const f of SETTINGS_FIELDS.filter((x) => x.url)) {
      const key = f.url as keyof PageConfig;
      const page = pageRangeOf(f);
      const names = key === 'preset' ? [key] : [key, `s1.${key}`, `s2.${key}`];
      const { inside, outside } = f.type === 'enum' ? { inside: [...page.options!], outside: ['nope'] } : edges(f.type as 'int' | 'number', page);
      for (const v of inside) {
        expect(fieldAllows(f, v), `${f.path} = ${v}: the page offers only what the setting allows`).toBe(true);
        for (const name of names) expect(readPageConfig(`?${name}=${v}`).errors, `${name}=${v}`).toEqual([]);
      }
      for (const v of outside) for (const name of names) expect(readPageConfig(`?${name}=${v}`).errors, `${name}=${v}`).toHaveLength(1);
      // Where the page narrows a bound, the setting's own bound is wider.
      if (f.type === 'int' || f.type === 'number') for (const v of edges(f.type, page).outside) if (fieldAllows(f, v)) expect(f.page, `${f.path} = ${v}`).toBeDefined();
    }
    expect(readPageConfig('?preset=naive').errors).toEqual(['preset "naive" is not one of compact, paper, chain, instruct-chatml']);
    expect(readPageConfig('?s1.maxNewTokens=401&maxSearches=17').errors).toEqual(['maxSearches "17" is not an integer from 0 to 16', 's1.maxNewTokens "401" is not an integer from 1 to 400']);
  });

  it('round-trip a link holding every RL key of both stages, and put each value at its setting\'s path', () => {
    let c: PageConfig = { ...DEFAULT_PAGE_CONFIG, preset: 'paper', klCoef: 0.01 };
    const picks: Record<string, [unknown, unknown]> = {
      promptsPerStep: [4, 2], samplesPerPrompt: [8, 4], maxNewTokens: [32, 48], lr: [0.001, 0.0005], klCoef: [0.001, 0.01], advantageEstimator: ['group_norm', 'reinforce'],
      maxSearches: [2, 4], topK: [5, 2], retrievalReward: ['found', 'any'], formatPenalty: [-1, -0.5], questionSampling: ['learnability', 'uniform'],
    };
    for (const k of STAGE_KEYS) for (const stage of STAGES) c = withStageValue(c, stage, k, picks[k]![stage - 1] as never);
    const link = writePageConfig(c);
    expect(readPageConfig(link)).toEqual({ config: c, errors: [] });
    for (const stage of STAGES) {
      const s = mergeSettings(stage, stageOverride(c, stage));
      for (const k of STAGE_KEYS) {
        const f = SETTINGS_FIELDS.find((x) => x.url === k)!;
        const acts = !f.stages || f.stages.includes(stage);
        expect(settingAt(s, f.path), `${k} in stage ${stage}`).toEqual(acts ? picks[k]![stage - 1] : settingDefault(f, stage));
      }
      expect(s.promptPreset).toBe('paper');
    }
  });

  it('the settings form shows the bounds the URL accepts, and the table\'s words', () => {
    for (const info of SETTINGS_INFO) {
      const u = urlField(info.key);
      const f = SETTINGS_FIELDS.find((x) => x.url === info.key)!;
      expect([info.help, info.paper, info.label]).toEqual([f.help, f.paper, f.label]);
      if (u.kind === 'enum') expect(info.options).toEqual(u.options);
      else if (u.kind !== 'name') expect([info.min, info.max]).toEqual([u.range.min, u.range.max]);
    }
    expect(SETTINGS_INFO.map((i) => i.key).sort()).toEqual([...STAGE_KEYS].sort());
  });
});

describe('mergeSettings', () => {
  it('is the one merge: defaults, the override key by key, the stage; setSettingPath changes one path alike', () => {
    const s = mergeSettings(2, { rollout: { topK: 5 }, reward: { formatPenalty: -1 } });
    const t = defaultRlSettings(2);
    setSettingPath(t, 'rollout.topK', 5, 'test');
    setSettingPath(t, 'reward', { formatPenalty: -1 }, 'test');
    expect(s).toEqual(t);
    expect(settingField('rollout.topK').flag?.name).toBe('top-k');
    expect(() => mergeSettings(1, { rollout: { topK: '5' } } as never, 'somewhere')).toThrow('somewhere: "rollout.topK" must be a number, got "5"');
  });

  it("reads a stored run's settings as that run trained: settings written before formatNeedsSearch existed keep the paper's format reward", () => {
    const old = defaultRlSettings(1) as unknown as { reward: Record<string, unknown>; balanceHops?: boolean; questionSampling?: string };
    delete old.reward.formatNeedsSearch;
    delete old.balanceHops;
    delete old.questionSampling;
    const s = storedRlSettings(1, JSON.parse(JSON.stringify(old)), 'trainer_state.json');
    expect(s.reward.formatNeedsSearch).toBe(false);
    expect(s.balanceHops).toBe(false);
    expect(s.questionSampling).toBe('uniform');
    // A run that stored the setting keeps it; a fresh Stage 1 has it on.
    expect(storedRlSettings(1, defaultRlSettings(1), 'trainer_state.json').reward.formatNeedsSearch).toBe(true);
    expect(defaultRlSettings(1).reward.formatNeedsSearch).toBe(true);
  });
});
