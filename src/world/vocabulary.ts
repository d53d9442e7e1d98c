/**
 * The closed word list of a seed's worlds: every normalized word the generator can emit in any
 * world (documents, questions, reading passages), written to the pack as `words.txt`. The
 * tokenizer builds its word-level vocabulary from it plus the prompt presets' words, so every
 * name, year and answer is one token.
 */
import { FILLER_WORDS } from '../protocol/prompts.ts';
import { SPECIAL_TOKENS } from '../protocol/tags.ts';
import { lexiconWords } from './lexicon.ts';
import { MAX_SPLICED_DOCUMENTS } from '../protocol/splice.ts';
import { FIRST_BIRTH_YEAR, LAST_BIRTH_YEAR } from './types.ts';
import { worldEntities } from './world.ts';

/**
 * The sorted (by UTF-16 code units), duplicate-free words of a seed's worlds: the lexicon's
 * fixed words, every name (lowercased), every birth year, the document numbers 1..10 of the
 * splice format, and the prompt filler words that Stage 0 writes into prompt slots. Special
 * tokens (`<answer>`, ...) are not listed: every vocabulary has them already.
 */
export function worldVocabulary(seed: number): string[] {
  const words = lexiconWords();
  for (const e of worldEntities(seed)) words.add(e.name.toLowerCase());
  for (let y = FIRST_BIRTH_YEAR; y <= LAST_BIRTH_YEAR; y++) words.add(String(y));
  for (let i = 1; i <= MAX_SPLICED_DOCUMENTS; i++) words.add(String(i));
  for (const w of FILLER_WORDS) words.add(w);
  for (const t of SPECIAL_TOKENS) words.delete(t);
  return [...words].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
