/**
 * The benchmark of bench.html (run in workers/bench.worker.ts, driven headless by
 * `npm run bench -- --browser`): every backend the browser offers, side by side in one run, per
 * model preset:
 *
 * - matmul GFLOP/s at the products a training step runs, one pretraining step and one RL step
 *   (generation tokens/s through the KV cache, then the policy update): runBackendBench of
 *   src/backend/webgpu/bench.ts, the same code on every backend;
 * - the model's forward pass on a (B, T) batch, ours against onnxruntime-web running the ONNX
 *   export of the same weights (its WebGPU provider when the browser has WebGPU, wasm
 *   otherwise): `ratio` = their ms / our ms (above 1: we are faster), with the largest logit
 *   difference as a check that both computed the same thing.
 *
 * Backends: `webgpu`, `wasm-<threads>`, `cpu`. A backend that cannot start is reported with its
 * error and skipped; the run goes on.
 */
import type { Backend } from '../backend/backend.ts';
import { CpuBackend } from '../backend/cpu/cpu-backend.ts';
import { WasmBackend } from '../backend/wasm/wasm-backend.ts';
import { WebGpuBackend } from '../backend/webgpu/webgpu-backend.ts';
import { probeWebGpu } from '../backend/webgpu/device.ts';
import { runBackendBench, type BackendBenchOptions, type BackendBenchResult } from '../backend/webgpu/bench.ts';
import { destroyBackend } from '../backend/select.ts';
import { presetConfig, type ModelConfig } from '../model/config.ts';
import { Llama, packSequences } from '../model/llama.ts';
import { initParams } from '../model/params.ts';
import { downloadParams } from '../io/checkpoint.ts';
import { exportOnnx, ONNX_ATTENTION_MASK, ONNX_INPUT_IDS } from '../io/onnx-export.ts';
import { Rng } from '../util/rng.ts';
import { timeMedianAsync } from './matmul-bench.ts';
import { createOrtSession } from '../ui/onnx-runtime.ts';

/** What to measure: the backends and presets, runBackendBench's sizes, and the forward comparison. */
export interface BrowserBenchSettings {
  backends: string[];
  presets: string[];
  /** Sizes of runBackendBench (its defaults suit a software adapter; raise them on a real GPU). */
  sizes: Omit<BackendBenchOptions, 'preset' | 'only'>;
  /** Forward pass compared with onnxruntime-web: batch (B, T). */
  forward: { batch: number; seqLen: number };
  /** Also run onnxruntime-web on the ONNX export. */
  onnx: boolean;
}

export const DEFAULT_BROWSER_BENCH: BrowserBenchSettings = {
  backends: ['webgpu', 'wasm-2', 'cpu'],
  presets: ['nano'],
  sizes: {},
  forward: { batch: 4, seqLen: 64 },
  onnx: true,
};

/** The report (JSON-serialisable). Times in milliseconds, throughput in GFLOP/s and tokens/s. */
export interface BrowserBenchReport {
  userAgent: string;
  hardwareConcurrency: number;
  adapter: { ok: boolean; vendor?: string; architecture?: string; description?: string; software?: boolean; reason?: string };
  settings: BrowserBenchSettings;
  errors: Record<string, string>;
  results: (BackendBenchResult & { spec: string; threads?: number })[];
  forward: { preset: string; backend: string; B: number; T: number; ourMs: number; ort?: { provider: string; ms: number; ratio: number; maxAbsDiff: number } }[];
  seconds: number;
}

async function openBackend(spec: string): Promise<Backend> {
  if (spec === 'cpu') return new CpuBackend();
  if (spec === 'webgpu') return WebGpuBackend.create();
  const m = /^wasm-(\d+)$/.exec(spec);
  if (m) return WasmBackend.create({ threads: Number(m[1]) });
  throw new Error(`bench: unknown backend "${spec}" (use webgpu, wasm-<threads> or cpu)`);
}

/** onnxruntime-web's forward of one model: provider, median ms, logits (B*T, V). */
interface OrtForward {
  provider: string;
  ms: number;
  logits: Float32Array;
}

/** Random (B, T) token ids, the same for every backend. */
function forwardInputs(config: ModelConfig, B: number, T: number): number[][] {
  const rng = new Rng(7);
  return Array.from({ length: B }, () => Array.from({ length: T }, () => rng.int(config.vocabSize)));
}

/** onnxruntime-web on the ONNX export of `weights` (WebGPU provider when it starts, even on a software adapter; else wasm). */
async function ortForward(config: ModelConfig, weights: Parameters<typeof exportOnnx>[1], seqs: number[][], reps: number): Promise<OrtForward> {
  const { ort, session, provider } = await createOrtSession(exportOnnx(config, weights), { allowSoftwareAdapter: true });
  const B = seqs.length, T = seqs[0]!.length;
  const ids = new ort.Tensor('int64', BigInt64Array.from(seqs.flat(), (x) => BigInt(x)), [B, T]);
  const mask = new ort.Tensor('int64', new BigInt64Array(B * T).fill(1n), [B, T]);
  let logits: Float32Array = new Float32Array(0);
  const { ms } = await timeMedianAsync(async () => {
    const out = await session.run({ [ONNX_INPUT_IDS]: ids, [ONNX_ATTENTION_MASK]: mask });
    logits = Object.values(out)[0]!.data as Float32Array;
  }, { warmup: 1, minMs: 0, minReps: reps, maxReps: reps });
  await session.release();
  return { provider, ms, logits };
}

/**
 * Our forward pass over B sequences of T tokens (logits of every position, median ms), and
 * onnxruntime-web's on the same weights (computed once per preset, kept in `ortCache`).
 */
async function forwardCompare(
  b: Backend, config: ModelConfig, preset: string, B: number, T: number, reps: number, ortCache: Map<string, OrtForward> | null,
): Promise<{ ourMs: number; ort?: { provider: string; ms: number; ratio: number; maxAbsDiff: number } }> {
  const seqs = forwardInputs(config, B, T);
  const params = initParams(b, config, 5);
  const model = new Llama(b, config, params);
  // The training forward feeds all tokens but the last; a placeholder target makes it score all T.
  const batch = packSequences(seqs.map((s) => [...s, 0]), () => true);
  let ours: Float32Array = new Float32Array(0);
  try {
    const { ms: ourMs } = await timeMedianAsync(async () => {
      const st = model.forward(batch);
      ours = (await b.read(st.logits)) as Float32Array;
      model.release(st);
    }, { warmup: 1, minMs: 0, minReps: reps, maxReps: reps });
    if (!ortCache) return { ourMs };
    let theirs = ortCache.get(preset);
    if (!theirs) ortCache.set(preset, theirs = await ortForward(config, await downloadParams(b, params), seqs, reps));
    let maxAbsDiff = 0;
    for (let i = 0; i < Math.min(ours.length, theirs.logits.length); i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(ours[i]! - theirs.logits[i]!));
    return { ourMs, ort: { provider: theirs.provider, ms: theirs.ms, ratio: theirs.ms / ourMs, maxAbsDiff } };
  } finally {
    for (const t of params.values()) b.dispose(t);
  }
}

/**
 * Runs the whole benchmark in this page. `log` gets one line per figure as it comes.
 * Never throws for a backend that fails: its error goes into `errors` under its name.
 */
export async function runBrowserBench(settings: BrowserBenchSettings, log: (line: string) => void = () => {}): Promise<BrowserBenchReport> {
  const t0 = performance.now();
  const probe = await probeWebGpu();
  const report: BrowserBenchReport = {
    userAgent: navigator.userAgent,
    adapter: probe.ok
      ? { ok: true, vendor: probe.info.vendor, architecture: probe.info.architecture, description: probe.info.description, software: probe.info.isFallbackAdapter }
      : { ok: false, reason: probe.reason },
    hardwareConcurrency: navigator.hardwareConcurrency, settings, errors: {}, results: [], forward: [], seconds: 0,
  };
  log(`adapter: ${JSON.stringify(report.adapter)}`);
  const ortCache = settings.onnx ? new Map<string, OrtForward>() : null;
  for (const spec of settings.backends) {
    let backend: Backend;
    try {
      backend = await openBackend(spec);
    } catch (e) {
      report.errors[spec] = e instanceof Error ? e.message : String(e);
      log(`${spec}: not available (${report.errors[spec]})`);
      continue;
    }
    try {
      for (const preset of settings.presets) {
        const r = await runBackendBench(backend, { ...settings.sizes, preset });
        report.results.push({ ...r, spec, ...(backend instanceof WasmBackend ? { threads: backend.threads } : {}) });
        log(`${spec} ${preset}: matmul ${r.matmulStepGflops.toFixed(2)} GFLOP/s over a step's products; pretraining step ${r.pretrain?.totalMs.toFixed(0)} ms `
          + `(${r.pretrain?.tokensPerSecond.toFixed(0)} tokens/s); RL step generation ${r.rl?.generatedTokensPerSecond.toFixed(0)} tokens/s, update ${r.rl?.trainMs.toFixed(0)} ms`);
        const cfg = presetConfig(preset, settings.sizes.vocabSize ?? 2550);
        const fw = await forwardCompare(backend, cfg, preset, settings.forward.batch, settings.forward.seqLen, settings.sizes.reps ?? 1, ortCache);
        report.forward.push({ preset, backend: spec, B: settings.forward.batch, T: settings.forward.seqLen, ...fw });
        log(`${spec} ${preset} forward (${settings.forward.batch}x${settings.forward.seqLen}): ours ${fw.ourMs.toFixed(0)} ms${fw.ort ? `, onnxruntime-web ${fw.ort.provider} ${fw.ort.ms.toFixed(0)} ms (theirs/ours ${fw.ort.ratio.toFixed(2)}, max |dlogit| ${fw.ort.maxAbsDiff.toExponential(1)})` : ''}`);
      }
    } catch (e) {
      report.errors[spec] = e instanceof Error ? `${e.message}` : String(e);
      log(`${spec}: failed (${report.errors[spec]})`);
    } finally {
      destroyBackend(backend);
    }
  }
  report.seconds = (performance.now() - t0) / 1000;
  return report;
}

/**
 * Settings from the page URL, e.g. `?backends=webgpu,wasm-2&presets=nano,small&rows=1024&tokens=4096&seqLen=256&reps=3&rl=8,8,64,48&forward=8,128&onnx=0`.
 * @throws Error naming the parameter when a value is not a positive integer (list).
 */
export function benchSettingsFromUrl(search: string): BrowserBenchSettings {
  const q = new URLSearchParams(search), d = DEFAULT_BROWSER_BENCH;
  const list = (k: string, dflt: string[]) => (q.get(k) ? q.get(k)!.split(',').map((x) => x.trim()).filter(Boolean) : dflt);
  const ints = (k: string, n: number): number[] | undefined => {
    const v = q.get(k);
    if (v === null) return undefined;
    const xs = v.split(',').map(Number);
    if (xs.length !== n || xs.some((x) => !Number.isInteger(x) || x < 1)) throw new Error(`bench: ${k} must be ${n === 1 ? 'a positive integer' : `${n} positive integers`}, got "${v}"`);
    return xs;
  };
  const one = (k: string) => ints(k, 1)?.[0];
  const rl = ints('rl', 4), fw = ints('forward', 2);
  const sizes: BrowserBenchSettings['sizes'] = {};
  for (const k of ['rows', 'tokens', 'seqLen', 'reps'] as const) if (one(k) !== undefined) sizes[k] = one(k);
  if (one('vocab') !== undefined) sizes.vocabSize = one('vocab');
  if (rl) sizes.rl = { prompts: rl[0]!, samplesPerPrompt: rl[1]!, promptLength: rl[2]!, newTokens: rl[3]! };
  return {
    backends: list('backends', d.backends), presets: list('presets', d.presets), sizes,
    forward: fw ? { batch: fw[0]!, seqLen: fw[1]! } : d.forward,
    onnx: q.get('onnx') !== '0',
  };
}
