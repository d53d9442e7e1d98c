/**
 * Sampling, one 256-thread workgroup per logits row, following the canonical procedure of the
 * CPU reference (src/backend/cpu/sampling.ts sampleRows) without a sort:
 *
 * 1. e_j = exp((l_j - max) / temperature) (softmax numerators; normalizing is not needed
 *    because every later test compares masses with a mass of the same row);
 * 2. top-p: the smallest kept probability `thr` is found by bisection on the float's bit
 *    pattern (positive floats order like their bits): the largest t with
 *    sum_{e_j >= t} e_j >= topP * sum e, 31 rounds of one workgroup sum each. Tokens tied at
 *    `thr` are kept in id order, as many as the reference's running mass needs;
 * 3. the draw walks the kept tokens in id order and takes the first whose running mass
 *    exceeds u * (kept mass): chunk sums, a prefix scan, then a walk inside one chunk.
 * Temperature 0 takes the lowest id among the maxima. logProbs gets the token's
 * log-probability at temperature 1 (log-sum-exp of the raw row).
 *
 * Differences from the reference: sums are float32 in a different order, so a uniform that
 * falls within rounding (~1e-7 relative) of a cumulative-mass boundary, or a top-p mass within
 * rounding of a partial sum, may pick the neighbouring token; ties at the top-p boundary are
 * resolved by count (ceil((topP sum e - above) / thr)) instead of a running sum. Greedy decoding
 * is exact.
 */
import { grid, ro, rowMain, rw, type KernelSpec } from '../kernel-spec.ts';
import type { KernelRunner, WebGpuTensor } from '../tensor.ts';
import type { SampleParams } from '../../backend.ts';
import { rowLogSumExpWgsl, workgroupReduceFn } from '../workgroup-reduce.ts';

const WG = 256;

const SAMPLE: KernelSpec = {
  name: 'sample', variant: '',
  params: [['M', 'u32'], ['V', 'u32'], ['greedy', 'u32'], ['temperature', 'f32'], ['topP', 'f32']],
  buffers: [ro('logits'), ro('uniforms'), rw('tokens', 'i32'), rw('logProbs')],
  body: `${rowLogSumExpWgsl(WG, 'logits')}
var<workgroup> redu: array<u32, ${WG}>;
var<workgroup> chunkMass: array<f32, ${WG}>;
var<workgroup> chunkTies: array<u32, ${WG}>;
var<workgroup> lastTie: u32;
var<workgroup> keptMass: f32;
${workgroupReduceFn('reduceMinU', 'redu', 'u32', WG, 'min')}
${workgroupReduceFn('reduceMaxU', 'redu', 'u32', WG, 'max')}
${rowMain(WG, 'm', 'P.M', `
  let o = m * P.V;
  let mx = rowMax(li, o, P.V);
  let lse = rowLogSumExp(li, o, P.V, mx);
  var tok = 0u;
  if (P.greedy == 1u) {
    var cand = 0xffffffffu;
    for (var j = li; j < P.V; j = j + ${WG}u) { if (logits[o + j] == mx) { cand = min(cand, j); } }
    tok = reduceMinU(li, cand);
  } else {
    let T = P.temperature;
    var se = 0.0;
    for (var j = li; j < P.V; j = j + ${WG}u) { se = se + exp((logits[o + j] - mx) / T); }
    se = reduceSum(li, se);
    // Contiguous chunk of ids per thread, for the id-order walks.
    let chunk = (P.V + ${WG - 1}u) / ${WG}u;
    let c0 = min(P.V, li * chunk);
    let c1 = min(P.V, c0 + chunk);
    var thr = 0.0;
    var keepAll = true;
    if (li == 0u) { lastTie = P.V; }
    workgroupBarrier();
    if (P.topP < 1.0) {
      keepAll = false;
      let massNeeded = P.topP * se;
      var lo = 0u;
      var hi = 0x7f800000u;
      var above = 0.0;
      for (var it = 0u; it < 31u; it = it + 1u) {
        let mid = lo + (hi - lo) / 2u;
        var part = 0.0;
        for (var j = li; j < P.V; j = j + ${WG}u) {
          let e = exp((logits[o + j] - mx) / T);
          if (bitcast<u32>(e) >= mid) { part = part + e; }
        }
        let S = reduceSum(li, part);
        if (S >= massNeeded) { lo = mid; } else { hi = mid; above = S; }
      }
      thr = bitcast<f32>(lo);
      // Keep the first \`need\` tokens tied at thr, in id order.
      var ties = 0u;
      for (var j = c0; j < c1; j = j + 1u) { if (exp((logits[o + j] - mx) / T) == thr) { ties = ties + 1u; } }
      chunkTies[li] = ties;
      workgroupBarrier();
      if (li == 0u) {
        var run = 0u;
        for (var t = 0u; t < ${WG}u; t = t + 1u) { let c = chunkTies[t]; chunkTies[t] = run; run = run + c; }
        let need = clamp(u32(max(1.0, ceil((massNeeded - above) / thr))), 1u, max(run, 1u));
        lastTie = need; // the rank (1-based) of the last kept tie, turned into its id below
      }
      workgroupBarrier();
      let need = lastTie;
      workgroupBarrier();
      let before = chunkTies[li];
      if (before < need && before + ties >= need) {
        var seen = before;
        for (var j = c0; j < c1; j = j + 1u) {
          if (exp((logits[o + j] - mx) / T) == thr) {
            seen = seen + 1u;
            if (seen == need) { lastTie = j; break; }
          }
        }
      }
      workgroupBarrier();
    }
    let lastId = lastTie;
    // Kept mass per chunk, prefix sums, then the walk.
    var cm = 0.0;
    for (var j = c0; j < c1; j = j + 1u) {
      let e = exp((logits[o + j] - mx) / T);
      if (keepAll || e > thr || (e == thr && j <= lastId)) { cm = cm + e; }
    }
    chunkMass[li] = cm;
    workgroupBarrier();
    if (li == 0u) {
      var run = 0.0;
      for (var t = 0u; t < ${WG}u; t = t + 1u) { let c = chunkMass[t]; chunkMass[t] = run; run = run + c; }
      keptMass = run;
    }
    workgroupBarrier();
    let goal = uniforms[m] * keptMass;
    var run = chunkMass[li];
    var found = 0xffffffffu;
    var lastKept = 0u;
    for (var j = c0; j < c1; j = j + 1u) {
      let e = exp((logits[o + j] - mx) / T);
      if (keepAll || e > thr || (e == thr && j <= lastId)) {
        run = run + e;
        lastKept = j + 1u;
        if (run > goal) { found = j; break; }
      }
    }
    tok = reduceMinU(li, found);
    let fallback = reduceMaxU(li, lastKept);
    if (tok == 0xffffffffu) { tok = fallback - 1u; }
  }
  if (li == 0u) {
    tokens[m] = i32(tok);
    logProbs[m] = logits[o + tok] - lse;
  }`)}`,
};

/** One draw per row of logits (M, V) with uniforms (M); tokens (M) i32, logProbs (M). */
export function sample(
  k: KernelRunner, logits: WebGpuTensor, uniforms: WebGpuTensor, tokens: WebGpuTensor, logProbs: WebGpuTensor, p: SampleParams,
): void {
  const M = tokens.size;
  if (M === 0) return;
  const V = logits.size / M;
  k.run(SAMPLE, [M, V, p.temperature === 0 ? 1 : 0, p.temperature, p.topP], [logits, uniforms, tokens, logProbs], grid(M));
}
