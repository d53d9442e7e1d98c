/**
 * The parity page (tests/browser/parity.html): runs the same work on the CPU reference and on
 * the WebGPU backend inside Chromium and reports plain JSON to the Node test that drives it
 * (webgpu-parity.test.ts). Each entry of `window.parity` is one test's worth of work.
 */
import type { Backend } from '../../src/backend/backend.ts';
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.ts';
import { backendDetail, backendLost, createBackend, createBackendWithNote, destroyBackend } from '../../src/backend/select.ts';
import { WebGpuUnavailableError } from '../../src/backend/webgpu/device.ts';
import { WebGpuBackend } from '../../src/backend/webgpu/webgpu-backend.ts';
import { Rng } from '../../src/util/rng.ts';
import { compare, KERNEL_TOL, type Diff, type Tolerance } from './compare.ts';
import { KERNEL_CASES, type Outputs } from './kernel-cases.ts';
import { Llama } from '../../src/model/llama.ts';
import { AdamW, DEFAULT_OPTIMIZER } from '../../src/model/optimizer.ts';
import { zerosLike } from '../../src/model/params.ts';
import { policyUpdate, type TrainSequence, type UpdateSettings } from '../../src/rl/policy-update.ts';
import { AWKWARD_CONFIG, generate, hostWeights, IMPORTED_CONFIG, stepInputs, TINY_UNTIED_CONFIG, trainingStep, upload } from './model-cases.ts';

/** Tolerance of a whole training step (errors of every layer compound; see the test file). */
export const STEP_TOL: Tolerance = { rtol: 1e-3, atol: 1e-4 };

export interface CaseReport {
  name: string;
  diffs: Diff[];
  error?: string;
  ms: number;
}

let gpuPromise: Promise<WebGpuBackend> | null = null;
function gpu(): Promise<WebGpuBackend> {
  gpuPromise ??= WebGpuBackend.create();
  return gpuPromise;
}

function seedOf(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}

function diffAll(gpuOut: Outputs, cpuOut: Outputs, tol: Tolerance): Diff[] {
  return Object.keys(cpuOut).map((k) => (gpuOut[k] ? compare(k, gpuOut[k]!, cpuOut[k]!, tol) : {
    output: k, size: cpuOut[k]!.length, maxAbsErr: Infinity, maxRef: 0, ratio: Infinity, worst: -1, ok: false,
  }));
}

async function timed(name: string, f: () => Promise<Diff[]>): Promise<CaseReport> {
  const t0 = performance.now();
  try {
    return { name, diffs: await f(), ms: performance.now() - t0 };
  } catch (e) {
    return { name, diffs: [], error: e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e), ms: performance.now() - t0 };
  }
}

const parity = {
  /** What the adapter is. */
  async device() {
    const g = await gpu();
    return g.info;
  },

  /** Every kernel case of kernel-cases.ts (or those whose name contains `only`) on both backends. */
  async kernels(only = ''): Promise<CaseReport[]> {
    const g = await gpu(), c = new CpuBackend();
    const out: CaseReport[] = [];
    for (const kc of KERNEL_CASES.filter((k) => k.name.includes(only))) {
      out.push(await timed(kc.name, async () => {
        const cpuOut = await kc.run(c, new Rng(seedOf(kc.name)));
        const gpuOut = await kc.run(g, new Rng(seedOf(kc.name)));
        return diffAll(gpuOut, cpuOut, kc.tol ?? KERNEL_TOL);
      }));
    }
    return out;
  },

  /** One full RL training step on each test config. */
  async trainingStep(): Promise<CaseReport[]> {
    const g = await gpu(), c = new CpuBackend();
    const out: CaseReport[] = [];
    for (const [label, cfg] of [['tied, C18 H3 F26 V43', AWKWARD_CONFIG], ['untied, C16 H2 F24 V41', TINY_UNTIED_CONFIG]] as const) {
      out.push(await timed(label, async () => {
        const w = hostWeights(cfg, 11, 0.3);
        const inp = stepInputs(cfg, 5, [9, 14, 5, 23]);
        const ref = await trainingStep(c, cfg, w, inp, null);
        const got = await trainingStep(g, cfg, w, inp, ref.logProbs);
        return diffAll(got.outputs, ref.outputs, STEP_TOL);
      }));
    }
    return out;
  },

  /**
   * An imported model's shape (GQA, head_dim != C/H, biases, Llama 3 RoPE scaling): one full
   * training step, and greedy KV-cache decoding (ids and prefill logits).
   */
  async importedModel(): Promise<CaseReport[]> {
    const g = await gpu(), c = new CpuBackend(), cfg = IMPORTED_CONFIG;
    const step = await timed('imported: training step', async () => {
      const w = hostWeights(cfg, 12, 0.3);
      const inp = stepInputs(cfg, 6, [9, 14, 5, 23]);
      const ref = await trainingStep(c, cfg, w, inp, null);
      const got = await trainingStep(g, cfg, w, inp, ref.logProbs);
      return diffAll(got.outputs, ref.outputs, STEP_TOL);
    });
    const gen = await timed('imported: greedy decoding', async () => {
      const w = hostWeights(cfg, 3, 0.6), rng = new Rng(9);
      const prompts = [5, 9, 2].map((L) => Array.from({ length: L }, () => rng.int(cfg.vocabSize)));
      const ref = await generate(c, cfg, w, prompts, 12, 0, 1, 21);
      const got = await generate(g, cfg, w, prompts, 12, 0, 1, 21);
      return [
        compare('prefill logits', got.prefillLogits, ref.prefillLogits, KERNEL_TOL),
        compare('greedy ids', got.ids, ref.ids, KERNEL_TOL), // integer outputs must be equal
      ];
    });
    return [step, gen];
  },

  /** KV-cache decoding on both backends: token ids, log-probs and prefill logits. */
  async generation() {
    const g = await gpu(), c = new CpuBackend();
    const cfg = AWKWARD_CONFIG, w = hostWeights(cfg, 3, 0.6);
    const rng = new Rng(9);
    const prompts = [5, 9, 2].map((L) => Array.from({ length: L }, () => rng.int(cfg.vocabSize)));
    const runs = [];
    for (const [temperature, topP] of [[0, 1], [1, 0.95], [0.8, 1]] as const) {
      const ref = await generate(c, cfg, w, prompts, 20, temperature, topP, 21);
      const got = await generate(g, cfg, w, prompts, 20, temperature, topP, 21);
      runs.push({
        temperature, topP, cpuIds: Array.from(ref.ids), gpuIds: Array.from(got.ids),
        diffs: [compare('prefill logits', got.prefillLogits, ref.prefillLogits, KERNEL_TOL), compare('log-probs', got.logProbs, ref.logProbs, STEP_TOL)],
      });
    }
    return runs;
  },

  /**
   * The production policy update (src/rl/policy-update.ts: forward, clipped loss, backward,
   * clipping, AdamW, metrics read back) five times on one model, with two batch shapes in
   * turn (A B A B A): GPU buffers created, pipelines compiled and command buffers submitted
   * per step. GPU only.
   */
  async reuse() {
    const g = await gpu();
    const cfg = AWKWARD_CONFIG;
    const params = upload(g, cfg, hostWeights(cfg, 4, 0.3));
    const grads = zerosLike(g, cfg);
    const model = new Llama(g, cfg, params);
    const opt = new AdamW(g, cfg, DEFAULT_OPTIMIZER);
    const settings: UpdateSettings = { clipEps: 0.2, miniBatches: 1, microBatchTokens: 4096, lossAggregation: 'sequence-mean' };
    const rng = new Rng(8);
    const perStep = [];
    for (let i = 0; i < 5; i++) {
      const lengths = i % 2 === 0 ? [9, 14, 5] : [12, 13, 17];
      const seqs: TrainSequence[] = lengths.map((T) => ({
        tokens: Array.from({ length: T }, () => rng.int(cfg.vocabSize)),
        lossMask: Uint8Array.from({ length: T }, (_, t) => (t > 1 ? 1 : 0)),
        oldLogProbs: new Float32Array(T).map(() => -3 - rng.next()),
        advantages: new Float32Array(T).fill(rng.normal()),
      }));
      const before = g.stats();
      const upd = await policyUpdate(model, opt, grads, seqs, 1e-3, settings, rng);
      const after = g.stats();
      perStep.push({
        shape: i % 2 === 0 ? 'A' : 'B', loss: upd.loss, gradNorm: upd.gradNorm,
        buffersCreated: after.pool.created - before.pool.created,
        stagingCreated: after.staging.created - before.staging.created,
        submits: after.submits - before.submits, dispatches: after.dispatches - before.dispatches,
        pipelinesCompiled: after.pipelines - before.pipelines,
      });
    }
    return perStep;
  },

  /** A lost device is reported (promise and error), not a hang. */
  async deviceLoss() {
    const b = await WebGpuBackend.create();
    const lostViaSelect = backendLost(b);
    const t = b.fromArray(Float32Array.of(1, 2, 3), [3]);
    const before = Array.from((await b.read(t)) as Float32Array);
    b.destroy();
    const loss = await Promise.race([b.lost, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
    let readError = '';
    try {
      await b.read(t);
    } catch (e) {
      readError = e instanceof Error ? e.message : String(e);
    }
    let zerosError = '';
    try {
      b.zeros([2]);
    } catch (e) {
      zerosError = e instanceof Error ? e.message : String(e);
    }
    const selectError = lostViaSelect ? (await lostViaSelect).message : '';
    return { before, reason: loss?.reason ?? null, readError, zerosError, selectError };
  },

  /** What `auto` and `webgpu` give here, and without navigator.gpu. */
  async selection() {
    const describe = async (name: 'auto' | 'webgpu') => {
      const { backend, note } = await createBackendWithNote(name, { threads: 1 });
      const r = { backend: backend.name, note, detail: backendDetail(backend) };
      destroyBackend(backend);
      return r;
    };
    const withGpu = { auto: await describe('auto'), webgpu: await describe('webgpu') };
    const proto = Object.getPrototypeOf(navigator) as object;
    const saved = Object.getOwnPropertyDescriptor(proto, 'gpu');
    Object.defineProperty(proto, 'gpu', { get: () => undefined, configurable: true });
    let forcedError = '';
    let withoutGpu;
    try {
      withoutGpu = { auto: await describe('auto'), webgpu: await describe('webgpu') };
      try {
        destroyBackend(await createBackend('webgpu'));
      } catch (e) {
        forcedError = `${e instanceof WebGpuUnavailableError ? 'WebGpuUnavailableError' : 'Error'}: ${(e as Error).message}`;
      }
    } finally {
      if (saved) Object.defineProperty(proto, 'gpu', saved);
    }
    return { withGpu, withoutGpu, forcedError };
  },
};

export type ParityApi = typeof parity;
(window as unknown as { parity: ParityApi }).parity = parity;
document.body.dataset.ready = '1';

export type { Backend };
