/**
 * Reference row gathers and scatters: the embedding lookup and its scatter-add gradient,
 * gathering the scored rows, and writing rows into a KV cache. Plain loops over typed arrays;
 * the wasm backend runs these on views of its own memory, and webgpu/kernels/rows.ts is
 * checked against them. Sources are applied in order, so a destination row hit twice gets the
 * same sum (or, for scatterRows, the same last write) on every backend.
 */

/** out (N, C) = table (V, C)[ids (N)]. Throws on an id outside [0, V). */
export function embeddingForward(ids: Int32Array, table: Float32Array, out: Float32Array, C: number): void {
  const V = table.length / C;
  for (let n = 0; n < ids.length; n++) {
    const id = ids[n]!;
    if (id < 0 || id >= V) throw new RangeError(`embedding: token id ${id} at row ${n} is outside [0, ${V})`);
    out.set(table.subarray(id * C, id * C + C), n * C);
  }
}

/** dTable[ids[n]] += dOut[n]. */
export function embeddingBackward(ids: Int32Array, dOut: Float32Array, dTable: Float32Array, C: number): void {
  for (let n = 0; n < ids.length; n++) {
    const t = ids[n]! * C, o = n * C;
    for (let c = 0; c < C; c++) dTable[t + c] = dTable[t + c]! + dOut[o + c]!;
  }
}

/**
 * out (M, C) = src (R, C)[idx (M)]. `R` (rows of src) is passed by the caller, from the
 * tensor's shape. Throws a RangeError on an index outside [0, R).
 */
export function gatherRows(s: Float32Array, ix: Int32Array, o: Float32Array, C: number, R: number): void {
  for (let m = 0; m < ix.length; m++) {
    const r = ix[m]!;
    if (r < 0 || r >= R) throw new RangeError(`gatherRows: row ${r} outside [0, ${R})`);
    o.set(s.subarray(r * C, r * C + C), m * C);
  }
}

/**
 * dst (R, C)[idx[m]] += src (M, C)[m], in source order. Indices are not checked here (the
 * gradient of a gather whose indices were checked on the way forward).
 */
export function scatterAddRows(s: Float32Array, ix: Int32Array, d: Float32Array, C: number): void {
  for (let m = 0; m < ix.length; m++) {
    const o = ix[m]! * C;
    for (let c = 0; c < C; c++) d[o + c] = d[o + c]! + s[m * C + c]!;
  }
}

/**
 * dst (R, C)[idx[m]] = src (M, C)[m], in source order (a repeated index keeps the last row).
 * `R` (rows of dst) is passed by the caller, from the tensor's shape. Throws a RangeError on
 * an index outside [0, R).
 */
export function scatterRows(s: Float32Array, ix: Int32Array, d: Float32Array, C: number, R: number): void {
  for (let m = 0; m < ix.length; m++) {
    const r = ix[m]!;
    if (r < 0 || r >= R) throw new RangeError(`scatterRows: row ${r} outside [0, ${R})`);
    d.set(s.subarray(m * C, m * C + C), r * C);
  }
}
