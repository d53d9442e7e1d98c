/**
 * The page's behaviour, apart from its elements (material-web's "behaviour class + thin
 * element"): it owns the two workers and the saved-run store, runs every action the learner
 * takes, and keeps what each step of the guided path shows. Elements read its fields and call
 * its methods; it dispatches `change` after every state change (see playground-element.ts).
 *
 * It computes nothing about the model: every number comes from the trainer worker
 * (src/session/trainer-api.ts) or the search worker (src/search/worker-api.ts). What it does itself
 * is orchestration: the step loop with pause, saving every N steps and at a stage's end
 * (src/io/run-store.ts), resuming a saved run, and the URL that holds the configuration.
 *
 * Events: `change` (Event) after any field changed.
 */
import { proxy, transfer, wrap, type Remote } from 'comlink';
import type { PackProgress } from '../corpus/pack-loader.ts';
import type { CorpusDocument, Question, Split } from '../corpus/types.ts';
import type { EvalMode } from '../eval/evaluate.ts';
import type { ExportFormat } from '../onnx/export-folder.ts';
import { RunStore, type RunSummary } from '../io/run-store.ts';
import { compareWithTrainer, type OnnxCheckApi } from '../onnx/parity-check.ts';
import { GREEDY_PROMPT_SEED } from '../session/types.ts';
import type { EvalRow, ImportSummary, LiveView, PolicyName, RolloutInspection, SampleResult, SessionInfo, SessionProgress } from '../session/types.ts';
import { keepStep, pickGroups, type KeptStep } from '../session/rollout-history.ts';
import {
  checkShippedManifest, decodeShippedRollouts, parseMetricsJsonl, SHIPPED_RUN_FILES, SHIPPED_RUN_NAME, type ShippedRunManifest,
} from '../session/shipped-run.ts';
import type { TrainerApi } from '../session/trainer-api.ts';
import type { RolloutRecord, StepMetrics } from '../rl/trainer.ts';
import type { RlSettings } from '../rl/settings.ts';
import { createSearchWorker } from '../search/client.ts';
import type { SearchHit } from '../search/search-index.ts';
import type { LoadedPackInfo, SearchWorkerApi } from '../search/worker-api.ts';
import { downloadBytes, type PickedFiles } from './files.ts';
import { loadPackDocuments } from './pack-documents.ts';
import { storedPackSource } from '../corpus/pack-source.ts';
import { PackStore, STORED_PACK_PREFIX, type StoredPackSummary } from '../corpus/pack-store.ts';
import type { ImportApi } from '../corpus/import/import-api.ts';
import type { ImportInput, ImportProgress, ImportReport } from '../corpus/import/import-pack.ts';
import {
  DEFAULT_PAGE_CONFIG, readPageConfig, STAGE_KEYS, stageOverride, stageValue, STEP_IDS, writePageConfig, type PageConfig, type StageValues, type StepId,
} from './url-config.ts';

/** Things the learner can do, each with its own busy flag and error line. */
export type Feature = 'search' | 'sample' | 'train' | 'inspect' | 'live' | 'compare' | 'eval' | 'export' | 'onnx' | 'import' | 'runs' | 'save' | 'documents' | 'packs' | 'shipped';

/** A shard of the pack as the Corpus step lists it. */
export interface ShardView {
  file: string;
  documents: number;
  bytes: number;
  state: 'waiting' | 'verified';
}

/** A question and its gold answers, picked or typed. */
export interface QuestionChoice {
  question: string;
  /** Empty for a typed question (no reward can be computed). */
  answers: string[];
  id?: string;
}

/** The result of "Run the export". */
export interface OnnxCheck {
  policy: PolicyName;
  question: string;
  provider: 'webgpu' | 'wasm';
  /** The export decoded with its attention cache (new tokens only per call). */
  kvCache: boolean;
  note: string;
  /** The ONNX model's greedy completion (tags written out) and its searches. */
  completion: string;
  searches: { query: string; hits: { id: string; title: string; score: number }[] }[];
  /** The trainer's greedy completion for the same prompt. */
  trainerCompletion: string;
  tokensMatch: boolean;
  /** Largest |logit difference| after the prompt, ONNX vs trainer. */
  maxLogitDiff: number;
  seconds: number;
}

/** A stored export (kept for "Run the export"). */
export interface ExportView {
  format: ExportFormat;
  policy: PolicyName;
  /** The ONNX graph takes and returns the attention cache. */
  kvCache: boolean;
  name: string;
  zip: Uint8Array;
  files: string[];
}

/** The ONNX check worker and its state: `failed` rejects, and `dead` is set, on its error event. */
interface OnnxWorker {
  worker: Worker;
  api: Remote<OnnxCheckApi>;
  failed: Promise<never>;
  dead: boolean;
}

/** What a saved run keeps besides the checkpoint (run-store `settings`). */
interface SavedPage {
  config: PageConfig;
  totalSteps: number;
}

const DOC_WORDS = 40;
/** Rollouts kept per earlier step in the page's history (the latest batch is kept whole in `rollouts`). */
const HISTORY_ROLLOUTS = 64;

export class Playground extends EventTarget {
  config: PageConfig;
  urlErrors: string[];
  phase: 'loading' | 'ready' | 'error' = 'loading';
  status = 'Starting…';
  /** A fatal error (the page cannot go on). */
  fatal = '';
  errors: Partial<Record<Feature, string>> = {};
  busy = new Set<Feature>();

  // Corpus
  pack: LoadedPackInfo | null = null;
  shards: ShardView[] = [];
  shardsVerified = 0;
  shardsTotal = 0;
  questions: Question[] = [];
  searchQuery = '';
  searchHits: SearchHit[] | null = null;
  searchMs = 0;
  documents: Map<string, CorpusDocument> | null = null;

  // Model and training
  info: (SessionInfo & { backendNote: string; backendDetail: string }) | null = null;
  stage: 1 | 2 | null = null;
  running = false;
  private stopRequested = false;
  metrics: { 1: StepMetrics[]; 2: StepMetrics[] } = { 1: [], 2: [] };
  totalSteps: { 1: number; 2: number };
  settingsInForce: { 1: RlSettings | null; 2: RlSettings | null } = { 1: null, 2: null };
  rollouts: RolloutRecord[] = [];
  /** Rollouts kept from several steps of each stage (src/session/rollout-history.ts), for the inspector's step slider. */
  history: KeptStep[] = [];
  policies: PolicyName[] = ['base'];

  // The shipped run (src/session/shipped-run.ts): offered when it matches the loaded model and pack.
  shippedRun: ShippedRunManifest | null = null;
  /** The page shows the shipped run (no stage of the learner's own has started since). */
  showingShipped = false;

  // What the learner asked to see
  baseSamples: SampleResult[] = [];
  inspection: RolloutInspection | null = null;
  /** Which rollout `inspection` is of: `stage:step:index`. */
  inspectionKey = '';
  live: LiveView | null = null;
  /** Every live step so far (the alternatives of each generated token). */
  liveSteps: NonNullable<LiveView['step']>[] = [];
  /** Which policy and question the live rollout is of. */
  liveOf: { policy: PolicyName; question: string; greedy: boolean } | null = null;
  compare: { question: QuestionChoice; results: Partial<Record<PolicyName, SampleResult | { error: string }>> } | null = null;
  evalRows: EvalRow[] = [];
  evalProgress: { done: number; total: number } | null = null;
  exports: Partial<Record<ExportFormat, ExportView>> = {};
  /** Export the ONNX model with the attention cache as inputs and outputs (src/onnx/export.ts). */
  onnxKvCache = false;
  onnxCheck: OnnxCheck | null = null;
  importResult: { kind: 'base' | 'run'; label: string; notes: string[] } | null = null;

  // Saved runs
  runs: RunSummary[] = [];
  runId: string | null = null;
  runName = '';
  lastSaved: { stage: 1 | 2; step: number; at: number } | null = null;
  resumeOffer: RunSummary | null = null;
  quota: { usage: number; quota: number } | null = null;

  private seeds = 0;
  private search: Remote<SearchWorkerApi> | null = null;
  private trainer: Remote<TrainerApi> | null = null;
  private trainerWorker: Worker | null = null;
  /** The ONNX check worker (workers/onnx-check.worker.ts), started by the first "Run the export". */
  private onnxWorker: OnnxWorker | null = null;
  /** What the last device-loss recovery did, shown with the stage's status line; empty when none. */
  deviceRecovery = '';
  private store: RunStore | null = null;

  constructor(search: string) {
    super();
    const { config, errors } = readPageConfig(search);
    this.config = config;
    this.urlErrors = errors;
    this.totalSteps = { 1: config.stage1Steps, 2: config.stage2Steps };
  }

  /** A fresh seed for a sample or a live rollout: the page's seed, then one more per draw (reproducible from the link). */
  nextSeed(): number {
    return this.config.seed * 1000 + ++this.seeds;
  }

  private changed(): void {
    this.dispatchEvent(new Event('change'));
  }

  /** Runs an action with its busy flag; its error goes to `errors[feature]`. Returns undefined on error. */
  private async task<T>(feature: Feature, f: () => Promise<T>): Promise<T | undefined> {
    this.busy.add(feature);
    delete this.errors[feature];
    this.changed();
    try {
      return await f();
    } catch (e) {
      this.errors[feature] = message(e);
      return undefined;
    } finally {
      this.busy.delete(feature);
      this.changed();
    }
  }

  // ------------------------------------------------------------------ loading

  get packUrl(): string {
    return `${import.meta.env.BASE_URL}corpus/${this.config.pack}/`;
  }

  /** Loads the pack into the search worker, the base model into the trainer worker, and lists saved runs. */
  async load(): Promise<void> {
    try {
      this.search = createSearchWorker();
      this.status = 'Loading the corpus pack…';
      this.changed();
      const packInfo = await this.search.loadPack(this.packUrl, proxy((p: PackProgress) => {
        this.shardsVerified = p.loaded;
        this.shardsTotal = p.total;
        this.status = `Loading the corpus pack: ${p.loaded} of ${p.total} shards verified`;
        this.changed();
      }));
      this.pack = packInfo;
      this.shards = packInfo.manifest.shards.map((s) => ({ file: s.file, documents: s.documents, bytes: s.bytes, state: 'verified' }));
      this.questions = await this.search.questions();
      this.status = 'Loading the base model…';
      this.changed();
      await this.startTrainer();
      this.phase = 'ready';
      this.status = `Ready: ${packInfo.documents.toLocaleString()} documents in ${packInfo.manifest.shards.length} shards; ` +
        `a ${this.info!.parameters.toLocaleString()}-parameter policy on the ${this.info!.backend} backend.`;
      this.changed();
      await this.openRuns();
      await this.refreshStoredPacks();
      await this.findShippedRun();
    } catch (e) {
      this.phase = 'error';
      this.fatal = message(e);
      this.status = 'Stopped by an error.';
      this.changed();
    }
  }

  /** A new trainer worker (a new backend, so a new GPU device) with the base model, searching through the search worker. */
  private async startTrainer(): Promise<void> {
    const channel = new MessageChannel();
    await this.search!.connect(transfer(channel.port1, [channel.port1]));
    this.trainerWorker = new Worker(new URL('../../workers/trainer.worker.ts', import.meta.url), { type: 'module' });
    this.trainer = wrap<TrainerApi>(this.trainerWorker);
    this.info = await this.trainer.init(transfer({
      backend: this.config.backend, modelUrl: `${import.meta.env.BASE_URL}models/${this.config.model}/`, searchPort: channel.port2,
      packName: this.pack!.manifest.name,
    }, [channel.port2]));
  }

  /**
   * Destroys the trainer's WebGPU device as a driver reset would (the next step then fails and
   * the page recovers). For the device-loss test and for demos; false on another backend.
   */
  async loseDevice(): Promise<boolean> {
    return (await this.trainer?.loseDevice()) ?? false;
  }

  private async openRuns(): Promise<void> {
    await this.task('runs', async () => {
      this.store = await RunStore.open();
      await this.refreshRuns();
      // Offer the most recent run: a reload in the middle of a stage loses nothing.
      this.resumeOffer = this.runs[0] ?? null;
    });
  }

  async refreshRuns(): Promise<void> {
    if (!this.store) return;
    this.runs = await this.store.listRuns();
    const est = await navigator.storage?.estimate?.().catch(() => null);
    this.quota = est && est.quota !== undefined ? { usage: est.usage ?? 0, quota: est.quota } : null;
    this.changed();
  }

  // ------------------------------------------------------------------ the shipped run

  get shippedUrl(): string {
    return `${import.meta.env.BASE_URL}models/${SHIPPED_RUN_NAME}/`;
  }

  /** Reads the shipped run's run.json; offers it when it was trained from the loaded model on the loaded pack. */
  private async findShippedRun(): Promise<void> {
    try {
      const res = await fetch(`${this.shippedUrl}${SHIPPED_RUN_FILES.manifest}`);
      if (!res.ok || !(res.headers.get('content-type') ?? '').includes('json')) return;
      const m = checkShippedManifest(await res.json());
      if (m.base === this.config.model && m.pack === this.pack?.manifest.name) this.shippedRun = m;
    } catch {
      // No shipped run (or an unreadable one): the page simply does not offer it.
    } finally {
      this.changed();
    }
  }

  /**
   * Shows the shipped run: its curves, kept rollouts and evaluation, and its Stage-1 and
   * Stage-2 policies for Compare and the live mode. Replaces what the page showed of a run
   * (a saved run stays saved); starting a stage trains the learner's own.
   */
  async showShippedRun(): Promise<void> {
    const m = this.shippedRun;
    if (!m || this.running || !this.trainer) return;
    await this.task('shipped', async () => {
      const get = async (file: string) => {
        const res = await fetch(`${this.shippedUrl}${file}`);
        if (!res.ok) throw new Error(`the shipped run's ${file}: HTTP ${res.status}`);
        return new Uint8Array(await res.arrayBuffer());
      };
      const [metricsBytes, rolloutBytes, stage1, stage2] = await Promise.all([
        get(SHIPPED_RUN_FILES.metrics), get(SHIPPED_RUN_FILES.rollouts), get(SHIPPED_RUN_FILES.stage1), get(SHIPPED_RUN_FILES.stage2),
      ]);
      const metrics = parseMetricsJsonl(new TextDecoder().decode(metricsBytes));
      const history = decodeShippedRollouts(rolloutBytes);
      const progress = await this.trainer!.adoptShipped(transfer({ stage1, stage2, metrics }, [stage1.buffer as ArrayBuffer, stage2.buffer as ArrayBuffer]));
      this.applyProgress(progress);
      this.totalSteps = { 1: m.stages[1].steps, 2: m.stages[2].steps };
      this.settingsInForce = { 1: m.stages[1].settings, 2: m.stages[2].settings };
      this.history = history;
      this.evalRows = m.eval;
      this.showingShipped = true;
      this.resumeOffer = null;
      this.runId = null;
      this.lastSaved = null;
      this.status = `Showing the shipped run (default recipe, seed ${m.seed}, ${m.stages[1].steps} + ${m.stages[2].steps} steps). Start a stage to train your own.`;
    });
  }

  // ------------------------------------------------------------------ navigation and URL

  get stepId(): StepId {
    return this.config.step;
  }

  goTo(step: StepId): void {
    if (!STEP_IDS.includes(step)) return;
    this.setConfig({ step });
  }

  /** Changes the configuration and writes it into the URL (a link to the page reproduces it). */
  setConfig(patch: Partial<PageConfig>): void {
    this.config = { ...this.config, ...patch };
    // A stage that has steps keeps the length it started with (its learning-rate schedule
    // spans it); a new length applies when the stage starts over.
    if (this.metrics[1].length === 0) this.totalSteps[1] = this.config.stage1Steps;
    if (this.metrics[2].length === 0) this.totalSteps[2] = this.config.stage2Steps;
    history.replaceState(history.state, '', `${location.pathname}${writePageConfig(this.config)}${location.hash}`);
    this.changed();
  }

  /** One stage's own settings back to the recipe's defaults (the other stage keeps its values). */
  resetStageSettings(stage: 1 | 2): void {
    const own: StageValues = {};
    // A plain key that differs from the default (an older link) would still reach this stage: override it.
    for (const k of STAGE_KEYS) if (this.config[k] !== DEFAULT_PAGE_CONFIG[k]) (own as Record<string, unknown>)[k] = DEFAULT_PAGE_CONFIG[k];
    const steps = stage === 1 ? { stage1Steps: DEFAULT_PAGE_CONFIG.stage1Steps } : { stage2Steps: DEFAULT_PAGE_CONFIG.stage2Steps };
    this.setConfig({ ...steps, stages: { ...this.config.stages, [stage]: own } });
  }

  // ------------------------------------------------------------------ corpus

  async runSearch(query: string, k: number): Promise<void> {
    this.searchQuery = query;
    await this.task('search', async () => {
      const t0 = performance.now();
      this.searchHits = await this.search!.search(query, k);
      this.searchMs = performance.now() - t0;
    });
  }

  /** The supporting documents of questions, loaded once on first use. */
  async loadDocuments(): Promise<void> {
    if (this.documents || !this.pack) return;
    await this.task('documents', async () => {
      this.documents = await loadPackDocuments(storedPackSource(this.packUrl), this.pack!.manifest);
    });
  }

  // ------------------------------------------------------------------ imported packs

  /** Packs imported into browser storage (listed in the Corpus step). */
  storedPacks: StoredPackSummary[] = [];
  /** Progress of the running import, and the report of the last one. */
  importProgress: ImportProgress | null = null;
  importReport: ImportReport | null = null;

  async refreshStoredPacks(): Promise<void> {
    await this.task('packs', () => this.withPackStore(async (store) => { this.storedPacks = await store.list(); }));
  }

  /** Runs `f` on the pack store, closed afterwards. */
  private async withPackStore(f: (store: PackStore) => Promise<void>): Promise<void> {
    const store = await PackStore.open();
    try {
      await f(store);
    } finally {
      store.close();
    }
  }

  /**
   * Imports dataset files into a pack in browser storage, in a worker (the same importers as
   * `npm run cli -- import`). Errors (a file with nothing usable, a name already taken) are
   * shown under 'packs'; nothing is stored then.
   */
  async importFiles(files: ImportInput[], name: string, overwrite: boolean): Promise<void> {
    this.importReport = null;
    await this.task('packs', async () => {
      const worker = new Worker(new URL('../../workers/import.worker.ts', import.meta.url), { type: 'module' });
      try {
        const api = wrap<ImportApi>(worker);
        // A worker that fails to start never answers: its error event ends the wait instead.
        const failed = new Promise<never>((_, reject) => worker.addEventListener('error', (e) => reject(new Error(`the import worker failed: ${e.message || 'it could not start'}`))));
        const { report } = await Promise.race([failed, api.importFiles(transfer(files, files.map((f) => f.bytes.buffer as ArrayBuffer)), { name, overwrite }, proxy((p: ImportProgress) => {
          this.importProgress = p;
          this.changed();
        }))]);
        this.importReport = report;
      } finally {
        worker.terminate();
        this.importProgress = null;
      }
      await this.withPackStore(async (store) => { this.storedPacks = await store.list(); });
    });
  }

  /** Deletes an imported pack from browser storage. */
  async deleteStoredPack(name: string): Promise<void> {
    await this.task('packs', () => this.withPackStore(async (store) => {
      await store.delete(name);
      this.storedPacks = await store.list();
    }));
  }

  /** Opens the page on another pack (an imported one: `stored.<name>`); the link changes with it. */
  usePack(pack: string): void {
    this.setConfig({ pack });
    location.reload();
  }

  /** Whether the loaded pack is one imported into browser storage. */
  get packIsStored(): boolean {
    return this.config.pack.startsWith(STORED_PACK_PREFIX);
  }

  // ------------------------------------------------------------------ samples

  /** One rollout of the base model (or another policy) on a question, sampled or greedy. */
  async sample(policy: PolicyName, q: QuestionChoice, greedy: boolean, seed: number): Promise<void> {
    await this.task('sample', async () => {
      const r = await this.trainer!.sample({ policy, question: q.question, answers: q.answers, greedy, seed, promptPreset: this.config.preset, rollout: this.rolloutOverride(policy) });
      this.baseSamples = [r, ...this.baseSamples].slice(0, 6);
    });
  }

  /** The same question answered greedily by every policy that exists, side by side. */
  async runCompare(q: QuestionChoice): Promise<void> {
    await this.task('compare', async () => {
      const results: NonNullable<Playground['compare']>['results'] = {};
      for (const policy of ['base', 'stage1', 'stage2'] as const) {
        try {
          results[policy] = await this.trainer!.sample({ policy, question: q.question, answers: q.answers, greedy: true, seed: GREEDY_PROMPT_SEED, promptPreset: this.config.preset, rollout: this.rolloutOverride(policy) });
        } catch (e) {
          results[policy] = { error: message(e) };
        }
      }
      this.compare = { question: q, results };
    });
  }

  /** The rollout limits a policy's samples use: those of its stage (Stage 1's for the base). */
  private rolloutOverride(policy: PolicyName) {
    const stage = policy === 'stage2' ? 2 : 1;
    const v = <K extends 'maxNewTokens' | 'maxSearches' | 'topK'>(k: K) => stageValue(this.config, stage, k);
    return { maxNewTokens: v('maxNewTokens'), maxSearches: v('maxSearches'), topK: v('topK'), docMaxWords: DOC_WORDS };
  }

  // ------------------------------------------------------------------ training

  /** Whether a stage has run all its planned steps. */
  stageDone(stage: 1 | 2): boolean {
    return this.metrics[stage].length > 0 && this.metrics[stage].length >= this.totalSteps[stage];
  }

  /** Starts `stage` (or continues it when paused) and runs it until it ends or is paused. */
  async start(stage: 1 | 2): Promise<void> {
    await this.train(stage, Infinity, false);
  }

  /** One step (a batch of rollouts and one update) of `stage`, starting it if needed. */
  async stepOnce(stage: 1 | 2): Promise<void> {
    await this.train(stage, 1, false);
  }

  /** Starts `stage` over from its initial policy (Stage 1 over drops Stage 2 too). */
  async restart(stage: 1 | 2): Promise<void> {
    await this.train(stage, Infinity, true);
  }

  pause(): void {
    if (!this.running) return;
    this.stopRequested = true;
    this.status = 'Pausing after this step…';
    this.changed();
  }

  private async train(stage: 1 | 2, n: number, fresh: boolean): Promise<void> {
    if (!this.trainer || this.running || this.phase !== 'ready') return;
    this.running = true;
    this.stopRequested = false;
    delete this.errors.train;
    this.changed();
    try {
      if (fresh || this.stage !== stage || this.stageDone(stage)) await this.begin(stage);
      try {
        await this.runSteps(stage, n);
      } catch (e) {
        if (!isDeviceLost(e)) throw e;
        await this.recoverFromDeviceLoss(stage, message(e));
        await this.runSteps(stage, n);
        this.status += ` ${this.deviceRecovery}`;
      }
    } catch (e) {
      this.errors.train = message(e);
      this.status = `Stage ${stage} stopped by an error.`;
    } finally {
      this.running = false;
      this.changed();
    }
  }

  private async begin(stage: 1 | 2): Promise<void> {
    const total = stage === 1 ? this.config.stage1Steps : this.config.stage2Steps;
    this.status = `Starting Stage ${stage}…`;
    this.changed();
    const settings = await this.trainer!.startStage(stage, stageOverride(this.config, stage), total, this.config.seed + stage);
    // A new Stage 1 is a new run in the saved-run list; Stage 2 continues the run it follows.
    if (stage === 1 || !this.runId) this.newRun();
    this.stage = stage;
    this.totalSteps[stage] = total;
    this.settingsInForce[stage] = settings;
    this.metrics[stage] = [];
    if (stage === 1) {
      this.metrics[2] = [];
      this.settingsInForce[2] = null;
    }
    this.rollouts = [];
    this.history = this.history.filter((h) => h.stage < stage && !this.showingShipped);
    if (this.showingShipped) {
      // The learner's own run starts: the shipped one leaves the page (one click brings it back).
      this.showingShipped = false;
      this.evalRows = [];
      this.compare = null;
    }
    this.inspection = null;
    this.inspectionKey = '';
    this.policies = (await this.trainer!.progress()).policies;
  }

  private newRun(): void {
    const now = new Date();
    this.runId = `run-${now.getTime().toString(36)}`;
    this.runName = `${this.pack?.manifest.name ?? this.config.pack}, seed ${this.config.seed}, ${now.toLocaleString()}`;
    this.lastSaved = null;
  }

  private async runSteps(stage: 1 | 2, n: number): Promise<void> {
    const total = this.totalSteps[stage];
    for (let i = 0; i < n && !this.stopRequested && this.metrics[stage].length < total; i++) {
      this.status = `Stage ${stage}: step ${this.metrics[stage].length + 1} of ${total}…`;
      this.changed();
      const { metrics, rollouts } = await this.trainer!.step();
      this.metrics = { ...this.metrics, [stage]: [...this.metrics[stage], metrics] };
      this.rollouts = rollouts;
      this.history = keepStep(this.history, { stage, step: metrics.step, rollouts: pickGroups(rollouts, Math.ceil(HISTORY_ROLLOUTS / Math.max(1, this.groupSize(rollouts)))) });
      const k = this.metrics[stage].length;
      if (k % this.config.saveEvery === 0 || k === total) await this.save();
    }
    const done = this.metrics[stage].length >= total;
    // A pause saves too: the next reload resumes exactly here.
    if (!done && (this.lastSaved?.stage !== stage || this.lastSaved.step !== this.metrics[stage].length)) await this.save();
    this.policies = (await this.trainer!.progress()).policies;
    this.status = done ? `Stage ${stage} finished: ${this.metrics[stage].length} steps.` : `Stage ${stage} paused at step ${this.metrics[stage].length} of ${total}.`;
  }

  /** Rollouts per group in a batch. */
  private groupSize(rollouts: RolloutRecord[]): number {
    return rollouts.filter((r) => r.group === rollouts[0]?.group).length;
  }

  // ------------------------------------------------------------------ saved runs

  /** Saves the running stage to browser storage (errors, such as a full disk, are shown; training goes on). */
  async save(): Promise<void> {
    if (!this.store || !this.stage || !this.trainer) return;
    if (!this.runId) this.newRun(); // the run's entry was deleted: a new one
    const runId = this.runId!;
    await this.task('save', async () => {
      const snap = await this.trainer!.snapshot();
      const page: SavedPage = { config: this.config, totalSteps: snap.totalSteps };
      await this.store!.saveRun(runId, {
        name: this.runName, files: snap.files, metrics: [...this.metrics[1], ...this.metrics[2]], rollouts: this.rollouts, settings: page,
        stage: snap.stage, step: snap.step,
      }, { overwrite: true });
      this.lastSaved = { stage: snap.stage, step: snap.step, at: Date.now() };
      await this.refreshRuns();
    });
  }

  /**
   * After the GPU device is lost mid-stage: a new trainer worker on a new device, and the run
   * reopened from its last save, so the learner loses only the steps since then.
   * @throws Error when the stage was never saved (nothing to resume from).
   */
  private async recoverFromDeviceLoss(stage: 1 | 2, reason: string): Promise<void> {
    const lostAt = this.metrics[stage].length;
    const saved = this.lastSaved, id = this.runId;
    this.status = `The GPU device was lost (${reason}); starting the trainer on a new device…`;
    this.changed();
    this.trainerWorker?.terminate();
    await this.startTrainer();
    if (!id || !saved || !this.store) throw new Error(`${reason}. Nothing of this stage was saved yet: start it again.`);
    await this.restoreRun(id);
    this.deviceRecovery = `(The GPU device was lost after step ${lostAt} of Stage ${stage}; training resumed on a new device from the save at step ${saved.step}.)`;
  }

  /** Reopens a saved run: the stage continues bit for bit where it was saved. */
  async resume(id: string): Promise<void> {
    if (this.running || !this.store || !this.trainer) return;
    await this.task('runs', () => this.restoreRun(id));
  }

  /** Loads saved run `id` into the trainer and the page. @throws Error from storage or the trainer. */
  private async restoreRun(id: string): Promise<void> {
    const run = await this.store!.loadRun(id);
    const summary = await this.trainer!.restore(run.files, run.metrics as StepMetrics[], (run.rollouts ?? []) as RolloutRecord[]);
    const saved = run.settings as Partial<SavedPage> | null;
    if (saved?.config) {
      const { step: _ignored, ...rest } = saved.config;
      if (rest.pack !== this.config.pack) this.errors.runs = `This run was trained on the "${rest.pack}" pack; it continues on the loaded "${this.config.pack}" pack.`;
      this.setConfig({ ...rest, pack: this.config.pack, model: this.config.model });
    }
    this.applyImport(summary);
    const st = summary.progress.stage;
    if (st && this.rollouts.length) this.history = [{ stage: st, step: this.metrics[st].length, rollouts: this.rollouts }];
    this.runId = id;
    this.runName = run.summary.name;
    this.lastSaved = { stage: run.summary.stage as 1 | 2, step: run.summary.step, at: run.summary.updatedAt };
    this.resumeOffer = null;
    const stage = summary.progress.stage ?? 1;
    this.status = `Reopened "${run.summary.name}": Stage ${stage}, step ${summary.progress.step} of ${summary.progress.totalSteps}.`;
    this.goTo(stage === 1 ? 'stage1' : 'stage2');
  }

  dismissResume(): void {
    this.resumeOffer = null;
    this.changed();
  }

  async renameRun(id: string, name: string): Promise<void> {
    await this.task('runs', async () => {
      const s = await this.store!.renameRun(id, name);
      if (id === this.runId) this.runName = s.name;
      await this.refreshRuns();
    });
  }

  async deleteRun(id: string): Promise<void> {
    await this.task('runs', async () => {
      await this.store!.deleteRun(id);
      if (id === this.runId) {
        // The run in memory goes on; its next save starts a new entry.
        this.runId = null;
        this.lastSaved = null;
      }
      if (this.resumeOffer?.id === id) this.resumeOffer = null;
      await this.refreshRuns();
    });
  }

  /** Takes a session's progress after a restore or an import. */
  private applyImport(summary: ImportSummary): void {
    this.info = { ...summary.info, backendNote: this.info?.backendNote ?? '', backendDetail: this.info?.backendDetail ?? '' };
    this.applyProgress(summary.progress);
    this.history = [];
  }

  private applyProgress(p: SessionProgress): void {
    this.stage = p.stage;
    this.metrics = p.metrics;
    this.rollouts = p.rollouts;
    this.policies = p.policies;
    if (p.stage) {
      this.totalSteps[p.stage] = p.totalSteps;
      this.settingsInForce[p.stage] = p.settings;
    }
    if (p.stage !== 2) this.settingsInForce[2] = null;
    if (!p.stage) this.settingsInForce[1] = null;
    this.inspection = null;
    this.inspectionKey = '';
    this.showingShipped = false;
    this.live = null;
    this.liveSteps = [];
    this.liveOf = null;
    this.compare = null;
    this.exports = {};
    this.onnxCheck = null;
    this.evalRows = [];
  }

  // ------------------------------------------------------------------ inspector and live mode

  /** Whether kept step `step` of `stage` is the latest batch of the running stage (the trainer can score it exactly). */
  isLatestBatch(stage: 1 | 2, step: number): boolean {
    return this.stage === stage && step === this.metrics[stage].length && this.rollouts.length > 0 && !this.showingShipped;
  }

  /**
   * Per-token probabilities of rollout `index` of step `step` of `stage`: of the latest batch
   * under the policy that sampled it; of an earlier step (`record`, from the history) under the
   * stage's current policy. Stored in `inspection` with `inspectionKey` = `stage:step:index`.
   */
  async inspect(index: number, stage: 1 | 2 | null = this.stage, step = stage ? this.metrics[stage].length : 0, record?: RolloutRecord): Promise<void> {
    if (!stage) return;
    const key = `${stage}:${step}:${index}`;
    await this.task('inspect', async () => {
      if (this.isLatestBatch(stage, step)) this.inspection = await this.trainer!.inspect(index);
      else {
        const r = record ?? this.history.find((h) => h.stage === stage && h.step === step)?.rollouts[index];
        if (!r) throw new Error(`no rollout ${index + 1} kept at step ${step} of Stage ${stage}`);
        this.inspection = await this.trainer!.inspectRecord(r, stage === 2 ? 'stage2' : 'stage1');
      }
      this.inspectionKey = key;
    });
  }

  async liveStart(policy: PolicyName, q: QuestionChoice, greedy: boolean, seed: number): Promise<void> {
    await this.task('live', async () => {
      this.live = await this.trainer!.liveStart({ policy, question: q.question, answers: q.answers, greedy, seed, promptPreset: this.config.preset, rollout: this.rolloutOverride(policy) });
      this.liveSteps = [];
      this.liveOf = { policy, question: q.question, greedy };
    });
  }

  /** One more token of the live rollout (`n` tokens, stopping when it ends). */
  async liveNext(n = 1): Promise<void> {
    await this.task('live', async () => {
      for (let i = 0; i < n && this.live && !this.live.finishReason; i++) {
        this.live = await this.trainer!.liveNext();
        if (this.live.step) this.liveSteps = [...this.liveSteps, this.live.step];
        this.changed();
      }
    });
  }

  // ------------------------------------------------------------------ evaluation

  /** The most trained policy there is. */
  get latestPolicy(): PolicyName {
    return this.policies.includes('stage2') ? 'stage2' : this.policies.includes('stage1') ? 'stage1' : 'base';
  }

  async evaluate(policy: PolicyName, splits: Split[], modes: EvalMode[], limit: number): Promise<void> {
    await this.task('eval', async () => {
      this.evalProgress = { done: 0, total: 0 };
      const rows = await this.trainer!.evaluate({ policy, splits, modes, limit }, proxy((done: number, total: number) => {
        this.evalProgress = { done, total };
        this.changed();
      }));
      // A new result replaces the one for the same policy, split and mode.
      const key = (r: EvalRow) => `${r.policy}/${r.split}/${r.mode}`;
      const fresh = new Set(rows.map(key));
      this.evalRows = [...this.evalRows.filter((r) => !fresh.has(key(r))), ...rows];
      this.evalProgress = null;
    });
    this.evalProgress = null;
  }

  // ------------------------------------------------------------------ export and import

  /** Builds an export of a policy in the worker; downloads it unless `download` is false. */
  async exportModel(format: ExportFormat, policy: PolicyName, download = true): Promise<ExportView | undefined> {
    return this.task('export', async () => {
      const kvCache = format === 'onnx' && this.onnxKvCache;
      const r = await this.trainer!.exportZip(format, policy, { kvCache });
      const view: ExportView = { format, policy, kvCache, name: r.name, zip: r.zip, files: r.files };
      this.exports = { ...this.exports, [format]: view };
      if (download) downloadBytes(r.zip, `${r.name}-${format}.zip`);
      return view;
    });
  }

  /**
   * "Run the export": the ONNX check worker (src/onnx/parity-check.ts) loads the policy's ONNX
   * export in onnxruntime-web and answers `q` greedily with search, off the main thread; its
   * tokens and first-step logits are then compared with the trainer's own policy.
   */
  async runExport(policy: PolicyName, q: QuestionChoice): Promise<void> {
    let ex = this.exports.onnx;
    if (!ex || ex.policy !== policy || ex.kvCache !== this.onnxKvCache) ex = await this.exportModel('onnx', policy, false);
    if (!ex) {
      this.errors.onnx = this.errors.export ?? 'the export failed';
      this.changed();
      return;
    }
    const exported = ex;
    await this.task('onnx', async () => {
      const t0 = performance.now();
      const seed = GREEDY_PROMPT_SEED; // the prompt greedy decoding always renders
      const settings = { ...this.rolloutOverride(policy), maxLength: Math.min(448, this.info?.config.maxPositions ?? 448) };
      const prompt = await this.trainer!.renderPrompt(q.question, seed, this.config.preset);
      const c = this.info?.config;
      const kv = c ? { numLayers: c.numLayers, numHeads: c.numHeads, headSize: c.hiddenSize / c.numHeads } : undefined;
      // The zip is copied into the worker: the export stays here for its download.
      const res = await this.withOnnxWorker((api) => api.decode({ zip: exported.zip, prompt, settings, ...(kv ? { kv } : {}) }));
      const ours = await this.trainer!.sample({ policy, question: q.question, answers: q.answers, greedy: true, seed, promptPreset: this.config.preset, rollout: settings });
      const trainerLogits = await this.trainer!.logits(policy, res.promptIds);
      this.onnxCheck = {
        policy, question: q.question, provider: res.provider, note: res.note, kvCache: exported.kvCache,
        completion: res.completion, searches: res.searches,
        trainerCompletion: ours.completion,
        ...compareWithTrainer(res, { ids: ours.tokens, logits: trainerLogits }), seconds: (performance.now() - t0) / 1000,
      };
    });
  }

  /**
   * Calls the ONNX check worker, started on first use with a port of the search worker. A
   * worker that fails to start, or dies, never answers: its error event ends the wait instead,
   * and the next check starts a new worker. A call that merely throws leaves the worker in use.
   */
  private async withOnnxWorker<T>(call: (api: Remote<OnnxCheckApi>) => Promise<T>): Promise<T> {
    let w = this.onnxWorker;
    if (!w) {
      const worker = new Worker(new URL('../../workers/onnx-check.worker.ts', import.meta.url), { type: 'module' });
      let fail: (e: Error) => void = () => {};
      const failed = new Promise<never>((_, reject) => { fail = reject; });
      failed.catch(() => {}); // reported through the call it ends
      const started: OnnxWorker = { worker, api: wrap<OnnxCheckApi>(worker), failed, dead: false };
      worker.addEventListener('error', (e) => {
        started.dead = true;
        fail(new Error(`the ONNX check worker failed: ${e.message || 'it could not start'}`));
      });
      try {
        const channel = new MessageChannel();
        await this.search!.connect(transfer(channel.port1, [channel.port1]));
        await Promise.race([failed, started.api.connect(transfer(channel.port2, [channel.port2]))]);
      } catch (e) {
        worker.terminate();
        throw e;
      }
      this.onnxWorker = w = started;
    }
    return this.raceOnnxWorker(w, call(w.api));
  }

  private async raceOnnxWorker<T>(w: OnnxWorker, call: Promise<T>): Promise<T> {
    try {
      return await Promise.race([w.failed, call]);
    } finally {
      if (w.dead) {
        w.worker.terminate();
        if (this.onnxWorker === w) this.onnxWorker = null;
      }
    }
  }

  /** Imports a checkpoint (folder or zip): a model replaces the base; a run with trainer state resumes. */
  async importPicked(picked: PickedFiles): Promise<void> {
    if (this.running) {
      this.errors.import = 'Pause training before importing a checkpoint.';
      this.changed();
      return;
    }
    await this.task('import', async () => {
      const input = picked.kind === 'zip' ? picked.bytes : picked.files;
      const summary = await this.trainer!.importCheckpoint(input);
      this.applyImport(summary);
      this.baseSamples = [];
      this.importResult = { kind: summary.kind, label: picked.label, notes: summary.notes };
      if (summary.kind === 'run') {
        this.newRun();
        this.runName = `Imported ${picked.label}`;
      } else this.runId = null;
      this.status = summary.kind === 'run'
        ? `Imported ${picked.label}: Stage ${summary.progress.stage}, step ${summary.progress.step} of ${summary.progress.totalSteps}.`
        : `Imported ${picked.label} as the base model (${summary.info.parameters.toLocaleString()} parameters).`;
    });
  }
}

/** Whether an error is the WebGPU backend's device-lost error (src/backend/webgpu/webgpu-backend.ts). */
function isDeviceLost(e: unknown): boolean {
  return /^WebGPU device lost\b/.test(message(e));
}

/** An error's message (comlink passes Errors through with their message). */
export function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
