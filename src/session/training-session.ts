/**
 * A training session as the page runs it: a base checkpoint, the pack's questions, a retriever
 * (the search worker), and the two RL stages run one step at a time. The trainer worker exposes
 * it through comlink (src/session/trainer-api.ts); the page calls `step()` in a loop, so pausing
 * is simply not calling it again, and every result is reported back as plain data.
 *
 * It owns the policies (the base, a finished Stage 1, the running stage's trainer) and the run:
 * imports (src/io/import.ts), the shipped run, and save/restore for the page's saved runs. The
 * tools around it read the policies through its accessors: samples and logits (samples.ts), the
 * live mode (live.ts), the inspector (inspection.ts), evaluation (evaluation.ts) and exports
 * (export.ts).
 *
 * Save and restore go through src/rl/run-state.ts, as `train --resume` does: weights, AdamW
 * moments and step, the trainer's RNG state and step, and the stage's planned length (the
 * learning-rate schedule depends on it), so a resumed run continues bit for bit. Auxiliary work
 * (samples, inspection, evaluation) never draws from the trainer's RNG, so it cannot change a run.
 */
import type { Backend } from '../backend/backend.ts';
import type { Question } from '../corpus/types.ts';
import { checkWeights, decodeCheckpoint, downloadParams, encodeCheckpoint, uploadParams, type Checkpoint, type TrainerState } from '../io/checkpoint.ts';
import { addTagTokens } from '../io/hf-model.ts';
import { importCheckpointFiles, type ImportInput } from '../io/import.ts';
import { readSafetensors, writeSafetensors, type HostTensor } from '../io/safetensors.ts';
import { Llama } from '../model/llama.ts';
import { countParams, paramSpecs } from '../model/params.ts';
import { checkTrainingFits } from '../rl/memory-check.ts';
import type { RolloutSettings } from '../rl/rollout.ts';
import { captureRun, resumeRun, runState, type RunContext } from '../rl/run-state.ts';
import { mergeSettings, type SettingsOverride } from '../rl/settings.ts';
import { RlTrainer, type RolloutRecord, type StepMetrics } from '../rl/trainer.ts';
import { defaultRlSettings, storedRlSettings, type RlSettings } from '../rl/settings.ts';
import type { Retriever } from '../search/retriever.ts';
import { ByteLevelBpeTokenizer } from '../tokenizer/byte-level.ts';
import {
  BASE_WEIGHTS_FILE, POLICY_NAMES, POLICY_STAGE, STAGE1_WEIGHTS_FILE, type EvalRow, type ImportSummary, type PolicyName, type SessionInfo,
  type SessionProgress, type SessionSnapshot, type ShippedPolicies,
} from './types.ts';

/** The page's training session (see the file comment); one per trainer worker. */
export class TrainingSession {
  private ckpt: Checkpoint | null = null;
  private allQuestions: Question[] = [];
  private trainQuestions: Question[] = [];
  private search: Retriever | null = null;
  private pack = '';
  private trainer: RlTrainer | null = null;
  /** Host weights of the base (0) and of a finished Stage 1 (1); the running stage's live in the trainer. */
  private snapshots = new Map<0 | 1 | 2, Map<string, HostTensor>>();
  /** Uploaded copies of snapshots, made on demand for samples and evaluation. */
  private models = new Map<0 | 1 | 2, Llama>();
  private stage: 1 | 2 | null = null;
  private totalSteps = 0;
  private seed = 0;
  /** What the running stage started from (its KL reference). */
  private stageInit: 0 | 1 = 0;
  private metrics: { 1: StepMetrics[]; 2: StepMetrics[] } = { 1: [], 2: [] };
  private rollouts: RolloutRecord[] = [];
  /** Weights before the latest step: the policy that sampled `rollouts` (for exact inspection). */
  private preStep: Map<string, HostTensor> | null = null;

  private evalRows: EvalRow[] = [];
  private readonly changeListeners: (() => void)[] = [];

  constructor(readonly backend: Backend) {}

  /**
   * Loads the base checkpoint through `read(name)` and takes the pack's questions (training
   * uses the `train` split; evaluation the others).
   * @throws CheckpointError naming the file and field of a bad checkpoint; Error when the pack has no training questions.
   */
  async load(read: (name: string) => Promise<Uint8Array | null>, questions: Question[], retriever: Retriever, packName = ''): Promise<SessionInfo> {
    const ckpt = await decodeCheckpoint(read, { modelOnly: true });
    this.allQuestions = questions;
    this.trainQuestions = questions.filter((q) => q.split === 'train');
    if (this.trainQuestions.length === 0) throw new Error('session: the pack has no training questions');
    this.search = retriever;
    this.pack = packName;
    this.adoptBase(ckpt);
    return this.info();
  }

  /** The loaded model's description. */
  info(): SessionInfo {
    const ckpt = this.need();
    return {
      backend: this.backend.name, parameters: countParams(ckpt.config), vocabulary: ckpt.tokenizer.size,
      config: ckpt.config, trainQuestions: this.trainQuestions.length,
    };
  }

  /** Where the session stands. */
  progress(): SessionProgress {
    const policies: PolicyName[] = ['base'];
    if (this.stage === 1 || this.snapshots.has(1)) policies.push('stage1');
    if (this.stage === 2 || this.snapshots.has(2)) policies.push('stage2');
    return {
      stage: this.stage, step: this.trainer?.step ?? 0, totalSteps: this.totalSteps, seed: this.seed,
      settings: this.trainer?.settings ?? null, metrics: { 1: [...this.metrics[1]], 2: [...this.metrics[2]] }, rollouts: this.rollouts, policies,
    };
  }

  /**
   * Starts a stage: Stage 1 from the base, Stage 2 from Stage 1's final policy when there is
   * one (else from the base: the "Stage 1 skipped" ablation). The stage's initial policy is the
   * KL reference. Starting Stage 1 again discards the Stage-1 and Stage-2 policies; starting
   * Stage 2 again discards the Stage-2 policy. Returns the settings in force.
   * @throws Error naming an unknown or impossible setting.
   */
  async startStage(stage: 1 | 2, override: SettingsOverride, totalSteps: number, seed: number): Promise<RlSettings> {
    const ckpt = this.need();
    if (!Number.isInteger(totalSteps) || totalSteps < 1) throw new Error(`session: totalSteps must be a positive integer, got ${totalSteps}`);
    const settings = mergeSettings(stage, override);
    // Stage 1's policy: the running Stage-1 trainer's weights when Stage 2 starts after it.
    let stage1 = this.snapshots.get(1) ?? null;
    if (stage === 2 && this.trainer && this.stage === 1) stage1 = await downloadParams(this.backend, this.trainer.model.params);
    const init: 0 | 1 = stage === 2 && stage1 ? 1 : 0;
    const from = init === 1 ? stage1! : this.snapshots.get(0)!;
    // Built before anything changes: impossible settings leave the running stage as it was.
    const trainer = this.makeTrainer(ckpt, settings, from, from, totalSteps, seed);
    this.policiesChange();
    this.disposeTrainer();
    this.setSnapshot(1, stage === 1 ? null : stage1);
    this.setSnapshot(2, null); // a shipped run's Stage-2 policy goes when any stage starts
    this.trainer = trainer;
    this.stage = stage;
    this.stageInit = init;
    this.totalSteps = totalSteps;
    this.seed = seed;
    this.metrics[stage] = [];
    if (stage === 1) this.metrics[2] = [];
    this.rollouts = [];
    this.preStep = null;
    return this.trainer.settings;
  }

  /** One RL step of the running stage; keeps its metrics and rollouts. @throws Error when no stage runs or it is complete. */
  async step(): Promise<{ metrics: StepMetrics; rollouts: RolloutRecord[] }> {
    const trainer = this.trainer;
    if (!trainer || !this.stage) throw new Error('session: start a stage first');
    if (trainer.step >= this.totalSteps) throw new Error(`session: Stage ${this.stage} is complete (${this.totalSteps} steps); start the next stage or restart this one`);
    // The policy that samples this batch, for exact per-token probabilities in the inspector.
    const before = await downloadParams(this.backend, trainer.model.params);
    const res = await trainer.runStep();
    this.preStep = before;
    this.metrics[this.stage].push(res.metrics);
    this.rollouts = res.rollouts;
    return res;
  }

  /**
   * Shows a finished run without training: its Stage-1 and Stage-2 policies become the
   * `stage1` and `stage2` policies (Compare, evaluation, the live mode) and its metrics the
   * session's; no stage runs, so starting one trains from scratch (Stage 1 from the base).
   * @throws Error naming the file when a policy's weights are unreadable or of another shape.
   */
  adoptShipped(run: ShippedPolicies): SessionProgress {
    const ckpt = this.need();
    const w1 = readWeightsFile(run.stage1, 'stage1.safetensors', ckpt.config, 'shipped run', true);
    const w2 = readWeightsFile(run.stage2, 'stage2.safetensors', ckpt.config, 'shipped run', true);
    this.policiesChange();
    this.disposeTrainer();
    this.stage = null;
    this.totalSteps = 0;
    this.setSnapshot(1, w1);
    this.setSnapshot(2, w2);
    this.metrics = { 1: run.metrics.filter((m) => m.stage === 1), 2: run.metrics.filter((m) => m.stage === 2) };
    this.rollouts = [];
    this.preStep = null;
    this.evalRows = [];
    return this.progress();
  }

  /**
   * The running stage as checkpoint files (config, weights, optimizer, trainer_state.json with
   * the RNG state, tokenizer) plus the base and Stage-1 weights, for the page's saved runs.
   * @throws Error when no stage has started.
   */
  async snapshot(): Promise<SessionSnapshot> {
    const ckpt = this.need();
    const trainer = this.trainer;
    if (!trainer || !this.stage) throw new Error('session: nothing to save before a stage starts');
    const lineage: TrainerState['lineage'] = [];
    if (this.stage === 2 && this.metrics[1].length) lineage.push({ stage: 1, steps: this.metrics[1].length, pack: this.pack });
    lineage.push({ stage: this.stage, steps: trainer.step, pack: this.pack });
    const files = encodeCheckpoint(await captureRun(this.backend, ckpt, trainer, this.runContext(this.stage, trainer.step, lineage)));
    files.set(BASE_WEIGHTS_FILE, writeSafetensors(ordered(this.snapshots.get(0)!, ckpt)));
    if (this.snapshots.has(1)) files.set(STAGE1_WEIGHTS_FILE, writeSafetensors(ordered(this.snapshots.get(1)!, ckpt)));
    return { files, stage: this.stage, step: trainer.step, totalSteps: this.totalSteps };
  }

  /**
   * Restores a run saved by {@link snapshot} (or a `train` output folder of the CLI): the stage
   * continues bit for bit where it stopped. `metrics` (both stages, in order) and `rollouts`
   * are what the page showed; for a CLI folder they are read from metrics.jsonl and
   * rollouts.json when not given. Nothing changes when the files are refused.
   * @throws ImportError naming the file and field of a bad checkpoint; Error when it holds no RL stage.
   */
  async restore(input: ImportInput, metrics?: StepMetrics[], rollouts?: RolloutRecord[]): Promise<ImportSummary> {
    const { checkpoint, files, notes } = await importCheckpointFiles(input);
    if (!checkpoint.state || (checkpoint.state.stage !== 1 && checkpoint.state.stage !== 2) || !checkpoint.optimizer) {
      throw new Error('session: the checkpoint holds no RL stage to resume (it needs trainer_state.json of stage 1 or 2 and optimizer.safetensors)');
    }
    this.adoptRun(checkpoint, files, notes, metrics, rollouts);
    return { kind: 'run', notes, info: this.info(), progress: this.progress() };
  }

  /**
   * Imports a checkpoint folder (name -> bytes) or zip, validated by src/io/import.ts. A
   * checkpoint with an RL stage's trainer state and optimizer resumes that stage; any other
   * model replaces the base (every stage's policy is dropped). Nothing changes when refused.
   * @throws ImportError naming the file and the tensor or field.
   */
  async importCheckpoint(input: ImportInput): Promise<ImportSummary> {
    const imported = await importCheckpointFiles(input);
    const { files, notes } = imported;
    // A Hugging Face model's byte-level tokenizer gets the tags as tokens (src/io/hf-model.ts).
    const tagged = imported.checkpoint.tokenizer instanceof ByteLevelBpeTokenizer ? addTagTokens(imported.checkpoint) : null;
    const checkpoint = tagged ? tagged.checkpoint : imported.checkpoint;
    if (tagged) notes.push(...tagged.notes);
    // Refused with the numbers, before anything changes, when training cannot fit this backend.
    notes.push(checkTrainingFits(checkpoint.config, this.trainer?.settings ?? defaultRlSettings(1), this.backend).line);
    const st = checkpoint.state;
    if (st && (st.stage === 1 || st.stage === 2) && checkpoint.optimizer) {
      this.adoptRun(checkpoint, files, notes);
      return { kind: 'run', notes, info: this.info(), progress: this.progress() };
    }
    this.policiesChange();
    this.disposeTrainer();
    this.adoptBase({ config: checkpoint.config, tokenizer: checkpoint.tokenizer, weights: checkpoint.weights });
    const unknown = this.trainQuestions.slice(0, 200).reduce((n, q) => n + checkpoint.tokenizer.countUnknown(q.question), 0);
    if (unknown > 0) notes.push(`${unknown} words of the first 200 training questions are not in this model's vocabulary (they read as <unk>)`);
    return { kind: 'base', notes, info: this.info(), progress: this.progress() };
  }

  // ------------------------------------------------------------------ what the tools read

  /** The loaded base checkpoint (config and tokenizer of every policy). @throws Error before `load`. */
  checkpoint(): Checkpoint {
    return this.need();
  }

  /** The retriever rollouts search through. @throws Error before `load`. */
  retriever(): Retriever {
    if (!this.search) throw new Error('session: load a base checkpoint first');
    return this.search;
  }

  /** The pack's questions, every split. */
  questions(): readonly Question[] {
    return this.allQuestions;
  }

  /** The loaded pack's name ("" when not given). */
  packName(): string {
    return this.pack;
  }

  /** The prompt preset of the running stage (Stage 1's default before one runs). */
  promptPresetName(): string {
    return this.trainer?.settings.promptPreset ?? defaultRlSettings(1).promptPreset;
  }

  /** Rollout settings of a stage: the running trainer's, else the stage defaults (Stage 1's for the base). */
  stageRolloutSettings(stage: 0 | 1 | 2): RolloutSettings {
    return this.trainer && stage === this.stage ? this.trainer.settings.rollout : defaultRlSettings(stage === 2 ? 2 : 1).rollout;
  }

  /** The latest step's rollouts, the weights that sampled them (null after a restore) and the running stage. */
  latestBatch(): { rollouts: readonly RolloutRecord[]; preStep: ReadonlyMap<string, HostTensor> | null; stage: 1 | 2 | null } {
    return { rollouts: this.rollouts, preStep: this.preStep, stage: this.stage };
  }

  /** A stage's metrics, in step order. */
  stageMetrics(stage: 1 | 2): readonly StepMetrics[] {
    return this.metrics[stage];
  }

  /** trainer_state.json of a stage's policy at `step`; undefined without a trainer (a shipped run's policies). */
  stageState(stage: 1 | 2, step: number, lineage: TrainerState['lineage']): TrainerState | undefined {
    return this.trainer ? this.trainerState(stage, step, lineage) : undefined;
  }

  /** Keeps the latest evaluation's rows (the export's model card reads them). */
  recordEvaluation(rows: EvalRow[]): void {
    this.evalRows = rows;
  }

  /** The latest evaluation's rows. */
  evaluations(): readonly EvalRow[] {
    return this.evalRows;
  }

  /** Calls `listener` before the policies change (a stage starts, a run or a base is adopted). */
  onPoliciesChange(listener: () => void): void {
    this.changeListeners.push(listener);
  }

  // ------------------------------------------------------------------ internals

  private need(): Checkpoint {
    if (!this.ckpt) throw new Error('session: load a base checkpoint first');
    return this.ckpt;
  }

  /** A new base: every stage and cached model goes. */
  private adoptBase(ckpt: Checkpoint): void {
    this.ckpt = { config: ckpt.config, tokenizer: ckpt.tokenizer, weights: ckpt.weights };
    for (const k of [0, 1, 2] as const) this.setSnapshot(k, null);
    this.setSnapshot(0, ckpt.weights);
    this.trainer = null;
    this.stage = null;
    this.totalSteps = 0;
    this.metrics = { 1: [], 2: [] };
    this.rollouts = [];
    this.preStep = null;
    this.evalRows = [];
  }

  /** Resumes a validated checkpoint with an RL stage (as `train --resume` does). */
  private adoptRun(checkpoint: Checkpoint, files: Map<string, Uint8Array>, notes: string[], metrics?: StepMetrics[], rollouts?: RolloutRecord[]): void {
    const st = checkpoint.state!;
    const stage = st.stage as 1 | 2;
    // A run saved before a setting existed resumes with the value that reproduces it.
    const settings = storedRlSettings(stage, st.settings, 'settings');
    const readWeights = (file: string): Map<string, HostTensor> | null => {
      const bytes = files.get(file);
      return bytes ? readWeightsFile(bytes, file, checkpoint.config, 'import') : null;
    };
    const base = readWeights(BASE_WEIGHTS_FILE);
    const stage1 = readWeights(STAGE1_WEIGHTS_FILE);
    const current = this.ckpt;
    const sameShape = !!current && JSON.stringify(current.config) === JSON.stringify(checkpoint.config);
    if (!base && !sameShape) notes.push(`${BASE_WEIGHTS_FILE} is missing and the loaded base has another shape: Compare shows the imported policy only`);
    else if (!base) notes.push(`${BASE_WEIGHTS_FILE} is missing: the loaded base stands in for it`);
    const baseWeights = base ?? (sameShape ? current!.weights : checkpoint.weights);
    // The KL reference is the stage's initial policy: the base for Stage 1; for Stage 2 the file
    // trainer_state.json names, or (a CLI folder names a path) the Stage-1 policy when present.
    const refInit: 0 | 1 = stage === 2 && stage1 && st.init !== BASE_WEIGHTS_FILE ? 1 : 0;
    const refKnown = st.init === BASE_WEIGHTS_FILE || (st.init === STAGE1_WEIGHTS_FILE && stage1);
    if (!refKnown && (settings.klCoef > 0 || settings.klEvery > 0)) {
      notes.push(`the KL reference (${st.init || 'unknown'}) is not in the files: the ${refInit ? 'Stage-1' : 'base'} policy stands in for it`);
    }
    // Parse and build everything before changing anything: a refused file (or settings this pack
    // cannot train with) leaves the session as it was.
    const parsedMetrics = metrics ?? parseJsonl(files.get('metrics.jsonl'));
    const parsedRollouts = rollouts ?? parseJson(files.get('rollouts.json'));
    const trainer = this.makeTrainer(checkpoint, settings, checkpoint.weights, refInit === 1 ? stage1! : baseWeights, st.totalSteps, st.seed);
    this.policiesChange();
    this.disposeTrainer();
    this.adoptBase({ config: checkpoint.config, tokenizer: checkpoint.tokenizer, weights: baseWeights });
    if (stage1) this.setSnapshot(1, stage1);
    resumeRun(this.backend, trainer, checkpoint);
    this.trainer = trainer;
    this.stage = stage;
    this.stageInit = refInit;
    this.totalSteps = st.totalSteps;
    this.seed = st.seed;
    const ms = (parsedMetrics ?? []) as StepMetrics[];
    this.metrics = { 1: ms.filter((m) => m.stage === 1), 2: ms.filter((m) => m.stage === 2) };
    this.metrics[stage] = this.metrics[stage].slice(0, st.step);
    this.rollouts = Array.isArray(parsedRollouts) ? (parsedRollouts as RolloutRecord[]) : [];
  }

  /** A trainer starting from `from` with `ref` as its KL reference (uploaded only when the settings need one). */
  private makeTrainer(ckpt: Checkpoint, settings: RlSettings, from: ReadonlyMap<string, HostTensor>, ref: ReadonlyMap<string, HostTensor>, totalSteps: number, seed: number): RlTrainer {
    const params = uploadParams(this.backend, from);
    const refParams = settings.klCoef > 0 || settings.klEvery > 0 ? uploadParams(this.backend, ref) : undefined;
    try {
      return new RlTrainer({
        backend: this.backend, config: ckpt.config, params, refParams, tokenizer: ckpt.tokenizer, retriever: this.retriever(),
        questions: this.trainQuestions, settings, totalSteps, seed,
      });
    } catch (e) {
      for (const t of [...params.values(), ...(refParams?.values() ?? [])]) this.backend.dispose(t);
      throw e;
    }
  }

  private disposeTrainer(): void {
    const t = this.trainer;
    if (!t) return;
    for (const set of [t.model.params, t.ref?.params, t.optimizer.m, t.optimizer.v, t.grads]) {
      if (set) for (const x of set.values()) this.backend.dispose(x);
    }
    this.trainer = null;
  }

  private setSnapshot(k: 0 | 1 | 2, w: Map<string, HostTensor> | null): void {
    const m = this.models.get(k);
    if (m) for (const t of m.params.values()) this.backend.dispose(t);
    this.models.delete(k);
    if (w) this.snapshots.set(k, w);
    else this.snapshots.delete(k);
  }

  /** The model of a policy: the trainer's own for the running stage, else an uploaded snapshot. @throws Error when it does not exist yet. */
  async policyModel(policy: PolicyName): Promise<{ model: Llama; stage: 0 | 1 | 2 }> {
    const ckpt = this.need();
    const stage = POLICY_STAGE[policy];
    if (!POLICY_NAMES.includes(policy)) throw new Error(`session: unknown policy "${String(policy)}" (known: ${POLICY_NAMES.join(', ')})`);
    if (stage !== 0 && stage === this.stage && this.trainer) return { model: this.trainer.model, stage };
    const w = this.snapshots.get(stage);
    if (!w) throw new Error(`session: there is no ${stage === 1 ? 'Stage-1' : 'Stage-2'} policy yet (train that stage first)`);
    let model = this.models.get(stage);
    if (!model) {
      model = new Llama(this.backend, ckpt.config, uploadParams(this.backend, w));
      this.models.set(stage, model);
    }
    return { model, stage };
  }

  /**
   * A policy's weights as a safetensors file in the parameter order of the config (F16 halves
   * it, for the shipped run). @throws Error when the policy does not exist yet.
   */
  async weightsFile(policy: PolicyName, dtype: 'F32' | 'F16' = 'F32'): Promise<Uint8Array> {
    return writeSafetensors(ordered(await this.policyWeights(policy), this.need()), undefined, { dtype });
  }

  /** Steps the policy has trained in its stage (0 for the base). */
  policySteps(policy: PolicyName): number {
    const stage = POLICY_STAGE[policy];
    if (stage === 0) return 0;
    return stage === this.stage && this.trainer ? this.trainer.step : this.metrics[stage as 1 | 2].length;
  }

  /** A policy's weights on the host (the running stage's copied from the device). @throws Error when it does not exist yet. */
  async policyWeights(policy: PolicyName): Promise<Map<string, HostTensor>> {
    const stage = POLICY_STAGE[policy];
    if (stage !== 0 && stage === this.stage && this.trainer) return downloadParams(this.backend, this.trainer.model.params);
    const w = this.snapshots.get(stage);
    if (!w) throw new Error(`session: there is no ${stage === 1 ? 'Stage-1' : 'Stage-2'} policy yet (train that stage first)`);
    return w;
  }

  /** trainer_state.json of a stage's policy at `step`. */
  private trainerState(stage: 1 | 2, step: number, lineage: TrainerState['lineage']): TrainerState {
    return runState(this.trainer!, this.runContext(stage, step, lineage));
  }

  /** What the run state needs besides the trainer (for a stage that is not running: the settings it would start with). */
  private runContext(stage: 1 | 2, step: number, lineage: TrainerState['lineage']): RunContext {
    const running = stage === this.stage;
    return {
      stage, step, totalSteps: running ? this.totalSteps : step, seed: this.seed, optimizerStep: running ? this.trainer!.optimizer.step : 0,
      settings: running ? this.trainer!.settings : mergeSettings(stage), pack: this.pack, preset: '',
      init: this.stageInit === 1 && stage === 2 ? STAGE1_WEIGHTS_FILE : BASE_WEIGHTS_FILE, lineage,
      elapsedSeconds: this.metrics[stage].slice(0, step).reduce((sum, m) => sum + m.seconds, 0),
    };
  }

  /** Tells the tools that hold a policy's model (the live mode) to let go of it. */
  private policiesChange(): void {
    for (const f of this.changeListeners) f();
  }
}

/**
 * A policy's weights from a safetensors file, checked against the model's shapes.
 * @throws Error `<what>: <file>: <problem>` for an unreadable file or a missing or misshapen tensor.
 */
function readWeightsFile(bytes: Uint8Array, file: string, config: Checkpoint['config'], what: string, widen = false): Map<string, HostTensor> {
  let t: Map<string, HostTensor>;
  try {
    t = readSafetensors(bytes, { widen }).tensors;
  } catch (e) {
    throw new Error(`${what}: ${file}: ${(e as Error).message.replace(/^safetensors: /, '')}`);
  }
  checkWeights(t, config, file);
  return t;
}

function ordered(w: ReadonlyMap<string, HostTensor>, ckpt: Checkpoint): [string, HostTensor][] {
  return paramSpecs(ckpt.config).map((s) => [s.name, w.get(s.name)!]);
}

function parseJsonl(bytes: Uint8Array | undefined): unknown[] | null {
  if (!bytes) return null;
  const lines = new TextDecoder().decode(bytes).split('\n').filter((l) => l.trim());
  return lines.map((l, i) => {
    try {
      return JSON.parse(l) as unknown;
    } catch (e) {
      throw new Error(`import: metrics.jsonl line ${i + 1} is not JSON (${(e as Error).message})`);
    }
  });
}

function parseJson(bytes: Uint8Array | undefined): unknown {
  if (!bytes) return null;
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as unknown;
  } catch (e) {
    throw new Error(`import: rollouts.json is not JSON (${(e as Error).message})`);
  }
}
