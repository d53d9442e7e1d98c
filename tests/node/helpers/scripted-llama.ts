/**
 * A Llama whose next token is scripted: after token a it puts all the probability on next(a)
 * (end-of-sequence when unscripted), and it records every prompt it prefills. Evaluation and
 * rollout tests use it to drive a known trajectory ("search kreimpon, answer shorhy").
 */
import type { Tensor } from '../../../src/backend/backend.ts';
import { CpuBackend } from '../../../src/backend/cpu/cpu-backend.ts';
import { validateConfig } from '../../../src/model/config.ts';
import { Llama, type InferBatch, type KVCache } from '../../../src/model/llama.ts';
import { initParams } from '../../../src/model/params.ts';
import type { TextTokenizer } from '../../../src/tokenizer/text-tokenizer.ts';
import * as T from '../../../src/protocol/tags.ts';

export class ScriptedLlama extends Llama {
  prompts: number[][] = [];
  constructor(private readonly next: ReadonlyMap<number, number>, private readonly eos: number, vocabSize: number) {
    const b = new CpuBackend();
    const cfg = validateConfig({ vocabSize, hiddenSize: 8, intermediateSize: 8, numLayers: 1, numHeads: 2, maxPositions: 512, rmsEps: 1e-5, ropeTheta: 10000, tieEmbeddings: true });
    super(b, cfg, initParams(b, cfg, 1));
  }

  override forwardInfer(cache: KVCache, batch: InferBatch): Tensor {
    if (batch.positions[0] === 0) {
      let start = 0;
      for (let i = 1; i <= batch.tokens.length; i++) {
        if (i === batch.tokens.length || batch.slots[i] !== batch.slots[i - 1]) {
          this.prompts.push(Array.from(batch.tokens.slice(start, i)));
          start = i;
        }
      }
    }
    const M = batch.outRows.length, V = this.V, logits = new Float32Array(M * V);
    batch.outRows.forEach((row, m) => { logits[m * V + (this.next.get(batch.tokens[row]!) ?? this.eos)] = 20; });
    void cache;
    return this.backend.fromArray(logits, [M, V]);
  }
}

/** Always searches for "kreimpon", then answers "shorhy" (Kreimpon's birthplace in the world pack). */
export function kreimponLlama(tok: TextTokenizer): ScriptedLlama {
  const next = new Map<number, number>([
    [tok.id(T.THINK_OPEN), tok.id(T.QUERY_OPEN)], [tok.id(T.QUERY_OPEN), tok.id('kreimpon')], [tok.id('kreimpon'), tok.id(T.QUERY_CLOSE)],
    [tok.id(T.DOCS_CLOSE), tok.id(T.THINK_CLOSE)], [tok.id(T.THINK_CLOSE), tok.id(T.ANSWER_OPEN)], [tok.id(T.ANSWER_OPEN), tok.id('shorhy')],
    [tok.id('shorhy'), tok.id(T.ANSWER_CLOSE)],
  ]);
  return new ScriptedLlama(next, tok.id(T.EOS), tok.size);
}
