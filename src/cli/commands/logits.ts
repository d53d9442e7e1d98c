/**
 * `logits --checkpoint CKPT --text TEXT [--no-bos] [--json]`: the token ids of a text and the
 * next-token logits at every position, computed by the CPU backend's training forward pass.
 * This is the parity contract for exports: the Hugging Face folder in `transformers` and the
 * ONNX model in any runtime must give these numbers (to float32 rounding).
 *
 * The text is tokenized as our pipeline does (normalized words, `<bos>` first unless
 * --no-bos); logits[t] are the scores of the token that follows ids[0..t]. A logit that is
 * not finite is an error (exit code 1), never printed.
 */
import { CpuBackend } from '../../backend/cpu/cpu-backend.ts';
import { uploadParams } from '../../io/checkpoint.ts';
import { loadCheckpointDir } from '../../io/checkpoint-fs.ts';
import type { HostTensor } from '../../io/safetensors.ts';
import type { ModelConfig } from '../../model/config.ts';
import { Llama, packSequences } from '../../model/llama.ts';
import { parseFlags, required } from '../common.ts';

const USAGE = 'npm run cli -- logits --checkpoint CKPT --text TEXT [--no-bos] [--json]';

/**
 * Logits at every position of each sequence, (T_s, V) row-major per sequence, from one
 * training forward over the ragged batch (every position scored). A placeholder token is
 * appended to each sequence because the training forward feeds all tokens but the last;
 * it only serves as a target, so it never changes a logit.
 * @throws Error on an empty sequence, an id outside [0, V) (from the model), or a logit that
 *   is not finite (naming its position).
 */
export async function positionLogits(config: ModelConfig, weights: ReadonlyMap<string, HostTensor>, seqs: readonly number[][]): Promise<Float32Array[]> {
  seqs.forEach((s, i) => {
    if (s.length === 0) throw new Error(`logits: sequence ${i} is empty`);
  });
  const backend = new CpuBackend();
  const model = new Llama(backend, config, uploadParams(backend, weights));
  const batch = packSequences(seqs.map((s) => [...s, 0]), () => true);
  const st = model.forward(batch);
  const all = (await backend.read(st.logits)) as Float32Array; // (M, V), M = sum of T_s
  model.release(st);
  // NaN would print as null and look like an answer: a non-finite logit is an error.
  const bad = all.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) {
    const V = config.vocabSize, row = Math.floor(bad / V);
    let s = 0, start = 0;
    while (start + seqs[s]!.length <= row) start += seqs[s++]!.length;
    throw new Error(`logits: the logit of token ${bad % V} at position ${row - start} of sequence ${s} is ${all[bad]}: the weights or activations overflow or hold NaN`);
  }
  const V = config.vocabSize, out: Float32Array[] = [];
  let row = 0;
  for (const s of seqs) {
    out.push(all.slice(row * V, (row + s.length) * V));
    row += s.length;
  }
  return out;
}

export async function run(argv: string[]): Promise<void> {
  const f = parseFlags(argv, { checkpoint: { type: 'string' }, text: { type: 'string' }, 'no-bos': { type: 'boolean' }, json: { type: 'boolean' } }, USAGE);
  const dir = required(f.checkpoint, 'checkpoint');
  const text = required(f.text, 'text');
  const ckpt = await loadCheckpointDir(dir);
  const tok = ckpt.tokenizer;
  const ids = [...(f['no-bos'] ? [] : [tok.bosId]), ...tok.encode(text)];
  if (ids.length === 0) throw new Error('--text has no words (and --no-bos leaves no token)');
  if (ids.length > ckpt.config.maxPositions) throw new Error(`--text is ${ids.length} tokens, the model takes at most ${ckpt.config.maxPositions}`);
  const [flat] = await positionLogits(ckpt.config, ckpt.weights, [ids]);
  const V = ckpt.config.vocabSize;
  const logits = ids.map((_, t) => Array.from(flat!.subarray(t * V, (t + 1) * V)));
  const tokens = ids.map((i) => tok.vocab[i]!);
  if (f.json) {
    process.stdout.write(`${JSON.stringify({ checkpoint: dir, ids, tokens, logits })}\n`);
    return;
  }
  // Human-readable: the top-5 next tokens at each position.
  for (let t = 0; t < ids.length; t++) {
    const top = logits[t]!.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]).slice(0, 5);
    process.stdout.write(`${t}\t${tokens[t]}\t-> ${top.map(([v, i]) => `${tok.vocab[i]} ${v.toFixed(3)}`).join(', ')}\n`);
  }
}
