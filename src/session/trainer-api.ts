/**
 * What the trainer worker exposes (`workers/trainer.worker.ts` only wraps this in comlink):
 * a {@link TrainingSession} on the best available backend, searching through the search worker
 * over a MessagePort the page hands over, with the tools around it (samples, the live mode, the
 * inspector, evaluation, exports).
 *
 * Calls run one at a time, in the order they arrive: a sample or an inspection asked for while
 * a training step runs waits for the step to finish instead of interleaving with it on the
 * same backend (an async step yields at every read from the device).
 */
import { transfer, wrap } from 'comlink';
import { backendDetail, backendLost, createBackendWithNote, type BackendName } from '../backend/select.ts';
import type { Backend } from '../backend/backend.ts';
import { WebGpuBackend } from '../backend/webgpu/webgpu-backend.ts';
import type { ExportFormat } from '../onnx/export-folder.ts';
import type { ImportInput } from '../io/import.ts';
import type { SearchWorkerApi } from '../search/worker-api.ts';
import { evaluatePolicy } from './evaluation.ts';
import { exportPolicyZip } from './export.ts';
import { inspectRecord, inspectRollout } from './inspection.ts';
import { LiveSampler } from './live.ts';
import { policyLogits, sample, stagePrompt } from './samples.ts';
import type { RolloutRecord, StepMetrics } from '../rl/trainer.ts';
import type { RlSettings, SettingsOverride } from '../rl/settings.ts';
import { TrainingSession } from './training-session.ts';
import { type EvalRequest, type EvalRow, type ImportSummary, type LiveView, type PolicyName, type RolloutInspection, type SampleRequest, type SampleResult, type SessionInfo, type SessionProgress, type SessionSnapshot, type ShippedPolicies } from './types.ts';

/** What the page hands the trainer worker at start. */
export interface TrainerInit {
  /** Backend to use; `auto` picks the fastest available. */
  backend: BackendName;
  /** URL of the base checkpoint folder, e.g. `/models/nano-base/`. */
  modelUrl: string;
  /** A port served by the search worker (`SearchWorkerApi.connect`). */
  searchPort: MessagePort;
  /** Name of the loaded pack (for exports and saved checkpoints). */
  packName?: string;
}

/** The trainer worker's API: the session's methods and its tools' (src/session/*.ts), by the page's names. */
export interface TrainerApi {
  /**
   * Loads the backend, the base checkpoint and the pack's questions. `backendNote` says why
   * the backend is not WebGPU when that needs saying (no adapter, a software adapter, or
   * `webgpu` asked for in a browser without it); empty otherwise. `backendDetail` describes
   * the device (WebGPU adapter and limits, or wasm threads).
   */
  init(opts: TrainerInit): Promise<SessionInfo & { backendNote: string; backendDetail: string }>;
  progress(): Promise<SessionProgress>;
  startStage(stage: 1 | 2, override: SettingsOverride, totalSteps: number, seed: number): Promise<RlSettings>;
  step(): Promise<{ metrics: StepMetrics; rollouts: RolloutRecord[] }>;
  renderPrompt(question: string, seed?: number, preset?: string): Promise<string>;
  sample(req: SampleRequest): Promise<SampleResult>;
  logits(policy: PolicyName, ids: number[]): Promise<Float32Array>;
  inspect(index: number, topN?: number): Promise<RolloutInspection>;
  inspectRecord(record: RolloutRecord, policy: PolicyName, topN?: number): Promise<RolloutInspection>;
  /** Pass the weights' buffers in the transfer list. */
  adoptShipped(run: ShippedPolicies): Promise<SessionProgress>;
  liveStart(req: SampleRequest): Promise<LiveView>;
  liveNext(topN?: number): Promise<LiveView>;
  liveStop(): Promise<void>;
  /** Pass `onProgress` wrapped in `Comlink.proxy`. */
  evaluate(req: EvalRequest, onProgress?: (done: number, total: number) => void): Promise<EvalRow[]>;
  /** The zip's bytes are transferred, not copied. */
  exportZip(format: ExportFormat, policy: PolicyName, opts?: { kvCache?: boolean }): Promise<{ name: string; zip: Uint8Array; files: string[] }>;
  /** The files' bytes are transferred, not copied. */
  snapshot(): Promise<SessionSnapshot>;
  restore(input: ImportInput, metrics?: StepMetrics[], rollouts?: RolloutRecord[]): Promise<ImportSummary>;
  importCheckpoint(input: ImportInput): Promise<ImportSummary>;
  /**
   * Destroys the WebGPU device as a driver reset would (every later call rejects with the
   * device-lost error), so the page's recovery can be exercised by tests and shown in demos.
   * Returns false, and changes nothing, on another backend.
   */
  loseDevice(): Promise<boolean>;
}

/** Reads a checkpoint file over fetch; null for a 404. */
export function fetchReader(baseUrl: string) {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return async (name: string): Promise<Uint8Array | null> => {
    const res = await fetch(`${base}${name}`);
    if (res.status === 404) return null;
    if (!res.ok) throw new Error(`checkpoint: fetching ${base}${name} failed with HTTP ${res.status}`);
    // Vite's dev server answers unknown paths with index.html: that is not a checkpoint file.
    if ((res.headers.get('content-type') ?? '').includes('text/html')) return null;
    return new Uint8Array(await res.arrayBuffer());
  };
}

/** The distinct ArrayBuffers under some byte arrays (a transfer list may not repeat one). */
function buffers(arrays: Iterable<Uint8Array>): ArrayBuffer[] {
  return [...new Set([...arrays].map((a) => a.buffer as ArrayBuffer))];
}

/** The worker's API over one session; calls run one at a time (see the file comment). */
export function createTrainerApi(): TrainerApi {
  let session: TrainingSession | null = null;
  let live: LiveSampler | null = null;
  let backend: Backend | null = null;
  // A WebGPU device can be lost mid-step (driver reset, GPU removed): the pending call then
  // rejects with a clear error instead of waiting forever.
  let lost: Promise<never> | null = null;
  const guard = <T>(p: Promise<T>): Promise<T> => (lost ? Promise.race([p, lost]) : p);
  const need = () => {
    if (!session) throw new Error('trainer worker: call init() first');
    return session;
  };
  // One call at a time, in arrival order (see the file comment).
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(f: (s: TrainingSession) => Promise<T> | T): Promise<T> => {
    const run = queue.then(() => f(need()));
    queue = run.catch(() => {});
    return guard(run);
  };
  return {
    async init(opts) {
      const chosen = await createBackendWithNote(opts.backend);
      backend = chosen.backend;
      const note = chosen.note;
      const lostError = backendLost(backend);
      lost = lostError ? lostError.then((e) => Promise.reject(e)) : null;
      lost?.catch(() => {}); // reported through the guarded call, not as an unhandled rejection
      const search = wrap<SearchWorkerApi>(opts.searchPort);
      const questions = await search.questions();
      const s = new TrainingSession(backend);
      const info = await guard(s.load(fetchReader(opts.modelUrl), questions, { search: (q, k) => search.search(q, k), searchMany: (qs, k) => search.searchMany(qs, k) }, opts.packName ?? ''));
      session = s;
      live = new LiveSampler(s);
      return { ...info, backendNote: note, backendDetail: backendDetail(backend) };
    },
    progress: () => serial((s) => s.progress()),
    startStage: (stage, override, totalSteps, seed) => serial((s) => s.startStage(stage, override, totalSteps, seed)),
    step: () => serial((s) => s.step()),
    renderPrompt: (q, seed, preset) => serial((s) => stagePrompt(s, q, seed, preset)),
    sample: (req) => serial((s) => sample(s, req)),
    logits: (policy, ids) => serial(async (s) => {
      const l = await policyLogits(s, policy, ids);
      return transfer(l, [l.buffer as ArrayBuffer]);
    }),
    inspect: (index, topN) => serial((s) => inspectRollout(s, index, topN)),
    inspectRecord: (record, policy, topN) => serial((s) => inspectRecord(s, record, policy, topN)),
    adoptShipped: (run) => serial((s) => s.adoptShipped(run)),
    liveStart: (req) => serial(() => live!.start(req)),
    liveNext: (topN) => serial(() => live!.next(topN)),
    liveStop: () => serial(() => live!.stop()),
    evaluate: (req, onProgress) => serial((s) => evaluatePolicy(s, req, onProgress && ((d, t) => void Promise.resolve(onProgress(d, t)).catch(() => {})))),
    exportZip: (format, policy, opts) => serial(async (s) => {
      const r = await exportPolicyZip(s, format, policy, opts);
      return transfer(r, buffers([r.zip]));
    }),
    snapshot: () => serial(async (s) => {
      const r = await s.snapshot();
      return transfer(r, buffers(r.files.values()));
    }),
    restore: (input, metrics, rollouts) => serial((s) => s.restore(input, metrics, rollouts)),
    importCheckpoint: (input) => serial((s) => s.importCheckpoint(input)),
    async loseDevice() {
      if (!(backend instanceof WebGpuBackend)) return false;
      backend.destroy();
      return true;
    },
  };
}
