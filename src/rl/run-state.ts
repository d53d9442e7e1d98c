/**
 * A run's state, captured and resumed in one place: the policy's weights, the AdamW moments and
 * step, the trainer's step, RNG state and per-template success estimates, the settings and the
 * stage's planned length (the learning-rate schedule depends on it). `train` and `train --resume`
 * (src/cli/commands/train.ts), the page's session (src/session/training-session.ts: saved runs,
 * restore, import) and the browser's run store all go through these functions, so a resumed run
 * continues bit for bit wherever it was saved.
 */
import type { Backend } from '../backend/backend.ts';
import { downloadParams, type Checkpoint, type TrainerState } from '../io/checkpoint.ts';
import type { RlTrainer } from './trainer.ts';

/** What a trainer does not know about its own run: where it came from and what it trains on. */
export interface RunContext {
  stage: 1 | 2;
  /** Steps done (usually the trainer's own step). */
  step: number;
  /** Steps planned for the stage. */
  totalSteps: number;
  seed: number;
  /** The stage's settings as given. */
  settings: unknown;
  /** Pack name, and the SHA-256 of its manifest when known (the CLI records it). */
  pack: string;
  packSha256?: string;
  /** Model preset of the base ("" when unknown). */
  preset: string;
  /** The checkpoint the stage started from (its KL reference). */
  init: string;
  lineage: TrainerState['lineage'];
  /** Wall time spent in the stage so far, seconds. */
  elapsedSeconds: number;
  /** AdamW updates applied (default: the trainer's). */
  optimizerStep?: number;
}

/** `trainer_state.json` of a run: the trainer's RNG state and optimizer step with the run's context. */
export function runState(trainer: RlTrainer, ctx: RunContext): TrainerState {
  return {
    format: 'r1s-trainer-state', version: 1, stage: ctx.stage, step: ctx.step, totalSteps: ctx.totalSteps, seed: ctx.seed,
    rngState: trainer.rng.getState(), optimizerStep: ctx.optimizerStep ?? trainer.optimizer.step, settings: ctx.settings, pack: ctx.pack,
    ...(ctx.packSha256 ? { packSha256: ctx.packSha256 } : {}),
    preset: ctx.preset, init: ctx.init, lineage: ctx.lineage, elapsedSeconds: ctx.elapsedSeconds,
    ...(trainer.templateSuccess.size > 0 ? { templateSuccess: Object.fromEntries(trainer.templateSuccess) } : {}),
  };
}

/**
 * The whole resumable checkpoint of a running trainer: weights and AdamW moments copied to the
 * host, and {@link runState}. `base` gives the config and tokenizer.
 */
export async function captureRun(backend: Backend, base: Pick<Checkpoint, 'config' | 'tokenizer'>, trainer: RlTrainer, ctx: RunContext): Promise<Checkpoint> {
  return {
    config: base.config, tokenizer: base.tokenizer, weights: await downloadParams(backend, trainer.model.params),
    optimizer: { m: await downloadParams(backend, trainer.optimizer.m), v: await downloadParams(backend, trainer.optimizer.v) },
    state: runState(trainer, ctx),
  };
}

/**
 * Puts a saved run's AdamW moments and step, RNG state and step into a trainer built from its
 * weights and settings. The trainer's parameters must already hold the run's weights.
 * @throws Error when the checkpoint has no optimizer moments or trainer state.
 */
export function resumeRun(backend: Backend, trainer: RlTrainer, checkpoint: Checkpoint): void {
  const st = checkpoint.state, opt = checkpoint.optimizer;
  if (!st || !opt) throw new Error('resume: the checkpoint has no trainer_state.json or no optimizer.safetensors');
  for (const [k, t] of opt.m) backend.write(trainer.optimizer.m.get(k)!, t.data);
  for (const [k, t] of opt.v) backend.write(trainer.optimizer.v.get(k)!, t.data);
  trainer.optimizer.step = st.optimizerStep;
  trainer.rng.setState(st.rngState);
  trainer.step = st.step;
  trainer.templateSuccess.clear();
  for (const [t, p] of Object.entries(st.templateSuccess ?? {})) trainer.templateSuccess.set(t, p);
}
