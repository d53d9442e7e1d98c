/**
 * A small WebAssembly module builder: just enough of the binary format (types, one imported
 * memory, functions, exports, code) and of the instruction set (integer, float and 128-bit
 * SIMD) to generate the wasm backend's kernels from TypeScript at start-up. Nothing is
 * downloaded or prebuilt: the kernels are code that writes code, so tile sizes and unrolling
 * are plain TypeScript parameters.
 *
 * Instructions are named exactly as in the WebAssembly text format (`f32x4.add`), so a kernel
 * reads like the spec. Control flow takes closures and labels are objects, so a `br` names
 * the block it leaves instead of counting nesting depth by hand.
 *
 * Source: the WebAssembly core specification 2.0 (binary format, chapter 5) and the fixed-width
 * SIMD proposal's opcode table.
 */

export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128';

const VALTYPE: Record<ValType, number> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b };

/** Opcodes of instructions without immediates (SIMD ones are [0xfd, leb(op)]). */
const PLAIN = {
  'unreachable': 0x00, 'nop': 0x01, 'return': 0x0f, 'drop': 0x1a, 'select': 0x1b,
  'i32.eqz': 0x45, 'i32.eq': 0x46, 'i32.ne': 0x47, 'i32.lt_s': 0x48, 'i32.lt_u': 0x49,
  'i32.gt_s': 0x4a, 'i32.gt_u': 0x4b, 'i32.le_s': 0x4c, 'i32.le_u': 0x4d, 'i32.ge_s': 0x4e, 'i32.ge_u': 0x4f,
  'f32.eq': 0x5b, 'f32.ne': 0x5c, 'f32.lt': 0x5d, 'f32.gt': 0x5e, 'f32.le': 0x5f, 'f32.ge': 0x60,
  'i32.add': 0x6a, 'i32.sub': 0x6b, 'i32.mul': 0x6c, 'i32.div_s': 0x6d, 'i32.div_u': 0x6e,
  'i32.rem_s': 0x6f, 'i32.rem_u': 0x70, 'i32.and': 0x71, 'i32.or': 0x72, 'i32.xor': 0x73,
  'i32.shl': 0x74, 'i32.shr_s': 0x75, 'i32.shr_u': 0x76,
  'f32.abs': 0x8b, 'f32.neg': 0x8c, 'f32.floor': 0x8e, 'f32.nearest': 0x90, 'f32.sqrt': 0x91,
  'f32.add': 0x92, 'f32.sub': 0x93, 'f32.mul': 0x94, 'f32.div': 0x95, 'f32.min': 0x96, 'f32.max': 0x97,
  'f64.add': 0xa0, 'f64.sub': 0xa1, 'f64.mul': 0xa2, 'f64.div': 0xa3,
  'i32.trunc_f32_s': 0xa8, 'f32.convert_i32_s': 0xb2, 'f32.demote_f64': 0xb6, 'f64.promote_f32': 0xbb,
  'i32.reinterpret_f32': 0xbc, 'f32.reinterpret_i32': 0xbe,
} as const;

const SIMD = {
  'i32x4.splat': 0x11, 'f32x4.splat': 0x13,
  'f32x4.eq': 0x41, 'f32x4.ne': 0x42, 'f32x4.lt': 0x43, 'f32x4.gt': 0x44, 'f32x4.le': 0x45, 'f32x4.ge': 0x46,
  'v128.not': 0x4d, 'v128.and': 0x4e, 'v128.andnot': 0x4f, 'v128.or': 0x50, 'v128.xor': 0x51,
  'v128.bitselect': 0x52, 'v128.any_true': 0x53,
  'f32x4.demote_f64x2_zero': 0x5e, 'f64x2.promote_low_f32x4': 0x5f,
  'f32x4.ceil': 0x67, 'f32x4.floor': 0x68, 'f32x4.trunc': 0x69, 'f32x4.nearest': 0x6a,
  'i32x4.shl': 0xab, 'i32x4.shr_s': 0xac, 'i32x4.shr_u': 0xad, 'i32x4.add': 0xae, 'i32x4.sub': 0xb1,
  'i32x4.mul': 0xb5,
  'f32x4.abs': 0xe0, 'f32x4.neg': 0xe1, 'f32x4.sqrt': 0xe3, 'f32x4.add': 0xe4, 'f32x4.sub': 0xe5,
  'f32x4.mul': 0xe6, 'f32x4.div': 0xe7, 'f32x4.min': 0xe8, 'f32x4.max': 0xe9, 'f32x4.pmin': 0xea, 'f32x4.pmax': 0xeb,
  'f64x2.add': 0xf0, 'f64x2.sub': 0xf1, 'f64x2.mul': 0xf2,
  'i32x4.trunc_sat_f32x4_s': 0xf8, 'f32x4.convert_i32x4_s': 0xfa,
  // relaxed SIMD: a b + c, fused or not depending on the hardware
  'f32x4.relaxed_madd': 0x105,
} as const;

/** Loads and stores: [prefix?, opcode, natural alignment log2]. */
const MEMORY = {
  'i32.load': [0x28, 2], 'f32.load': [0x2a, 2], 'f64.load': [0x2b, 3],
  'i32.store': [0x36, 2], 'f32.store': [0x38, 2], 'f64.store': [0x39, 3],
  'v128.load': [0xfd00, 4], 'v128.load32_splat': [0xfd09, 2], 'v128.store': [0xfd0b, 4],
  'v128.load32_zero': [0xfd5c, 2], 'v128.load64_zero': [0xfd5d, 3],
} as const;

const LANE = {
  'i32x4.extract_lane': 0x1b, 'i32x4.replace_lane': 0x1c,
  'f32x4.extract_lane': 0x1f, 'f32x4.replace_lane': 0x20,
} as const;

export type PlainOp = keyof typeof PLAIN | keyof typeof SIMD;
export type MemoryOp = keyof typeof MEMORY;
export type LaneOp = keyof typeof LANE;

/** A branch target handed to the body of `block`, `loop` and `if`. */
export interface Label { readonly id: number }

// ---------------------------------------------------------------- LEB128 and byte helpers

function uleb(out: number[], v: number): void {
  if (!Number.isInteger(v) || v < 0) throw new Error(`wasm builder: unsigned immediate ${v} is not a non-negative integer`);
  do {
    let b = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) b |= 0x80;
    out.push(b);
  } while (v > 0);
}

function sleb(out: number[], v: number): void {
  if (!Number.isInteger(v)) throw new Error(`wasm builder: signed immediate ${v} is not an integer`);
  for (;;) {
    const b = v & 0x7f;
    v = Math.floor(v / 128); // arithmetic shift that also works beyond 32 bits
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) { out.push(b); return; }
    out.push(b | 0x80);
  }
}

function utf8(out: number[], s: string): void {
  const bytes = new TextEncoder().encode(s);
  uleb(out, bytes.length);
  for (const b of bytes) out.push(b);
}

const f32Bytes = new DataView(new ArrayBuffer(4));

// ---------------------------------------------------------------- function bodies

/**
 * The body of one function under construction. Locals are indices (params first); every
 * instruction method appends bytes and returns `this` so short sequences chain.
 */
export class FunctionBuilder {
  readonly code: number[] = [];
  private readonly localTypes: ValType[] = [];
  private readonly labels: number[] = [];
  private nextLabel = 0;

  constructor(
    readonly name: string,
    readonly params: readonly ValType[],
    readonly results: readonly ValType[],
  ) {}

  /** Local index of parameter `i`. */
  param(i: number): number {
    if (i < 0 || i >= this.params.length) throw new Error(`wasm builder: ${this.name} has no parameter ${i}`);
    return i;
  }

  /** A new local of type `t` (zero-initialized at function entry), returning its index. */
  local(t: ValType): number {
    this.localTypes.push(t);
    return this.params.length + this.localTypes.length - 1;
  }

  /** `n` new locals of one type. */
  locals(t: ValType, n: number): number[] {
    return Array.from({ length: n }, () => this.local(t));
  }

  op(name: PlainOp): this {
    const plain = (PLAIN as Record<string, number>)[name];
    if (plain !== undefined) this.code.push(plain);
    else { this.code.push(0xfd); uleb(this.code, (SIMD as Record<string, number>)[name]!); }
    return this;
  }

  /** Several immediate-free instructions in a row. */
  ops(...names: PlainOp[]): this {
    for (const n of names) this.op(n);
    return this;
  }

  /** A load or store; `offset` is a constant byte offset added to the address operand. */
  mem(name: MemoryOp, offset = 0, alignLog2?: number): this {
    const [opc, natural] = MEMORY[name];
    if (opc > 0xff) { this.code.push(0xfd); uleb(this.code, opc & 0xff); } else this.code.push(opc);
    uleb(this.code, alignLog2 ?? natural);
    uleb(this.code, offset);
    return this;
  }

  lane(name: LaneOp, lane: number): this {
    this.code.push(0xfd);
    uleb(this.code, LANE[name]);
    this.code.push(lane);
    return this;
  }

  /** i8x16.shuffle with 16 byte-lane indices (0-15 first operand, 16-31 second). */
  shuffle(lanes: readonly number[]): this {
    if (lanes.length !== 16) throw new Error('wasm builder: i8x16.shuffle needs 16 lane indices');
    this.code.push(0xfd, 0x0d, ...lanes);
    return this;
  }

  /** Shuffle of 32-bit lanes (0-3 first operand, 4-7 second). */
  shuffle32(a: number, b: number, c: number, d: number): this {
    const lanes: number[] = [];
    for (const l of [a, b, c, d]) lanes.push(4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3);
    return this.shuffle(lanes);
  }

  get(i: number): this { this.code.push(0x20); uleb(this.code, i); return this; }
  set(i: number): this { this.code.push(0x21); uleb(this.code, i); return this; }
  tee(i: number): this { this.code.push(0x22); uleb(this.code, i); return this; }

  i32(v: number): this { this.code.push(0x41); sleb(this.code, v | 0); return this; }

  f32(v: number): this {
    f32Bytes.setFloat32(0, v, true);
    this.code.push(0x43, f32Bytes.getUint8(0), f32Bytes.getUint8(1), f32Bytes.getUint8(2), f32Bytes.getUint8(3));
    return this;
  }

  /** A v128 with four equal f32 lanes. */
  f32x4(v: number): this {
    f32Bytes.setFloat32(0, v, true);
    this.code.push(0xfd, 0x0c);
    for (let i = 0; i < 4; i++) for (let b = 0; b < 4; b++) this.code.push(f32Bytes.getUint8(b));
    return this;
  }

  /** A v128 with four equal i32 lanes. */
  i32x4(v: number): this {
    this.code.push(0xfd, 0x0c);
    for (let i = 0; i < 4; i++) for (let b = 0; b < 4; b++) this.code.push((v >>> (8 * b)) & 0xff);
    return this;
  }

  call(fnIndex: number): this { this.code.push(0x10); uleb(this.code, fnIndex); return this; }

  // ---------- structured control flow

  private structured(opcode: number, body: (l: Label) => void, elseBody?: (l: Label) => void): this {
    const id = this.nextLabel++;
    this.code.push(opcode, 0x40); // empty block type
    this.labels.push(id);
    body({ id });
    if (elseBody) { this.code.push(0x05); elseBody({ id }); }
    this.labels.pop();
    this.code.push(0x0b);
    return this;
  }

  block(body: (l: Label) => void): this { return this.structured(0x02, body); }
  /** A loop: `br(label)` jumps back to its start. */
  loop(body: (l: Label) => void): this { return this.structured(0x03, body); }
  /** Pops an i32 condition. */
  if(then: (l: Label) => void, otherwise?: (l: Label) => void): this { return this.structured(0x04, then, otherwise); }

  private depth(l: Label): number {
    const i = this.labels.lastIndexOf(l.id);
    if (i < 0) throw new Error(`wasm builder: ${this.name}: branch to a label that is not in scope`);
    return this.labels.length - 1 - i;
  }

  br(l: Label): this { this.code.push(0x0c); uleb(this.code, this.depth(l)); return this; }
  /** Pops an i32 and branches if it is non-zero. */
  brIf(l: Label): this { this.code.push(0x0d); uleb(this.code, this.depth(l)); return this; }

  /**
   * `for (i = from; i < to; i += step) body()` on i32 locals. `from` and `to` push one i32
   * each (`to` is re-evaluated every iteration, so pass a local); `step` is a constant or
   * pushes an i32. `brk` leaves the loop.
   */
  forLoop(i: number, from: () => void, to: () => void, step: number | (() => void), body: (brk: Label) => void): this {
    from();
    this.set(i);
    return this.block((brk) => this.loop((top) => {
      this.get(i); to(); this.op('i32.ge_s').brIf(brk);
      body(brk);
      this.get(i);
      if (typeof step === 'number') this.i32(step); else step();
      this.op('i32.add').set(i);
      this.br(top);
    }));
  }

  /** Encoded body: locals declaration, instructions, `end`. */
  encode(): number[] {
    if (this.labels.length) throw new Error(`wasm builder: ${this.name}: unclosed block`);
    const out: number[] = [];
    // Run-length groups of equal local types.
    const groups: [number, ValType][] = [];
    for (const t of this.localTypes) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    uleb(out, groups.length);
    for (const [n, t] of groups) { uleb(out, n); out.push(VALTYPE[t]); }
    for (const b of this.code) out.push(b);
    out.push(0x0b);
    return out;
  }
}

// ---------------------------------------------------------------- modules

/** Imported linear memory: sizes in 64 KiB pages. */
export interface MemoryImport {
  module: string;
  name: string;
  initialPages: number;
  maximumPages: number;
  shared: boolean;
}

/**
 * A module with one imported memory and any number of functions. `addFunction` returns the
 * builder and reserves the function index, so functions can call each other in any order.
 */
export class ModuleBuilder {
  private readonly functions: FunctionBuilder[] = [];
  private readonly exported = new Set<string>();

  constructor(readonly memory: MemoryImport) {}

  /** A new function; exported under its name unless `exported` is false. */
  addFunction(name: string, params: readonly ValType[], results: readonly ValType[] = [], exported = true): FunctionBuilder {
    if (this.functions.some((f) => f.name === name)) throw new Error(`wasm builder: duplicate function "${name}"`);
    const f = new FunctionBuilder(name, params, results);
    this.functions.push(f);
    if (exported) this.exported.add(name);
    return f;
  }

  /** Index of a function added earlier (for `call`). */
  indexOf(name: string): number {
    const i = this.functions.findIndex((f) => f.name === name);
    if (i < 0) throw new Error(`wasm builder: no function "${name}"`);
    return i;
  }

  /** Names of the exported functions, in index order. */
  exportNames(): string[] {
    return this.functions.filter((f) => this.exported.has(f.name)).map((f) => f.name);
  }

  /** The complete binary module. */
  encode(): Uint8Array {
    const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    const section = (id: number, body: number[]) => { out.push(id); uleb(out, body.length); for (const b of body) out.push(b); };

    // Types: one per distinct signature.
    const sigKeys: string[] = [];
    const sigOf = this.functions.map((f) => {
      const key = `${f.params.join(',')}->${f.results.join(',')}`;
      let i = sigKeys.indexOf(key);
      if (i < 0) { sigKeys.push(key); i = sigKeys.length - 1; }
      return i;
    });
    const types: number[] = [];
    uleb(types, sigKeys.length);
    for (const key of sigKeys) {
      const [ps, rs] = key.split('->').map((s) => (s ? (s.split(',') as ValType[]) : []));
      types.push(0x60);
      uleb(types, ps!.length); for (const p of ps!) types.push(VALTYPE[p]);
      uleb(types, rs!.length); for (const r of rs!) types.push(VALTYPE[r]);
    }
    section(1, types);

    const m = this.memory;
    const imports: number[] = [];
    uleb(imports, 1);
    utf8(imports, m.module);
    utf8(imports, m.name);
    imports.push(0x02, m.shared ? 0x03 : 0x01);
    uleb(imports, m.initialPages);
    uleb(imports, m.maximumPages);
    section(2, imports);

    const funcs: number[] = [];
    uleb(funcs, this.functions.length);
    for (const s of sigOf) uleb(funcs, s);
    section(3, funcs);

    const exps: number[] = [];
    uleb(exps, this.exported.size);
    this.functions.forEach((f, i) => {
      if (!this.exported.has(f.name)) return;
      utf8(exps, f.name);
      exps.push(0x00);
      uleb(exps, i);
    });
    section(7, exps);

    const code: number[] = [];
    uleb(code, this.functions.length);
    for (const f of this.functions) {
      const body = f.encode();
      uleb(code, body.length);
      for (const b of body) code.push(b);
    }
    section(10, code);
    return Uint8Array.from(out);
  }
}
