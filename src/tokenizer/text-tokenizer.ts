/**
 * What the model pipeline needs of a tokenizer, whichever kind it is: the word-level vocabulary
 * of generated packs (src/tokenizer/tokenizer.ts) or BPE for real text (src/tokenizer/bpe.ts).
 * Both keep the special tokens at ids 0..11 and pre-tokenize with normalizeText. The
 * implementations import this interface; src/tokenizer/from-hugging-face.ts picks one.
 */
import type { TagIds } from '../protocol/decode-step.ts';
import { ANSWER_CLOSE, DOCS_CLOSE, DOCS_OPEN, QUERY_CLOSE, QUERY_OPEN, TAGS } from '../protocol/tags.ts';

export interface TextTokenizer {
  /** id -> token. */
  readonly vocab: readonly string[];
  /** V: number of tokens. */
  readonly size: number;
  readonly padId: number;
  readonly bosId: number;
  readonly eosId: number;
  /** The unknown token's id; -1 for a byte-level BPE, which has none. */
  readonly unkId: number;
  /** The id of a token, or undefined. */
  idOf(token: string): number | undefined;
  /** The id of a token. @throws Error when the vocabulary lacks it. */
  id(token: string): number;
  /** Token ids of a text (normalized first). */
  encode(text: string): number[];
  /** Token ids of each of already-normalized words (one list per word; a special token is one id). */
  encodeWords(words: readonly string[]): number[][];
  /** Number of words of `text` that do not encode without `<unk>`. */
  countUnknown(text: string): number;
  /** The text of token ids. @throws RangeError on an id outside [0, V). */
  decode(ids: ArrayLike<number>, opts?: { skipSpecial?: (id: number) => boolean }): string;
  /** The Hugging Face `tokenizer.json` object. */
  toHuggingFace(): object;
}

/** A prompt's token ids as the policy reads it: BOS, then the text's tokens (normalized first). */
export function encodePrompt(tok: TextTokenizer, text: string): number[] {
  return [tok.bosId, ...tok.encode(text)];
}

/**
 * Looks the tag ids up once. Works for our tokenizers (special tokens at ids 0..11) and for an
 * imported model's, whose bos/eos/pad ids are its own and which may have no `<unk>`.
 * @throws Error naming a tag the vocabulary lacks.
 */
export function tagIds(tok: TextTokenizer): TagIds {
  const special = new Set<number>([tok.padId, tok.bosId, tok.eosId, ...TAGS.map((t) => tok.id(t))]);
  if (tok.unkId >= 0) special.add(tok.unkId);
  return {
    queryOpen: tok.id(QUERY_OPEN), queryClose: tok.id(QUERY_CLOSE), docsOpen: tok.id(DOCS_OPEN), docsClose: tok.id(DOCS_CLOSE),
    answerClose: tok.id(ANSWER_CLOSE), eos: tok.eosId, special,
  };
}
