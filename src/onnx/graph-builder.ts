/**
 * A small builder for ONNX graphs: add a node, get its output's name back, so a model reads
 * like the forward pass it exports. Every value gets a readable, unique name (`<scope>/<op>_<n>`),
 * constants are deduplicated, and initializers keep the names they are given.
 */
import { OnnxAttributeType, OnnxDataType, type AttributeProto, type Dim, type GraphProto, type NodeProto, type TensorProto, type ValueInfoProto } from './proto.ts';

/** Node attributes. Only integer attributes occur in our graphs: a number is INT, a list INTS. */
export type Attributes = Record<string, number | number[]>;

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  readonly inputs: ValueInfoProto[] = [];
  readonly outputs: ValueInfoProto[] = [];
  private readonly used = new Set<string>();
  private readonly constants = new Map<string, string>();
  private counter = 0;
  /** Prefix of generated value names (e.g. `layers.0/attn`), for readable graphs in Netron. */
  scope = '';

  /** Adds a node with one output; returns the output's name. */
  op(opType: string, inputs: string[], attrs: Attributes = {}, outName?: string): string {
    return this.opN(opType, inputs, 1, attrs, outName ? [outName] : undefined)[0]!;
  }

  /** Adds a node with `nOut` outputs; returns their names. */
  opN(opType: string, inputs: string[], nOut: number, attrs: Attributes = {}, outNames?: string[]): string[] {
    const base = `${this.scope ? `${this.scope}/` : ''}${opType}_${this.counter++}`;
    const output = outNames ?? Array.from({ length: nOut }, (_, i) => (nOut === 1 ? base : `${base}:${i}`));
    for (const o of output) this.claim(o);
    this.nodes.push({ name: base, op_type: opType, input: inputs, output, attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)) });
    return output;
  }

  /** Adds a float32 initializer under `name` (its data is copied). */
  initF32(name: string, dims: readonly number[], data: Float32Array): string {
    const n = dims.reduce((a, b) => a * b, 1);
    if (n !== data.length) throw new Error(`onnx: initializer ${name} has ${data.length} values for dims [${dims.join(', ')}]`);
    this.claim(name);
    this.initializers.push({ name, dims: [...dims], data_type: OnnxDataType.FLOAT, raw_data: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) });
    return name;
  }

  /** An int64 constant (a scalar when `dims` is []), shared by every use of the same value. */
  constI64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const key = `i64[${dims.join(',')}]:${values.join(',')}`;
    const known = this.constants.get(key);
    if (known) return known;
    const name = this.claim(`const_i64_${this.constants.size}`);
    const raw = new Uint8Array(values.length * 8);
    const dv = new DataView(raw.buffer);
    values.forEach((v, i) => dv.setBigInt64(i * 8, BigInt(v), true));
    this.initializers.push({ name, dims: [...dims], data_type: OnnxDataType.INT64, raw_data: raw });
    this.constants.set(key, name);
    return name;
  }

  /** A float32 constant (a scalar when `dims` is []), shared by every use of the same value. */
  constF32(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const data = Float32Array.from(values);
    const key = `f32[${dims.join(',')}]:${Array.from(new Uint32Array(data.buffer)).join(',')}`;
    const known = this.constants.get(key);
    if (known) return known;
    const name = this.claim(`const_f32_${this.constants.size}`);
    this.initializers.push({ name, dims: [...dims], data_type: OnnxDataType.FLOAT, raw_data: new Uint8Array(data.buffer) });
    this.constants.set(key, name);
    return name;
  }

  /** Declares a graph input. */
  input(name: string, elemType: number, dims: (number | string)[]): string {
    this.inputs.push(valueInfo(this.claim(name), elemType, dims));
    return name;
  }

  /**
   * Declares a graph output (an existing value is renamed through an Identity node), after those
   * declared so far, or before them with `first` (outputs are listed in declaration order).
   */
  output(value: string, name: string, elemType: number, dims: (number | string)[], opts: { first?: boolean } = {}): void {
    this.op('Identity', [value], {}, name);
    const info = valueInfo(name, elemType, dims);
    if (opts.first) this.outputs.unshift(info);
    else this.outputs.push(info);
  }

  /** The GraphProto. */
  build(name: string, docString?: string): GraphProto {
    return { name, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs, ...(docString ? { doc_string: docString } : {}) };
  }

  private claim(name: string): string {
    if (this.used.has(name)) throw new Error(`onnx: value name ${name} is used twice`);
    this.used.add(name);
    return name;
  }
}

function attribute(name: string, v: number | number[]): AttributeProto {
  const ints = Array.isArray(v) ? v : [v];
  if (!ints.every(Number.isInteger)) throw new Error(`onnx: attribute ${name} must be integer, got ${JSON.stringify(v)}`);
  return Array.isArray(v) ? { name, type: OnnxAttributeType.INTS, ints: v } : { name, type: OnnxAttributeType.INT, i: v };
}

function valueInfo(name: string, elemType: number, dims: (number | string)[]): ValueInfoProto {
  const dim: Dim[] = dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d }));
  return { name, type: { tensor_type: { elem_type: elemType, shape: { dim } } } };
}
