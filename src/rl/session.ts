/**
 * A training session as the page runs it: a base checkpoint, the pack's questions, a retriever
 * (the search worker), and the two RL stages run one step at a time. The trainer worker exposes
 * this object through comlink; the page calls `step()` in a loop, so pausing is simply not
 * calling it again, and every result is reported back as plain data.
 */
import type { Backend } from '../backend/backend.ts';
import type { Question } from '../corpus/types.ts';
import { decodeCheckpoint, downloadParams, uploadParams, type Checkpoint } from '../io/checkpoint.ts';
import type { HostTensor } from '../io/safetensors.ts';
import { countParams } from '../model/params.ts';
import type { Retriever } from '../search/retriever.ts';
import { defaultRlSettings, RlTrainer, type RlSettings, type RolloutRecord, type StepMetrics } from './trainer.ts';

/** What the page needs to know after loading. */
export interface SessionInfo {
  backend: string;
  parameters: number;
  vocabulary: number;
  config: Checkpoint['config'];
  trainQuestions: number;
}

/** Settings a learner may change, as a partial of RlSettings (nested objects merged). */
export type SettingsOverride = Partial<Omit<RlSettings, 'optimizer' | 'update' | 'rollout' | 'reward'>> & {
  optimizer?: Partial<RlSettings['optimizer']>;
  update?: Partial<RlSettings['update']>;
  rollout?: Partial<RlSettings['rollout']>;
  reward?: Partial<RlSettings['reward']>;
};

/** The stage defaults with a learner's overrides (unknown keys are an error naming them). */
export function mergeSettings(stage: 1 | 2, o: SettingsOverride = {}): RlSettings {
  const s = defaultRlSettings(stage);
  for (const [k, v] of Object.entries(o)) {
    if (!(k in s)) throw new Error(`settings: unknown setting "${k}"`);
    const cur = (s as unknown as Record<string, unknown>)[k];
    if (cur && typeof cur === 'object' && !Array.isArray(cur) && v && typeof v === 'object') {
      for (const [k2, v2] of Object.entries(v)) {
        if (!(k2 in (cur as object))) throw new Error(`settings: unknown setting "${k}.${k2}"`);
        (cur as Record<string, unknown>)[k2] = v2;
      }
    } else (s as unknown as Record<string, unknown>)[k] = v;
  }
  return s;
}

export class TrainingSession {
  private ckpt: Checkpoint | null = null;
  private questions: Question[] = [];
  private retriever: Retriever | null = null;
  private trainer: RlTrainer | null = null;
  /** Weights at the end of each stage (0 = the base). */
  private snapshots = new Map<number, Map<string, HostTensor>>();
  private stage: 1 | 2 | null = null;

  constructor(private readonly backend: Backend) {}

  /**
   * Loads the base checkpoint through `read(name)` and takes the training questions.
   * @throws CheckpointError naming the file and field of a bad checkpoint.
   */
  async load(read: (name: string) => Promise<Uint8Array | null>, questions: Question[], retriever: Retriever): Promise<SessionInfo> {
    this.ckpt = await decodeCheckpoint(read, { modelOnly: true });
    this.questions = questions.filter((q) => q.split === 'train');
    if (this.questions.length === 0) throw new Error('session: the pack has no training questions');
    this.retriever = retriever;
    this.snapshots.set(0, this.ckpt.weights);
    this.trainer = null;
    this.stage = null;
    return {
      backend: this.backend.name, parameters: countParams(this.ckpt.config), vocabulary: this.ckpt.tokenizer.size,
      config: this.ckpt.config, trainQuestions: this.questions.length,
    };
  }

  /**
   * Starts a stage: Stage 1 from the base, Stage 2 from Stage 1's final policy when there is
   * one (else from the base: the "Stage 1 skipped" ablation). The stage's initial policy is the
   * KL reference. Returns the settings in force.
   */
  async startStage(stage: 1 | 2, override: SettingsOverride, totalSteps: number, seed: number): Promise<RlSettings> {
    const ckpt = this.need();
    if (this.trainer && this.stage) this.snapshots.set(this.stage, await downloadParams(this.backend, this.trainer.model.params));
    const from = stage === 2 && this.snapshots.has(1) ? this.snapshots.get(1)! : this.snapshots.get(0)!;
    const settings = mergeSettings(stage, override);
    const params = uploadParams(this.backend, from);
    const refParams = settings.klCoef > 0 || settings.klEvery > 0 ? uploadParams(this.backend, from) : undefined;
    this.trainer = new RlTrainer({
      backend: this.backend, config: ckpt.config, params, refParams, tokenizer: ckpt.tokenizer, retriever: this.retriever!,
      questions: this.questions, settings, totalSteps, seed,
    });
    this.stage = stage;
    return settings;
  }

  /** One RL step of the running stage. */
  async step(): Promise<{ metrics: StepMetrics; rollouts: RolloutRecord[] }> {
    if (!this.trainer) throw new Error('session: start a stage first');
    return this.trainer.runStep();
  }

  /** The prompt the running stage renders for a question (shown in the page). */
  renderPrompt(question: string): string {
    if (!this.trainer) throw new Error('session: start a stage first');
    return this.trainer.renderPrompt(question);
  }

  private need(): Checkpoint {
    if (!this.ckpt) throw new Error('session: load a base checkpoint first');
    return this.ckpt;
  }
}
