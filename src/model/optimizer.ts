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

export class AdamW {
  readonly m: ParamSet;
  readonly v: ParamSet;
  /** Updates applied so far. */
  step = 0;
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
    const b = this.backend, s = this.settings;
    let first = true;
    for (const g of grads.values()) {
      b.sumSquares(g, this.sumSq, !first);
      first = false;
    }
    if (s.gradClip > 0) b.clipScale(this.sumSq, s.gradClip, this.scale);
    else b.fill(this.scale, 1);
    this.step++;
    for (const [name, p] of params) {
      const g = grads.get(name)!;
      b.adamw(p, g, this.m.get(name)!, this.v.get(name)!, this.scale, {
        lr, beta1: s.beta1, beta2: s.beta2, eps: s.eps, weightDecay: s.weightDecay, step: this.step,
      });
      b.fill(g, 0);
    }
    return this.sumSq;
  }
}
