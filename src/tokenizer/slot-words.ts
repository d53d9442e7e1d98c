/** The vocabulary words a prompt's answer slot may show (src/protocol/prompts.ts fills the slot). */
import { END_OF_WORD } from './bpe.ts';
import { ByteLevelBpeTokenizer } from './byte-level.ts';
import type { TextTokenizer } from './text-tokenizer.ts';

/**
 * Words the prompts' answer slot is filled with: every plain word of the vocabulary (for BPE,
 * the tokens that are whole words: those ending in `</w>`, without it).
 */
export function slotAnswerWords(tokenizer: TextTokenizer): string[] {
  // An imported byte-level vocabulary spells bytes as characters ("Ġword"): use its decoded tokens.
  const words = tokenizer instanceof ByteLevelBpeTokenizer
    ? tokenizer.vocab.map((_, i) => tokenizer.decode([i]).trim())
    : tokenizer.vocab.map((w) => (w.endsWith(END_OF_WORD) ? w.slice(0, -END_OF_WORD.length) : w));
  return words.filter((w) => /^[\p{L}\p{N}]+$/u.test(w));
}
