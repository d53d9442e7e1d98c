/**
 * WGSL for workgroup tree reductions, written once for every kernel that reduces one value
 * per lane: sums (RMSNorm, the losses, the squared gradient norm, log-sum-exp), maxima
 * (log-sum-exp, sampling) and minima (sampling's lowest id).
 *
 * The tree is fixed: at step w = wg/2, wg/4, ..., 1, lane li < w combines element li + w into
 * element li, with a barrier between steps. Floating-point addition is not associative, so the
 * order of the additions decides the bits of a sum; every kernel built on these helpers adds in
 * this one order, on every run and every device, and a change of the tree would change the
 * bits of every result built on it.
 *
 * Helpers that reduce in a different order stay written out where they are used (attention
 * merges its 32 lanes in lane order; RMSNorm's dW sums its 16 lanes in lane order).
 */

/** How a reduction combines two values: `a + b`, or WGSL's built-in max / min. */
export type ReduceOp = 'sum' | 'max' | 'min';

/** Element type of the workgroup array a reduction runs over. */
export type ReduceType = 'f32' | 'u32' | 'i32';

/** WGSL expression combining `a` and `b` with `op`. */
function combine(op: ReduceOp, a: string, b: string): string {
  return op === 'sum' ? `${a} + ${b}` : `${op}(${a}, ${b})`;
}

/**
 * WGSL statements: an in-place tree reduction over the `var<workgroup>` arrays `arrays` (each
 * of `wg` elements), leaving each array's total in element 0, readable by every lane when the
 * statements end. Several arrays are reduced in one pass (one barrier per step for all), each
 * with the same tree. Starts with a barrier, so the caller's writes of one value per lane
 * (`arr[li] = x`) are visible first.
 *
 * Must be reached in uniform control flow, in a function where the local invocation index is
 * named `li`; declares a loop variable `w`. Throws (when the kernel is generated) if `wg` is not
 * a power of two of at least 2, since the tree would skip elements.
 */
export function workgroupReduce(arrays: string | readonly string[], wg: number, op: ReduceOp): string {
  if (!Number.isInteger(wg) || wg < 2 || (wg & (wg - 1)) !== 0) {
    throw new Error(`workgroupReduce: workgroup size ${wg} is not a power of two >= 2`);
  }
  const names = typeof arrays === 'string' ? [arrays] : arrays;
  const steps = names.map((a) => `${a}[li] = ${combine(op, `${a}[li]`, `${a}[li + w]`)};`).join(' ');
  return `
  workgroupBarrier();
  for (var w = ${wg / 2}u; w > 0u; w = w >> 1u) {
    if (li < w) { ${steps} }
    workgroupBarrier();
  }`;
}

/**
 * A WGSL function `fn <name>(li: u32, x: <type>) -> <type>` that every lane of a `wg`-lane
 * workgroup calls with its own value and that returns the reduction of all of them (the tree
 * of workgroupReduce), to every lane. `arr` is its scratch and must be declared by the caller
 * as `var<workgroup> <arr>: array<<type>, wg>`, so that several such functions can share one
 * array: the function ends with a barrier, so the array may be reused at once. Same calling
 * rules and errors as workgroupReduce.
 */
export function workgroupReduceFn(name: string, arr: string, type: ReduceType, wg: number, op: ReduceOp): string {
  return `
fn ${name}(li: u32, x: ${type}) -> ${type} {
  ${arr}[li] = x;${workgroupReduce(arr, wg, op)}
  let r = ${arr}[0];
  workgroupBarrier();
  return r;
}`;
}

/**
 * WGSL module-scope code for kernels in which one workgroup of `wg` lanes owns one row of the f32
 * storage array `src`: the row is `src[o + j]` for j in [0, n), and lane li reads j = li,
 * li + wg, li + 2 wg, ... Declares
 * - `var<workgroup> red: array<f32, wg>` and `reduceMax(li, x)`, `reduceSum(li, x)`
 *   (workgroupReduceFn over `red`), which kernels may also call themselves;
 * - `rowMax(li, o, n) -> f32`: the largest element of the row (-3.0e38 when n is 0);
 * - `rowLogSumExp(li, o, n, mx) -> f32`: log sum_j exp(src[o + j]), computed as
 *   mx + log(sum_j exp(src[o + j] - mx)) with mx = rowMax(li, o, n), the stable form.
 * Each lane folds its elements in index order, then the lanes are combined by the tree of
 * workgroupReduce, so the bits of both results are fixed; every lane gets the same value. Both
 * functions hold barriers: they must be called in uniform control flow, by every lane.
 * Throws (when the kernel is generated) if `wg` is not a power of two of at least 2.
 */
export function rowLogSumExpWgsl(wg: number, src: string): string {
  return `
var<workgroup> red: array<f32, ${wg}>;${workgroupReduceFn('reduceMax', 'red', 'f32', wg, 'max')}${workgroupReduceFn('reduceSum', 'red', 'f32', wg, 'sum')}
fn rowMax(li: u32, o: u32, n: u32) -> f32 {
  var mx = -3.0e38;
  for (var j = li; j < n; j = j + ${wg}u) { mx = max(mx, ${src}[o + j]); }
  return reduceMax(li, mx);
}
fn rowLogSumExp(li: u32, o: u32, n: u32, mx: f32) -> f32 {
  var s = 0.0;
  for (var j = li; j < n; j = j + ${wg}u) { s = s + exp(${src}[o + j] - mx); }
  return mx + log(reduceSum(li, s));
}`;
}
