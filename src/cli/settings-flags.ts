/**
 * The RL settings' command-line flags, derived from the settings table
 * (src/rl/settings-fields.ts `flag`): their parseArgs options, their part of a usage line, and
 * how the given ones change a settings object. A flag's value is checked against the setting's
 * own bounds, so a flag refuses exactly what validateRlSettings would refuse, before any work.
 */
import { describeRange, fieldAllows, inRange, SETTINGS_FIELDS, type SettingField, type SettingFlag } from '../rl/settings-fields.ts';
import { setSettingPath } from '../rl/settings-schema.ts';

/** A field that has a flag. */
type FlagField = SettingField & { flag: SettingFlag };

/** The fields with a flag, in the table's order (the usage's and the order they are applied in). */
export const SETTING_FLAG_FIELDS: readonly FlagField[] = SETTINGS_FIELDS.filter((f): f is FlagField => f.flag !== undefined);

/** The flags' names, without `--`. */
export const SETTING_FLAG_NAMES: readonly string[] = SETTING_FLAG_FIELDS.map((f) => f.flag.name);

/** parseArgs options of the flags: `boolean` for a flag that sets a fixed value, else `string`. */
export const SETTING_FLAG_OPTIONS: Readonly<Record<string, { type: 'string' | 'boolean' }>> = Object.fromEntries(
  SETTING_FLAG_FIELDS.map((f) => [f.flag.name, { type: f.flag.sets !== undefined ? 'boolean' : 'string' }]),
);

/** The flags' part of a usage line: `[--prompts-per-step N] [--lr X] [--advantage-estimator a|b] [--hops 1,2] [--no-mask-documents]`. */
export const SETTING_FLAGS_USAGE: string = SETTING_FLAG_FIELDS.map((f) => `[--${f.flag.name}${placeholder(f)}]`).join(' ');

function placeholder(f: FlagField): string {
  if (f.flag.sets !== undefined) return '';
  if (f.flag.list) return ` ${f.flag.list.example}`;
  return f.type === 'int' ? ' N' : f.type === 'enum' ? ` ${f.options!.join('|')}` : ' X';
}

/**
 * Applies the flags present in `given` (values as parseArgs returns them: a string, or true for
 * a boolean flag; an empty string counts as absent) to `settings`, in the table's order.
 * @throws Error naming the flag and the value: `--top-k must be an integer >= 1, got "0"`.
 */
export function applySettingFlags(settings: object, given: Record<string, unknown>): void {
  for (const f of SETTING_FLAG_FIELDS) {
    const raw = given[f.flag.name];
    if (f.flag.sets !== undefined) {
      if (raw === true) setSettingPath(settings, f.path, f.flag.sets, `--${f.flag.name}`);
    } else if (typeof raw === 'string' && raw !== '') {
      setSettingPath(settings, f.path, flagValue(f, raw), `--${f.flag.name}`);
    }
  }
}

/** The setting's value for a flag's text. @throws Error naming the flag, what it takes and the text. */
function flagValue(f: FlagField, raw: string): unknown {
  const name = f.flag.name;
  if (f.flag.list) {
    const { items, toSetting } = f.flag.list;
    return toSetting(raw.split(',').map((item) => {
      const n = Number(item);
      if (!Number.isInteger(n) || !inRange(n, items)) throw new Error(`--${name} must be ${intWords(items)}, got "${item}"`);
      return n;
    }));
  }
  const v = f.type === 'enum' ? raw : Number(raw);
  if (fieldAllows(f, v)) return v;
  const what = f.type === 'enum' ? `one of ${f.options!.join(', ')}` : f.type === 'int' ? intWords(f) : numberWords(f);
  throw new Error(`--${name} must be ${what}, got "${raw}"`);
}

/** `an integer >= 1`, `an integer from 0 to 16`: the words the other integer flags use (src/cli/common.ts intFlag). */
function intWords(r: { min?: number; max?: number }): string {
  if (r.min !== undefined && r.max !== undefined) return `an integer from ${r.min} to ${r.max}`;
  if (r.min !== undefined) return `an integer >= ${r.min}`;
  return r.max !== undefined ? `an integer <= ${r.max}` : 'an integer';
}

/** `a number`, `a number >= 0`, `a number in (0, 1)`. */
function numberWords(f: FlagField): string {
  const range = describeRange('number', f);
  return range === 'a number' ? range : `a number ${range}`;
}
