/**
 * Matmul throughput of a backend at one shape: GFLOP/s = 2 M N K / time, the median over
 * timed repetitions after warm-up runs (the first calls also wait for the engine's optimizing
 * compiler).
 */
import type { Backend } from '../backend/backend.ts';
import { Rng } from '../util/rng.ts';
import { operandShapes, type MatmulShape } from './shapes.ts';

/** Timing budget of one measurement. */
export interface TimingOptions {
  /** Untimed runs first. Default 2. */
  warmup?: number;
  /** Keep repeating until this much time has been measured... Default 300 ms. */
  minMs?: number;
  /** ...and at least this many repetitions. Default 3. */
  minReps?: number;
  /** At most this many repetitions. Default 50. */
  maxReps?: number;
}

/** One measurement: median milliseconds per call and the throughput that implies. */
export interface MatmulResult {
  ms: number;
  gflops: number;
  reps: number;
}

/** Times `fn` (synchronous) with the budget of `opts`; returns the median in milliseconds. */
export function timeMedian(fn: () => void, opts: TimingOptions = {}): { ms: number; reps: number } {
  const { warmup = 2, minMs = 300, minReps = 3, maxReps = 50 } = opts;
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  let total = 0;
  while (times.length < maxReps && (times.length < minReps || total < minMs)) {
    const t0 = performance.now();
    fn();
    const dt = performance.now() - t0;
    times.push(dt);
    total += dt;
  }
  times.sort((a, b) => a - b);
  return { ms: times[times.length >> 1]!, reps: times.length };
}

/** Like timeMedian, for an asynchronous call. Returns median milliseconds and repetitions. */
export async function timeMedianAsync(fn: () => Promise<void>, opts: TimingOptions = {}): Promise<{ ms: number; reps: number }> {
  const { warmup = 2, minMs = 300, minReps = 3, maxReps = 50 } = opts;
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  let total = 0;
  while (times.length < maxReps && (times.length < minReps || total < minMs)) {
    const t0 = performance.now();
    await fn();
    const dt = performance.now() - t0;
    times.push(dt);
    total += dt;
  }
  times.sort((a, b) => a - b);
  return { ms: times[times.length >> 1]!, reps: times.length };
}

/** Measures one product on `backend` with random operands (freed afterwards). */
export function benchMatmul(backend: Backend, shape: MatmulShape, opts: TimingOptions = {}): MatmulResult {
  const rng = new Rng(shape.M * 31 + shape.N * 7 + shape.K);
  const { a, b } = operandShapes(shape);
  const rand = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  const A = backend.fromArray(rand(a[0] * a[1]), a);
  const B = backend.fromArray(rand(b[0] * b[1]), b);
  const C = backend.zeros([shape.M, shape.N]);
  try {
    const { ms, reps } = timeMedian(() => backend.matmul(A, B, C, shape.opts), opts);
    return { ms, gflops: (2 * shape.M * shape.N * shape.K) / (ms * 1e6), reps };
  } finally {
    for (const t of [A, B, C]) backend.dispose(t);
  }
}
