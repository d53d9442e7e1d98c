/**
 * Rollouts outside training, for the page's Base model step, Compare and the export check: the
 * prompt a stage renders, one rollout of any policy on any question (greedy or sampled, scored
 * against gold answers when given), and a policy's next-token logits. None of them draws from
 * the trainer's generator (each uses its own seeded one), so asking cannot change a run.
 */
import { encodePrompt } from '../tokenizer/text-tokenizer.ts';
import { getPromptPreset, renderPrompt } from '../protocol/prompts.ts';
import { rolloutTrace } from '../protocol/trace.ts';
import { documentText } from '../protocol/splice.ts';
import { computeReward, type RewardResult } from '../rl/rewards.ts';
import { generateRollouts, type RolloutSettings } from '../rl/rollout.ts';
import { defaultRlSettings } from '../rl/settings.ts';
import { slotAnswerWords } from '../tokenizer/slot-words.ts';
import { Rng } from '../util/rng.ts';
import type { TrainingSession } from './training-session.ts';
import { GREEDY_PROMPT_SEED, type PolicyName, type SampleRequest, type SampleResult } from './types.ts';

/** The prompt a stage renders for a question (a fixed generator `seed`: it never touches the trainer's). */
export function stagePrompt(session: TrainingSession, question: string, seed = 1, preset?: string): string {
  const ckpt = session.checkpoint();
  const name = preset ?? session.promptPresetName();
  return renderPrompt(getPromptPreset(name), question, new Rng(seed), { answerWords: slotAnswerWords(ckpt.tokenizer) });
}

/**
 * Rollout settings for a request: the stage's (the running trainer's, else the stage defaults;
 * Stage 1's for the base) with the request's changes; greedy sets temperature 0 and top-p 1.
 */
export function requestRolloutSettings(session: TrainingSession, stage: 0 | 1 | 2, req: SampleRequest): RolloutSettings {
  const s: RolloutSettings = { ...session.stageRolloutSettings(stage), ...(req.rollout ?? {}) };
  if (req.greedy) {
    s.temperature = 0;
    s.topP = 1;
  }
  s.maxLength = Math.min(s.maxLength, session.checkpoint().config.maxPositions);
  return s;
}

/** Stage 2's reward of a finished completion against gold answers, documents cut as they were spliced. */
export function scoreCompletion(completion: string, answers: string[], hits: { title: string; text: string }[][], docMaxWords: number): RewardResult {
  return computeReward(2, completion, { answers, retrievedDocs: hits.map((hs) => hs.map((h) => documentText(h, docMaxWords))) }, defaultRlSettings(2).reward);
}

/**
 * One rollout of a policy on any question (a typed one too), with searches, outside training.
 * @throws Error when the policy does not exist yet (e.g. Stage 2 before it started).
 */
export async function sample(session: TrainingSession, req: SampleRequest): Promise<SampleResult> {
  const ckpt = session.checkpoint();
  const { model, stage } = await session.policyModel(req.policy);
  const seed = req.greedy ? GREEDY_PROMPT_SEED : req.seed ?? 1;
  const settings = requestRolloutSettings(session, stage, req);
  const prompt = stagePrompt(session, req.question, seed, req.promptPreset);
  const ids = encodePrompt(ckpt.tokenizer, prompt);
  const [r] = await generateRollouts(model, ckpt.tokenizer, session.retriever(), [ids], 1, settings, new Rng(seed));
  const roll = r!;
  const completion = ckpt.tokenizer.decode(roll.tokens.slice(roll.promptLength));
  const scored = req.answers && req.answers.length > 0 ? scoreCompletion(completion, req.answers, roll.searches.map((c) => c.hits), settings.docMaxWords) : null;
  return {
    ...rolloutTrace(roll, roll.finishReason), policy: req.policy, question: req.question, decoding: req.greedy ? 'greedy' : 'sampled', seed, prompt, completion,
    tokenTexts: roll.tokens.map((t) => ckpt.tokenizer.vocab[t]!), reward: scored?.reward ?? null, parts: scored?.parts ?? null,
  };
}

/**
 * Next-token logits (V) of a policy after `ids` (for the export check: the ONNX model must give
 * the same numbers).
 * @throws Error for an empty sequence or a policy that does not exist yet.
 */
export async function policyLogits(session: TrainingSession, policy: PolicyName, ids: number[]): Promise<Float32Array> {
  const { model } = await session.policyModel(policy);
  if (ids.length === 0) throw new Error('session: logits of an empty sequence');
  const cache = model.createCache(1, ids.length);
  try {
    const out = model.forwardInfer(cache, {
      tokens: Int32Array.from(ids), slots: new Int32Array(ids.length), positions: Int32Array.from(ids, (_, i) => i), outRows: Int32Array.of(ids.length - 1),
    });
    const host = (await session.backend.read(out)) as Float32Array;
    session.backend.dispose(out);
    return host;
  } finally {
    model.disposeCache(cache);
  }
}
