/**
 * A training session as the page runs it: a base checkpoint, the pack's questions, a retriever
 * (the search worker), and the two RL stages run one step at a time. The trainer worker exposes
 * this object through comlink; the page calls `step()` in a loop, so pausing is simply not
 * calling it again, and every result is reported back as plain data.
 *
 * Besides training it serves what the page shows about the policies: samples from the base,
 * Stage-1 and Stage-2 policies (side by side for Compare), a per-token view of any rollout of
 * the latest batch (inspect.ts), a live rollout one token per call (live-rollout.ts), the
 * evaluation of src/eval/evaluate.ts, exports (src/io/export-folder.ts), imports
 * (src/io/import.ts), and save/restore of a run for the page's saved runs.
 *
 * Save and restore mirror `train --resume` (src/cli/commands/train.ts): weights, AdamW moments
 * and step, the trainer's RNG state and step, and the stage's planned length (the learning-rate
 * schedule depends on it), so a resumed run continues bit for bit. Auxiliary work (samples,
 * inspection, evaluation) never draws from the trainer's RNG, so it cannot change a run.
 */
import type { Backend } from '../backend/backend.ts';
import type { Question, Split } from '../corpus/types.ts';
import { defaultEvalSettings, evaluate, type EvalMetrics, type EvalMode, type EvalRecord } from '../eval/evaluate.ts';
import { mergeSettings, type SettingsOverride } from './settings.ts';
import { checkWeights, decodeCheckpoint, downloadParams, encodeCheckpoint, uploadParams, type Checkpoint, type TrainerState } from '../io/checkpoint.ts';
import { exportFiles, type ExportFormat } from '../io/export-folder.ts';
import { importCheckpointFiles, type ImportInput } from '../io/import.ts';
import { addTagTokens } from '../io/hf-model.ts';
import { checkTrainingFits } from './memory-check.ts';
import { ByteLevelBpeTokenizer } from '../tokenizer/byte-level.ts';
import { readSafetensors, writeSafetensors, type HostTensor } from '../io/safetensors.ts';
import { zipFiles } from '../io/zip.ts';
import { Llama } from '../model/llama.ts';
import { countParams, paramSpecs, type ParamSet } from '../model/params.ts';
import type { Retriever } from '../search/retriever.ts';
import { Rng } from '../util/rng.ts';
import { scoreTokens, type TokenScore } from './inspect.ts';
import { LiveRollout, type LiveStep } from './live-rollout.ts';
import { getPromptPreset, renderPrompt } from './prompts.ts';
import { computeReward, type RewardParts } from './rewards.ts';
import { generateRollouts, type FinishReason, type RolloutSettings } from './rollout.ts';
import { cutWords } from './splice.ts';
import { defaultRlSettings, RlTrainer, slotAnswerWords, upgradeRlSettings, type RlSettings, type RolloutRecord, type StepMetrics } from './trainer.ts';

/** What the page needs to know after loading. */
export interface SessionInfo {
  backend: string;
  parameters: number;
  vocabulary: number;
  config: Checkpoint['config'];
  trainQuestions: number;
}

// The one settings merge lives in src/rl/settings.ts; re-exported for this module's importers.
export { mergeSettings, type SettingsOverride } from './settings.ts';

/** Steps of each stage in the page by default (the recipe's Stage 1; Stage 2 as the page offers it). */
export const DEFAULT_STAGE_STEPS: Readonly<{ 1: number; 2: number }> = Object.freeze({ 1: 20, 2: 200 });

/**
 * Seed of the prompt's slot words for greedy decoding outside training: the prompt is rendered
 * the same way every time, so greedy decoding gives the same answer to the same question.
 */
export const GREEDY_PROMPT_SEED = 1;

/** A policy the page can ask about: the base, or the latest weights of an RL stage. */
export type PolicyName = 'base' | 'stage1' | 'stage2';
/** Every policy name, oldest first. */
export const POLICY_NAMES: readonly PolicyName[] = ['base', 'stage1', 'stage2'];
const POLICY_STAGE: Readonly<Record<PolicyName, 0 | 1 | 2>> = { base: 0, stage1: 1, stage2: 2 };

/** Where a session stands: what the page redraws after a load, an import or a restore. */
export interface SessionProgress {
  /** The stage the trainer runs (null before the first stage starts). */
  stage: 1 | 2 | null;
  /** Steps done in that stage, and planned. */
  step: number;
  totalSteps: number;
  seed: number;
  settings: RlSettings | null;
  /** Metrics per stage, in step order. */
  metrics: { 1: StepMetrics[]; 2: StepMetrics[] };
  /** The latest step's rollouts. */
  rollouts: RolloutRecord[];
  /** Policies that exist now (base always). */
  policies: PolicyName[];
}

/** A request for one rollout outside training (Base model, Compare, the export check). */
export interface SampleRequest {
  policy: PolicyName;
  question: string;
  /** Gold answers: when given, the Stage-2 reward parts (F1, format, ...) are computed. */
  answers?: string[];
  /** Greedy decoding (evaluation's) instead of sampling at temperature 1, top-p 0.95. */
  greedy?: boolean;
  /**
   * Seed of the prompt's placeholder words and of sampling (default 1). Greedy decoding ignores
   * it: its prompt is always rendered with {@link GREEDY_PROMPT_SEED}.
   */
  seed?: number;
  promptPreset?: string;
  rollout?: Partial<RolloutSettings>;
}

/** One rollout outside training, as the page shows it. */
export interface SampleResult {
  policy: PolicyName;
  question: string;
  /** How it was decoded: `greedy` (argmax, fixed prompt) or `sampled` (temperature and top-p of the stage). */
  decoding: 'greedy' | 'sampled';
  /** Seed of the prompt rendering (and of sampling when sampled). */
  seed: number;
  prompt: string;
  /** The completion's text (documents included, tags written out). */
  completion: string;
  /** Token ids and their text (prompt, then completion). */
  ids: number[];
  tokens: string[];
  promptLength: number;
  actionMask: number[];
  retrieveMask: number[];
  logProbs: number[];
  searches: { query: string; hits: { id: string; title: string; score: number }[] }[];
  finishReason: FinishReason;
  /** Stage-2 reward and parts against `answers` (null without answers). */
  reward: number | null;
  parts: RewardParts | null;
}

/** A per-token view of a rollout of the latest batch. */
export interface RolloutInspection {
  /** Index in the latest batch (-1 for a rollout of an earlier step, {@link TrainingSession.inspectRecord}). */
  index: number;
  /** Text of every token of the rollout. */
  tokens: string[];
  /** Scores of positions promptLength .. T-1 (index i = position promptLength + i). */
  scores: TokenScore[];
  /** True when scored with the policy that sampled the batch (false after a restore, or for an earlier step: `scoredWith`). */
  exact: boolean;
  /** The policy that scored it when not exact. */
  scoredWith?: PolicyName;
}

/** One live step as the page shows it. */
export interface LiveView {
  step: LiveStep | null;
  /** Text of every token so far. */
  tokens: string[];
  promptLength: number;
  actionMask: number[];
  retrieveMask: number[];
  logProbs: number[];
  searches: { query: string; hits: { id: string; title: string; score: number }[]; start: number; end: number }[];
  finishReason: FinishReason | null;
  /** Stage-2 reward parts when finished and gold answers were given. */
  parts: RewardParts | null;
  prompt: string;
}

/** A request to evaluate a policy (src/eval/evaluate.ts) on a sample of questions. */
export interface EvalRequest {
  policy: PolicyName;
  splits: Split[];
  modes: EvalMode[];
  /** Questions per split (0 = all of them), drawn by {@link evaluationSample}. */
  limit: number;
  topK?: number;
  maxSearches?: number;
  maxNewTokens?: number;
}

/** One split x mode of an evaluation. */
export interface EvalRow {
  policy: PolicyName;
  /** Steps the policy had trained in its stage when evaluated (0 for the base). */
  steps: number;
  split: Split;
  mode: EvalMode;
  overall: EvalMetrics;
  byTemplate: Record<string, EvalMetrics>;
  byHops: Record<string, EvalMetrics>;
  /** The first few evaluated questions, to show what the numbers mean. */
  examples: EvalRecord[];
}

/** A run's files for the page's saved runs (src/io/run-store.ts) and where it stands. */
export interface SessionSnapshot {
  files: Map<string, Uint8Array>;
  stage: 1 | 2;
  step: number;
  totalSteps: number;
}

/** What an import did. */
export interface ImportSummary {
  /** `run`: a checkpoint with trainer state, resumed; `base`: a model that replaced the base. */
  kind: 'base' | 'run';
  notes: string[];
  info: SessionInfo;
  progress: SessionProgress;
}

/** A finished two-stage run to show without training (the `shipped-run` command writes it). */
export interface ShippedPolicies {
  /** Weights of the final Stage-1 and Stage-2 policies (F32, or F16 widened). */
  stage1: Uint8Array;
  stage2: Uint8Array;
  /** Both stages' metrics, in step order. */
  metrics: StepMetrics[];
}

/** Files a saved run holds besides the checkpoint: the base and the Stage-1 policy (for Compare and the KL reference). */
export const BASE_WEIGHTS_FILE = 'base.safetensors';
export const STAGE1_WEIGHTS_FILE = 'stage1.safetensors';

/**
 * `n` questions spread over the templates: the first question of every template (templates in
 * order of first appearance), then the second of each, and so on. Deterministic; the whole list
 * when n is 0 or at least its length. The pack lists a split template by template, so its first
 * n would all share one template.
 */
export function evaluationSample(questions: readonly Question[], n: number): Question[] {
  if (n <= 0 || n >= questions.length) return [...questions];
  const byTemplate = new Map<string, Question[]>();
  for (const q of questions) byTemplate.set(q.template, [...(byTemplate.get(q.template) ?? []), q]);
  const lists = [...byTemplate.values()];
  const out: Question[] = [];
  for (let i = 0; out.length < n; i++) {
    for (const l of lists) if (i < l.length && out.length < n) out.push(l[i]!);
  }
  return out;
}

/** The page's training session (see the file comment); one per trainer worker. */
export class TrainingSession {
  private ckpt: Checkpoint | null = null;
  private questions: Question[] = [];
  private trainQuestions: Question[] = [];
  private retriever: Retriever | null = null;
  private packName = '';
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
  private live: { rollout: LiveRollout; prompt: string; answers: string[] | null; stage: 1 | 2 } | null = null;
  private lastEval: EvalRow[] = [];

  constructor(private readonly backend: Backend) {}

  /**
   * Loads the base checkpoint through `read(name)` and takes the pack's questions (training
   * uses the `train` split; evaluation the others).
   * @throws CheckpointError naming the file and field of a bad checkpoint; Error when the pack has no training questions.
   */
  async load(read: (name: string) => Promise<Uint8Array | null>, questions: Question[], retriever: Retriever, packName = ''): Promise<SessionInfo> {
    const ckpt = await decodeCheckpoint(read, { modelOnly: true });
    this.questions = questions;
    this.trainQuestions = questions.filter((q) => q.split === 'train');
    if (this.trainQuestions.length === 0) throw new Error('session: the pack has no training questions');
    this.retriever = retriever;
    this.packName = packName;
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
    this.liveStop();
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

  /** The prompt a stage renders for a question (a fixed generator: it never touches the trainer's). */
  renderPrompt(question: string, seed = 1, preset?: string): string {
    const ckpt = this.need();
    const name = preset ?? this.trainer?.settings.promptPreset ?? defaultRlSettings(1).promptPreset;
    return renderPrompt(getPromptPreset(name), question, new Rng(seed), { answerWords: slotAnswerWords(ckpt.tokenizer) });
  }

  /**
   * One rollout of a policy on any question (a typed one too), with searches, outside training.
   * @throws Error when the policy does not exist yet (e.g. Stage 2 before it started).
   */
  async sample(req: SampleRequest): Promise<SampleResult> {
    const ckpt = this.need();
    const { model, stage } = await this.policyModel(req.policy);
    const seed = req.greedy ? GREEDY_PROMPT_SEED : req.seed ?? 1;
    const settings = this.rolloutSettings(stage, req);
    const prompt = this.renderPrompt(req.question, seed, req.promptPreset);
    const ids = [ckpt.tokenizer.bosId, ...ckpt.tokenizer.encode(prompt)];
    const [r] = await generateRollouts(model, ckpt.tokenizer, this.retriever!, [ids], 1, settings, new Rng(seed));
    const roll = r!;
    const completion = ckpt.tokenizer.decode(roll.tokens.slice(roll.promptLength));
    const scored = req.answers && req.answers.length > 0 ? this.reward(completion, req.answers, roll.searches.map((c) => c.hits), settings.docMaxWords) : null;
    return {
      policy: req.policy, question: req.question, decoding: req.greedy ? 'greedy' : 'sampled', seed, prompt, completion, ids: roll.tokens, tokens: roll.tokens.map((t) => ckpt.tokenizer.vocab[t]!),
      promptLength: roll.promptLength, actionMask: Array.from(roll.actionMask), retrieveMask: Array.from(roll.retrieveMask), logProbs: Array.from(roll.logProbs),
      searches: roll.searches.map((c) => ({ query: c.query, hits: c.hits.map((h) => ({ id: h.id, title: h.title, score: h.score })) })),
      finishReason: roll.finishReason, reward: scored?.reward ?? null, parts: scored?.parts ?? null,
    };
  }

  /**
   * Next-token logits (V) of a policy after `ids` (for the export check: the ONNX model must
   * give the same numbers).
   */
  async logits(policy: PolicyName, ids: number[]): Promise<Float32Array> {
    const { model } = await this.policyModel(policy);
    if (ids.length === 0) throw new Error('session: logits of an empty sequence');
    const cache = model.createCache(1, ids.length);
    try {
      const out = model.forwardInfer(cache, {
        tokens: Int32Array.from(ids), slots: new Int32Array(ids.length), positions: Int32Array.from(ids, (_, i) => i), outRows: Int32Array.of(ids.length - 1),
      });
      const host = (await this.backend.read(out)) as Float32Array;
      this.backend.dispose(out);
      return host;
    } finally {
      model.disposeCache(cache);
    }
  }

  /**
   * Per-token probabilities and top alternatives of rollout `index` of the latest batch, under
   * the policy that sampled it (the weights before the latest update); after a restore, when
   * those weights are gone, under the current policy (`exact: false`).
   * @throws RangeError for an index outside the batch.
   */
  async inspect(index: number, topN = 5): Promise<RolloutInspection> {
    const ckpt = this.need();
    const r = this.rollouts[index];
    if (!r) throw new RangeError(`session: no rollout ${index} in the latest batch (it has ${this.rollouts.length})`);
    let model: Llama, params: ParamSet | null = null;
    if (this.preStep) {
      params = uploadParams(this.backend, this.preStep);
      model = new Llama(this.backend, ckpt.config, params);
    } else model = (await this.policyModel(this.stage === 2 ? 'stage2' : this.stage === 1 ? 'stage1' : 'base')).model;
    try {
      const scores = await scoreTokens(model, r.tokens, Math.max(1, r.promptLength), topN);
      for (const sc of scores) for (const a of sc.top) a.token = ckpt.tokenizer.vocab[a.id];
      return { index, tokens: r.tokens.map((t) => ckpt.tokenizer.vocab[t]!), scores, exact: this.preStep !== null };
    } finally {
      if (params) for (const t of params.values()) this.backend.dispose(t);
    }
  }

  /**
   * Per-token probabilities and top alternatives of a rollout of an earlier step (the rollout
   * history; the weights that sampled it are gone) under `policy`, usually the stage's latest.
   * @throws Error when the policy does not exist.
   */
  async inspectRecord(record: RolloutRecord, policy: PolicyName, topN = 5): Promise<RolloutInspection> {
    const ckpt = this.need();
    const { model } = await this.policyModel(policy);
    const scores = await scoreTokens(model, record.tokens, Math.max(1, record.promptLength), topN);
    for (const sc of scores) for (const a of sc.top) a.token = ckpt.tokenizer.vocab[a.id];
    return { index: -1, tokens: record.tokens.map((t) => ckpt.tokenizer.vocab[t]!), scores, exact: false, scoredWith: policy };
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
    this.liveStop();
    this.disposeTrainer();
    this.stage = null;
    this.totalSteps = 0;
    this.setSnapshot(1, w1);
    this.setSnapshot(2, w2);
    this.metrics = { 1: run.metrics.filter((m) => m.stage === 1), 2: run.metrics.filter((m) => m.stage === 2) };
    this.rollouts = [];
    this.preStep = null;
    this.lastEval = [];
    return this.progress();
  }

  /**
   * Starts a live rollout of a policy on a question (sampling at temperature 1 unless greedy);
   * replaces any live rollout in progress.
   */
  async liveStart(req: SampleRequest): Promise<LiveView> {
    const ckpt = this.need();
    this.liveStop();
    const { model, stage } = await this.policyModel(req.policy);
    const seed = req.greedy ? GREEDY_PROMPT_SEED : req.seed ?? 1;
    const prompt = this.renderPrompt(req.question, seed, req.promptPreset);
    const ids = [ckpt.tokenizer.bosId, ...ckpt.tokenizer.encode(prompt)];
    const rollout = await LiveRollout.start(model, ckpt.tokenizer, this.retriever!, ids, this.rolloutSettings(stage, req), new Rng(seed));
    this.live = { rollout, prompt, answers: req.answers && req.answers.length > 0 ? req.answers : null, stage: stage === 2 ? 2 : 1 };
    return this.liveView(null);
  }

  /** The next token of the live rollout. @throws Error when none runs or it has finished. */
  async liveNext(topN = 5): Promise<LiveView> {
    if (!this.live) throw new Error('session: no live rollout; start one first');
    const step = await this.live.rollout.next(topN);
    for (const a of step.score.top) a.token = this.need().tokenizer.vocab[a.id];
    return this.liveView(step);
  }

  /** Ends the live rollout, freeing its cache. */
  liveStop(): void {
    this.live?.rollout.dispose();
    this.live = null;
  }

  /**
   * Evaluates a policy (greedy, src/eval/evaluate.ts) on `limit` questions of each split in
   * each mode. `onProgress(done, total)` counts questions over all splits and modes.
   * @throws Error for a split without questions or an unknown mode.
   */
  async evaluate(req: EvalRequest, onProgress?: (done: number, total: number) => void): Promise<EvalRow[]> {
    const ckpt = this.need();
    const { model } = await this.policyModel(req.policy);
    const sets = req.splits.map((split) => {
      const qs = evaluationSample(this.questions.filter((q) => q.split === split), req.limit);
      if (qs.length === 0) throw new Error(`evaluate: the pack has no ${split} questions`);
      return { split, qs };
    });
    const total = sets.reduce((n, s) => n + s.qs.length, 0) * req.modes.length;
    let done = 0;
    const rows: EvalRow[] = [];
    for (const { split, qs } of sets) {
      for (const mode of req.modes) {
        const s = defaultEvalSettings(mode);
        if (req.topK !== undefined) s.topK = req.topK;
        if (req.maxSearches !== undefined) s.maxSearches = req.maxSearches;
        if (req.maxNewTokens !== undefined) s.maxNewTokens = req.maxNewTokens;
        s.batchSize = 16; // small batches keep progress moving in the page
        const r = await evaluate(model, ckpt.tokenizer, this.retriever!, qs, s, (d) => onProgress?.(done + d, total));
        done += qs.length;
        rows.push({ policy: req.policy, steps: this.policySteps(req.policy), split, mode, overall: r.overall, byTemplate: r.byTemplate, byHops: r.byHops, examples: r.records.slice(0, 3) });
      }
    }
    this.lastEval = rows;
    return rows;
  }

  /**
   * The export of a policy as a zip (src/io/export-folder.ts): `hf` (Hugging Face folder) or
   * `onnx`. The model card names the pack, the stages and steps, and the latest evaluation of
   * that policy. `kvCache` (onnx only) exports the graph that takes and returns the attention
   * cache. Returns the archive and its file names.
   * @throws Error for `kvCache` with the hf format.
   */
  async exportZip(format: ExportFormat, policy: PolicyName, opts: { kvCache?: boolean } = {}): Promise<{ name: string; zip: Uint8Array; files: string[] }> {
    const ckpt = this.need();
    const stage = POLICY_STAGE[policy];
    const weights = await this.policyWeights(policy);
    const steps = stage === 0 ? 0 : stage === this.stage ? this.trainer!.step : this.metrics[stage as 1 | 2].length;
    const name = `r1s-${this.packName || 'pack'}-${policy}${stage ? `-step${steps}` : ''}`;
    const lineage: TrainerState['lineage'] = [];
    if (stage >= 1 && this.metrics[1].length) lineage.push({ stage: 1, steps: stage === 1 ? steps : this.metrics[1].length, pack: this.packName });
    if (stage === 2) lineage.push({ stage: 2, steps, pack: this.packName });
    // A shipped run has no trainer (no optimizer or RNG state): its policies export as models only.
    const state = stage === 0 || !this.trainer ? undefined : this.trainerState(stage as 1 | 2, steps, lineage);
    const enc = new TextEncoder();
    const evalRows = this.lastEval.filter((r) => r.policy === policy);
    const metrics = stage === 0 ? [] : this.metrics[stage as 1 | 2];
    const files = exportFiles({ ...ckpt, weights, ...(state ? { state } : {}) }, format, {
      name,
      ...(evalRows.length ? { evalJson: enc.encode(JSON.stringify({ pack: this.packName, results: evalRows.map(({ split, mode, overall, byTemplate }) => ({ split, mode, overall, byTemplate })) })) } : {}),
      ...(metrics.length ? { metricsJsonl: enc.encode(metrics.map((m) => JSON.stringify(m)).join('\n') + '\n') } : {}),
      ...(opts.kvCache ? { kvCache: true } : {}),
    });
    return { name, zip: zipFiles(files, { root: name }), files: [...files.keys()] };
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
    if (this.stage === 2 && this.metrics[1].length) lineage.push({ stage: 1, steps: this.metrics[1].length, pack: this.packName });
    lineage.push({ stage: this.stage, steps: trainer.step, pack: this.packName });
    const files = encodeCheckpoint({
      config: ckpt.config, tokenizer: ckpt.tokenizer, weights: await downloadParams(this.backend, trainer.model.params),
      optimizer: { m: await downloadParams(this.backend, trainer.optimizer.m), v: await downloadParams(this.backend, trainer.optimizer.v) },
      state: this.trainerState(this.stage, trainer.step, lineage),
    });
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
    this.liveStop();
    this.disposeTrainer();
    this.adoptBase({ config: checkpoint.config, tokenizer: checkpoint.tokenizer, weights: checkpoint.weights });
    const unknown = this.trainQuestions.slice(0, 200).reduce((n, q) => n + checkpoint.tokenizer.countUnknown(q.question), 0);
    if (unknown > 0) notes.push(`${unknown} words of the first 200 training questions are not in this model's vocabulary (they read as <unk>)`);
    return { kind: 'base', notes, info: this.info(), progress: this.progress() };
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
    this.lastEval = [];
  }

  /** Resumes a validated checkpoint with an RL stage (as `train --resume` does). */
  private adoptRun(checkpoint: Checkpoint, files: Map<string, Uint8Array>, notes: string[], metrics?: StepMetrics[], rollouts?: RolloutRecord[]): void {
    const st = checkpoint.state!;
    const stage = st.stage as 1 | 2;
    // A run saved before a setting existed resumes with the value that reproduces it.
    const settings = mergeSettings(stage, upgradeRlSettings(st.settings as RlSettings) as SettingsOverride);
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
    this.liveStop();
    this.disposeTrainer();
    this.adoptBase({ config: checkpoint.config, tokenizer: checkpoint.tokenizer, weights: baseWeights });
    if (stage1) this.setSnapshot(1, stage1);
    for (const [k, t] of checkpoint.optimizer!.m) this.backend.write(trainer.optimizer.m.get(k)!, t.data);
    for (const [k, t] of checkpoint.optimizer!.v) this.backend.write(trainer.optimizer.v.get(k)!, t.data);
    trainer.optimizer.step = st.optimizerStep;
    trainer.rng.setState(st.rngState);
    trainer.step = st.step;
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
        backend: this.backend, config: ckpt.config, params, refParams, tokenizer: ckpt.tokenizer, retriever: this.retriever!,
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

  /** The model of a policy: the trainer's own for the running stage, else an uploaded snapshot. */
  private async policyModel(policy: PolicyName): Promise<{ model: Llama; stage: 0 | 1 | 2 }> {
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
  private policySteps(policy: PolicyName): number {
    const stage = POLICY_STAGE[policy];
    if (stage === 0) return 0;
    return stage === this.stage && this.trainer ? this.trainer.step : this.metrics[stage as 1 | 2].length;
  }

  private async policyWeights(policy: PolicyName): Promise<Map<string, HostTensor>> {
    const stage = POLICY_STAGE[policy];
    if (stage !== 0 && stage === this.stage && this.trainer) return downloadParams(this.backend, this.trainer.model.params);
    const w = this.snapshots.get(stage);
    if (!w) throw new Error(`session: there is no ${stage === 1 ? 'Stage-1' : 'Stage-2'} policy yet (train that stage first)`);
    return w;
  }

  /** Rollout settings for a sample: the stage's (or Stage 1's defaults for the base) with the request's changes. */
  private rolloutSettings(stage: 0 | 1 | 2, req: SampleRequest): RolloutSettings {
    const ckpt = this.need();
    const fromTrainer = this.trainer && stage === this.stage ? this.trainer.settings.rollout : defaultRlSettings(stage === 2 ? 2 : 1).rollout;
    const s: RolloutSettings = { ...fromTrainer, ...(req.rollout ?? {}) };
    if (req.greedy) {
      s.temperature = 0;
      s.topP = 1;
    }
    s.maxLength = Math.min(s.maxLength, ckpt.config.maxPositions);
    return s;
  }

  private reward(completion: string, answers: string[], hits: { title: string; text: string }[][], docMaxWords: number) {
    return computeReward(2, completion, { answers, retrievedDocs: hits.map((hs) => hs.map((h) => `${h.title}: ${cutWords(h.text, docMaxWords)}`)) }, defaultRlSettings(2).reward);
  }

  private liveView(step: LiveStep | null): LiveView {
    const ckpt = this.need();
    const { rollout: r, answers, prompt } = this.live!;
    let parts: RewardParts | null = null;
    if (r.done && answers) {
      const completion = ckpt.tokenizer.decode(r.tokens.slice(r.promptLength));
      parts = this.reward(completion, answers, r.searches.map((c) => c.hits), DEFAULT_DOC_WORDS).parts;
    }
    return {
      step, tokens: r.tokens.map((t) => ckpt.tokenizer.vocab[t]!), promptLength: r.promptLength, actionMask: [...r.actionMask], retrieveMask: [...r.retrieveMask],
      logProbs: [...r.logProbs], searches: r.searches.map((c) => ({ query: c.query, hits: c.hits.map((h) => ({ id: h.id, title: h.title, score: h.score })), start: c.start, end: c.end })),
      finishReason: r.finishReason, parts, prompt,
    };
  }

  private trainerState(stage: 1 | 2, step: number, lineage: TrainerState['lineage']): TrainerState {
    const trainer = this.trainer!;
    const running = stage === this.stage;
    return {
      format: 'r1s-trainer-state', version: 1, stage, step, totalSteps: running ? this.totalSteps : step, seed: this.seed,
      rngState: trainer.rng.getState(), optimizerStep: running ? trainer.optimizer.step : 0,
      settings: running ? trainer.settings : mergeSettings(stage), pack: this.packName, preset: '',
      init: this.stageInit === 1 && stage === 2 ? STAGE1_WEIGHTS_FILE : BASE_WEIGHTS_FILE, lineage,
      elapsedSeconds: this.metrics[stage].slice(0, step).reduce((s, m) => s + m.seconds, 0),
    };
  }
}

const DEFAULT_DOC_WORDS = defaultRlSettings(1).rollout.docMaxWords;

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
