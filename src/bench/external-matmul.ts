/**
 * Reference matmuls from other in-browser libraries, measured in this Node process at the same
 * (M, N, K) as our own benchmark: onnxruntime-web's wasm provider (MatMul node, B a constant
 * initializer so the runtime may pre-pack it, as it does for model weights) and jax-js's wasm
 * device (a jit-compiled np.matmul). Both compute plain A (M, K) x B (K, N); our rows time the
 * NT / NN / TN layouts a training step needs, which have the same FLOP count 2 M N K.
 *
 * onnxruntime-web reads its thread count once per process, so each thread count runs in its own
 * child process (src/bench/external-main.ts); this module measures in the current one.
 */
import { GraphBuilder } from '../onnx/graph-builder.ts';
import { encodeModel, ONNX_IR_VERSION, ONNX_OPSET, OnnxDataType } from '../onnx/proto.ts';
import { Rng } from '../util/rng.ts';
import { timeMedianAsync, type MatmulResult, type TimingOptions } from './matmul-bench.ts';
import type { Array as JaxArray } from '@jax-js/jax';

/** The libraries this module can measure. */
export type ExternalLib = 'onnxruntime-web' | 'jax-js';

/** A product to measure: C (M, N) = A (M, K) B (K, N). */
export interface PlainShape {
  name: string;
  M: number;
  N: number;
  K: number;
}

function randomF32(n: number, rng: Rng): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal());
}

/**
 * onnxruntime-web (wasm execution provider) at every shape, with `threads` intra-op threads.
 * Must be the first use of onnxruntime-web in the process (its thread count is fixed then).
 * @throws Error when the runtime refuses the model or the thread count.
 */
export async function benchOrtMatmuls(shapes: PlainShape[], threads: number, opts: TimingOptions = {}): Promise<Record<string, MatmulResult>> {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = threads;
  const out: Record<string, MatmulResult> = {};
  for (const s of shapes) {
    const rng = new Rng(s.M * 31 + s.N * 7 + s.K);
    const g = new GraphBuilder();
    const a = g.input('a', OnnxDataType.FLOAT, [s.M, s.K]);
    const b = g.initF32('b', [s.K, s.N], randomF32(s.K * s.N, rng));
    g.output(g.op('MatMul', [a, b]), 'c', OnnxDataType.FLOAT, [s.M, s.N]);
    const bytes = encodeModel({ ir_version: ONNX_IR_VERSION, opset_import: [{ domain: '', version: ONNX_OPSET }], producer_name: 'r1s-bench', producer_version: '0', metadata_props: [], graph: g.build('matmul') });
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
    const feeds = { a: new ort.Tensor('float32', randomF32(s.M * s.K, rng), [s.M, s.K]) };
    try {
      const { ms, reps } = await timeMedianAsync(async () => { await session.run(feeds); }, opts);
      out[s.name] = { ms, gflops: (2 * s.M * s.N * s.K) / (ms * 1e6), reps };
    } finally {
      await session.release();
    }
  }
  return out;
}

/**
 * jax-js (wasm device; its own threads where SharedArrayBuffer workers exist, one thread in
 * Node) at every shape: a jit-compiled matmul whose result is read back each call.
 */
export async function benchJaxMatmuls(shapes: PlainShape[], opts: TimingOptions = {}): Promise<Record<string, MatmulResult>> {
  const jax = await import('@jax-js/jax');
  await jax.init('wasm');
  jax.defaultDevice('wasm');
  const np = jax.numpy;
  const mm = jax.jit((x: JaxArray, y: JaxArray) => np.matmul(x, y));
  const out: Record<string, MatmulResult> = {};
  for (const s of shapes) {
    const rng = new Rng(s.M * 31 + s.N * 7 + s.K);
    const a = np.array(randomF32(s.M * s.K, rng)).reshape([s.M, s.K]);
    const b = np.array(randomF32(s.K * s.N, rng)).reshape([s.K, s.N]);
    // jax-js arrays are consumed by use; `.ref` keeps a reference for the next call.
    const { ms, reps } = await timeMedianAsync(async () => { await mm(a.ref, b.ref).data(); }, opts);
    a.dispose();
    b.dispose();
    out[s.name] = { ms, gflops: (2 * s.M * s.N * s.K) / (ms * 1e6), reps };
  }
  return out;
}
