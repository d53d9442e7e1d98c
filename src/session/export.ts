/**
 * A policy of the session as a zip (src/onnx/export-folder.ts): `hf` (Hugging Face folder) or
 * `onnx`, with a model card naming the pack, the stages and their steps, and the latest
 * evaluation of that policy.
 */
import type { TrainerState } from '../io/checkpoint.ts';
import { exportFiles, type ExportFormat } from '../onnx/export-folder.ts';
import { zipFiles } from '../io/zip.ts';
import type { TrainingSession } from './training-session.ts';
import { POLICY_STAGE, type PolicyName } from './types.ts';

/**
 * The export of `policy`; `kvCache` (onnx only) exports the graph that takes and returns the
 * attention cache. Returns the archive and its file names.
 * @throws Error for `kvCache` with the hf format, or a policy that does not exist yet.
 */
export async function exportPolicyZip(session: TrainingSession, format: ExportFormat, policy: PolicyName, opts: { kvCache?: boolean } = {}): Promise<{ name: string; zip: Uint8Array; files: string[] }> {
  const ckpt = session.checkpoint();
  const stage = POLICY_STAGE[policy];
  const weights = await session.policyWeights(policy);
  const steps = session.policySteps(policy);
  const pack = session.packName();
  const stage1Steps = session.stageMetrics(1).length;
  const name = `r1s-${pack || 'pack'}-${policy}${stage ? `-step${steps}` : ''}`;
  const lineage: TrainerState['lineage'] = [];
  if (stage >= 1 && stage1Steps) lineage.push({ stage: 1, steps: stage === 1 ? steps : stage1Steps, pack });
  if (stage === 2) lineage.push({ stage: 2, steps, pack });
  // A shipped run has no trainer (no optimizer or RNG state): its policies export as models only.
  const state = stage === 0 ? undefined : session.stageState(stage as 1 | 2, steps, lineage);
  const enc = new TextEncoder();
  const evalRows = session.evaluations().filter((r) => r.policy === policy);
  const metrics = stage === 0 ? [] : session.stageMetrics(stage as 1 | 2);
  const files = exportFiles({ ...ckpt, weights, ...(state ? { state } : {}) }, format, {
    name,
    ...(evalRows.length ? { evalJson: enc.encode(JSON.stringify({ pack, results: evalRows.map(({ split, mode, overall, byTemplate }) => ({ split, mode, overall, byTemplate })) })) } : {}),
    ...(metrics.length ? { metricsJsonl: enc.encode(metrics.map((m) => JSON.stringify(m)).join('\n') + '\n') } : {}),
    ...(opts.kvCache ? { kvCache: true } : {}),
  });
  return { name, zip: zipFiles(files, { root: name }), files: [...files.keys()] };
}
