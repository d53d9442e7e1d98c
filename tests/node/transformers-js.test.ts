/**
 * The ONNX export folder loaded by transformers.js (`@huggingface/transformers`, Node build,
 * onnxruntime-node's CPU binary) as a new user would: `AutoModelForCausalLM.from_pretrained(dir)`
 * and `AutoTokenizer.from_pretrained(dir)` with default options, offline, from the local path
 * (issue 17). Greedy `generate()` must give exactly the ids of our own greedy decoding (argmax of
 * the cpu backend's logits, src/cli/commands/logits.ts).
 *
 * transformers.js's generation loop feeds only the newest token after the first call
 * (`_update_model_kwargs_for_generation` in its dist/transformers.node.mjs), so a model without
 * the KV cache generates ONE token there; the export without the cache is checked on its logits
 * and that one token, the export with the cache (`--kv-cache`) on a whole greedy continuation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { AutoModelForCausalLM, AutoTokenizer, env, Tensor } from '@huggingface/transformers';
import { saveCheckpointDir } from '../../src/io/checkpoint-fs.ts';
import type { HostTensor } from '../../src/io/safetensors.ts';
import { run as exportCmd } from '../../src/cli/commands/export.ts';
import { positionLogits } from '../../src/cli/commands/logits.ts';
import { validateConfig, type ModelConfig } from '../../src/model/config.ts';
import { paramSpecs } from '../../src/model/params.ts';
import { argmax } from '../../src/onnx/decode.ts';
import { Tokenizer } from '../../src/tokenizer/tokenizer.ts';
import { Rng } from '../../src/util/rng.ts';

const tok = Tokenizer.fromWords('who wrote the book ? it was written by a poet from the north'.split(' '));
const config = validateConfig({ vocabSize: tok.size, hiddenSize: 16, intermediateSize: 24, numLayers: 2, numHeads: 2, maxPositions: 32, rmsEps: 1e-5, ropeTheta: 10000, tieEmbeddings: false });

/** Random weights with a strong spread, so the argmax is never a near tie. */
function randomWeights(c: ModelConfig, seed: number): Map<string, HostTensor> {
  const rng = new Rng(seed);
  return new Map(paramSpecs(c).map((s) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const data = s.init === 'ones' ? Float32Array.from({ length: n }, () => 1 + 0.2 * rng.normal()) : Float32Array.from({ length: n }, () => 0.4 * rng.normal());
    return [s.name, { shape: [...s.shape], data }];
  }));
}

/** Our greedy decoding: append the argmax of the last position's logits, `n` times (no stop token). */
async function ourGreedy(weights: Map<string, HostTensor>, prompt: number[], n: number): Promise<number[]> {
  const ids = [...prompt];
  for (let i = 0; i < n; i++) {
    const [flat] = await positionLogits(config, weights, [ids]);
    const last = flat!.subarray((ids.length - 1) * config.vocabSize, ids.length * config.vocabSize);
    ids.push(argmax(last));
  }
  return ids;
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'r1s-tfjs-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const silent = async (f: () => Promise<void>) => {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    await f();
  } finally {
    process.stdout.write = write;
  }
};

describe('transformers.js loads the ONNX export', () => {
  for (const kvCache of [true, false]) {
    it(`from_pretrained(local folder): logits and greedy generate() are ours (${kvCache ? 'with the KV cache, 12 tokens' : 'without the cache, 1 token'})`, async () => {
      const weights = randomWeights(config, kvCache ? 21 : 22);
      const ckptDir = join(root, `ckpt-${kvCache}`);
      await saveCheckpointDir(ckptDir, { config, tokenizer: tok, weights });
      const out = join(root, `export-${kvCache}`, 'policy');
      await silent(() => exportCmd(['--checkpoint', ckptDir, '--format', 'onnx', '--out', out, ...(kvCache ? ['--kv-cache'] : [])]));
      expect((await readdir(join(out, 'onnx')))).toEqual(['model.onnx']);

      // Offline, from the local path: no hub, the folder's parent as the model root.
      env.allowRemoteModels = false;
      env.allowLocalModels = true;
      env.localModelPath = dirname(out);
      const name = basename(out);
      const tokenizer = await AutoTokenizer.from_pretrained(name);
      const model = await AutoModelForCausalLM.from_pretrained(name);
      try {
        const prompt = [tok.bosId, ...tok.encode('who wrote the book ?')];
        // The tokenizer files too: the card's snippet writes `<bos>` in the text (a special token of tokenizer.json).
        const encoded = tokenizer('<bos> who wrote the book ?', { add_special_tokens: false });
        expect(Array.from(encoded.input_ids.data as BigInt64Array, Number)).toEqual(prompt);
        const n = kvCache ? 12 : 1;
        const input_ids = new Tensor('int64', BigInt64Array.from(prompt.map(BigInt)), [1, prompt.length]);
        // A forward call as transformers.js makes it: the logits of every position are ours.
        const forward = (await model({ input_ids, attention_mask: new Tensor('int64', new BigInt64Array(prompt.length).fill(1n), [1, prompt.length]) })) as { logits: Tensor };
        const [ours] = await positionLogits(config, weights, [prompt]);
        const theirs = forward.logits.data as Float32Array;
        expect(theirs.length).toBe(ours!.length);
        let maxDiff = 0;
        for (let i = 0; i < ours!.length; i++) maxDiff = Math.max(maxDiff, Math.abs(theirs[i]! - ours![i]!));
        expect(maxDiff).toBeLessThan(1e-4);
        const generated = await model.generate({ input_ids, max_new_tokens: n, do_sample: false, eos_token_id: [], min_new_tokens: n } as never);
        const ids = Array.from((generated as { data: BigInt64Array }).data, Number);
        expect(ids).toEqual(await ourGreedy(weights, prompt, n));
      } finally {
        await model.dispose();
      }
    }, 120_000);
  }
});
