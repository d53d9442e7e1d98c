/**
 * The page's evaluation of a policy (src/eval/evaluate.ts, greedy) on a sample of each split's
 * questions in each mode. The session keeps the latest rows for the export's model card.
 */
import type { Question } from '../corpus/types.ts';
import { defaultEvalSettings, evaluate } from '../eval/evaluate.ts';
import type { TrainingSession } from './training-session.ts';
import type { EvalRequest, EvalRow } from './types.ts';

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

/**
 * Evaluates a policy on `limit` questions of each split in each mode. `onProgress(done, total)`
 * counts questions over all splits and modes.
 * @throws Error for a split without questions or an unknown mode.
 */
export async function evaluatePolicy(session: TrainingSession, req: EvalRequest, onProgress?: (done: number, total: number) => void): Promise<EvalRow[]> {
  const ckpt = session.checkpoint();
  const { model } = await session.policyModel(req.policy);
  const sets = req.splits.map((split) => {
    const qs = evaluationSample(session.questions().filter((q) => q.split === split), req.limit);
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
      const r = await evaluate(model, ckpt.tokenizer, session.retriever(), qs, s, (d) => onProgress?.(done + d, total));
      done += qs.length;
      rows.push({ policy: req.policy, steps: session.policySteps(req.policy), split, mode, overall: r.overall, byTemplate: r.byTemplate, byHops: r.byHops, examples: r.records.slice(0, 3) });
    }
  }
  session.recordEvaluation(rows);
  return rows;
}
