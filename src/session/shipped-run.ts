/**
 * The shipped run: one finished two-stage run of the default recipe, kept under
 * `public/models/<name>/` so that a first visit of the page shows a trained policy, its curves,
 * its rollouts at early and late steps and its evaluation, without training.
 * `npm run cli -- shipped-run` writes it (src/cli/commands/shipped-run.ts); the page reads it
 * (src/ui/playground.ts). The folder holds:
 *
 * - `run.json`: {@link ShippedRunManifest} (what was trained, how long it took, the evaluation);
 * - `metrics.jsonl`: both stages' StepMetrics, one line per step;
 * - `rollouts.json.gz`: gzip of the kept steps (rollout-history.ts), a few groups each;
 * - `stage1.safetensors`, `stage2.safetensors`: the two final policies in F16 (half the bytes;
 *   the evaluation in run.json was computed with these rounded weights).
 */
import { gunzipSync, gzipSync } from 'fflate';
import type { KeptStep } from './rollout-history.ts';
import type { EvalRow } from './types.ts';
import type { RolloutRecord, StepMetrics } from '../rl/trainer.ts';
import type { RlSettings } from '../rl/settings.ts';

export const SHIPPED_RUN_FILES = {
  manifest: 'run.json',
  metrics: 'metrics.jsonl',
  rollouts: 'rollouts.json.gz',
  stage1: 'stage1.safetensors',
  stage2: 'stage2.safetensors',
} as const;

/** The shipped run's folder name under public/models/. */
export const SHIPPED_RUN_NAME = 'shipped-run';

/** run.json of a shipped run. */
export interface ShippedRunManifest {
  format: 'r1s-shipped-run';
  version: 1;
  /** Base checkpoint folder name under public/models/ (the run starts from it). */
  base: string;
  /** Corpus pack name (manifest name). */
  pack: string;
  /** The page's seed: Stage s trained with seed + s, as the page does. */
  seed: number;
  stages: { 1: { steps: number; seconds: number; settings: RlSettings }; 2: { steps: number; seconds: number; settings: RlSettings } };
  /** Wall-clock seconds of the whole command (training, evaluation, writing). */
  wallSeconds: number;
  /** The command that wrote it. */
  command: string;
  createdAt: string;
  /** Evaluation of base, Stage 1 and Stage 2 (questions per split: `evalLimit`). */
  evalLimit: number;
  eval: EvalRow[];
}

/** Decimals kept of per-token log-probabilities and advantages in the shipped rollouts. */
const DECIMALS = 4;

/** Gzipped JSON of the kept steps, with per-token floats rounded (a third of the bytes). */
export function encodeShippedRollouts(history: readonly KeptStep[]): Uint8Array {
  const round = (xs: number[]) => xs.map((x) => Number(x.toFixed(DECIMALS)));
  const slim = history.map((h) => ({
    ...h,
    rollouts: h.rollouts.map((r): RolloutRecord => ({ ...r, logProbs: round(r.logProbs), advantages: round(r.advantages) })),
  }));
  return gzipSync(new TextEncoder().encode(JSON.stringify(slim)), { level: 9 });
}

/**
 * The kept steps of `rollouts.json.gz`. A server that sent the file with `Content-Encoding:
 * gzip` has already inflated it, so plain JSON is accepted too.
 * @throws Error naming the file when it is neither gzip nor JSON, or not a list of steps.
 */
export function decodeShippedRollouts(bytes: Uint8Array): KeptStep[] {
  let text: string;
  try {
    text = new TextDecoder().decode(bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes);
  } catch (e) {
    throw new Error(`${SHIPPED_RUN_FILES.rollouts}: not gzip (${(e as Error).message})`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`${SHIPPED_RUN_FILES.rollouts}: not JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(v) || v.some((h) => !h || (h.stage !== 1 && h.stage !== 2) || !Number.isInteger(h.step) || !Array.isArray(h.rollouts))) {
    throw new Error(`${SHIPPED_RUN_FILES.rollouts}: expected a list of {stage, step, rollouts}`);
  }
  return v as KeptStep[];
}

/**
 * The lines of metrics.jsonl. @throws Error naming the line that is not a step's metrics.
 */
export function parseMetricsJsonl(text: string, file: string = SHIPPED_RUN_FILES.metrics): StepMetrics[] {
  return text.split('\n').map((l, i) => [l, i] as const).filter(([l]) => l.trim()).map(([l, i]) => {
    let m: unknown;
    try {
      m = JSON.parse(l);
    } catch (e) {
      throw new Error(`${file} line ${i + 1} is not JSON (${(e as Error).message})`);
    }
    const o = m as Partial<StepMetrics> | null;
    if (!o || (o.stage !== 1 && o.stage !== 2) || !Number.isInteger(o.step)) throw new Error(`${file} line ${i + 1}: expected a step's metrics with stage and step`);
    return o as StepMetrics;
  });
}

/**
 * Checks run.json's shape. @throws Error naming the field that is wrong.
 */
export function checkShippedManifest(v: unknown): ShippedRunManifest {
  const m = v as Partial<ShippedRunManifest> | null;
  if (!m || m.format !== 'r1s-shipped-run') throw new Error(`${SHIPPED_RUN_FILES.manifest}: format must be "r1s-shipped-run"`);
  if (m.version !== 1) throw new Error(`${SHIPPED_RUN_FILES.manifest}: version ${String(m.version)} is not 1`);
  for (const k of ['base', 'pack'] as const) if (typeof m[k] !== 'string') throw new Error(`${SHIPPED_RUN_FILES.manifest}: ${k} must be a string`);
  if (!m.stages?.[1] || !m.stages[2]) throw new Error(`${SHIPPED_RUN_FILES.manifest}: stages 1 and 2 are missing`);
  if (!Array.isArray(m.eval)) throw new Error(`${SHIPPED_RUN_FILES.manifest}: eval must be a list`);
  return m as ShippedRunManifest;
}
