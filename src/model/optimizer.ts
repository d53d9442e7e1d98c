/**
 * AdamW with global gradient-norm clipping and a cosine learning-rate schedule
 * (recipe.md section 7, step 6: betas (0.9, 0.95), weight decay 0, clip 1.0, cosine decay to
 * 0.1 x lr). The clip factor is computed on the device (Backend.clipScale) so a GPU step reads
 * nothing back.
 */
import type { Backend, Tensor } from '../backend/backend.ts';
import type { ModelConfig } from './config.ts';
import { zerosLike, type ParamSet } from './params.ts';

export interface OptimizerSettings {
  /** Peak learning rate. */
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Global gradient-norm clip (L2 over all parameters); 0 disables clipping. */
  gradClip: number;
}

export const DEFAULT_OPTIMIZER: OptimizerSettings = { lr: 3e-4, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, gradClip: 1.0 };

/** Throws naming the first impossible setting. */
export function validateOptimizer(s: OptimizerSettings): OptimizerSettings {
  if (!(s.lr > 0 && s.lr < 1)) throw new Error(`optimizer: lr must be in (0, 1), got ${s.lr}`);
  if (!(s.beta1 >= 0 && s.beta1 < 1)) throw new Error(`optimizer: beta1 must be in [0, 1), got ${s.beta1}`);
  if (!(s.beta2 >= 0 && s.beta2 < 1)) throw new Error(`optimizer: beta2 must be in [0, 1), got ${s.beta2}`);
  if (!(s.eps > 0)) throw new Error(`optimizer: eps must be > 0, got ${s.eps}`);
  if (!(s.weightDecay >= 0)) throw new Error(`optimizer: weightDecay must be >= 0, got ${s.weightDecay}`);
  if (!(s.gradClip >= 0)) throw new Error(`optimizer: gradClip must be >= 0, got ${s.gradClip}`);
  return s;
}

/** Learning-rate schedule: linear warm-up, then cosine decay from lr to minRatio * lr at `total` steps. */
export interface LrSchedule {
  warmup: number;
  total: number;
  minRatio: number;
}

/** Learning rate at 0-based step `step`. */
export function learningRate(base: number, step: number, s: LrSchedule): number {
  if (step < s.warmup) return (base * (step + 1)) / s.warmup;
  if (s.total <= s.warmup) return base;
  const t = Math.min(1, (step - s.warmup) / Math.max(1, s.total - s.warmup));
  return base * (s.minRatio + (1 - s.minRatio) * 0.5 * (1 + Math.cos(Math.PI * t)));
}

/**
 * Thrown when the loss or gradient was not finite for `maxSkipsInARow` updates in a row: the
 * parameters and moments are still those of the last finite update (none of the bad ones was applied).
 */
export class NonFiniteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NonFiniteError';
  }
}

/** What {@link AdamW.updateIfFinite} did. */
export interface CheckedUpdate {
  /** False when the update was skipped (non-finite loss or gradient). */
  applied: boolean;
  /** Squared global gradient norm before clipping (may be NaN or Infinity when skipped). */
  gradNormSq: number;
  /** The loss read with it (NaN when no loss tensor was given). */
  loss: number;
  /** First element of each `alsoRead` tensor, read in the same round trip. */
  extra: number[];
}

const FLOAT32_MAX = 3.4028234663852886e38;

/** Non-finite updates in a row after which training stops (the default of {@link AdamW.maxSkipsInARow}). */
export const MAX_NONFINITE_UPDATES_IN_A_ROW = 3;

export class AdamW {
  readonly m: ParamSet;
  readonly v: ParamSet;
  /** Updates applied so far. */
  step = 0;
  /** Updates skipped by {@link updateIfFinite} since the last applied one. */
  skippedInARow = 0;
  /** Skipped updates in a row after which {@link updateIfFinite} throws NonFiniteError. */
  maxSkipsInARow = MAX_NONFINITE_UPDATES_IN_A_ROW;
  private readonly sumSq: Tensor;
  private readonly scale: Tensor;

  constructor(
    private readonly backend: Backend,
    config: ModelConfig,
    readonly settings: OptimizerSettings,
  ) {
    validateOptimizer(settings);
    this.m = zerosLike(backend, config);
    this.v = zerosLike(backend, config);
    this.sumSq = backend.zeros([1]);
    this.scale = backend.zeros([1]);
  }

  /**
   * Applies one update with learning rate `lr` from the accumulated `grads`, then zeroes them.
   * Returns a (1) tensor holding the squared gradient norm before clipping (read it for
   * metrics; reading is optional).
   */
  update(params: ParamSet, grads: ParamSet, lr: number): Tensor {
    this.normSquared(grads);
    this.apply(params, grads, lr);
    return this.sumSq;
  }

  /**
   * The same update, guarded: when the squared gradient norm or `loss` (a (1) tensor,
   * optional) is NaN or infinite, the device skips it before writing anything (clipScale's
   * SKIP_SCALE makes adamw a no-op, src/backend/backend.ts), so the parameters and moments stay
   * exactly as they were; the gradients are zeroed either way. The step is recorded as one
   * (the GPU's single command buffer is kept); the two scalars are read after it, and a skipped
   * step takes its count back (bias correction). Finite values give bit for bit {@link update}.
   * @throws NonFiniteError when this is the `maxSkipsInARow`-th skipped update in a row.
   */
  async updateIfFinite(params: ParamSet, grads: ParamSet, lr: number, loss?: Tensor, alsoRead: readonly Tensor[] = []): Promise<CheckedUpdate> {
    const b = this.backend;
    this.normSquared(grads);
    this.apply(params, grads, lr, loss);
    const [gn, l, ...rest] = await Promise.all([b.read(this.sumSq), loss ? b.read(loss) : Promise.resolve(null), ...alsoRead.map((t) => b.read(t))]);
    const gradNormSq = gn![0]!, lossValue = l ? l[0]! : NaN, extra = rest.map((x) => x![0]!);
    if (Number.isFinite(gradNormSq) && (!l || Number.isFinite(lossValue))) {
      this.skippedInARow = 0;
      return { applied: true, gradNormSq, loss: lossValue, extra };
    }
    this.step--; // the device skipped it
    this.skippedInARow++;
    if (this.skippedInARow >= this.maxSkipsInARow) {
      throw new NonFiniteError(
        `optimizer: ${this.skippedInARow} updates in a row had a non-finite loss or gradient (last: loss ${lossValue}, squared gradient norm ${gradNormSq}); ` +
          'stopped. None of them was applied: the parameters and optimizer moments are those of the last finite update',
      );
    }
    return { applied: false, gradNormSq, loss: lossValue, extra };
  }

  /** Squared global gradient norm into `sumSq` (the first half of an update). */
  private normSquared(grads: ParamSet): void {
    const b = this.backend;
    let first = true;
    for (const g of grads.values()) {
      b.sumSquares(g, this.sumSq, !first);
      first = false;
    }
  }

  /**
   * Clip scale, the AdamW step on every parameter, gradients zeroed (the second half). The
   * scale is SKIP_SCALE (-1) for a non-finite norm or `guard` (adamw then writes nothing); without
   * clipping the bound is the float32 maximum, which gives exactly 1 for any finite norm.
   */
  private apply(params: ParamSet, grads: ParamSet, lr: number, guard?: Tensor): void {
    const b = this.backend, s = this.settings;
    b.clipScale(this.sumSq, s.gradClip > 0 ? s.gradClip : FLOAT32_MAX, this.scale, guard);
    this.step++;
    for (const [name, p] of params) {
      const g = grads.get(name)!;
      b.adamw(p, g, this.m.get(name)!, this.v.get(name)!, this.scale, {
        lr, beta1: s.beta1, beta2: s.beta2, eps: s.eps, weightDecay: s.weightDecay, step: this.step,
      });
      b.fill(g, 0);
    }
  }
}
