/**
 * The benchmark of bench.html (run in workers/bench.worker.ts, driven headless by
 * `npm run bench -- --browser`): every backend the browser offers, side by side in one run, per
 * model preset:
 *
 * - matmul GFLOP/s at the products a training step runs, one pretraining step and one RL step
 *   (generation tokens/s through the KV cache, then the policy update): runBackendBench of
 *   src/bench/backend-bench.ts, the same code on every backend;
 * - the model's forward pass on a (B, T) batch, ours against onnxruntime-web running the ONNX
 *   export of the same weights (its WebGPU provider when the browser has WebGPU, wasm
 *   otherwise): `ratio` = their ms / our ms (above 1: we are faster), with the largest logit
 *   difference as a check that both computed the same thing;
 * - generation: onnxruntime-web decoding the RL step's batch (prompts x samples rows, the same
 *   prompt and new-token lengths) greedily through the KV-cache export, the cache kept on the
 *   GPU between calls as transformers.js does; each backend's generation tokens/s is reported
 *   against it (`generationRatio` = ours / theirs, above 1: we are faster).
 *
 * Backends: `webgpu`, `wasm-<threads>`, `cpu`. A backend that cannot start is reported with its
 * error and skipped; the run goes on.
 */
import type { Backend } from '../backend/backend.ts';
import { CpuBackend } from '../backend/cpu/cpu-backend.ts';
import { WasmBackend } from '../backend/wasm/wasm-backend.ts';
import { WebGpuBackend } from '../backend/webgpu/webgpu-backend.ts';
import { probeWebGpu } from '../backend/webgpu/device.ts';
import { runBackendBench, type BackendBenchOptions, type BackendBenchResult } from './backend-bench.ts';
import { destroyBackend } from '../backend/select.ts';
import { presetConfig, type ModelConfig } from '../model/config.ts';
import { Llama, packSequences } from '../model/llama.ts';
import { countParams, initParams } from '../model/params.ts';
import { downloadParams } from '../io/checkpoint.ts';
import { exportOnnx, ONNX_ATTENTION_MASK, ONNX_INPUT_IDS, ONNX_LOGITS, onnxPastNames, onnxPresentNames } from '../onnx/export.ts';
import { Rng } from '../util/rng.ts';
import { fromHfConfig } from '../io/hf-config.ts';
import { HF_SHAPES } from './hf-shapes.ts';
import { timeMedianAsync } from './matmul-bench.ts';
import { createOrtSession } from '../onnx/runtime.ts';
import { argmax } from '../onnx/decode.ts';

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
  /** Imported-model shapes (src/bench/hf-shapes.ts) whose forward pass is timed, random weights. */
  hfShapes?: string[];
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
  /** onnxruntime-web's greedy generation per preset, and each backend's against it. */
  generation: { preset: string; ort: OrtGeneration; ours: { backend: string; tokensPerSecond: number; generationRatio: number }[] }[];
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

/** onnxruntime-web's greedy decoding of a batch through the KV-cache export. */
export interface OrtGeneration {
  provider: string;
  /** Rows decoded at once (prompts x samples of the RL step). */
  B: number;
  promptLength: number;
  newTokens: number;
  /** Prefill plus every decoding call, median over reps (ms). */
  ms: number;
  /** B * newTokens / ms, per second. */
  tokensPerSecond: number;
}

/**
 * Greedy generation in onnxruntime-web: one prefill call over B random prompts, then one call
 * per new token with the cache from the previous call (left on the GPU by the WebGPU provider)
 * and the argmax of the logits read back on the host, as a JavaScript decoding loop does.
 */
async function ortGenerate(config: ModelConfig, weights: Parameters<typeof exportOnnx>[1], B: number, promptLength: number, newTokens: number, reps: number): Promise<OrtGeneration> {
  const L = config.numLayers, H = config.numHeads, D = config.hiddenSize / config.numHeads, V = config.vocabSize;
  const onGpu: Record<string, 'gpu-buffer'> = {};
  for (let l = 0; l < L; l++) for (const n of Object.values(onnxPresentNames(l))) onGpu[n] = 'gpu-buffer';
  const { ort, session, provider } = await createOrtSession(exportOnnx(config, weights, { kvCache: true }), { allowSoftwareAdapter: true, preferredOutputLocation: onGpu });
  const prompts = forwardInputs(config, B, promptLength);
  const decode = async () => {
    let past: Record<string, InstanceType<typeof ort.Tensor>> = {};
    for (let l = 0; l < L; l++) for (const n of Object.values(onnxPastNames(l))) past[n] = new ort.Tensor('float32', new Float32Array(0), [B, H, 0, D]);
    let ids = new ort.Tensor('int64', BigInt64Array.from(prompts.flat(), (x) => BigInt(x)), [B, promptLength]);
    for (let t = 0; t < newTokens; t++) {
      const S = promptLength + t;
      const out = await session.run({ [ONNX_INPUT_IDS]: ids, [ONNX_ATTENTION_MASK]: new ort.Tensor('int64', new BigInt64Array(B * S).fill(1n), [B, S]), ...past });
      const logits = out[ONNX_LOGITS]!, T = logits.dims[1]!;
      const data = (await logits.getData()) as Float32Array;
      const next = BigInt64Array.from({ length: B }, (_, b) => BigInt(argmax(data.subarray((b * T + T - 1) * V, (b * T + T) * V))));
      if (t > 0) for (const x of Object.values(past)) x.dispose();
      past = {};
      for (let l = 0; l < L; l++) {
        const p = onnxPastNames(l), q = onnxPresentNames(l);
        past[p.key] = out[q.key]!;
        past[p.value] = out[q.value]!;
      }
      ids = new ort.Tensor('int64', next, [B, 1]);
    }
    for (const x of Object.values(past)) x.dispose();
  };
  try {
    const { ms } = await timeMedianAsync(decode, { warmup: 1, minMs: 0, minReps: reps, maxReps: reps });
    return { provider, B, promptLength, newTokens, ms, tokensPerSecond: (B * newTokens / ms) * 1000 };
  } finally {
    await session.release();
  }
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
    hardwareConcurrency: navigator.hardwareConcurrency, settings, errors: {}, results: [], forward: [], generation: [], seconds: 0,
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
      for (const shape of settings.hfShapes ?? []) {
        // An imported model's shape (GQA etc.): our forward only (the ONNX export refuses GQA).
        const hf = HF_SHAPES[shape];
        if (!hf) throw new Error(`bench: unknown hf shape "${shape}" (known: ${Object.keys(HF_SHAPES).join(', ')})`);
        const cfg = fromHfConfig({ ...hf, vocab_size: hf.vocab_size ?? 49152 });
        const fw = await forwardCompare(backend, cfg, shape, settings.forward.batch, settings.forward.seqLen, settings.sizes.reps ?? 1, null);
        report.forward.push({ preset: shape, backend: spec, B: settings.forward.batch, T: settings.forward.seqLen, ...fw });
        log(`${spec} ${shape} forward (${settings.forward.batch}x${settings.forward.seqLen}, ${(countParams(cfg) / 1e6).toFixed(1)}M parameters): ours ${fw.ourMs.toFixed(0)} ms`);
      }
    } catch (e) {
      report.errors[spec] = e instanceof Error ? `${e.message}` : String(e);
      log(`${spec}: failed (${report.errors[spec]})`);
    } finally {
      destroyBackend(backend);
    }
  }
  if (settings.onnx) {
    const rl = { prompts: 2, samplesPerPrompt: 4, promptLength: 32, newTokens: 16, ...settings.sizes.rl };
    for (const preset of settings.presets) {
      try {
        const cfg = presetConfig(preset, settings.sizes.vocabSize ?? 2550);
        const cpu = new CpuBackend();
        const gen = await ortGenerate(cfg, await downloadParams(cpu, initParams(cpu, cfg, 5)), rl.prompts * rl.samplesPerPrompt, rl.promptLength, rl.newTokens, settings.sizes.reps ?? 1);
        const ours = report.results.filter((r) => r.preset === preset && r.rl).map((r) => ({
          backend: r.spec, tokensPerSecond: r.rl!.generatedTokensPerSecond, generationRatio: r.rl!.generatedTokensPerSecond / gen.tokensPerSecond,
        }));
        report.generation.push({ preset, ort: gen, ours });
        log(`${preset} generation (${gen.B} rows, ${gen.promptLength}-token prompts, ${gen.newTokens} new): onnxruntime-web ${gen.provider} with KV cache ${gen.tokensPerSecond.toFixed(0)} tokens/s; `
          + ours.map((o) => `${o.backend} ${o.tokensPerSecond.toFixed(0)} (ours/theirs ${o.generationRatio.toFixed(2)})`).join(', '));
      } catch (e) {
        report.errors[`ort-generation-${preset}`] = e instanceof Error ? e.message : String(e);
        log(`onnxruntime-web generation ${preset}: failed (${report.errors[`ort-generation-${preset}`]})`);
      }
    }
  }
  report.seconds = (performance.now() - t0) / 1000;
  return report;
}

/**
 * Settings from the page URL, e.g. `?backends=webgpu,wasm-2&presets=nano,small&rows=1024&tokens=4096&seqLen=256&reps=3&rl=8,8,64,48&forward=8,128&onnx=0`;
 * `presets=none&hf=smollm2-135m` times only an imported shape's forward pass.
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
    backends: list('backends', d.backends), presets: q.get('presets') === 'none' ? [] : list('presets', d.presets), sizes,
    ...(q.get('hf') ? { hfShapes: list('hf', []) } : {}),
    forward: fw ? { batch: fw[0]!, seqLen: fw[1]! } : d.forward,
    onnx: q.get('onnx') !== '0',
  };
}
