/**
 * What the trainer worker exposes (`workers/trainer.worker.ts` only wraps this in comlink):
 * a {@link TrainingSession} on the best available backend, searching through the search worker
 * over a MessagePort the page hands over.
 */
import { wrap } from 'comlink';
import { backendDetail, backendLost, createBackendWithNote, type BackendName } from '../backend/select.ts';
import type { SearchWorkerApi } from '../search/worker-api.ts';
import type { RlSettings, RolloutRecord, StepMetrics } from './trainer.ts';
import { TrainingSession, type SessionInfo, type SettingsOverride } from './session.ts';

export interface TrainerInit {
  /** Backend to use; `auto` picks the fastest available. */
  backend: BackendName;
  /** URL of the base checkpoint folder, e.g. `/models/nano-base/`. */
  modelUrl: string;
  /** A port served by the search worker (`SearchWorkerApi.connect`). */
  searchPort: MessagePort;
}

export interface TrainerApi {
  /**
   * Loads the backend, the base checkpoint and the pack's questions. `backendNote` says why
   * the backend is not WebGPU when that needs saying (no adapter, a software adapter, or
   * `webgpu` asked for in a browser without it); empty otherwise. `backendDetail` describes
   * the device (WebGPU adapter and limits, or wasm threads).
   */
  init(opts: TrainerInit): Promise<SessionInfo & { backendNote: string; backendDetail: string }>;
  startStage(stage: 1 | 2, override: SettingsOverride, totalSteps: number, seed: number): Promise<RlSettings>;
  step(): Promise<{ metrics: StepMetrics; rollouts: RolloutRecord[] }>;
  renderPrompt(question: string): string;
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

export function createTrainerApi(): TrainerApi {
  let session: TrainingSession | null = null;
  // A WebGPU device can be lost mid-step (driver reset, GPU removed): the pending call then
  // rejects with a clear error instead of waiting forever.
  let lost: Promise<never> | null = null;
  const guard = <T>(p: Promise<T>): Promise<T> => (lost ? Promise.race([p, lost]) : p);
  const need = () => {
    if (!session) throw new Error('trainer worker: call init() first');
    return session;
  };
  return {
    async init(opts) {
      const { backend, note } = await createBackendWithNote(opts.backend);
      const lostError = backendLost(backend);
      lost = lostError ? lostError.then((e) => Promise.reject(e)) : null;
      lost?.catch(() => {}); // reported through the guarded call, not as an unhandled rejection
      const search = wrap<SearchWorkerApi>(opts.searchPort);
      const questions = await search.questions();
      session = new TrainingSession(backend);
      const info = await guard(session.load(fetchReader(opts.modelUrl), questions, { search: (q, k) => search.search(q, k), searchMany: (qs, k) => search.searchMany(qs, k) }));
      return { ...info, backendNote: note, backendDetail: backendDetail(backend) };
    },
    startStage: (stage, override, totalSteps, seed) => guard(need().startStage(stage, override, totalSteps, seed)),
    step: () => guard(need().step()),
    renderPrompt: (q) => need().renderPrompt(q),
  };
}
