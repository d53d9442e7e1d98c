/**
 * Text normalization shared by the tokenizer, the world generator and the search index.
 *
 * Normalized text is lowercase, has every punctuation character as a word of its own, keeps
 * the special tags of recipe.md section 2 intact, and has single spaces between words.
 * The word-level tokenizer is lossless on normalized text:
 * `decode(encode(normalizeText(s))) === normalizeText(s)`.
 */
import { SPECIAL_TOKENS } from './tags.ts';

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Matches any special token written out as text. */
export const SPECIAL_RE = new RegExp(`(${SPECIAL_TOKENS.map(escapeRe).join('|')})`, 'g');

/** A character that is neither a letter, a digit, a combining mark, nor whitespace. */
const PUNCT_RE = /([^\p{L}\p{N}\p{M}\s])/gu;

/** Normalizes a piece of text that holds no special token. */
function normalizePlain(s: string): string {
  return s
    .normalize('NFKC')
    .toLowerCase()
    .replace(PUNCT_RE, ' $1 ')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Lowercases, splits punctuation into separate words, collapses whitespace, and leaves the
 * special tokens (`<think>`, `<|begin_of_query|>`, ...) untouched as whole words.
 */
export function normalizeText(text: string): string {
  const parts = text.split(SPECIAL_RE);
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    // split() with a capture group puts the separators at odd indices.
    const piece = i % 2 === 1 ? parts[i]! : normalizePlain(parts[i]!);
    if (piece) out.push(piece);
  }
  return out.join(' ');
}

/** The words of a text after normalization (the tokenizer's pre-tokenization). */
export function splitWords(text: string): string[] {
  const n = normalizeText(text);
  return n ? n.split(' ') : [];
}
