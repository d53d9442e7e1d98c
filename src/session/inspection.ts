/**
 * The inspector's per-token view of a rollout (src/rl/inspect.ts scores it): the probability of
 * every generated token and its top alternatives under a policy.
 */
import { uploadParams } from '../io/checkpoint.ts';
import { Llama } from '../model/llama.ts';
import type { ParamSet } from '../model/params.ts';
import { scoreTokens } from '../rl/inspect.ts';
import type { RolloutRecord } from '../rl/trainer.ts';
import type { TrainingSession } from './training-session.ts';
import type { PolicyName, RolloutInspection } from './types.ts';

/**
 * Rollout `index` of the latest batch under the policy that sampled it (the weights before the
 * latest update); after a restore, when those weights are gone, under the current policy
 * (`exact: false`).
 * @throws RangeError for an index outside the batch.
 */
export async function inspectRollout(session: TrainingSession, index: number, topN = 5): Promise<RolloutInspection> {
  const ckpt = session.checkpoint();
  const { rollouts, preStep, stage } = session.latestBatch();
  const r = rollouts[index];
  if (!r) throw new RangeError(`session: no rollout ${index} in the latest batch (it has ${rollouts.length})`);
  const b = session.backend;
  let model: Llama, params: ParamSet | null = null;
  if (preStep) {
    params = uploadParams(b, preStep);
    model = new Llama(b, ckpt.config, params);
  } else model = (await session.policyModel(stage === 2 ? 'stage2' : stage === 1 ? 'stage1' : 'base')).model;
  try {
    const scores = await scoreTokens(model, r.tokens, Math.max(1, r.promptLength), topN);
    for (const sc of scores) for (const a of sc.top) a.token = ckpt.tokenizer.vocab[a.id];
    return { index, tokens: r.tokens.map((t) => ckpt.tokenizer.vocab[t]!), scores, exact: preStep !== null };
  } finally {
    if (params) for (const t of params.values()) b.dispose(t);
  }
}

/**
 * A rollout of an earlier step (the rollout history; the weights that sampled it are gone) under
 * `policy`, usually the stage's latest.
 * @throws Error when the policy does not exist.
 */
export async function inspectRecord(session: TrainingSession, record: RolloutRecord, policy: PolicyName, topN = 5): Promise<RolloutInspection> {
  const ckpt = session.checkpoint();
  const { model } = await session.policyModel(policy);
  const scores = await scoreTokens(model, record.tokens, Math.max(1, record.promptLength), topN);
  for (const sc of scores) for (const a of sc.top) a.token = ckpt.tokenizer.vocab[a.id];
  return { index: -1, tokens: record.tokens.map((t) => ckpt.tokenizer.vocab[t]!), scores, exact: false, scoredWith: policy };
}
