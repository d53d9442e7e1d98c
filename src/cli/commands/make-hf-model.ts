/**
 * `make-hf-model --shape smollm2-135m|tiny-gqa --out DIR [--pack DIR] [--merges N] [--seed S]`:
 * writes a Hugging Face model folder with random weights (config.json, a byte-level BPE
 * tokenizer.json, model.safetensors) in the layout of a Hub download, to try `train --init`
 * on an imported model and to measure a real model's shape without downloading one.
 * - smollm2-135m: SmolLM2-135M's exact shape (hidden 576, 30 layers, 9 heads, 3 KV heads,
 *   MLP 1536, vocabulary 49152, tied, rope_theta 100000): 134.5M parameters.
 * - tiny-gqa: a small grouped-query model (hidden 64, 2 layers, 4 heads, 2 KV heads, head_dim
 *   16, untied, Llama 3 RoPE scaling) with the tokenizer's vocabulary.
 * The tokenizer's merges are learnt from the pack's documents and questions (`--pack`), or from
 * nothing (bytes only) without one; smollm2-135m pads it to 49152 tokens.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fromHfConfig } from '../../io/hf-config.ts';
import { writeSafetensors, type HostTensor } from '../../io/safetensors.ts';
import { paramSpecs } from '../../model/params.ts';
import { byteLevelTokenizerJson, trainByteLevelMerges } from '../../tokenizer/byte-level-train.ts';
import { Rng } from '../../util/rng.ts';
import { HF_SHAPES } from '../../bench/hf-shapes.ts';
import { intFlag, log, openPack, parseFlags, required } from '../common.ts';

const USAGE = 'npm run cli -- make-hf-model --shape smollm2-135m|tiny-gqa --out DIR [--pack DIR] [--merges N] [--seed S]';

export async function run(argv: string[]): Promise<void> {
  const f = parseFlags(argv, { shape: { type: 'string' }, out: { type: 'string' }, pack: { type: 'string' }, merges: { type: 'string' }, seed: { type: 'string' } }, USAGE);
  const shape = required(f.shape, 'shape'), out = required(f.out, 'out');
  const base = HF_SHAPES[shape];
  if (!base) throw new Error(`--shape must be one of ${Object.keys(HF_SHAPES).join(', ')}, got "${shape}"`);
  const seed = intFlag(f.seed, 'seed', 1);
  const texts: string[] = [];
  if (f.pack) {
    const { pack } = await openPack(f.pack);
    for (const d of pack.documents.slice(0, 2000)) texts.push(`${d.title}\n${d.text}`);
    for (const q of pack.questions.slice(0, 2000)) texts.push(`${q.question} ${q.answers.join(' ')}`);
  }
  const merges = trainByteLevelMerges(texts, intFlag(f.merges, 'merges', 400));
  const fixedV = base.vocab_size as number | undefined;
  const tokenizer = byteLevelTokenizerJson(merges, fixedV ? { vocabSize: fixedV } : {});
  const V = Object.keys((tokenizer.model as { vocab: object }).vocab).length;
  const hf = { ...base, vocab_size: V };
  const config = fromHfConfig(hf);
  const rng = new Rng(seed);
  const weights = new Map<string, HostTensor>();
  let count = 0;
  for (const s of paramSpecs(config)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const std = s.init === 'residual-out' ? 0.02 / Math.sqrt(2 * config.numLayers) : 0.02;
    if (s.init === 'ones') data.fill(1);
    else if (s.init !== 'zeros') for (let i = 0; i < n; i++) data[i] = rng.normal() * std;
    weights.set(s.name, { shape: [...s.shape], data });
    count += n;
  }
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'config.json'), `${JSON.stringify(hf, null, 2)}\n`);
  await writeFile(join(out, 'tokenizer.json'), JSON.stringify(tokenizer));
  await writeFile(join(out, 'model.safetensors'), writeSafetensors(weights, { format: 'pt' }));
  log(`make-hf-model: wrote ${out} (${shape}, ${(count / 1e6).toFixed(1)}M parameters, ${V} tokens, ${merges.length} merges)`);
}
