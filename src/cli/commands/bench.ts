/**
 * `npm run cli -- bench [--json]` (also `npm run bench`): throughput of the backends on this
 * machine.
 *
 * - matmul: GFLOP/s of every product a training step runs (src/bench/shapes.ts: 4 weight groups
 *   x forward NT / backward NN / weight-gradient TN layouts) at --rows token rows, per preset;
 * - step: one pretraining step (forward + backward + AdamW) of --tokens rows per preset;
 * - rl: one RL step (decode 8 x 8 rollouts of 48 new tokens after 64-token prompts, then the
 *   policy update on their 7k tokens) per preset in --rl-presets.
 *
 * Backends are named `cpu`, `wasm-<threads>` (e.g. wasm-1, wasm-2). The matmul rows also
 * carry the same products in other libraries (src/bench/external-matmul.ts), each in a child
 * process: `ort-wasm-<threads>` (onnxruntime-web's wasm provider) and `jax-js-wasm`
 * (--external none to skip them).
 *
 * With --browser, bench.html runs too, in headless Debian Chromium (src/cli/browser.ts): the
 * WebGPU backend beside wasm and cpu in the browser, and onnxruntime-web's forward pass on the
 * ONNX export of the same model (src/bench/browser-bench.ts). Its report is the `browser` key;
 * --browser-query passes the page's URL parameters (e.g. `presets=nano,small&tokens=4096`)
 * and --gpu-flags extra Chromium flags for a real GPU (written `--gpu-flags="--use-vulkan=native ..."`,
 * since the value starts with a dash; each replaces the default of the same name).
 */
import { parseArgs } from 'node:util';
import { cpus, loadavg } from 'node:os';
import type { Backend } from '../../backend/backend.ts';
import { CpuBackend } from '../../backend/cpu/cpu-backend.ts';
import { WasmBackend } from '../../backend/wasm/wasm-backend.ts';
import { MODEL_PRESETS, presetConfig } from '../../model/config.ts';
import { trainingMatmuls } from '../../bench/shapes.ts';
import { benchMatmul } from '../../bench/matmul-bench.ts';
import { benchPretrainStep, benchRlStep, type PretrainTiming, type RlTiming } from '../../bench/step-bench.ts';
import type { OpProfile } from '../../bench/profile.ts';
import type { MatmulResult } from '../../bench/matmul-bench.ts';
import type { ExternalLib, PlainShape } from '../../bench/external-matmul.ts';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const execFileAsync = promisify(execFile);

const USAGE = `usage: npm run cli -- bench [--json] [--backends cpu,wasm-1,wasm-2] [--presets nano,small]
  [--rl-presets nano] [--rows 1024] [--tokens 4096] [--vocab 2700] [--only matmul|step|rl] [--quick] [--profile]
  [--external ort-wasm-1,ort-wasm-2,jax-js-wasm|none] [--browser] [--browser-query QUERY] [--gpu-flags="FLAGS"] [--browser-timeout SECONDS]`;

/** A backend spec: `cpu` or `wasm-<threads>`. */
function parseBackendSpec(spec: string): { kind: 'cpu' | 'wasm'; threads: number } {
  if (spec === 'cpu') return { kind: 'cpu', threads: 1 };
  const m = /^wasm-(\d+)$/.exec(spec);
  if (!m || Number(m[1]) < 1) throw new Error(`bench: unknown backend "${spec}" (use cpu or wasm-<threads>, e.g. wasm-2)`);
  return { kind: 'wasm', threads: Number(m[1]) };
}

async function openBackend(spec: string): Promise<Backend> {
  const s = parseBackendSpec(spec);
  return s.kind === 'cpu' ? new CpuBackend() : WasmBackend.create({ threads: s.threads });
}

function list(v: string | undefined, dflt: string, what: string, allowed?: readonly string[]): string[] {
  const xs = (v ?? dflt).split(',').map((x) => x.trim()).filter(Boolean);
  if (allowed) for (const x of xs) if (!allowed.includes(x)) throw new Error(`bench: unknown ${what} "${x}" (known: ${allowed.join(', ')})`);
  return xs;
}

function positiveInt(v: string | undefined, dflt: number, flag: string): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`bench: --${flag} must be a positive integer, got "${v}"`);
  return n;
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean', default: false },
      backends: { type: 'string' },
      presets: { type: 'string' },
      'rl-presets': { type: 'string' },
      rows: { type: 'string' },
      tokens: { type: 'string' },
      vocab: { type: 'string' },
      only: { type: 'string' },
      quick: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      external: { type: 'string' },
      browser: { type: 'boolean', default: false },
      'browser-query': { type: 'string' },
      'gpu-flags': { type: 'string' },
      'browser-timeout': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) { process.stdout.write(`${USAGE}\n`); return; }
  const presetNames = Object.keys(MODEL_PRESETS);
  const backends = list(values.backends, 'cpu,wasm-1,wasm-2', 'backend');
  backends.forEach(parseBackendSpec);
  const presets = list(values.presets, 'nano,small', 'preset', presetNames);
  const rlPresets = list(values['rl-presets'], 'nano', 'preset', presetNames);
  const only = values.only === undefined ? undefined : list(values.only, '', 'section', ['matmul', 'step', 'rl']);
  const rows = positiveInt(values.rows, 1024, 'rows');
  const tokens = positiveInt(values.tokens, 4096, 'tokens');
  const vocab = positiveInt(values.vocab, 2700, 'vocab');
  const quick = values.quick;
  const log = (s: string) => { if (!values.json) process.stdout.write(`${s}\n`); };

  const report = {
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version,
      loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
      loadAverageAtEnd: [] as number[],
    },
    settings: { backends, presets, rlPresets, rows, tokens, vocab, quick },
    /** Per backend spec: threads actually used, fused multiply-adds, why fewer threads. */
    backendInfo: {} as Record<string, { threads: number; fma: boolean; note: string }>,
    matmul: [] as { preset: string; name: string; M: number; N: number; K: number; gflops: Record<string, number> }[],
    step: [] as { preset: string; ms: Record<string, PretrainTiming>; profile?: Record<string, OpProfile> }[],
    rl: [] as { preset: string; ms: Record<string, RlTiming> }[],
    /** The page's report with --browser (src/bench/browser-bench.ts), or why it is missing. */
    browser: undefined as unknown,
  };

  for (const spec of backends) {
    const backend = await openBackend(spec);
    try {
      if (backend instanceof WasmBackend) {
        report.backendInfo[spec] = { threads: backend.threads, fma: backend.fma, note: backend.threadNote };
        log(`${spec}: ${backend.threads} thread(s), fused multiply-add ${backend.fma ? 'on' : 'off'}${backend.threadNote ? ` (${backend.threadNote})` : ''}`);
      }
      for (const preset of presets) {
        const cfg = presetConfig(preset, vocab);
        if (!only || only.includes('matmul')) {
          const shapes = trainingMatmuls({ C: cfg.hiddenSize, F: cfg.intermediateSize, V: vocab, layers: cfg.numLayers }, rows);
          for (const s of shapes) {
            const r = benchMatmul(backend, s, spec === 'cpu' || quick ? { warmup: 1, minMs: 0, minReps: 1, maxReps: 1 } : {});
            let row = report.matmul.find((x) => x.preset === preset && x.name === s.name);
            if (!row) report.matmul.push(row = { preset, name: s.name, M: s.M, N: s.N, K: s.K, gflops: {} });
            row.gflops[spec] = round(r.gflops);
            log(`${spec} ${preset} matmul ${s.name} (${s.M}x${s.N}x${s.K}): ${r.gflops.toFixed(1)} GFLOP/s`);
          }
        }
        if (!only || only.includes('step')) {
          const profile: OpProfile | undefined = values.profile ? {} : undefined;
          // (cpu: a small warm-up suffices for the JIT and saves a ~10-60 s step)
          const t = await benchPretrainStep(backend, cfg, { tokens, reps: spec === 'cpu' || quick ? 1 : 3, profile, smallWarmup: spec === 'cpu' });
          let row = report.step.find((x) => x.preset === preset);
          if (!row) report.step.push(row = { preset, ms: {} });
          row.ms[spec] = roundAll(t);
          if (profile) (row.profile ??= {})[spec] = profile;
          log(`${spec} ${preset} pretraining step, ${t.tokens} tokens: forward ${t.forwardMs.toFixed(0)} ms, backward ${t.backwardMs.toFixed(0)} ms, AdamW ${t.optimizerMs.toFixed(0)} ms, total ${t.totalMs.toFixed(0)} ms`);
        }
        if ((!only || only.includes('rl')) && rlPresets.includes(preset)) {
          const t = await benchRlStep(backend, cfg, { reps: spec === 'cpu' || quick ? 1 : 3, smallWarmup: spec === 'cpu' });
          let row = report.rl.find((x) => x.preset === preset);
          if (!row) report.rl.push(row = { preset, ms: {} });
          row.ms[spec] = roundAll(t);
          log(`${spec} ${preset} RL step, ${t.rollouts} rollouts x ${t.generatedTokens / t.rollouts} new tokens, ${t.trainTokens} train tokens: generate ${t.generateMs.toFixed(0)} ms, train ${t.trainMs.toFixed(0)} ms, total ${t.totalMs.toFixed(0)} ms`);
        }
      }
    } finally {
      if (backend instanceof WasmBackend) backend.destroy();
    }
  }
  // The same products in other libraries, one child process per library and thread count.
  const externals = values.external === 'none' ? [] : list(values.external, 'ort-wasm-1,ort-wasm-2,jax-js-wasm', 'external library');
  if (!only || only.includes('matmul')) {
    for (const spec of externals) {
      const lib = parseExternalSpec(spec);
      for (const preset of presets) {
        const cfg = presetConfig(preset, vocab);
        const shapes = trainingMatmuls({ C: cfg.hiddenSize, F: cfg.intermediateSize, V: vocab, layers: cfg.numLayers }, rows)
          .map(({ name, M, N, K }) => ({ name, M, N, K }));
        const results = await runExternal(lib.lib, lib.threads, shapes, quick);
        for (const s of shapes) {
          const row = report.matmul.find((x) => x.preset === preset && x.name === s.name);
          const r = results[s.name];
          if (!row || !r) continue;
          row.gflops[spec] = round(r.gflops);
          log(`${spec} ${preset} matmul ${s.name} (${s.M}x${s.N}x${s.K}): ${r.gflops.toFixed(1)} GFLOP/s`);
        }
      }
    }
  }
  if (values.browser) {
    log('browser: bench.html in headless Chromium');
    try {
      report.browser = await runBrowserPage(values['browser-query'] ?? '', (values['gpu-flags'] ?? '').split(' ').filter(Boolean),
        positiveInt(values['browser-timeout'], 3600, 'browser-timeout'), log);
    } catch (e) {
      // No Chromium, or the page never finished: the Node figures above still stand.
      report.browser = { error: e instanceof Error ? e.message : String(e) };
      log(`browser: ${(report.browser as { error: string }).error}`);
    }
  }
  // Other processes compete for the cores; a load average well above the threads used
  // means the figures are pessimistic.
  report.machine.loadAverageAtEnd = loadavg().map((x) => Math.round(x * 100) / 100);
  if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else log(`load average at start ${report.machine.loadAverageAtStart.join(' ')}, at end ${report.machine.loadAverageAtEnd.join(' ')}`);
}

/** An external spec: `ort-wasm-<threads>` or `jax-js-wasm`. */
function parseExternalSpec(spec: string): { lib: ExternalLib; threads: number } {
  if (spec === 'jax-js-wasm') return { lib: 'jax-js', threads: 1 };
  const m = /^ort-wasm-(\d+)$/.exec(spec);
  if (!m || Number(m[1]) < 1) throw new Error(`bench: unknown external library "${spec}" (use ort-wasm-<threads>, jax-js-wasm or none)`);
  return { lib: 'onnxruntime-web', threads: Number(m[1]) };
}

/** Runs src/bench/external-main.ts in a child process (same Node flags, so the TypeScript loader too). */
async function runExternal(lib: ExternalLib, threads: number, shapes: PlainShape[], quick: boolean): Promise<Record<string, MatmulResult>> {
  const entry = fileURLToPath(new URL('../../bench/external-main.ts', import.meta.url));
  const { stdout } = await execFileAsync(process.execPath, [...process.execArgv, entry, lib, String(threads), JSON.stringify(shapes), quick ? 'quick' : ''], { maxBuffer: 1 << 24 });
  const line = stdout.trim().split('\n').pop() ?? '';
  try {
    return (JSON.parse(line) as { results: Record<string, MatmulResult> }).results;
  } catch {
    throw new Error(`bench: ${lib} (${threads} thread(s)) printed no result: ${stdout.slice(-500)}`);
  }
}

/**
 * Opens bench.html?QUERY in headless Chromium, forwards its progress lines to `log`, and returns
 * its JSON report; a page that fails gives `{ error }` instead (the Node figures still print).
 */
async function runBrowserPage(query: string, gpuFlags: string[], timeoutS: number, log: (s: string) => void): Promise<unknown> {
  const { startServer, launchBrowser } = await import('../browser.ts');
  const { server, url } = await startServer();
  const browser = await launchBrowser(gpuFlags);
  try {
    const page = await browser.newPage();
    page.on('console', (m) => { if (m.type() === 'log') log(`browser: ${m.text()}`); });
    page.on('pageerror', (e) => log(`browser page error: ${e.message}`));
    await page.goto(`${url}bench.html${query ? `?${query.replace(/^\?/, '')}` : ''}`);
    await page.waitForFunction(() => document.body.dataset.state === 'done' || document.body.dataset.state === 'error', null, { timeout: timeoutS * 1000, polling: 500 });
    if ((await page.evaluate(() => document.body.dataset.state)) === 'error') return { error: await page.locator('#status').textContent() };
    return JSON.parse((await page.locator('#result').textContent()) ?? 'null') as unknown;
  } finally {
    await browser.close();
    await server.close();
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

function roundAll<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'number' ? round(v) : v])) as T;
}
