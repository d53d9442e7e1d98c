/**
 * The safetensors format (huggingface/safetensors): an 8-byte little-endian header length n,
 * n bytes of JSON `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {...}}`,
 * then the tensors' bytes, little-endian, offsets relative to the end of the header.
 * We write F32 (F16 when asked: half the bytes, for the shipped demo run) and read F32 (F16 and
 * BF16 too when asked to widen them); every field is checked, and an error names the tensor.
 */

/** A named f32 tensor on the host. */
export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

export class SafetensorsError extends Error {
  constructor(message: string) {
    super(`safetensors: ${message}`);
    this.name = 'SafetensorsError';
  }
}

const MAX_HEADER = 100 * 1024 * 1024;

/**
 * Serializes tensors in the given order (header padded with spaces to 8 bytes, as the reference
 * writer does). `dtype` F16 rounds every value to the nearest half float (ties to even; beyond
 * 65504 becomes infinity, which the reader refuses, so such a tensor throws here instead).
 * @throws SafetensorsError naming a tensor whose shape and data disagree, or that F16 cannot hold.
 */
export function writeSafetensors(tensors: ReadonlyMap<string, HostTensor> | [string, HostTensor][], metadata?: Record<string, string>, opts: { dtype?: 'F32' | 'F16' } = {}): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors] : (tensors as [string, HostTensor][]);
  const dtype = opts.dtype ?? 'F32';
  const width = dtype === 'F16' ? 2 : 4;
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of entries) {
    const n = t.shape.reduce((a: number, b: number) => a * b, 1);
    if (n !== t.data.length) throw new SafetensorsError(`tensor ${name}: shape [${t.shape.join(', ')}] needs ${n} values, has ${t.data.length}`);
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + n * width] };
    offset += n * width;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  while (enc.encode(json).length % 8 !== 0) json += ' ';
  const hb = enc.encode(json);
  const out = new Uint8Array(8 + hb.length + offset);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let p = 8 + hb.length;
  for (const [name, t] of entries) {
    if (dtype === 'F16') {
      for (let i = 0; i < t.data.length; i++) {
        const h = toHalf(t.data[i]!);
        if ((h & 0x7c00) === 0x7c00) throw new SafetensorsError(`tensor ${name}: value ${t.data[i]} at ${i} does not fit in F16`);
        dv.setUint16(p + 2 * i, h, true);
      }
      p += 2 * t.data.length;
      continue;
    }
    // Copy through a byte view; Float32Array is little-endian on every platform we run on.
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), p);
    p += t.data.byteLength;
  }
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half-float bits of a float32, rounded to nearest, ties to even (subnormals included). */
function toHalf(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf / NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow: infinity
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal: zero
    mant |= 0x800000;
    const shift = 14 - e;
    const half = mant >>> shift, rest = mant & ((1 << shift) - 1), mid = 1 << (shift - 1);
    return sign | (half + (rest > mid || (rest === mid && (half & 1)) ? 1 : 0));
  }
  const half = (e << 10) | (mant >>> 13), rest = mant & 0x1fff;
  // A carry out of the mantissa lands in the exponent, as it should.
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && (half & 1)) ? 1 : 0));
}

/** Parsed file: tensors in file order, and the metadata. */
export interface SafetensorsFile {
  tensors: Map<string, HostTensor>;
  metadata: Record<string, string>;
  /** With `widen`: names of the tensors converted from F16 or BF16 to F32. */
  widened?: string[];
}

/** Options of readSafetensors. */
export interface ReadSafetensorsOptions {
  /**
   * Also accept F16 and BF16 tensors and convert them to F32 (exactly: every 16-bit float is a
   * float32). Off by default: our own files are F32 only. Used when importing foreign models.
   */
  widen?: boolean;
}

const DTYPE_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };

/**
 * Parses and validates a safetensors file: header length within the file, valid UTF-8 JSON,
 * every entry with dtype F32, integer shape, offsets in bounds, matching the shape, neither
 * overlapping nor leaving gaps, and finite values. With `opts.widen`, F16 and BF16 are accepted
 * and converted to F32.
 * @throws SafetensorsError naming the tensor or field.
 */
export function readSafetensors(bytes: Uint8Array, opts: ReadSafetensorsOptions = {}): SafetensorsFile {
  if (bytes.length < 8) throw new SafetensorsError(`file is ${bytes.length} bytes, too short for the 8-byte header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = dv.getBigUint64(0, true);
  if (n64 > BigInt(bytes.length - 8)) throw new SafetensorsError(`header length ${n64} runs past the end of the file (${bytes.length} bytes)`);
  const n = Number(n64);
  if (n > MAX_HEADER) throw new SafetensorsError(`header length ${n} exceeds ${MAX_HEADER} bytes`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new SafetensorsError(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) throw new SafetensorsError('header is not a JSON object');
  const dataStart = 8 + n, dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const spans: { name: string; begin: number; end: number; shape: number[]; dtype: string }[] = [];
  for (const [name, v] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (!v || typeof v !== 'object') throw new SafetensorsError('__metadata__ is not an object');
      for (const [k, s] of Object.entries(v as Record<string, unknown>)) {
        if (typeof s !== 'string') throw new SafetensorsError(`__metadata__.${k} is not a string`);
        metadata[k] = s;
      }
      continue;
    }
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!e || typeof e !== 'object') throw new SafetensorsError(`tensor ${name}: entry is not an object`);
    if (e.dtype !== 'F32' && !(opts.widen && (e.dtype === 'F16' || e.dtype === 'BF16'))) {
      throw new SafetensorsError(`tensor ${name}: dtype ${JSON.stringify(e.dtype)} is not supported (${opts.widen ? 'F32, F16 and BF16' : 'F32'} only)`);
    }
    const dtype = e.dtype as string, width = DTYPE_BYTES[dtype]!;
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) throw new SafetensorsError(`tensor ${name}: shape ${JSON.stringify(e.shape)} is not a list of non-negative integers`);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((x) => Number.isInteger(x) && x >= 0) || off[0] > off[1]) {
      throw new SafetensorsError(`tensor ${name}: data_offsets ${JSON.stringify(off)} are not [begin, end] with 0 <= begin <= end`);
    }
    if (off[1] > dataLen) throw new SafetensorsError(`tensor ${name}: data_offsets end ${off[1]} is past the data (${dataLen} bytes)`);
    const count = (e.shape as number[]).reduce((a, b) => a * b, 1);
    if (off[1] - off[0] !== count * width) throw new SafetensorsError(`tensor ${name}: ${off[1] - off[0]} bytes do not hold shape [${(e.shape as number[]).join(', ')}] of ${dtype} (${count * width} bytes)`);
    spans.push({ name, begin: off[0], end: off[1], shape: e.shape as number[], dtype });
  }
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const s of spans) {
    if (s.begin < cursor) throw new SafetensorsError(`tensor ${s.name}: byte range [${s.begin}, ${s.end}) overlaps the previous tensor`);
    if (s.begin > cursor) throw new SafetensorsError(`tensor ${s.name}: gap of ${s.begin - cursor} bytes before it`);
    cursor = s.end;
  }
  if (cursor !== dataLen) throw new SafetensorsError(`${dataLen - cursor} trailing bytes after the last tensor`);
  const tensors = new Map<string, HostTensor>();
  const widened: string[] = [];
  for (const s of spans) {
    const raw = bytes.subarray(dataStart + s.begin, dataStart + s.end);
    const data = s.dtype === 'F32' ? new Float32Array(new Uint8Array(raw).buffer) : widenHalf(raw, s.dtype as 'F16' | 'BF16');
    if (s.dtype !== 'F32') widened.push(s.name);
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]!)) throw new SafetensorsError(`tensor ${s.name}: value ${data[i]} at index ${i} is not finite`);
    }
    tensors.set(s.name, { shape: s.shape, data });
  }
  return opts.widen ? { tensors, metadata, widened } : { tensors, metadata };
}

/** Little-endian F16 or BF16 values to float32 (exact). */
function widenHalf(raw: Uint8Array, dtype: 'F16' | 'BF16'): Float32Array {
  const n = raw.length / 2, out = new Float32Array(n);
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (dtype === 'BF16') {
    // bfloat16 is the top half of a float32.
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) bits[i] = dv.getUint16(2 * i, true) << 16;
    return out;
  }
  for (let i = 0; i < n; i++) {
    const h = dv.getUint16(2 * i, true);
    const sign = h & 0x8000 ? -1 : 1, exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
    if (exp === 0) out[i] = sign * frac * 2 ** -24; // zero and subnormals
    else if (exp === 31) out[i] = frac ? NaN : sign * Infinity;
    else out[i] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
}
