/**
 * Derived document ids: `"p"` + the first 12 hex digits of SHA-1(`title + "\n" + text`).
 *
 * The sample corpus in `../shared/data/multihop` names its paragraphs this way (checked on its
 * first line: "Meet Corliss Archer" -> `p5f8107880e10`), so documents that arrive without an
 * id (contexts of a question file with no corpus file, R1-Searcher's `/queries` answers, which
 * carry no ids) get the same id as the same paragraph in a sample-corpus pack. That keeps
 * "a supporting document was retrieved" meaningful whichever way a document came in.
 *
 * SHA-1 is written out here rather than taken from node:crypto or WebCrypto because the id is
 * needed synchronously in the page's import worker too; it is an identifier, not a security
 * measure.
 */

const encoder = new TextEncoder();

/** Lowercase hex SHA-1 of the UTF-8 bytes of `text` (FIPS 180-4). */
export function sha1Hex(text: string): string {
  const bytes = encoder.encode(text);
  // Message + 0x80 + zero padding + 64-bit big-endian bit length, in 64-byte blocks.
  const blocks = Math.ceil((bytes.length + 9) / 64);
  const buf = new Uint8Array(blocks * 64);
  buf.set(bytes);
  buf[bytes.length] = 0x80;
  const view = new DataView(buf.buffer);
  const bitLength = bytes.length * 8;
  view.setUint32(buf.length - 8, Math.floor(bitLength / 2 ** 32));
  view.setUint32(buf.length - 4, bitLength >>> 0);
  let h0 = 0x67452301, h1 = 0xefcdab89, h2 = 0x98badcfe, h3 = 0x10325476, h4 = 0xc3d2e1f0;
  const w = new Uint32Array(80);
  for (let off = 0; off < buf.length; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(off + i * 4);
    for (let i = 16; i < 80; i++) {
      const x = w[i - 3]! ^ w[i - 8]! ^ w[i - 14]! ^ w[i - 16]!;
      w[i] = (x << 1) | (x >>> 31);
    }
    let a = h0, b = h1, c = h2, d = h3, e = h4;
    for (let i = 0; i < 80; i++) {
      let f: number, k: number;
      if (i < 20) { f = (b & c) | (~b & d); k = 0x5a827999; }
      else if (i < 40) { f = b ^ c ^ d; k = 0x6ed9eba1; }
      else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8f1bbcdc; }
      else { f = b ^ c ^ d; k = 0xca62c1d6; }
      const t = (((a << 5) | (a >>> 27)) + f + e + k + w[i]!) >>> 0;
      e = d; d = c; c = ((b << 30) | (b >>> 2)) >>> 0; b = a; a = t;
    }
    h0 = (h0 + a) >>> 0; h1 = (h1 + b) >>> 0; h2 = (h2 + c) >>> 0; h3 = (h3 + d) >>> 0; h4 = (h4 + e) >>> 0;
  }
  return [h0, h1, h2, h3, h4].map((h) => h.toString(16).padStart(8, '0')).join('');
}

/** The id of a paragraph that came without one: `"p"` + 12 hex digits (see the file comment). */
export function derivedDocumentId(title: string, text: string): string {
  return `p${sha1Hex(`${title}\n${text}`).slice(0, 12)}`;
}
