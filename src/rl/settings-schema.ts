/**
 * Changing settings by path, safely: the one rule behind `--settings FILE`, `--set path=value`
 * (src/cli/commands/train.ts), the page's overrides and a stored run's settings
 * (src/session/training-session.ts). The defaults object is the schema: a path must name an OWN key of it
 * (so `__proto__`, `constructor`, `prototype`, `toString` never reach an object's prototype),
 * and a value must have the default's type (number, string, boolean, array of the default
 * elements' type, object with the same keys). Errors name the source and the path.
 */

/** Keys that would reach a prototype; refused by name wherever they appear. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** A setting that cannot be applied; the message names the source, the path and the value. */
export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}

type Kind = 'number' | 'string' | 'boolean' | 'array' | 'object' | 'null';

function kindOf(v: unknown): Kind | 'other' {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  const t = typeof v;
  return t === 'number' || t === 'string' || t === 'boolean' || t === 'object' ? t : 'other';
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Throws unless `key` is an own key of `obj` (and not a prototype key). */
function checkKey(obj: object, key: string, what: string, path: string): void {
  if (PROTOTYPE_KEYS.has(key)) throw new SettingsError(`${what}: "${path}" names "${key}", which is not a setting (refused: it would reach an object prototype)`);
  if (!Object.hasOwn(obj, key)) throw new SettingsError(`${what}: unknown setting "${path}"`);
}

/**
 * A copy of `value` checked against the shape of `like` (the default at the same path).
 * Objects need exactly the default's keys when `complete` (array elements), a subset otherwise.
 */
function checked(like: unknown, value: unknown, what: string, path: string, complete: boolean): unknown {
  const want = kindOf(like), got = kindOf(value);
  if (want !== got) throw new SettingsError(`${what}: "${path}" must be ${want === 'array' ? 'an array' : want === 'object' ? 'an object' : `a ${want}`}, got ${show(value)}`);
  if (want === 'number' && !Number.isFinite(value)) throw new SettingsError(`${what}: "${path}" must be a finite number, got ${show(value)}`);
  if (want === 'array') {
    const arr = value as unknown[], proto = (like as unknown[])[0];
    if (proto === undefined) return [...arr];
    return arr.map((x, i) => checked(proto, x, what, `${path}[${i}]`, true));
  }
  if (want === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as object)) {
      checkKey(like as object, k, what, `${path}.${k}`);
      out[k] = checked((like as Record<string, unknown>)[k], v, what, `${path}.${k}`, complete);
    }
    if (complete) {
      for (const k of Object.keys(like as object)) {
        if (!Object.hasOwn(out, k)) throw new SettingsError(`${what}: "${path}.${k}" is missing`);
      }
    }
    return out;
  }
  return value;
}

/**
 * Deep-merges `src` into `dst` (the defaults, changed in place): nested objects key by key,
 * arrays and leaves replaced as a whole.
 * @throws SettingsError naming `what` and the path of an unknown key, a prototype key or a value of the wrong type.
 */
export function mergeSettingsInto(dst: object, src: unknown, what: string, prefix = ''): void {
  if (kindOf(src) !== 'object') throw new SettingsError(`${what}: must be an object of settings${prefix ? ` at "${prefix.slice(0, -1)}"` : ''}, got ${show(src)}`);
  for (const [k, v] of Object.entries(src as object)) {
    const path = `${prefix}${k}`;
    checkKey(dst, k, what, path);
    const d = dst as Record<string, unknown>;
    if (kindOf(d[k]) === 'object' && kindOf(v) === 'object') mergeSettingsInto(d[k] as object, v, what, `${path}.`);
    else d[k] = checked(d[k], v, what, path, false);
  }
}

/**
 * Sets the setting at a dotted `path` (e.g. `optimizer.lr`) of `dst` to `value`.
 * @throws SettingsError naming `what` and the path (unknown, prototype key, wrong type).
 */
export function setSettingPath(dst: object, path: string, value: unknown, what: string): void {
  const parts = path.split('.');
  let obj = dst as Record<string, unknown>;
  for (let i = 0; i < parts.length; i++) {
    const key = parts[i]!, at = parts.slice(0, i + 1).join('.');
    checkKey(obj, key, what, at);
    if (i === parts.length - 1) {
      // An object merges key by key, as in a settings file; anything else replaces the value.
      if (kindOf(obj[key]) === 'object' && kindOf(value) === 'object') mergeSettingsInto(obj[key] as object, value, what, `${at}.`);
      else obj[key] = checked(obj[key], value, what, at, false);
      return;
    }
    if (kindOf(obj[key]) !== 'object') throw new SettingsError(`${what}: unknown setting "${path}" ("${at}" holds no settings)`);
    obj = obj[key] as Record<string, unknown>;
  }
}

/**
 * The value at a dotted `path` of `src` (`optimizer.lr`), or undefined where an own key is
 * missing on the way (never a prototype's property).
 */
export function settingAt(src: object, path: string): unknown {
  let v: unknown = src;
  for (const key of path.split('.')) {
    if (kindOf(v) !== 'object' || !Object.hasOwn(v as object, key)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}
