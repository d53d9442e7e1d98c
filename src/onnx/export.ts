/**
 * ONNX export of the policy: a graph of standard operators (opset 17) that computes exactly what
 * src/model/llama.ts computes on the CPU backend (src/backend/cpu/), so that any ONNX
 * runtime (onnxruntime-web in the page, onnxruntime in Python) reproduces our logits.
 *
 *   inputs   input_ids       int64 (B, T)
 *            attention_mask  int64 (B, T)   1 = token, 0 = padding (left or right)
 *   output   logits          float (B, T, V)   next-token logits at every position
 *
 * Positions are cumsum(attention_mask) - 1 (0 on left padding), so a padded row gets the
 * logits its unpadded sequence gets; a query attends to keys j <= i whose mask is 1. Logits at
 * padded positions are meaningless and must be ignored.
 *
 * With `kvCache`, the graph also takes and returns the attention keys and values, under the
 * names Hugging Face Optimum and transformers.js use, so decoding feeds one new token per step:
 *
 *   inputs   past_key_values.{l}.key / .value   float (B, H, P, D)   P = 0 on the first call
 *            attention_mask                    int64 (B, P + T)     the past's mask, then the new tokens'
 *   outputs  present.{l}.key / .value           float (B, H, P + T, D)   (RoPE already applied to keys)
 *
 * The new tokens' positions are the last T of cumsum(attention_mask) - 1, and query i attends to
 * keys j <= P + i, so a cached step gives the logits the whole sequence gives at once.
 *
 * Each layer is written out of elementary ops, in the order and precision of the CPU kernels:
 * RMSNorm = x * 1/sqrt(mean(x^2) + eps) * w; RoPE rotate-half with inv_freq = theta^(-2i/D)
 * taken from the same float32 table (ropeInvFreq) and the angle p * inv_freq in float32;
 * attention scores (q k^T) * D^-1/2, masked, softmax; SwiGLU silu(g) * u = g * sigmoid(g) * u.
 * The weights are initializers under their Hugging Face names, bit for bit as in
 * model.safetensors; Linear layers use a Transpose of the (out, in) weight, which runtimes fold
 * into a constant when the session starts.
 */
import { ropeInvFreq } from '../backend/cpu/rope.ts';
import { headSize, type ModelConfig } from '../model/config.ts';
import { EMBED, FINAL_NORM, LM_HEAD, layerNames } from '../model/params.ts';
import { BOS, EOS, PAD, SPECIAL_IDS } from '../protocol/tags.ts';
import { checkWeights } from '../io/checkpoint.ts';
import { toHfConfig } from '../io/hf-config.ts';
import { GraphBuilder } from './graph-builder.ts';
import { encodeModel, ONNX_IR_VERSION, ONNX_OPSET, OnnxDataType } from './proto.ts';
import type { HostTensor } from '../io/safetensors.ts';

import { ONNX_ATTENTION_MASK, ONNX_INPUT_IDS, ONNX_LOGITS, onnxPastNames, onnxPresentNames } from './names.ts';

export { ONNX_ATTENTION_MASK, ONNX_INPUT_IDS, ONNX_LOGITS, onnxPastNames, onnxPresentNames };

/** Score given to masked attention entries: float32's lowest value, as Hugging Face uses. */
const MASKED_SCORE = -3.4028234663852886e38;

export interface OnnxExportOptions {
  /** Special ids written into the metadata (config.json's bos/eos/pad); special.ts's fixed ids by default. */
  specialIds?: { bos: number; eos: number; pad: number };
  /** Extra metadata_props (string -> string), e.g. the pack and the steps trained. */
  metadata?: Record<string, string>;
  /** Producer version (the app's version). */
  producerVersion?: string;
  /** Take and return the attention keys and values (see the top of this file); default false. */
  kvCache?: boolean;
}

/** The imported-model features the ONNX graph does not implement (empty for our own models). */
export function onnxUnsupported(c: ModelConfig): string[] {
  const out: string[] = [];
  if (c.numKvHeads !== undefined && c.numKvHeads !== c.numHeads) out.push(`grouped-query attention (num_key_value_heads ${c.numKvHeads} < num_attention_heads ${c.numHeads})`);
  if (c.headDim !== undefined && c.headDim * c.numHeads !== c.hiddenSize) out.push(`head_dim ${c.headDim} != hidden_size / num_attention_heads`);
  if (c.attentionBias) out.push(`attention biases (${c.attentionBias})`);
  if (c.ropeScaling) out.push(`rope_scaling ${c.ropeScaling.type}`);
  return out;
}

/**
 * Builds the `.onnx` bytes of a model.
 * @param weights parameters by Hugging Face name, shapes as src/model/params.ts lays them out.
 * @throws CheckpointError naming a missing, extra or mis-shaped tensor; Error naming an
 * imported model's feature the graph does not spell out (see onnxUnsupported).
 */
export function exportOnnx(config: ModelConfig, weights: ReadonlyMap<string, HostTensor>, opts: OnnxExportOptions = {}): Uint8Array {
  const unsupported = onnxUnsupported(config);
  if (unsupported.length) throw new Error(`ONNX export: not supported for this model (${unsupported.join('; ')}); export the safetensors folder instead`);
  checkWeights(weights, config, 'weights');
  const g = new GraphBuilder();
  const C = config.hiddenSize, H = config.numHeads, D = headSize(config), V = config.vocabSize;
  const w = (name: string) => {
    const t = weights.get(name)!;
    return g.initF32(name, t.shape, t.data);
  };
  const ids = g.input(ONNX_INPUT_IDS, OnnxDataType.INT64, ['batch', 'sequence']);
  const mask = g.input(ONNX_ATTENTION_MASK, OnnxDataType.INT64, ['batch', opts.kvCache ? 'total_sequence' : 'sequence']);
  const past = opts.kvCache
    ? Array.from({ length: config.numLayers }, (_, l) => {
      const n = onnxPastNames(l);
      return { key: g.input(n.key, OnnxDataType.FLOAT, ['batch', H, 'past_sequence', D]), value: g.input(n.value, OnnxDataType.FLOAT, ['batch', H, 'past_sequence', D]) };
    })
    : null;
  const i64 = (...v: number[]) => g.constI64(v);
  const scalarI64 = (v: number) => g.constI64([v], []);

  // ---- lengths: T new tokens after P cached ones (P = 0 without a cache), S = P + T keys
  g.scope = 'lengths';
  const T = g.op('Squeeze', [g.op('Shape', [ids], { start: 1, end: 2 }), i64(0)]);
  const P = past ? g.op('Squeeze', [g.op('Shape', [past[0]!.key], { start: 2, end: 3 }), i64(0)]) : scalarI64(0);
  const S = past ? g.op('Add', [P, T]) : T;

  // ---- positions of the new tokens and their RoPE tables, shared by every layer
  g.scope = 'rope';
  const cum = g.op('CumSum', [mask, scalarI64(1)]); // (B, S)
  const posAll = g.op('Max', [g.op('Sub', [cum, scalarI64(1)]), scalarI64(0)]); // left padding -> 0
  const pos = past ? g.op('Slice', [posAll, g.op('Unsqueeze', [P, i64(0)]), g.op('Unsqueeze', [S, i64(0)]), i64(1)]) : posAll; // (B, T)
  const posF = g.op('Unsqueeze', [g.op('Cast', [pos], { to: OnnxDataType.FLOAT }), i64(2)]); // (B, T, 1)
  const invFreq = g.initF32('rope.inv_freq', [D / 2], ropeInvFreq(D, config.ropeTheta));
  const angles = g.op('Mul', [posF, invFreq]); // (B, T, D/2), float32 like Math.fround(p * inv)
  const anglesFull = g.op('Concat', [angles, angles], { axis: -1 }); // (B, T, D): pairs (i, i + D/2)
  const cos = g.op('Unsqueeze', [g.op('Cos', [anglesFull]), i64(1)]); // (B, 1, T, D)
  const sin = g.op('Unsqueeze', [g.op('Sin', [anglesFull]), i64(1)]);

  // ---- attention mask: causal (key j <= P + i) AND key is a token, (B, 1, T, S)
  g.scope = 'mask';
  const queryIdx = g.op('Range', [P, S, scalarI64(1)]); // (T): absolute indices of the new tokens
  const keyIdx = past ? g.op('Range', [scalarI64(0), S, scalarI64(1)]) : queryIdx; // (S)
  const causal = g.op('LessOrEqual', [g.op('Unsqueeze', [keyIdx, i64(0)]), g.op('Unsqueeze', [queryIdx, i64(1)])]); // [i, j] = j <= P + i
  const keys = g.op('Unsqueeze', [g.op('Cast', [mask], { to: OnnxDataType.BOOL }), i64(1, 2)]); // (B, 1, 1, S)
  const allowed = g.op('And', [causal, keys]);
  const masked = g.constF32([MASKED_SCORE], []);

  const linear = (x: string, weight: string) => g.op('MatMul', [x, g.op('Transpose', [w(weight)], { perm: [1, 0] })]);
  const rmsnorm = (x: string, weight: string) => {
    const ms = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: [-1], keepdims: 1 });
    const rstd = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [ms, g.constF32([config.rmsEps], [])])])]);
    return g.op('Mul', [g.op('Mul', [x, rstd]), w(weight)]);
  };
  const heads = (x: string) => g.op('Transpose', [g.op('Reshape', [x, i64(0, 0, H, D)])], { perm: [0, 2, 1, 3] }); // (B, H, T, D)
  const rope = (x: string) => {
    const x1 = g.op('Slice', [x, i64(0), i64(D / 2), i64(3)]);
    const x2 = g.op('Slice', [x, i64(D / 2), i64(D), i64(3)]);
    const rotated = g.op('Concat', [g.op('Neg', [x2]), x1], { axis: 3 }); // rotate_half
    return g.op('Add', [g.op('Mul', [x, cos]), g.op('Mul', [rotated, sin])]);
  };

  g.scope = 'embed';
  let x = g.op('Gather', [w(EMBED), ids], { axis: 0 }); // (B, T, C)
  for (let l = 0; l < config.numLayers; l++) {
    const n = layerNames(l);
    g.scope = `layers.${l}/attn`;
    const h1 = rmsnorm(x, n.inputNorm);
    const q = rope(heads(linear(h1, n.q)));
    let k = rope(heads(linear(h1, n.k)));
    let v = heads(linear(h1, n.v));
    if (past) {
      // The cache holds keys after RoPE: each key keeps the rotation of its own position.
      const present = onnxPresentNames(l);
      k = g.op('Concat', [past[l]!.key, k], { axis: 2 }); // (B, H, S, D)
      v = g.op('Concat', [past[l]!.value, v], { axis: 2 });
      g.output(k, present.key, OnnxDataType.FLOAT, ['batch', H, 'total_sequence', D]);
      g.output(v, present.value, OnnxDataType.FLOAT, ['batch', H, 'total_sequence', D]);
    }
    const scores = g.op('Mul', [g.op('MatMul', [q, g.op('Transpose', [k], { perm: [0, 1, 3, 2] })]), g.constF32([1 / Math.sqrt(D)], [])]);
    const probs = g.op('Softmax', [g.op('Where', [allowed, scores, masked])], { axis: -1 }); // (B, H, T, S)
    const att = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [probs, v])], { perm: [0, 2, 1, 3] }), i64(0, 0, C)]);
    x = g.op('Add', [x, linear(att, n.o)]);
    g.scope = `layers.${l}/mlp`;
    const h2 = rmsnorm(x, n.postNorm);
    const gate = linear(h2, n.gate);
    const act = g.op('Mul', [g.op('Mul', [gate, g.op('Sigmoid', [gate])]), linear(h2, n.up)]);
    x = g.op('Add', [x, linear(act, n.down)]);
  }
  g.scope = 'head';
  const hFinal = rmsnorm(x, FINAL_NORM);
  const head = config.tieEmbeddings ? g.op('Transpose', [EMBED], { perm: [1, 0] }) : g.op('Transpose', [w(LM_HEAD)], { perm: [1, 0] });
  // Logits first, then the cache (declared layer by layer above), as Optimum orders them.
  g.output(g.op('MatMul', [hFinal, head]), ONNX_LOGITS, OnnxDataType.FLOAT, ['batch', 'sequence', V], { first: true });

  const hf = toHfConfig(config, opts.specialIds ?? { bos: SPECIAL_IDS[BOS], eos: SPECIAL_IDS[EOS], pad: SPECIAL_IDS[PAD] });
  const metadata: Record<string, string> = { 'hf_config.json': JSON.stringify(hf), positions: 'cumsum(attention_mask) - 1, clamped at 0', ...opts.metadata };
  return encodeModel({
    ir_version: ONNX_IR_VERSION,
    opset_import: [{ domain: '', version: ONNX_OPSET }],
    producer_name: 'r1-searcher-playground',
    producer_version: opts.producerVersion ?? '0.1.0',
    doc_string: 'Llama-architecture policy trained by R1-Searcher-style RL: input_ids, attention_mask (int64, B x T) -> logits (float, B x T x V)'
      + (opts.kvCache ? '; past_key_values.{l}.key/value (float, B x H x P x D) in, present.{l}.key/value out, attention_mask then B x (P + T).' : '.'),
    graph: g.build('r1s-policy'),
    metadata_props: Object.entries(metadata).map(([key, value]) => ({ key, value })),
  });
}
