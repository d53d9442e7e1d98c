/**
 * The policy's forward and backward passes, written once against the Backend interface.
 *
 * Shape legend: N token rows of a ragged batch (sequences laid end to end, no padding),
 * M scored rows, C hidden size, F MLP width, H heads, D head size, V vocabulary, L layers.
 *
 * A decoder layer (Llama):   x += Wo attn(rope(Wq n1), rope(Wk n1), Wv n1),  n1 = rmsnorm(x)
 *                            x += Wd (silu(Wg n2) * Wu n2),                  n2 = rmsnorm(x)
 * followed by a final RMSNorm and the output head. Each block's forward and backward sit
 * side by side below; the forward saves exactly what its backward reads.
 *
 * Imported models add (src/model/config.ts): grouped-query attention (Hkv < H key/value
 * heads: k and v are (N, Hkv*D) and each is repeated to (N, H*D) by a row gather over the
 * (N*Hkv, D) view before attention; the backward sums the copies with a scatter-add), a head
 * size D != C/H (q and the attention output are (N, H*D), Wo is (C, H*D)), q/k/v(/o) biases
 * (added as ones(N,1) bias(1,F), so the bias gradient is ones^T dY: no new kernel), and Llama
 * 3's RoPE scaling. Our own models (Hkv = H, D = C/H, no biases) run exactly the ops they
 * always did.
 */
import type { Backend, Tensor } from '../backend/backend.ts';
import { headSize, kvHeads, type ModelConfig } from './config.ts';
import { EMBED, FINAL_NORM, headName, layerNames, type ParamSet } from './params.ts';

/**
 * A ragged batch for a training forward pass. Row n holds token `tokens[n]` at position
 * `positions[n]` of the sequence whose first row is `kvStart[n]`; rows of one sequence are
 * consecutive. Row `lossRows[m]` is scored on predicting `targets[m]` (the next token).
 */
export interface TrainBatch {
  tokens: Int32Array; // (N)
  positions: Int32Array; // (N)
  kvStart: Int32Array; // (N)
  lossRows: Int32Array; // (M)
  targets: Int32Array; // (M)
}

/** Activations one decoder layer saves for its backward pass. */
interface LayerSave {
  l: number; // layer index
  xIn: Tensor; rstd1: Tensor; h1: Tensor; // residual in (N,C), (N), rmsnorm out (N,C)
  q: Tensor; k: Tensor; v: Tensor; // after RoPE for q and k, (N,H*D) each (k, v repeated to H heads)
  att: Tensor; lse: Tensor; // attention out (N,H*D), log-sum-exp (N,H)
  xMid: Tensor; rstd2: Tensor; h2: Tensor; // residual after attention (N,C), (N), (N,C)
  gate: Tensor; up: Tensor; act: Tensor; // (N,F) each
}

/** Everything a training forward pass leaves for the backward pass. */
export interface ForwardState {
  batch: TrainBatch;
  ids: Tensor; positions: Tensor; kvStart: Tensor; lossRows: Tensor; targets: Tensor;
  /** ones (N,1) for the bias products, repeat index (N*H) for grouped-query attention; null when unused. */
  ones: Tensor | null; repIdx: Tensor | null;
  layers: LayerSave[];
  xFinal: Tensor; rstdFinal: Tensor; // (N,C), (N)
  hSel: Tensor; // final-normed rows that are scored (M,C)
  logits: Tensor; lse: Tensor; // (M,V), (M)
  /** log p(targets[m]) (M): the output. */
  logProbs: Tensor;
}

/** A key/value cache for batched decoding: `slots` sequences of up to `maxLen` tokens. */
export interface KVCache {
  slots: number;
  maxLen: number;
  k: Tensor[]; // per layer (slots * maxLen, H*D), after RoPE, repeated to H heads
  v: Tensor[];
}

/**
 * Rows appended to a KV cache in one inference call: row n is token `tokens[n]` of slot
 * `slots[n]` at position `positions[n]`. `outRows` are the rows whose next-token logits are
 * returned (M).
 */
export interface InferBatch {
  tokens: Int32Array; // (N)
  slots: Int32Array; // (N)
  positions: Int32Array; // (N)
  outRows: Int32Array; // (M)
}

export class Llama {
  readonly C: number;
  readonly F: number;
  readonly H: number;
  readonly D: number;
  /** Key/value heads (H unless grouped-query attention). */
  readonly Hkv: number;
  /** Widths of q (and the attention output) and of k and v: H*D and Hkv*D. */
  readonly QD: number;
  readonly KD: number;
  readonly V: number;
  readonly scale: number;

  constructor(
    readonly backend: Backend,
    readonly config: ModelConfig,
    readonly params: ParamSet,
  ) {
    this.C = config.hiddenSize;
    this.F = config.intermediateSize;
    this.H = config.numHeads;
    this.D = headSize(config);
    this.Hkv = kvHeads(config);
    this.QD = this.H * this.D;
    this.KD = this.Hkv * this.D;
    this.V = config.vocabSize;
    this.scale = 1 / Math.sqrt(this.D);
  }

  private p(name: string): Tensor {
    const t = this.params.get(name);
    if (!t) throw new Error(`model: missing parameter ${name}`);
    return t;
  }

  // ================================================================ training forward/backward

  /** Forward pass over a ragged batch, saving activations. Returns log p(targets) in `logProbs` (M). */
  forward(batch: TrainBatch): ForwardState {
    const b = this.backend, N = batch.tokens.length, M = batch.lossRows.length;
    checkBatch(batch, this.config);
    const ids = b.fromArray(batch.tokens, [N]);
    const positions = b.fromArray(batch.positions, [N]);
    const kvStart = b.fromArray(batch.kvStart, [N]);
    const lossRows = b.fromArray(batch.lossRows, [M]);
    const targets = b.fromArray(batch.targets, [M]);

    const { ones, repIdx } = this.helpers(N);
    let x = b.empty([N, this.C]);
    b.embeddingForward(ids, this.p(EMBED), x);
    const layers: LayerSave[] = [];
    for (let l = 0; l < this.config.numLayers; l++) {
      const s = this.attentionBlockForward(l, x, positions, kvStart, ones, repIdx);
      this.mlpBlockForward(l, s);
      layers.push(s);
      x = this.residualOut(s);
    }
    const rstdFinal = b.empty([N]);
    const hFinal = b.empty([N, this.C]);
    b.rmsnormForward(x, this.p(FINAL_NORM), hFinal, rstdFinal, this.config.rmsEps);
    const hSel = b.empty([M, this.C]);
    b.gatherRows(hFinal, lossRows, hSel);
    b.dispose(hFinal);
    const logits = b.empty([M, this.V]);
    b.matmul(hSel, this.p(headName(this.config)), logits, { transB: true });
    const lse = b.empty([M]);
    const logProbs = b.empty([M]);
    b.logSoftmaxGatherForward(logits, targets, logProbs, lse);
    return { batch, ids, positions, kvStart, lossRows, targets, ones, repIdx, layers, xFinal: x, rstdFinal, hSel, logits, lse, logProbs };
  }

  /**
   * Backward pass: given dLoss/dLogProbs (M), accumulates every parameter's gradient into
   * `grads` (same names as params) and frees the forward state.
   */
  backward(st: ForwardState, dLogProbs: Tensor, grads: ParamSet): void {
    const b = this.backend, N = st.batch.tokens.length, M = st.batch.lossRows.length;
    const g = (name: string) => {
      const t = grads.get(name);
      if (!t) throw new Error(`model: missing gradient ${name}`);
      return t;
    };
    // Output head and final norm.
    const dLogits = b.zeros([M, this.V]);
    b.logSoftmaxGatherBackward(st.logits, st.targets, st.lse, dLogProbs, dLogits);
    const head = headName(this.config);
    const dhSel = b.empty([M, this.C]);
    b.matmul(dLogits, this.p(head), dhSel); // (M,V)(V,C)
    b.matmul(dLogits, st.hSel, g(head), { transA: true, accumulate: true }); // (V,M)(M,C)
    b.dispose(dLogits);
    const dhFinal = b.zeros([N, this.C]);
    b.scatterAddRows(dhSel, st.lossRows, dhFinal);
    b.dispose(dhSel);
    const dx = b.zeros([N, this.C]); // gradient of the residual stream, flows down through every layer
    b.rmsnormBackward(st.xFinal, this.p(FINAL_NORM), st.rstdFinal, dhFinal, dx, g(FINAL_NORM));
    b.dispose(dhFinal);

    for (let l = this.config.numLayers - 1; l >= 0; l--) {
      const s = st.layers[l]!;
      this.mlpBlockBackward(l, s, dx, g);
      this.attentionBlockBackward(l, s, dx, st.positions, st.kvStart, st.ones, st.repIdx, g);
      this.disposeLayer(s);
    }
    b.embeddingBackward(st.ids, dx, g(EMBED));
    b.dispose(dx);
    this.disposeState(st);
  }

  /** Frees a forward state without a backward pass (e.g. evaluation of the loss only). */
  release(st: ForwardState): void {
    st.layers.forEach((s) => this.disposeLayer(s));
    this.disposeState(st);
  }

  private disposeState(st: ForwardState): void {
    const b = this.backend;
    for (const t of [st.ids, st.positions, st.kvStart, st.lossRows, st.targets, st.xFinal, st.rstdFinal, st.hSel, st.logits, st.lse, st.logProbs]) b.dispose(t);
    if (st.ones) b.dispose(st.ones);
    if (st.repIdx) b.dispose(st.repIdx);
  }

  // ---------------------------------------------------------------- imported-model helpers

  /**
   * What biases and grouped-query attention need for N rows: ones (N,1) and the repeat index
   * (N*H): row n*H + h of the repeated (N*H, D) view reads row n*Hkv + floor(h / (H/Hkv)) of
   * the (N*Hkv, D) view. Null where the model does not use them (our own models).
   */
  private helpers(N: number): { ones: Tensor | null; repIdx: Tensor | null } {
    const b = this.backend;
    let ones: Tensor | null = null, repIdx: Tensor | null = null;
    if (this.config.attentionBias) {
      ones = b.zeros([N, 1]);
      b.fill(ones, 1);
    }
    if (this.Hkv !== this.H) {
      const g = this.H / this.Hkv, idx = new Int32Array(N * this.H);
      for (let n = 0; n < N; n++) for (let h = 0; h < this.H; h++) idx[n * this.H + h] = n * this.Hkv + Math.floor(h / g);
      repIdx = b.fromArray(idx, [N * this.H]);
    }
    return { ones, repIdx };
  }

  /** out (N,F) += ones (N,1) bias (1,F). */
  private addBias(ones: Tensor, name: string, out: Tensor): void {
    const bias = this.p(name);
    this.backend.matmul(ones, this.backend.reshape(bias, [1, bias.size]), out, { accumulate: true });
  }

  /** dBias (F) += ones^T (1,N) dOut (N,F). */
  private biasBackward(ones: Tensor, dOut: Tensor, dBias: Tensor): void {
    this.backend.matmul(ones, dOut, this.backend.reshape(dBias, [1, dBias.size]), { transA: true, accumulate: true });
  }

  /** dst (N, H*D) = src (N, Hkv*D) with every key/value head repeated for its H/Hkv query heads. */
  private repeatKv(src: Tensor, repIdx: Tensor, dst: Tensor): void {
    const b = this.backend, N = src.shape[0]!;
    b.gatherRows(b.reshape(src, [N * this.Hkv, this.D]), repIdx, b.reshape(dst, [N * this.H, this.D]));
  }

  /** dSrc (N, Hkv*D) += the sum of each head's copies in dRep (N, H*D): the backward of repeatKv. */
  private repeatKvBackward(dRep: Tensor, repIdx: Tensor, dSrc: Tensor): void {
    const b = this.backend, N = dSrc.shape[0]!;
    b.scatterAddRows(b.reshape(dRep, [N * this.H, this.D]), repIdx, b.reshape(dSrc, [N * this.Hkv, this.D]));
  }

  /** Frees a layer's saved activations, its input included (each layer's input is owned by it). */
  private disposeLayer(s: LayerSave): void {
    for (const t of [s.xIn, s.rstd1, s.h1, s.q, s.k, s.v, s.att, s.lse, s.xMid, s.rstd2, s.h2, s.gate, s.up, s.act]) this.backend.dispose(t);
  }

  // ---------------------------------------------------------------- attention block

  private attentionBlockForward(
    l: number, xIn: Tensor, positions: Tensor, kvStart: Tensor, ones: Tensor | null, repIdx: Tensor | null,
  ): LayerSave {
    const b = this.backend, N = xIn.shape[0]!, n = layerNames(l), rs = this.config.ropeScaling ?? undefined;
    // Every output below is written whole by its first kernel: empty, not zeros.
    const rstd1 = b.empty([N]);
    const h1 = b.empty([N, this.C]);
    b.rmsnormForward(xIn, this.p(n.inputNorm), h1, rstd1, this.config.rmsEps);
    const q = b.empty([N, this.QD]);
    let k = b.empty([N, this.KD]), v = b.empty([N, this.KD]);
    b.matmul(h1, this.p(n.q), q, { transB: true });
    b.matmul(h1, this.p(n.k), k, { transB: true });
    b.matmul(h1, this.p(n.v), v, { transB: true });
    if (ones) {
      this.addBias(ones, n.qBias, q);
      this.addBias(ones, n.kBias, k);
      this.addBias(ones, n.vBias, v);
    }
    b.ropeForward(q, positions, q, this.H, this.config.ropeTheta, rs);
    b.ropeForward(k, positions, k, this.Hkv, this.config.ropeTheta, rs);
    if (repIdx) {
      const kRep = b.empty([N, this.QD]), vRep = b.empty([N, this.QD]);
      this.repeatKv(k, repIdx, kRep);
      this.repeatKv(v, repIdx, vRep);
      b.dispose(k);
      b.dispose(v);
      k = kRep;
      v = vRep;
    }
    const att = b.empty([N, this.QD]), lse = b.empty([N, this.H]);
    b.attentionForward(q, k, v, kvStart, positions, att, lse, this.H, this.scale);
    const xMid = b.empty([N, this.C]);
    b.copy(xIn, xMid);
    b.matmul(att, this.p(n.o), xMid, { transB: true, accumulate: true }); // x + Wo att
    if (ones && this.config.attentionBias === 'qkvo') this.addBias(ones, n.oBias, xMid);
    return {
      l, xIn, rstd1, h1, q, k, v, att, lse, xMid,
      rstd2: b.empty([N]), h2: b.empty([N, this.C]),
      gate: b.empty([N, this.F]), up: b.empty([N, this.F]), act: b.empty([N, this.F]),
    };
  }

  /** dx holds dLoss/d(xMid) on entry and dLoss/d(xIn) on exit. */
  private attentionBlockBackward(
    l: number, s: LayerSave, dx: Tensor, positions: Tensor, kvStart: Tensor,
    ones: Tensor | null, repIdx: Tensor | null, g: (name: string) => Tensor,
  ): void {
    const b = this.backend, N = dx.shape[0]!, n = layerNames(l), rs = this.config.ropeScaling ?? undefined;
    // xMid = xIn + att Wo^T: the residual passes dx through unchanged; the branch gets dx too.
    const dAtt = b.empty([N, this.QD]);
    b.matmul(dx, this.p(n.o), dAtt);
    b.matmul(dx, s.att, g(n.o), { transA: true, accumulate: true });
    if (ones && this.config.attentionBias === 'qkvo') this.biasBackward(ones, dx, g(n.oBias));
    const dq = b.zeros([N, this.QD]);
    let dk = b.zeros([N, this.QD]), dv = b.zeros([N, this.QD]);
    b.attentionBackward(s.q, s.k, s.v, kvStart, positions, s.att, s.lse, dAtt, dq, dk, dv, this.H, this.scale);
    b.dispose(dAtt);
    if (repIdx) {
      // Each key/value head's gradient is the sum over the query heads that shared it.
      const dkKv = b.zeros([N, this.KD]), dvKv = b.zeros([N, this.KD]);
      this.repeatKvBackward(dk, repIdx, dkKv);
      this.repeatKvBackward(dv, repIdx, dvKv);
      b.dispose(dk);
      b.dispose(dv);
      dk = dkKv;
      dv = dvKv;
    }
    // Undo RoPE on the gradients (the rotation's transpose), into fresh buffers.
    const dqPre = b.zeros([N, this.QD]), dkPre = b.zeros([N, this.KD]);
    b.ropeBackward(dq, positions, dqPre, this.H, this.config.ropeTheta, rs);
    b.ropeBackward(dk, positions, dkPre, this.Hkv, this.config.ropeTheta, rs);
    b.dispose(dq);
    b.dispose(dk);
    const dh1 = b.zeros([N, this.C]);
    for (const [dProj, name, bias] of [[dqPre, n.q, n.qBias], [dkPre, n.k, n.kBias], [dv, n.v, n.vBias]] as const) {
      b.matmul(dProj, this.p(name), dh1, { accumulate: true }); // (N,QD or KD)(QD or KD,C)
      b.matmul(dProj, s.h1, g(name), { transA: true, accumulate: true });
      if (ones) this.biasBackward(ones, dProj, g(bias));
      b.dispose(dProj);
    }
    b.rmsnormBackward(s.xIn, this.p(n.inputNorm), s.rstd1, dh1, dx, g(n.inputNorm));
    b.dispose(dh1);
  }

  // ---------------------------------------------------------------- MLP block

  private mlpBlockForward(l: number, s: LayerSave): void {
    const b = this.backend, n = layerNames(l);
    b.rmsnormForward(s.xMid, this.p(n.postNorm), s.h2, s.rstd2, this.config.rmsEps);
    b.matmul(s.h2, this.p(n.gate), s.gate, { transB: true });
    b.matmul(s.h2, this.p(n.up), s.up, { transB: true });
    b.swigluForward(s.gate, s.up, s.act);
  }

  /** The residual stream after layer l: xMid + Wd act (a new tensor, the next layer's input). */
  private residualOut(s: LayerSave): Tensor {
    const b = this.backend;
    const x = b.empty([s.xMid.shape[0]!, this.C]);
    b.copy(s.xMid, x);
    b.matmul(s.act, this.p(layerNames(s.l).down), x, { transB: true, accumulate: true });
    return x;
  }

  /** dx holds dLoss/d(xOut) on entry and dLoss/d(xMid) on exit. */
  private mlpBlockBackward(l: number, s: LayerSave, dx: Tensor, g: (name: string) => Tensor): void {
    const b = this.backend, N = dx.shape[0]!, n = layerNames(l);
    const dAct = b.empty([N, this.F]);
    b.matmul(dx, this.p(n.down), dAct); // (N,C)(C,F)
    b.matmul(dx, s.act, g(n.down), { transA: true, accumulate: true }); // (C,N)(N,F)
    const dGate = b.zeros([N, this.F]), dUp = b.zeros([N, this.F]);
    b.swigluBackward(s.gate, s.up, dAct, dGate, dUp);
    b.dispose(dAct);
    const dh2 = b.zeros([N, this.C]);
    b.matmul(dGate, this.p(n.gate), dh2, { accumulate: true });
    b.matmul(dGate, s.h2, g(n.gate), { transA: true, accumulate: true });
    b.matmul(dUp, this.p(n.up), dh2, { accumulate: true });
    b.matmul(dUp, s.h2, g(n.up), { transA: true, accumulate: true });
    b.dispose(dGate);
    b.dispose(dUp);
    b.rmsnormBackward(s.xMid, this.p(n.postNorm), s.rstd2, dh2, dx, g(n.postNorm));
    b.dispose(dh2);
  }

  // ================================================================ inference with a KV cache

  /** A zeroed KV cache for `slots` sequences of up to `maxLen` tokens. */
  createCache(slots: number, maxLen: number): KVCache {
    if (maxLen > this.config.maxPositions) {
      throw new Error(`KV cache: maxLen ${maxLen} exceeds the model's maxPositions ${this.config.maxPositions}`);
    }
    const b = this.backend, L = this.config.numLayers;
    return {
      slots,
      maxLen,
      k: Array.from({ length: L }, () => b.zeros([slots * maxLen, this.QD])),
      v: Array.from({ length: L }, () => b.zeros([slots * maxLen, this.QD])),
    };
  }

  disposeCache(cache: KVCache): void {
    for (const t of [...cache.k, ...cache.v]) this.backend.dispose(t);
  }

  /** Copies the first `len` cached positions of slot `src` into slot `dst` (shared prompt prefixes). */
  copyCacheSlot(cache: KVCache, src: number, dst: number, len: number): void {
    const w = cache.maxLen * this.QD;
    for (let l = 0; l < this.config.numLayers; l++) {
      this.backend.copy(cache.k[l]!, cache.k[l]!, src * w, dst * w, len * this.QD);
      this.backend.copy(cache.v[l]!, cache.v[l]!, src * w, dst * w, len * this.QD);
    }
  }

  /**
   * Appends rows to the cache and returns the next-token logits (M, V) of `outRows`. A slot's
   * rows must come in position order and every earlier position of the slot must already be
   * cached (or be earlier in this batch). The caller disposes the returned tensor.
   */
  forwardInfer(cache: KVCache, batch: InferBatch): Tensor {
    const b = this.backend, N = batch.tokens.length, M = batch.outRows.length;
    const kvStartArr = new Int32Array(N), cacheRowsArr = new Int32Array(N);
    for (let i = 0; i < N; i++) {
      const slot = batch.slots[i]!, p = batch.positions[i]!;
      if (slot < 0 || slot >= cache.slots) throw new RangeError(`forwardInfer: slot ${slot} outside [0, ${cache.slots})`);
      if (p < 0 || p >= cache.maxLen) throw new RangeError(`forwardInfer: position ${p} outside the cache length ${cache.maxLen}`);
      kvStartArr[i] = slot * cache.maxLen;
      cacheRowsArr[i] = slot * cache.maxLen + p;
    }
    const ids = b.fromArray(batch.tokens, [N]);
    const positions = b.fromArray(batch.positions, [N]);
    const kvStart = b.fromArray(kvStartArr, [N]);
    const cacheRows = b.fromArray(cacheRowsArr, [N]);
    const outRows = b.fromArray(batch.outRows, [M]);
    const { ones, repIdx } = this.helpers(N), rs = this.config.ropeScaling ?? undefined;
    // Each buffer is written whole by a forward kernel before it is read: empty, not zeros.
    const x = b.empty([N, this.C]);
    b.embeddingForward(ids, this.p(EMBED), x);
    const h = b.empty([N, this.C]), rstd = b.empty([N]);
    const q = b.empty([N, this.QD]), k = b.empty([N, this.KD]), v = b.empty([N, this.KD]);
    const kRep = repIdx ? b.empty([N, this.QD]) : k, vRep = repIdx ? b.empty([N, this.QD]) : v;
    const att = b.empty([N, this.QD]), lse = b.empty([N, this.H]);
    const gate = b.empty([N, this.F]), up = b.empty([N, this.F]), act = b.empty([N, this.F]);
    for (let l = 0; l < this.config.numLayers; l++) {
      const n = layerNames(l);
      b.rmsnormForward(x, this.p(n.inputNorm), h, rstd, this.config.rmsEps);
      b.matmul(h, this.p(n.q), q, { transB: true });
      b.matmul(h, this.p(n.k), k, { transB: true });
      b.matmul(h, this.p(n.v), v, { transB: true });
      if (ones) {
        this.addBias(ones, n.qBias, q);
        this.addBias(ones, n.kBias, k);
        this.addBias(ones, n.vBias, v);
      }
      b.ropeForward(q, positions, q, this.H, this.config.ropeTheta, rs);
      b.ropeForward(k, positions, k, this.Hkv, this.config.ropeTheta, rs);
      if (repIdx) {
        this.repeatKv(k, repIdx, kRep);
        this.repeatKv(v, repIdx, vRep);
      }
      b.scatterRows(kRep, cacheRows, cache.k[l]!);
      b.scatterRows(vRep, cacheRows, cache.v[l]!);
      b.attentionForward(q, cache.k[l]!, cache.v[l]!, kvStart, positions, att, lse, this.H, this.scale);
      b.matmul(att, this.p(n.o), x, { transB: true, accumulate: true });
      if (ones && this.config.attentionBias === 'qkvo') this.addBias(ones, n.oBias, x);
      b.rmsnormForward(x, this.p(n.postNorm), h, rstd, this.config.rmsEps);
      b.matmul(h, this.p(n.gate), gate, { transB: true });
      b.matmul(h, this.p(n.up), up, { transB: true });
      b.swigluForward(gate, up, act);
      b.matmul(act, this.p(n.down), x, { transB: true, accumulate: true });
    }
    b.rmsnormForward(x, this.p(FINAL_NORM), h, rstd, this.config.rmsEps);
    const hSel = b.empty([M, this.C]);
    b.gatherRows(h, outRows, hSel);
    const logits = b.empty([M, this.V]);
    b.matmul(hSel, this.p(headName(this.config)), logits, { transB: true });
    for (const t of [ids, positions, kvStart, cacheRows, outRows, x, h, rstd, q, k, v, att, lse, gate, up, act, hSel]) b.dispose(t);
    if (repIdx) for (const t of [kRep, vRep, repIdx]) b.dispose(t);
    if (ones) b.dispose(ones);
    return logits;
  }
}

/** Checks a batch's arrays against each other and the config; throws naming the problem. */
export function checkBatch(batch: TrainBatch, c: ModelConfig): void {
  const N = batch.tokens.length, M = batch.lossRows.length;
  if (N === 0) throw new Error('batch: no tokens');
  if (batch.positions.length !== N || batch.kvStart.length !== N) throw new Error('batch: tokens, positions and kvStart differ in length');
  if (batch.targets.length !== M) throw new Error('batch: lossRows and targets differ in length');
  for (let n = 0; n < N; n++) {
    const p = batch.positions[n]!;
    if (p >= c.maxPositions) throw new Error(`batch: position ${p} at row ${n} exceeds maxPositions ${c.maxPositions}`);
    if (batch.kvStart[n]! + p !== n) throw new Error(`batch: row ${n} is not at kvStart + position (${batch.kvStart[n]} + ${p})`);
  }
  for (let m = 0; m < M; m++) if (batch.lossRows[m]! < 0 || batch.lossRows[m]! >= N) throw new Error(`batch: loss row ${batch.lossRows[m]} outside [0, ${N})`);
}

/**
 * Lays sequences end to end into a TrainBatch. For sequence s, row t holds token t (the last
 * token is not fed: nothing is predicted from it) and, where `scored(s, t)` holds for t >= 1,
 * row t-1 is scored on predicting token t.
 */
export function packSequences(seqs: readonly ArrayLike<number>[], scored: (s: number, t: number) => boolean): TrainBatch {
  let N = 0, M = 0;
  for (let s = 0; s < seqs.length; s++) {
    const T = seqs[s]!.length;
    if (T < 2) throw new Error(`packSequences: sequence ${s} has ${T} tokens, needs at least 2`);
    N += T - 1;
    for (let t = 1; t < T; t++) if (scored(s, t)) M++;
  }
  const batch: TrainBatch = {
    tokens: new Int32Array(N), positions: new Int32Array(N), kvStart: new Int32Array(N),
    lossRows: new Int32Array(M), targets: new Int32Array(M),
  };
  let n = 0, m = 0;
  for (let s = 0; s < seqs.length; s++) {
    const seq = seqs[s]!, start = n;
    for (let t = 0; t < seq.length - 1; t++, n++) {
      batch.tokens[n] = seq[t]!;
      batch.positions[n] = t;
      batch.kvStart[n] = start;
      if (scored(s, t + 1)) {
        batch.lossRows[m] = n;
        batch.targets[m] = seq[t + 1]!;
        m++;
      }
    }
  }
  return batch;
}
