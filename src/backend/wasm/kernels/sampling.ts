/**
 * Token sampling with exactly the reference's arithmetic (src/backend/cpu/sampling.ts
 * sampleRows: same float64 exp, same summation order, same tie rules), so both backends draw
 * the same token from the same uniform, but without its comparator sort: the reference orders
 * all V tokens with a JavaScript comparator to find the top-p set (~0.4 ms a row at V = 2.7k,
 * which dominated a rollout's decoding step). Here only the likeliest tokens that surely hold
 * the top-p cut (all of them for a flat distribution) are ordered, by a radix sort of their
 * float32 logits, and ties are resolved by counting:
 *
 * - probabilities are a non-decreasing function of the logits, so walking tokens by
 *   descending logit visits the probabilities in descending order; tokens whose probabilities
 *   are equal contribute equal numbers whatever their order, so the running mass is the very
 *   same sequence of float64 sums as the reference's, hence the same cut-off count k and
 *   threshold probability;
 * - among tokens tied at the threshold the reference keeps the ones it sorted first, i.e. the
 *   c smallest ids, c = how many of the first k visited tokens have the threshold probability.
 *
 * At temperature 1 the row's log-sum-exp comes from the same exponentials as the
 * probabilities (the reference's second pass computes identical terms in the same order).
 *
 * Unlike the other files here this is host TypeScript, not a generated wasm kernel (float64
 * arithmetic that must match the reference's); it sits in kernels/ because it is the wasm
 * backend's own implementation of the sampling family (cpu/sampling.ts, webgpu/kernels/sampling.ts).
 */

/** Work arrays reused across calls (one row at a time). */
let probs = new Float64Array(0);
let keysA = new Uint32Array(0), keysB = new Uint32Array(0);
let idsA = new Int32Array(0), idsB = new Int32Array(0);
const hist = new Int32Array(3 * 2048);

/** Same contract as the reference sampleRows (recipe.md section 3 sampling). */
export function sampleRowsExact(
  logits: Float32Array, uniforms: Float32Array, tokens: Int32Array, logProbs: Float32Array,
  V: number, temperature: number, topP: number,
): void {
  if (probs.length < V) {
    probs = new Float64Array(V);
    keysA = new Uint32Array(V); keysB = new Uint32Array(V); idsA = new Int32Array(V); idsB = new Int32Array(V);
  }
  const M = tokens.length;
  for (let m = 0; m < M; m++) {
    const o = m * V;
    let max = -Infinity, tok = 0;
    for (let j = 0; j < V; j++) if (logits[o + j]! > max) { max = logits[o + j]!; tok = j; } // first max: argmax, lowest id on ties
    let lse: number;
    if (temperature === 0) {
      lse = logSumExp(logits, o, V, max);
    } else {
      let sum = 0;
      for (let j = 0; j < V; j++) { const e = Math.exp((logits[o + j]! - max) / temperature); probs[j] = e; sum += e; }
      lse = temperature === 1 ? max + Math.log(sum) : logSumExp(logits, o, V, max);
      for (let j = 0; j < V; j++) probs[j] = probs[j]! / sum;
      let threshold = 0, lastId = V - 1;
      if (topP < 1) {
        const bits = new Uint32Array(logits.buffer, logits.byteOffset + 4 * o, V);
        // Sort only the likeliest tokens when they surely hold the cut; else all of them.
        let n = selectCandidates(logits, o, V, max, temperature, topP);
        let byLogit = sortByLogit(bits, n); // ascending; walked from the end
        let mass = 0, k = 0;
        while (k < n) { mass += probs[byLogit[n - 1 - k]!]!; k++; if (mass >= topP) break; }
        if (mass < topP && n < V) {
          n = selectAll(V);
          byLogit = sortByLogit(bits, n);
          mass = 0; k = 0;
          while (k < n) { mass += probs[byLogit[n - 1 - k]!]!; k++; if (mass >= topP) break; }
        }
        threshold = probs[byLogit[n - k]!]!;
        let tiedKept = 0; // tokens with the threshold probability among the first k
        for (let i = n - k; i < n; i++) if (probs[byLogit[i]!] === threshold) tiedKept++;
        for (let j = 0; j < V; j++) if (probs[j] === threshold && --tiedKept === 0) { lastId = j; break; }
      }
      const all = topP >= 1;
      let keptMass = 0;
      for (let j = 0; j < V; j++) if (all || probs[j]! > threshold || (probs[j] === threshold && j <= lastId)) keptMass += probs[j]!;
      const target = uniforms[m]! * keptMass;
      let run = 0;
      tok = -1;
      for (let j = 0; j < V; j++) {
        if (!(all || probs[j]! > threshold || (probs[j] === threshold && j <= lastId))) continue;
        run += probs[j]!;
        tok = j;
        if (run > target) break;
      }
    }
    tokens[m] = tok;
    logProbs[m] = logits[o + tok]! - lse;
  }
}

/** The reference's rowLogSumExp with the row maximum already known. */
function logSumExp(logits: Float32Array, o: number, V: number, max: number): number {
  let s = 0;
  for (let j = 0; j < V; j++) s += Math.exp(logits[o + j]! - max);
  return max + Math.log(s);
}

const BUCKETS = 256;
const bucketMass = new Float64Array(BUCKETS);
let bucketOf = new Uint8Array(0);

/**
 * Puts into idsA the tokens whose logits are within a band below the maximum that holds
 * clearly more than topP of the mass, and returns how many. Bands are quarter-nats of
 * (max - logit) / temperature, so the set is closed upwards in logit and hence in probability:
 * its descending order is a prefix of the row's. The masses here are only estimates (any
 * order of summation); the caller's exact walk falls back to every token if they misled.
 */
function selectCandidates(logits: Float32Array, o: number, V: number, max: number, temperature: number, topP: number): number {
  if (bucketOf.length < V) bucketOf = new Uint8Array(V);
  bucketMass.fill(0);
  const scale = 4 / temperature;
  for (let j = 0; j < V; j++) {
    const b = Math.min(BUCKETS - 1, Math.floor((max - logits[o + j]!) * scale));
    bucketOf[j] = b;
    bucketMass[b] = bucketMass[b]! + probs[j]!;
  }
  let last = BUCKETS - 1, cum = 0;
  for (let b = 0; b < BUCKETS; b++) { cum += bucketMass[b]!; if (cum >= topP + 1e-9) { last = b; break; } }
  let n = 0;
  for (let j = 0; j < V; j++) if (bucketOf[j]! <= last) idsA[n++] = j;
  return n;
}

function selectAll(V: number): number {
  for (let j = 0; j < V; j++) idsA[j] = j;
  return V;
}

/**
 * The first n ids of idsA ordered by ascending logit, given the row's float32 bit patterns:
 * an LSD radix sort (three 11-bit digits, histograms counted in one pass) of the bit patterns
 * mapped to unsigned keys that order like the numbers (negative: all bits flipped; positive:
 * sign bit set).
 */
function sortByLogit(bits: Uint32Array, n: number): Int32Array {
  hist.fill(0);
  for (let i = 0; i < n; i++) {
    const b = bits[idsA[i]!]!;
    const k = (b ^ ((b >> 31) | 0x80000000)) >>> 0;
    keysA[i] = k;
    hist[k & 2047]!++;
    hist[2048 + ((k >>> 11) & 2047)]!++;
    hist[4096 + (k >>> 22)]!++;
  }
  for (let p = 0; p < 3; p++) {
    let run = 0;
    for (let d = p * 2048; d < p * 2048 + 2048; d++) { const c = hist[d]!; hist[d] = run; run += c; }
  }
  scatter(keysA, idsA, keysB, idsB, n, 0, 0);
  scatter(keysB, idsB, keysA, idsA, n, 11, 2048);
  scatter(keysA, idsA, keysB, idsB, n, 22, 4096);
  return idsB;
}

/** One counting-sort pass over the first n entries on the digit at `shift` (histogram at h). */
function scatter(ks: Uint32Array, is: Int32Array, kd: Uint32Array, id: Int32Array, n: number, shift: number, h: number): void {
  for (let i = 0; i < n; i++) {
    const k = ks[i]!;
    const p = hist[h + ((k >>> shift) & 2047)]!++;
    kd[p] = k;
    id[p] = is[i]!;
  }
}
