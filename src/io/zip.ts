/**
 * Zip archives of exported folders and imported checkpoints, through fflate (browser and Node).
 *
 * Writing: JSON and text are deflated; weights (.safetensors, .onnx) are stored, since float
 * bytes barely compress and storing keeps a 100 MB export fast in a browser tab.
 * Reading: every entry's CRC-32 is checked against the archive's central directory (fflate
 * does not check it, and a stored entry has no other integrity check), directory entries and
 * macOS litter are skipped, and a single top-level folder is stripped, so `nano.zip` holding
 * `nano/config.json` reads as `config.json`.
 */
import { unzipSync, zipSync, type Zippable } from 'fflate';

export class ZipError extends Error {
  constructor(message: string) {
    super(`zip: ${message}`);
    this.name = 'ZipError';
  }
}

/** Largest total uncompressed size we accept by default (guards against zip bombs): 2 GiB. */
export const MAX_UNZIPPED_BYTES = 2 * 1024 ** 3;

const STORED = /\.(safetensors|onnx|bin|npy)$/;

/**
 * Builds a zip of `files` (name -> bytes; names may contain `/` for folders), entries in the
 * map's order, optionally under one top folder `root`.
 * @throws ZipError on an empty or absolute name or one with `..`.
 */
export function zipFiles(files: ReadonlyMap<string, Uint8Array>, opts: { root?: string } = {}): Uint8Array {
  const z: Zippable = {};
  for (const [name, bytes] of files) {
    checkName(name);
    const path = opts.root ? `${opts.root.replace(/\/+$/, '')}/${name}` : name;
    z[path] = [bytes, { level: STORED.test(name) ? 0 : 6 }];
  }
  // A fixed time stamp makes the archive a function of its contents (reproducible exports).
  return zipSync(z, { mtime: new Date('2025-01-01T00:00:00Z') });
}

/** Whether bytes start like a zip archive (a local file header, or the end record of an empty one). */
export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && ((bytes[2] === 3 && bytes[3] === 4) || (bytes[2] === 5 && bytes[3] === 6));
}

/**
 * Reads a zip into name -> bytes.
 * @throws ZipError when the archive is corrupt (bad structure, failed inflate, CRC mismatch),
 *   too large once unzipped, or holds the same file twice.
 */
export function unzipFiles(bytes: Uint8Array, opts: { maxBytes?: number } = {}): Map<string, Uint8Array> {
  const maxBytes = opts.maxBytes ?? MAX_UNZIPPED_BYTES;
  const crcs = centralDirectory(bytes);
  let total = 0;
  let raw: Record<string, Uint8Array>;
  try {
    raw = unzipSync(bytes, {
      filter: (f) => {
        total += f.originalSize;
        if (total > maxBytes) throw new ZipError(`archive unpacks to more than ${maxBytes} bytes`);
        return !f.name.endsWith('/');
      },
    });
  } catch (e) {
    if (e instanceof ZipError) throw e;
    throw new ZipError(`archive is corrupt (${(e as Error).message})`);
  }
  const out = new Map<string, Uint8Array>();
  for (const [name, data] of Object.entries(raw)) {
    const expected = crcs.get(name);
    if (expected !== undefined && crc32(data) !== expected) throw new ZipError(`${name}: CRC-32 mismatch, the archive is corrupt`);
    if (/(^|\/)(__MACOSX\/|\.DS_Store$)/.test(name)) continue;
    out.set(name, data);
  }
  return stripCommonFolder(out);
}

/** `a/x`, `a/y` -> `x`, `y` when every entry sits in the same single top folder. */
function stripCommonFolder(files: Map<string, Uint8Array>): Map<string, Uint8Array> {
  const names = [...files.keys()];
  const top = names[0]?.split('/')[0];
  if (!top || !names.every((n) => n.startsWith(`${top}/`))) return files;
  const out = new Map<string, Uint8Array>();
  for (const [n, b] of files) out.set(n.slice(top.length + 1), b);
  return out;
}

function checkName(name: string): void {
  if (!name || name.startsWith('/') || name.split('/').includes('..')) throw new ZipError(`bad entry name ${JSON.stringify(name)}`);
}

/**
 * name -> CRC-32 from the central directory (APPNOTE 4.3.12). Throws ZipError when the end
 * record is missing or the directory runs outside the file.
 */
function centralDirectory(bytes: Uint8Array): Map<string, number> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The end-of-central-directory record is 22 bytes plus a comment of up to 65535 bytes.
  let eocd = -1;
  for (let p = bytes.length - 22; p >= Math.max(0, bytes.length - 22 - 0xffff); p--) {
    if (dv.getUint32(p, true) === 0x06054b50) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) throw new ZipError('archive is corrupt (no end-of-central-directory record; truncated or not a zip)');
  const count = dv.getUint16(eocd + 10, true);
  let p = dv.getUint32(eocd + 16, true);
  const out = new Map<string, number>();
  const dec = new TextDecoder();
  for (let i = 0; i < count; i++) {
    if (p + 46 > bytes.length || dv.getUint32(p, true) !== 0x02014b50) throw new ZipError(`archive is corrupt (central directory entry ${i} is damaged)`);
    const crc = dv.getUint32(p + 16, true);
    const nameLen = dv.getUint16(p + 28, true), extraLen = dv.getUint16(p + 30, true), commentLen = dv.getUint16(p + 32, true);
    const name = dec.decode(bytes.subarray(p + 46, p + 46 + nameLen));
    if (out.has(name)) throw new ZipError(`${name} appears twice in the archive`);
    out.set(name, crc);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as zip uses. */
export function crc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
