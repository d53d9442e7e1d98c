/**
 * What a WGSL kernel is, as the WebGPU backend sees it: a name, a shape class (the
 * compile-time constants it was generated for), its uniform parameters and its storage
 * bindings. The WGSL header (parameter struct and bindings) is generated from this record, so a
 * kernel file writes only the entry point, and the pipeline cache (pipeline-cache.ts) builds the
 * matching bind-group layout from the same record.
 *
 * Binding layout of every kernel: @group(0) @binding(0) is a uniform `P` (its fields are
 * `params`, read through a dynamic offset into one per-flush uniform buffer); storage buffers
 * follow at bindings 1, 2, ... in the order of `buffers`.
 */

/** Scalar type of a uniform field. */
export type ParamType = 'u32' | 'i32' | 'f32';

/** Element type of a storage binding as the shader declares it. */
export type ElemType = 'f32' | 'i32' | 'u32' | 'atomic<i32>';

/** One storage binding: `read` is read-only storage, `rw` read_write (outputs). */
export interface BufferBinding {
  name: string;
  type: ElemType;
  access: 'read' | 'rw';
}

/** A read-only storage binding `name: array<type>` (an input); `type` defaults to f32. */
export function ro(name: string, type: ElemType = 'f32'): BufferBinding {
  return { name, type, access: 'read' };
}

/** A read_write storage binding `name: array<type>` (an output, or an input updated in place); `type` defaults to f32. */
export function rw(name: string, type: ElemType = 'f32'): BufferBinding {
  return { name, type, access: 'rw' };
}

export interface KernelSpec {
  /** Op family and kernel, e.g. `matmul`, `rmsnorm.backward.dw`. */
  name: string;
  /** Shape class: every compile-time choice the code depends on, e.g. `tA1.tB0.acc1`. */
  variant: string;
  /** Uniform fields, in order. */
  params: readonly (readonly [string, ParamType])[];
  buffers: readonly BufferBinding[];
  /** WGSL after the generated header: helper functions and `@compute fn main`. */
  body: string;
}

/** Bytes reserved per dispatch in the uniform buffer (the usual minUniformBufferOffsetAlignment). */
export const PARAM_SLOT_BYTES = 256;

/** Most uniform fields a kernel may declare (4 bytes each, within one slot). */
export const MAX_PARAMS = PARAM_SLOT_BYTES / 4;

/** The kernel's full WGSL source: uniform struct, bindings, then the body. */
export function kernelSource(k: KernelSpec): string {
  if (k.params.length > MAX_PARAMS) throw new Error(`webgpu kernel ${k.name}: ${k.params.length} parameters exceed ${MAX_PARAMS}`);
  const fields = k.params.length > 0 ? k.params.map(([n, t]) => `  ${n}: ${t},`).join('\n') : '  unused: u32,';
  const binds = k.buffers.map((b, i) =>
    `@group(0) @binding(${i + 1}) var<storage, ${b.access === 'rw' ? 'read_write' : 'read'}> ${b.name}: array<${b.type}>;`);
  return `// ${k.name} [${k.variant}]\nstruct Params {\n${fields}\n};\n@group(0) @binding(0) var<uniform> P: Params;\n${binds.join('\n')}\n${k.body}`;
}

/** Cache key of a kernel: name and shape class. */
export function kernelKey(k: KernelSpec): string {
  return `${k.name}|${k.variant}`;
}

/** Largest workgroup count per grid dimension that every WebGPU device accepts. */
export const MAX_GROUPS_PER_DIM = 65535;

/**
 * A grid of `groups` workgroups as (x, y), x at most 65535: kernels recover the flat workgroup
 * index with `flatGroup(wid, nwg)` (WGSL helper below).
 */
export function grid(groups: number): [number, number] {
  if (groups <= MAX_GROUPS_PER_DIM) return [Math.max(1, groups), 1];
  const y = Math.ceil(groups / MAX_GROUPS_PER_DIM);
  return [Math.ceil(groups / y), y];
}

/** WGSL: flat workgroup index of a `grid()` dispatch. */
export const FLAT_GROUP_WGSL = `
fn flatGroup(wid: vec3u, nwg: vec3u) -> u32 { return wid.x + wid.y * nwg.x; }`;

/**
 * WGSL for a 1-D elementwise kernel of workgroup size `wg`: `main` computes the flat index `i`
 * and runs `body` when `i < bound` (`bound` an expression such as `P.n`).
 */
export function elementwiseMain(wg: number, bound: string, body: string): string {
  return `${FLAT_GROUP_WGSL}
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = flatGroup(wid, nwg) * ${wg}u + li;
  if (i >= ${bound}) { return; }
${body}
}`;
}

/**
 * WGSL for a kernel that gives each workgroup of a `grid(rows)` dispatch (`wg` lanes) one row:
 * `main` names the flat workgroup index `row` (the caller picks the name), returns at once in the
 * workgroups with row >= `bound` (an expression such as `P.N`), then runs `body`. The lane index
 * is `li`. The early return is the same for every lane of a workgroup, so the body may still
 * call functions with barriers (workgroup-reduce.ts). Module-scope declarations the body needs
 * (workgroup arrays, helper functions) go before this in the kernel's body.
 */
export function rowMain(wg: number, row: string, bound: string, body: string): string {
  return `${FLAT_GROUP_WGSL}
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let ${row} = flatGroup(wid, nwg);
  if (${row} >= ${bound}) { return; }
${body}
}`;
}

/** Workgroup size of the elementwise kernels. */
export const EW_WG = 256;

/** Workgroups for `n` elementwise threads. */
export function ewGroups(n: number, wg = EW_WG): [number, number] {
  return grid(Math.ceil(n / wg));
}
