/**
 * The page's configuration lives in the URL, so a link reproduces a run. Only known keys are
 * read; a bad value is reported, not silently replaced.
 */

export interface PageConfig {
  /** `auto` (best available), `cpu`, `wasm` or `webgpu`. */
  backend: 'auto' | 'cpu' | 'wasm' | 'webgpu';
  pack: string;
  model: string;
  seed: number;
  stage1Steps: number;
  stage2Steps: number;
  promptsPerStep: number;
  samplesPerPrompt: number;
  maxNewTokens: number;
}

export const DEFAULT_PAGE_CONFIG: PageConfig = {
  backend: 'auto', pack: 'world', model: 'nano-base', seed: 1, stage1Steps: 20, stage2Steps: 200,
  promptsPerStep: 8, samplesPerPrompt: 16, maxNewTokens: 64,
};

/** Reads the configuration from a query string; returns it with the errors found. */
export function readPageConfig(search: string): { config: PageConfig; errors: string[] } {
  const p = new URLSearchParams(search);
  const config = { ...DEFAULT_PAGE_CONFIG };
  const errors: string[] = [];
  const backend = p.get('backend');
  if (backend !== null) {
    if (backend === 'auto' || backend === 'cpu' || backend === 'wasm' || backend === 'webgpu') config.backend = backend;
    else errors.push(`backend "${backend}" is not one of auto, cpu, wasm, webgpu`);
  }
  for (const key of ['pack', 'model'] as const) {
    const v = p.get(key);
    if (v !== null) {
      if (/^[a-z0-9][a-z0-9._-]*$/i.test(v)) config[key] = v;
      else errors.push(`${key} "${v}" is not a plain name`);
    }
  }
  for (const key of ['seed', 'stage1Steps', 'stage2Steps', 'promptsPerStep', 'samplesPerPrompt', 'maxNewTokens'] as const) {
    const v = p.get(key);
    if (v === null) continue;
    const n = Number(v);
    if (Number.isInteger(n) && n >= (key === 'seed' ? 0 : 1)) config[key] = n;
    else errors.push(`${key} "${v}" is not a ${key === 'seed' ? 'non-negative' : 'positive'} integer`);
  }
  return { config, errors };
}
