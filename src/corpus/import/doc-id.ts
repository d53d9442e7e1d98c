/**
 * Derived document ids: `"p"` + the first 12 hex digits of SHA-1(`title + "\n" + text`).
 *
 * The sample corpus in `../shared/data/multihop` names its paragraphs this way (checked on its
 * first line: "Meet Corliss Archer" -> `p5f8107880e10`), so documents that arrive without an
 * id (contexts of a question file with no corpus file, R1-Searcher's `/queries` answers, which
 * carry no ids) get the same id as the same paragraph in a sample-corpus pack. That keeps
 * "a supporting document was retrieved" meaningful whichever way a document came in.
 *
 * SHA-1 comes from @noble/hashes (synchronous, and the same in Node and in the page's import
 * worker); it is an identifier here, not a security measure.
 */
import { sha1 } from '@noble/hashes/legacy.js';
import { bytesToHex } from '@noble/hashes/utils.js';

const encoder = new TextEncoder();

/** Lowercase hex SHA-1 of the UTF-8 bytes of `text`. */
export function sha1Hex(text: string): string {
  return bytesToHex(sha1(encoder.encode(text)));
}

/** The id of a paragraph that came without one: `"p"` + 12 hex digits (see the file comment). */
export function derivedDocumentId(title: string, text: string): string {
  return `p${sha1Hex(`${title}\n${text}`).slice(0, 12)}`;
}
