/**
 * The page's live mode: one rollout of a policy, one token per call, with the probability of
 * each sampled token, its alternatives, and the search a closed query triggers
 * (src/rl/live-rollout.ts does the decoding). At most one runs at a time; the training session
 * stops it whenever the policies change (a stage starts, a run is restored), since its model may
 * be the trainer's.
 */
import { encodePrompt } from '../tokenizer/text-tokenizer.ts';
import { LiveRollout, type LiveStep } from '../rl/live-rollout.ts';
import type { RewardParts } from '../rl/rewards.ts';
import { defaultRlSettings } from '../rl/settings.ts';
import { rolloutTrace } from '../protocol/trace.ts';
import { Rng } from '../util/rng.ts';
import { requestRolloutSettings, scoreCompletion, stagePrompt } from './samples.ts';
import type { TrainingSession } from './training-session.ts';
import { GREEDY_PROMPT_SEED, type LiveView, type SampleRequest } from './types.ts';

const DEFAULT_DOC_WORDS = defaultRlSettings(1).rollout.docMaxWords;

/** The live rollout of one session (see the file comment). */
export class LiveSampler {
  private live: { rollout: LiveRollout; prompt: string; answers: string[] | null } | null = null;

  constructor(private readonly session: TrainingSession) {
    session.onPoliciesChange(() => this.stop());
  }

  /**
   * Starts a live rollout of a policy on a question (sampling at temperature 1 unless greedy);
   * replaces any live rollout in progress.
   * @throws Error when the policy does not exist yet.
   */
  async start(req: SampleRequest): Promise<LiveView> {
    const ckpt = this.session.checkpoint();
    this.stop();
    const { model, stage } = await this.session.policyModel(req.policy);
    const seed = req.greedy ? GREEDY_PROMPT_SEED : req.seed ?? 1;
    const prompt = stagePrompt(this.session, req.question, seed, req.promptPreset);
    const ids = encodePrompt(ckpt.tokenizer, prompt);
    const rollout = await LiveRollout.start(model, ckpt.tokenizer, this.session.retriever(), ids, requestRolloutSettings(this.session, stage, req), new Rng(seed));
    this.live = { rollout, prompt, answers: req.answers && req.answers.length > 0 ? req.answers : null };
    return this.view(null);
  }

  /** The next token of the live rollout. @throws Error when none runs or it has finished. */
  async next(topN = 5): Promise<LiveView> {
    if (!this.live) throw new Error('session: no live rollout; start one first');
    const step = await this.live.rollout.next(topN);
    for (const a of step.score.top) a.token = this.session.checkpoint().tokenizer.vocab[a.id];
    return this.view(step);
  }

  /** Ends the live rollout, freeing its cache (safe to call when none runs). */
  stop(): void {
    this.live?.rollout.dispose();
    this.live = null;
  }

  private view(step: LiveStep | null): LiveView {
    const ckpt = this.session.checkpoint();
    const { rollout: r, answers, prompt } = this.live!;
    let parts: RewardParts | null = null;
    if (r.done && answers) {
      const completion = ckpt.tokenizer.decode(r.tokens.slice(r.promptLength));
      parts = scoreCompletion(completion, answers, r.searches.map((c) => c.hits), DEFAULT_DOC_WORDS).parts;
    }
    const trace = rolloutTrace(r, r.finishReason ?? 'length');
    return {
      ...trace, step, tokenTexts: r.tokens.map((t) => ckpt.tokenizer.vocab[t]!), searches: trace.searches.map((c, i) => ({ ...c, start: r.searches[i]!.start, end: r.searches[i]!.end })),
      finishReason: r.finishReason, parts, prompt,
    };
  }
}
