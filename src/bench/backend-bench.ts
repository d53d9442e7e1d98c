/**
 * Benchmarks of one backend (runBackendBench: any backend; benchWebGpu: a new WebGPU device,
 * for a page or a script that has WebGPU, i.e. a browser): the same figures the wasm/cpu bench
 * reports (src/cli/commands/bench.ts), so the backends can be set side by side in one run.
 * It lives in src/bench, not src/backend, because it builds a model preset and runs model
 * steps, and the backend layer must not depend on the model or the benchmarks:
 *
 * - matmul GFLOP/s of every product a training step runs (src/bench/shapes.ts), timed by
 *   recording `reps` products and waiting once for the queue (the time of one kernel is far
 *   below a timer's resolution on a real GPU);
 * - one pretraining step (forward + backward + AdamW) and one RL step (KV-cache decoding of
 *   G rollouts per prompt, then the policy update) through src/bench/step-bench.ts, which
 *   reads back at the end of each phase, so the GPU's work is inside the time.
 *
 * On a software adapter (`info.isFallbackAdapter`, e.g. SwiftShader) every figure measures a
 * CPU emulation of a GPU, and the result says so.
 */
import type { Backend } from '../backend/backend.ts';
import { operandShapes, trainingMatmuls, type MatmulShape } from './shapes.ts';
import { benchPretrainStep, benchRlStep, type PretrainTiming, type RlStepOptions, type RlTiming } from './step-bench.ts';
import { presetConfig } from '../model/config.ts';
import { Rng } from '../util/rng.ts';
import type { GpuDeviceInfo } from '../backend/webgpu/device.ts';
import { WebGpuBackend } from '../backend/webgpu/webgpu-backend.ts';

/** One matmul measurement. */
export interface GpuMatmulResult {
  name: string;
  M: number;
  N: number;
  K: number;
  /** Milliseconds per product (mean over one batch of `reps`). */
  ms: number;
  gflops: number;
  reps: number;
}

/**
 * GFLOP/s of one product on any backend, asynchronous timing: `warmup` untimed products,
 * then batches of products each followed by `sync()`, until `minMs` has been measured.
 */
export async function benchMatmulAsync(
  b: Backend, shape: MatmulShape, opts: { warmup?: number; minMs?: number; maxReps?: number } = {},
): Promise<GpuMatmulResult> {
  const { warmup = 2, minMs = 200, maxReps = 200 } = opts;
  const rng = new Rng(shape.M * 31 + shape.N * 7 + shape.K);
  const { a, b: bs } = operandShapes(shape);
  const rand = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  const A = b.fromArray(rand(a[0] * a[1]), a), B = b.fromArray(rand(bs[0] * bs[1]), bs), C = b.zeros([shape.M, shape.N]);
  try {
    for (let i = 0; i < warmup; i++) b.matmul(A, B, C, shape.opts);
    await b.sync();
    let reps = 1, ms = 0;
    for (;;) {
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) b.matmul(A, B, C, shape.opts);
      await b.sync();
      ms = performance.now() - t0;
      if (ms >= minMs || reps >= maxReps) break;
      reps = Math.min(maxReps, Math.max(reps * 2, Math.ceil((reps * minMs) / Math.max(ms, 0.01))));
    }
    const per = ms / reps;
    return { name: shape.name, M: shape.M, N: shape.N, K: shape.K, ms: per, gflops: (2 * shape.M * shape.N * shape.K) / (per * 1e6), reps };
  } finally {
    for (const t of [A, B, C]) b.dispose(t);
  }
}

/** Settings of runBackendBench. Defaults are sized for a software adapter (minutes, not hours). */
export interface BackendBenchOptions {
  preset?: string; // default 'nano'
  vocabSize?: number; // default 2550 (the world pack's vocabulary)
  /** Token rows of the matmul shapes (default 256). */
  rows?: number;
  /** Rows of the pretraining step (default 512), in sequences of `seqLen` (default 128). */
  tokens?: number;
  seqLen?: number;
  /** The RL step's shape (defaults: 2 prompts x 4 samples, 32-token prompts, 16 new tokens). */
  rl?: RlStepOptions;
  reps?: number; // step repetitions (default 1)
  only?: 'matmul' | 'step' | 'rl';
}

/** Figures of one backend. */
export interface BackendBenchResult {
  backend: string;
  preset: string;
  matmul: GpuMatmulResult[];
  /** Sum of flops / sum of time over the step's matmul shapes, weighted by how often a step runs each. */
  matmulStepGflops: number;
  pretrain?: PretrainTiming & { tokensPerSecond: number };
  rl?: RlTiming & { generatedTokensPerSecond: number; trainTokensPerSecond: number };
}

/** Runs the matmul, pretraining-step and RL-step benchmarks on `b`. */
export async function runBackendBench(b: Backend, opts: BackendBenchOptions = {}): Promise<BackendBenchResult> {
  const preset = opts.preset ?? 'nano';
  const config = presetConfig(preset, opts.vocabSize ?? 2550);
  const dims = { C: config.hiddenSize, F: config.intermediateSize, V: config.vocabSize, layers: config.numLayers };
  const out: BackendBenchResult = { backend: b.name, preset, matmul: [], matmulStepGflops: 0 };
  if (!opts.only || opts.only === 'matmul') {
    let flops = 0, ms = 0;
    for (const s of trainingMatmuls(dims, opts.rows ?? 256)) {
      const r = await benchMatmulAsync(b, s);
      out.matmul.push(r);
      flops += 2 * s.M * s.N * s.K * s.perStep;
      ms += r.ms * s.perStep;
    }
    out.matmulStepGflops = flops / (ms * 1e6);
  }
  if (!opts.only || opts.only === 'step') {
    const t = await benchPretrainStep(b, config, { tokens: opts.tokens ?? 512, seqLen: opts.seqLen ?? 128, reps: opts.reps ?? 1 });
    out.pretrain = { ...t, tokensPerSecond: (t.tokens / t.totalMs) * 1000 };
  }
  if (!opts.only || opts.only === 'rl') {
    const rl = { prompts: 2, samplesPerPrompt: 4, promptLength: 32, newTokens: 16, ...opts.rl };
    const t = await benchRlStep(b, config, { ...rl, reps: opts.reps ?? 1, smallWarmup: true });
    out.rl = {
      ...t, generatedTokensPerSecond: (t.generatedTokens / t.generateMs) * 1000, trainTokensPerSecond: (t.trainTokens / t.trainMs) * 1000,
    };
  }
  return out;
}

/** The WebGPU figures with the device they were measured on. */
export interface WebGpuBenchReport {
  device: GpuDeviceInfo;
  /** True on a software adapter: the figures measure a CPU emulation, not a GPU. */
  cpuEmulation: boolean;
  result: BackendBenchResult;
}

/** Runs runBackendBench on a new WebGPU device (destroyed afterwards). */
export async function benchWebGpu(opts: BackendBenchOptions = {}): Promise<WebGpuBenchReport> {
  const b = await WebGpuBackend.create();
  try {
    const result = await runBackendBench(b, opts);
    return { device: b.info, cpuEmulation: b.info.isFallbackAdapter, result };
  } finally {
    b.destroy();
  }
}
