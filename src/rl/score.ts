/**
 * Log-probabilities of given tokens under a model, without gradients: the reference policy's
 * log-probs for the KL term (recipe.md section 7, step 2), and the old policy's log-probs where
 * sampling did not record them (the retrieve-mask ablation).
 */
import { packSequences, type Llama } from '../model/llama.ts';
import { microBatches } from './policy-update.ts';

/**
 * For each sequence, log p(tokens[t] | tokens[<t]) at every position t where `mask[t] === 1`
 * (t >= 1), 0 elsewhere. Returns one Float32Array (T) per sequence. Runs in micro-batches of at
 * most `maxTokens` tokens.
 */
export async function scoreSequences(
  model: Llama, seqs: readonly (readonly number[])[], masks: readonly Uint8Array[], maxTokens: number,
): Promise<Float32Array[]> {
  const out = seqs.map((s) => new Float32Array(s.length));
  const idx = seqs.map((_, i) => i).filter((i) => seqs[i]!.length >= 2);
  for (const micro of microBatches(idx, (i) => seqs[i]!.length, maxTokens)) {
    const batch = packSequences(micro.map((i) => seqs[i]!), (k, t) => masks[micro[k]!]![t] === 1);
    if (batch.lossRows.length === 0) continue;
    const st = model.forward(batch);
    const lp = (await model.backend.read(st.logProbs)) as Float32Array;
    model.release(st);
    let m = 0;
    for (const i of micro) {
      for (let t = 1; t < seqs[i]!.length; t++) if (masks[i]![t] === 1) out[i]![t] = lp[m++]!;
    }
  }
  return out;
}
