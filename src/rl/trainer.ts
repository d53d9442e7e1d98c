/**
 * One RL stage of R1-Searcher (recipe.md sections 3-8), step by step:
 * sample questions (curriculum by hops) -> render prompts -> RAG rollouts -> rewards of the
 * stage -> REINFORCE++ advantages -> clipped policy update. The same class runs in the CLI
 * and in the page's trainer worker; it reports a {@link StepMetrics} record and the step's
 * rollouts after every step.
 */
import type { Backend } from '../backend/backend.ts';
import type { Question } from '../corpus/types.ts';
import { Llama } from '../model/llama.ts';
import type { ModelConfig } from '../model/config.ts';
import { AdamW, learningRate, type OptimizerSettings } from '../model/optimizer.ts';
import { zerosLike, type ParamSet } from '../model/params.ts';
import type { Retriever } from '../search/retriever.ts';
import { slotAnswerWords } from '../tokenizer/slot-words.ts';
import { rolloutTrace, type RolloutTrace } from '../protocol/trace.ts';
import type { TextTokenizer } from '../tokenizer/text-tokenizer.ts';
import { Rng } from '../util/rng.ts';
import { ADVANTAGE_ESTIMATORS, computeAdvantages, inLoss, type AdvantageEstimator } from './advantages.ts';
import { policyUpdate, validateUpdateSettings, type TrainSequence, type UpdateSettings } from './policy-update.ts';
import { contentWords, DEFAULT_PROMPT_PRESET, getPromptPreset, renderPrompt } from '../protocol/prompts.ts';
import { diagnoseSearches, summarizeSearches, type SearchSummary } from './search-diagnostics.ts';
import { computeReward, resolveRewardSettings, type RewardParts, type RewardSettings } from './rewards.ts';
import { generateRollouts, validateRolloutSettings, type Rollout, type RolloutSettings } from './rollout.ts';
import { scoreSequences } from './score.ts';
import { cutWords } from '../protocol/splice.ts';

/** A curriculum phase: from `fromStep` on, questions with these hop counts are drawn. */
export interface CurriculumPhase {
  fromStep: number;
  hops: number[];
}

/** Every setting of an RL stage. Defaults: {@link defaultRlSettings}. */
export interface RlSettings {
  stage: 1 | 2;
  /** Questions per step (paper: 64). */
  promptsPerStep: number;
  /** Samples per question, G (paper: 16). */
  samplesPerPrompt: number;
  /** Baseline of REINFORCE++ (recipe.md section 7). */
  advantageEstimator: AdvantageEstimator;
  /** KL coefficient beta to the stage's initial policy (Qwen runs: 0). */
  klCoef: number;
  /** Compute the KL to the reference every this many steps for the curves even when klCoef is 0 (0 = never). */
  klEvery: number;
  optimizer: OptimizerSettings;
  /** Cosine decay of the learning rate to this fraction over the stage's steps (recipe.md: 0.1). */
  lrMinRatio: number;
  update: UpdateSettings;
  rollout: RolloutSettings;
  reward: RewardSettings;
  /** Prompt preset name (src/protocol/prompts.ts). */
  promptPreset: string;
  curriculum: CurriculumPhase[];
  /**
   * Draw the same number of questions of each hop count of the curriculum phase (true), or
   * questions uniformly from the phase's pool (false; 1-hop questions are then ~70% of the
   * world's train split, and a second search rarely pays often enough to be learned).
   */
  balanceHops: boolean;
  /** Mask document tokens out of the loss (recipe.md section 3). false = the ablation. */
  maskDocuments: boolean;
}

/**
 * Defaults that learn on the nano preset (recipe.md section 11 and our runs). Stage 1 pays the
 * retrieval part only for a search that returned documents with queries on topic ('relevant',
 * issue 15: 'found' collapsed into one constant query on two seeds); the paper's 'any' and
 * 'found' are settings. `balanceHops` and the `chain` preset are settings for multi-hop
 * experiments (issue 15, not yet learning).
 */
export function defaultRlSettings(stage: 1 | 2): RlSettings {
  return {
    stage,
    promptsPerStep: 8,
    samplesPerPrompt: 16,
    advantageEstimator: 'reinforce_baseline',
    klCoef: 0,
    klEvery: 0,
    optimizer: { lr: 3e-4, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, gradClip: 1.0 },
    lrMinRatio: 1,
    update: { clipEps: 0.2, miniBatches: 1, microBatchTokens: 4096, lossAggregation: 'sequence-mean' },
    rollout: { maxNewTokens: 64, maxSearches: 3, topK: 3, docMaxWords: 40, temperature: 1, topP: 0.95, maxLength: 448 },
    reward: stage === 1 ? { ...resolveRewardSettings(), retrievalReward: 'relevant' } : resolveRewardSettings(),
    promptPreset: DEFAULT_PROMPT_PRESET,
    curriculum: stage === 1 ? [{ fromStep: 0, hops: [1, 2] }] : [{ fromStep: 0, hops: [1] }, { fromStep: 100, hops: [1, 2] }, { fromStep: 200, hops: [1, 2, 3] }],
    balanceHops: false,
    maskDocuments: true,
  };
}

/**
 * Settings stored by an earlier version (a checkpoint's trainer state), completed with the
 * values that reproduce what that version did: questions drawn uniformly from the phase's pool.
 */
export function upgradeRlSettings(stored: RlSettings): RlSettings {
  return { ...stored, balanceHops: stored.balanceHops ?? false };
}

/** Throws naming the first impossible setting. */
export function validateRlSettings(s: RlSettings, config: ModelConfig): RlSettings {
  if (s.stage !== 1 && s.stage !== 2) throw new Error(`settings: stage must be 1 or 2, got ${s.stage}`);
  for (const k of ['promptsPerStep', 'samplesPerPrompt'] as const) {
    if (!Number.isInteger(s[k]) || s[k] < 1) throw new Error(`settings: ${k} must be a positive integer, got ${s[k]}`);
  }
  if (!ADVANTAGE_ESTIMATORS.includes(s.advantageEstimator)) throw new Error(`settings: unknown advantageEstimator "${s.advantageEstimator}" (known: ${ADVANTAGE_ESTIMATORS.join(', ')})`);
  if (s.advantageEstimator !== 'reinforce' && s.samplesPerPrompt < 2) throw new Error(`settings: ${s.advantageEstimator} needs samplesPerPrompt >= 2 (a group of one has no baseline)`);
  if (!(s.klCoef >= 0)) throw new Error(`settings: klCoef must be >= 0, got ${s.klCoef}`);
  if (!Number.isInteger(s.klEvery) || s.klEvery < 0) throw new Error(`settings: klEvery must be an integer >= 0, got ${s.klEvery}`);
  if (!(s.lrMinRatio > 0 && s.lrMinRatio <= 1)) throw new Error(`settings: lrMinRatio must be in (0, 1], got ${s.lrMinRatio}`);
  validateUpdateSettings(s.update);
  validateRolloutSettings(s.rollout, config.maxPositions);
  resolveRewardSettings(s.reward);
  getPromptPreset(s.promptPreset);
  if (!Array.isArray(s.curriculum) || s.curriculum.length === 0) throw new Error('settings: curriculum needs at least one phase');
  s.curriculum.forEach((p, i) => {
    if (!Number.isInteger(p.fromStep) || p.fromStep < 0) throw new Error(`settings: curriculum[${i}].fromStep must be an integer >= 0`);
    if (!Array.isArray(p.hops) || p.hops.length === 0) throw new Error(`settings: curriculum[${i}].hops must list hop counts`);
  });
  if (s.curriculum[0]!.fromStep !== 0) throw new Error('settings: curriculum[0].fromStep must be 0');
  if (typeof s.balanceHops !== 'boolean') throw new Error(`settings: balanceHops must be true or false, got ${JSON.stringify(s.balanceHops)}`);
  return s;
}

/** The hop counts drawn at a step. */
export function hopsAt(curriculum: readonly CurriculumPhase[], step: number): number[] {
  let hops = curriculum[0]!.hops;
  for (const p of curriculum) if (step >= p.fromStep) hops = p.hops;
  return hops;
}

/** One line of metrics.jsonl: means over the step's rollouts unless said otherwise. */
export interface StepMetrics {
  stage: 1 | 2;
  /** 1-based step number. */
  step: number;
  reward: number;
  /** Means of the reward parts. */
  rewardRetrieval: number;
  rewardFormat: number;
  rewardAnswer: number;
  rewardPenalty: number;
  /** Share of rollouts with at least one completed search. */
  retrievalRate: number;
  /** Share of well-formed rollouts (recipe.md section 5). */
  formatRate: number;
  f1: number;
  em: number;
  coverEm: number;
  /** Share of rollouts whose retrieved documents contain a gold answer. */
  answerInDocs: number;
  /** Share of rollouts with at least one search that returned documents. */
  docsFound: number;
  /**
   * Share of rollouts whose first query shares a content word with the question (names one of
   * its entities); a constant query scores ~0 (issue 15).
   */
  firstQueryOnTopic: number;
  searchesPerRollout: number;
  /** Generated tokens per rollout (documents excluded). */
  responseLength: number;
  /** Share of groups whose rewards are not all equal (only those carry a group-relative signal). */
  groupsWithSpread: number;
  /** Share of rollouts whose shaped outcome reward is not zero. */
  nonZeroAdvantage: number;
  /** Mean per-token KL to the reference (k1), NaN when not computed this step. */
  kl: number;
  loss: number;
  clipFraction: number;
  gradNorm: number;
  lr: number;
  /** Tokens through the training forward+backward. */
  tokens: number;
  /** Tokens generated by sampling (documents excluded). */
  generatedTokens: number;
  seconds: number;
  rolloutSeconds: number;
  updateSeconds: number;
  hops: number[];
  /** Optimizer steps skipped for a non-finite loss or gradient (present only when > 0). */
  skippedUpdates?: number;
  /**
   * Per hop count drawn this step (issue 15; the paper's figure is searches per rollout by hop
   * count over the steps): the searches' diagnosis (src/rl/search-diagnostics.ts), F1 and Cover-EM.
   */
  byHops: Record<string, HopMetrics>;
}

/** One hop count's rollouts of a step. */
export interface HopMetrics extends SearchSummary {
  f1: number;
  coverEm: number;
}

/** One rollout as the page and the logs show it. */
export interface RolloutRecord extends RolloutTrace {
  questionId: string;
  question: string;
  answers: string[];
  template: string;
  hops: number;
  /** Index of its prompt in the step's batch (its group for the baseline). */
  group: number;
  prompt: string;
  completion: string;
  reward: number;
  parts: RewardParts;
  /** Outcome reward after the group baseline. */
  shapedReward: number;
  /** Advantage per token (T), what the policy loss weighs each generated token by. */
  advantages: number[];
}

export interface TrainerInit {
  backend: Backend;
  config: ModelConfig;
  /** The policy's weights (updated in place). */
  params: ParamSet;
  /** The stage's initial policy, frozen, for the KL term; needed when klCoef > 0 or klEvery > 0. */
  refParams?: ParamSet;
  tokenizer: TextTokenizer;
  retriever: Retriever;
  /** Training questions (the curriculum filters them by hops). */
  questions: Question[];
  /**
   * Document id -> title, for the bridge-entity diagnosis of multi-hop questions (the title of
   * a question's second supporting document names its bridge). Optional: without it that
   * diagnosis is NaN.
   */
  documentTitles?: ReadonlyMap<string, string>;
  settings: RlSettings;
  /** Steps planned for the stage (for the learning-rate schedule). */
  totalSteps: number;
  seed: number;
}

/** Runs the steps of one RL stage. */
export class RlTrainer {
  readonly model: Llama;
  readonly ref: Llama | null;
  readonly optimizer: AdamW;
  readonly grads: ParamSet;
  readonly rng: Rng;
  /** Steps done. */
  step = 0;
  readonly settings: RlSettings;
  private readonly answerWords: string[];

  constructor(private readonly init: TrainerInit) {
    const s = validateRlSettings(init.settings, init.config);
    this.settings = s;
    this.model = new Llama(init.backend, init.config, init.params);
    this.ref = init.refParams ? new Llama(init.backend, init.config, init.refParams) : null;
    if ((s.klCoef > 0 || s.klEvery > 0) && !this.ref) throw new Error('trainer: klCoef or klEvery > 0 needs the reference policy (refParams)');
    this.optimizer = new AdamW(init.backend, init.config, s.optimizer);
    this.grads = zerosLike(init.backend, init.config);
    this.rng = new Rng(init.seed);
    if (init.questions.length === 0) throw new Error('trainer: no training questions');
    this.answerWords = slotAnswerWords(init.tokenizer);
    for (const p of s.curriculum) {
      if (!init.questions.some((q) => p.hops.includes(q.hops))) throw new Error(`trainer: no training question has ${p.hops.join(' or ')} hops (curriculum from step ${p.fromStep})`);
    }
  }

  /** The bridge entity of a multi-hop question: the title of its second supporting document. */
  private bridgeOf(q: Question): string | undefined {
    const id = q.supportingIds?.[1];
    return q.hops >= 2 && id !== undefined ? this.init.documentTitles?.get(id) : undefined;
  }

  /** Renders the prompt of a question with this trainer's preset. */
  renderPrompt(question: string, rng: Rng = this.rng): string {
    return renderPrompt(getPromptPreset(this.settings.promptPreset), question, rng, { answerWords: this.answerWords });
  }

  /** One RL step. Returns the metrics and the step's rollouts. */
  async runStep(): Promise<{ metrics: StepMetrics; rollouts: RolloutRecord[] }> {
    const s = this.settings, t0 = performance.now();
    const hops = hopsAt(s.curriculum, this.step);
    const questions = s.balanceHops
      ? pickBalanced(this.init.questions, hops, s.promptsPerStep, this.rng)
      : pickDistinct(this.init.questions.filter((q) => hops.includes(q.hops)), s.promptsPerStep, this.rng);
    const promptTexts = questions.map((q) => this.renderPrompt(q.question));
    const prompts = promptTexts.map((p) => [this.init.tokenizer.bosId, ...this.init.tokenizer.encode(p)]);

    const rollouts = await generateRollouts(this.model, this.init.tokenizer, this.init.retriever, prompts, s.samplesPerPrompt, s.rollout, this.rng);
    const t1 = performance.now();

    // Rewards of the stage.
    const results = rollouts.map((r) => {
      const q = questions[r.group]!;
      const completion = this.init.tokenizer.decode(r.tokens.slice(r.promptLength));
      const retrievedDocs = r.searches.map((c) => c.hits.map((h) => `${h.title}: ${cutWords(h.text, s.rollout.docMaxWords)}`));
      const diagnosis = diagnoseSearches(r.searches.map((c, k) => ({ query: c.query, documents: retrievedDocs[k]! })), q.answers, this.bridgeOf(q));
      return { completion, diagnosis, ...computeReward(s.stage, completion, { answers: q.answers, question: q.question, retrievedDocs }, s.reward) };
    });

    // Masks: the ablation trains on document tokens as if the policy had generated them.
    const masks = rollouts.map((r) => trainingMasks(r, s.maskDocuments));
    let oldLogProbs = rollouts.map((r) => r.logProbs);
    if (!s.maskDocuments) {
      oldLogProbs = await scoreSequences(this.model, rollouts.map((r) => r.tokens), masks.map((m) => m.action), s.update.microBatchTokens);
    }
    let kl: Float32Array[] | null = null;
    let klMean = NaN;
    if (this.ref && (s.klCoef > 0 || (s.klEvery > 0 && (this.step + 1) % s.klEvery === 0))) {
      const lossMasks = masks.map((m) => m.loss);
      const refLp = await scoreSequences(this.ref, rollouts.map((r) => r.tokens), lossMasks, s.update.microBatchTokens);
      kl = rollouts.map((_, i) => oldLogProbs[i]!.map((lp, t) => (lossMasks[i]![t] ? lp - refLp[i]![t]! : 0)));
      let n = 0, sum = 0;
      kl.forEach((k, i) => k.forEach((v, t) => { if (lossMasks[i]![t]) { n++; sum += v; } }));
      klMean = n > 0 ? sum / n : 0;
    }
    const adv = computeAdvantages(
      rollouts.map((r, i) => ({ group: r.group, reward: results[i]!.reward, actionMask: masks[i]!.action, retrieveMask: masks[i]!.retrieve, kl: kl?.[i] })),
      s.advantageEstimator, s.klCoef,
    );
    const seqs: TrainSequence[] = rollouts.map((r, i) => ({
      tokens: r.tokens, lossMask: masks[i]!.loss, oldLogProbs: oldLogProbs[i]!, advantages: adv[i]!.advantages,
    }));
    const lr = learningRate(s.optimizer.lr, this.step, { warmup: 0, total: this.init.totalSteps, minRatio: s.lrMinRatio });
    const upd = await policyUpdate(this.model, this.optimizer, this.grads, seqs, lr, s.update, this.rng);
    const t2 = performance.now();
    this.step++;

    const n = rollouts.length;
    const mean = (f: (i: number) => number) => rollouts.reduce((acc, _, i) => acc + f(i), 0) / n;
    const groupRewards = new Map<number, number[]>();
    rollouts.forEach((r, i) => groupRewards.set(r.group, [...(groupRewards.get(r.group) ?? []), results[i]!.reward]));
    const generated = rollouts.reduce((acc, r) => acc + r.actionMask.reduce((x, m) => x + m, 0), 0);
    const metrics: StepMetrics = {
      stage: s.stage,
      step: this.step,
      reward: mean((i) => results[i]!.reward),
      rewardRetrieval: mean((i) => results[i]!.parts.retrieval),
      rewardFormat: mean((i) => results[i]!.parts.format),
      rewardAnswer: mean((i) => results[i]!.parts.answer),
      rewardPenalty: mean((i) => results[i]!.parts.penalty),
      retrievalRate: mean((i) => (results[i]!.parts.retrievals > 0 ? 1 : 0)),
      formatRate: mean((i) => (results[i]!.parts.formatOk ? 1 : 0)),
      f1: mean((i) => results[i]!.parts.f1),
      em: mean((i) => (results[i]!.parts.em ? 1 : 0)),
      coverEm: mean((i) => (results[i]!.parts.coverEm ? 1 : 0)),
      answerInDocs: mean((i) => (results[i]!.parts.answerInDocs ? 1 : 0)),
      docsFound: mean((i) => (results[i]!.parts.docsFound ? 1 : 0)),
      firstQueryOnTopic: mean((i) => {
        const first = rollouts[i]!.searches[0];
        const asked = new Set(contentWords(questions[rollouts[i]!.group]!.question));
        return first && contentWords(first.query).some((w) => asked.has(w)) ? 1 : 0;
      }),
      searchesPerRollout: mean((i) => rollouts[i]!.searches.length),
      responseLength: generated / n,
      groupsWithSpread: [...groupRewards.values()].filter((rs) => rs.some((x) => x !== rs[0])).length / groupRewards.size,
      nonZeroAdvantage: mean((i) => (Math.abs(adv[i]!.shapedReward) > 1e-12 ? 1 : 0)),
      kl: klMean,
      loss: upd.loss,
      clipFraction: upd.clipFraction,
      gradNorm: upd.gradNorm,
      lr,
      tokens: upd.tokens,
      generatedTokens: generated,
      seconds: (t2 - t0) / 1000,
      rolloutSeconds: (t1 - t0) / 1000,
      updateSeconds: (t2 - t1) / 1000,
      hops,
      byHops: Object.fromEntries([...new Set(questions.map((q) => q.hops))].sort((a, b) => a - b).map((h) => {
        const idx = rollouts.map((r, i) => (questions[r.group]!.hops === h ? i : -1)).filter((i) => i >= 0);
        const m = (f: (i: number) => number) => idx.reduce((a, i) => a + f(i), 0) / idx.length;
        const hm: HopMetrics = {
          ...summarizeSearches(idx.map((i) => results[i]!.diagnosis)),
          f1: m((i) => results[i]!.parts.f1), coverEm: m((i) => +results[i]!.parts.coverEm),
        };
        return [String(h), hm];
      })),
      ...(upd.skipped > 0 ? { skippedUpdates: upd.skipped } : {}),
    };
    const records: RolloutRecord[] = rollouts.map((r, i) => {
      const q = questions[r.group]!;
      return {
        questionId: q.id, question: q.question, answers: q.answers, template: q.template, hops: q.hops, group: r.group,
        prompt: promptTexts[r.group]!, completion: results[i]!.completion, reward: results[i]!.reward, parts: results[i]!.parts,
        shapedReward: adv[i]!.shapedReward,
        // The masks and log-probs the update used (the retrieve-mask ablation changes both).
        ...rolloutTrace({ ...r, actionMask: masks[i]!.action, retrieveMask: masks[i]!.retrieve, logProbs: oldLogProbs[i]! }, r.finishReason),
        advantages: Array.from(adv[i]!.advantages),
      };
    });
    return { metrics, rollouts: records };
  }
}

/** Action, retrieve and loss masks of a rollout; with maskDocuments false, documents count as actions. */
export function trainingMasks(r: Rollout, maskDocuments: boolean): { action: Uint8Array; retrieve: Uint8Array; loss: Uint8Array } {
  const T = r.tokens.length;
  const action = maskDocuments ? r.actionMask : Uint8Array.from({ length: T }, (_, t) => (t >= r.promptLength ? 1 : 0));
  const retrieve = maskDocuments ? r.retrieveMask : new Uint8Array(T).fill(1);
  const loss = Uint8Array.from({ length: T }, (_, t) => (inLoss(action, retrieve, t) ? 1 : 0));
  return { action, retrieve, loss };
}

/** `n` distinct elements drawn uniformly (all of them, shuffled, when the pool is smaller). */
export function pickDistinct<T>(pool: readonly T[], n: number, rng: Rng): T[] {
  if (pool.length === 0) throw new Error('pickDistinct: empty pool');
  const idx = pool.map((_, i) => i);
  for (let i = 0; i < Math.min(n, idx.length); i++) {
    const j = i + rng.int(idx.length - i);
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  const out = idx.slice(0, Math.min(n, idx.length)).map((i) => pool[i]!);
  // A pool smaller than n repeats questions (still one group each).
  while (out.length < n) out.push(pool[rng.int(pool.length)]!);
  return out;
}

/**
 * `n` questions with hop counts in `hops`, as evenly split between the hop counts as `n` allows
 * (the remainder goes to hop counts drawn at random), distinct within each hop count; hop counts
 * with no question are skipped. Order: by hop count as listed.
 * @throws Error when no question has any of the hop counts.
 */
export function pickBalanced(questions: readonly Question[], hops: readonly number[], n: number, rng: Rng): Question[] {
  const pools = hops.map((h) => questions.filter((q) => q.hops === h)).filter((p) => p.length > 0);
  if (pools.length === 0) throw new Error(`pickBalanced: no question has ${hops.join(' or ')} hops`);
  const counts = pools.map(() => Math.floor(n / pools.length));
  for (const k of rng.shuffle(pools.map((_, i) => i)).slice(0, n % pools.length)) counts[k]!++;
  return pools.flatMap((p, k) => (counts[k]! > 0 ? pickDistinct(p, counts[k]!, rng) : []));
}
