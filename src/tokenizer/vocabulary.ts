/**
 * What every tokenizer shares: the token list in id order with its token -> id lookup
 * (TokenTable, also under the imported byte-level BPE), and what the word-level and the BPE
 * tokenizer add to it (Vocabulary): the special tokens of src/protocol/tags.ts at ids 0..11, and
 * reading a Hugging Face `model.vocab` record back into the list and writing the frame of a
 * `tokenizer.json`.
 */
import { BOS, EOS, PAD, SPECIAL_TOKENS, UNK } from '../protocol/tags.ts';

/**
 * The token list in id order and the lookup from token to id. A token listed more than once
 * (possible in an imported tokenizer.json) looks up to its first id.
 */
export class TokenTable {
  /** id -> token. */
  readonly vocab: readonly string[];
  /** token -> id (the first id of a repeated token). */
  protected readonly ids = new Map<string, number>();

  /** @param vocab every token in id order (copied). */
  constructor(vocab: readonly string[]) {
    this.vocab = [...vocab];
    vocab.forEach((t, i) => { if (!this.ids.has(t)) this.ids.set(t, i); });
  }

  /** V: number of tokens. */
  get size(): number {
    return this.vocab.length;
  }

  /** The id of a token, or undefined. */
  idOf(token: string): number | undefined {
    return this.ids.get(token);
  }

  /** The id of a token. @throws Error when the vocabulary lacks it. */
  id(token: string): number {
    const i = this.ids.get(token);
    if (i === undefined) throw new Error(`tokenizer: no token ${JSON.stringify(token)}`);
    return i;
  }
}

/**
 * The token list of our word-level and BPE tokenizers: SPECIAL_TOKENS at ids 0..11, then
 * non-empty tokens, none repeated.
 */
export class Vocabulary extends TokenTable {
  readonly padId: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly unkId: number;

  /**
   * @param vocab every token in id order; must start with SPECIAL_TOKENS and hold no empty or
   *   repeated token. `who` prefixes error messages; `checkToken` adds a rule of the subclass.
   * @throws Error naming the token that breaks a rule.
   */
  constructor(vocab: readonly string[], who: string, checkToken?: (token: string, id: number) => void) {
    SPECIAL_TOKENS.forEach((t, i) => {
      if (vocab[i] !== t) throw new Error(`${who}: id ${i} must be the special token ${t}, got ${JSON.stringify(vocab[i])}`);
    });
    const seen = new Map<string, number>();
    vocab.forEach((t, i) => {
      if (typeof t !== 'string' || t.length === 0) throw new Error(`${who}: token ${i} is empty or not a string`);
      checkToken?.(t, i);
      if (seen.has(t)) throw new Error(`${who}: token ${JSON.stringify(t)} appears twice (ids ${seen.get(t)} and ${i})`);
      seen.set(t, i);
    });
    super(vocab);
    this.padId = this.ids.get(PAD)!;
    this.bosId = this.ids.get(BOS)!;
    this.eosId = this.ids.get(EOS)!;
    this.unkId = this.ids.get(UNK)!;
  }
}

/**
 * A tokenizer.json `model.vocab` (token -> id) as the token list in id order.
 * @throws Error naming the entry when an id is outside [0, V) or used twice.
 */
export function vocabFromHuggingFace(record: Record<string, unknown>): string[] {
  const entries = Object.entries(record);
  const vocab: string[] = new Array(entries.length);
  for (const [tok, id] of entries) {
    if (!Number.isInteger(id) || (id as number) < 0 || (id as number) >= entries.length) throw new Error(`tokenizer.json: model.vocab[${JSON.stringify(tok)}] = ${id} is not an id in [0, ${entries.length})`);
    if (vocab[id as number] !== undefined) throw new Error(`tokenizer.json: id ${id} is used twice in model.vocab`);
    vocab[id as number] = tok;
  }
  return vocab;
}

/** An entry of a Hugging Face tokenizer.json `added_tokens`. */
export interface HfAddedToken {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

/**
 * The top-level fields of a Hugging Face `tokenizer.json` other than `model` and `decoder` (the
 * subset we write and read; each tokenizer's JSON type adds those two).
 */
export interface HfTokenizerFrame {
  version: string;
  truncation: null;
  padding: null;
  added_tokens: HfAddedToken[];
  normalizer: unknown;
  pre_tokenizer: unknown;
  post_processor: null;
}

/**
 * The parts of a Hugging Face `tokenizer.json` both our tokenizers write the same: the special
 * tokens as added tokens, and the normalization and pre-tokenization of normalize.ts (NFKC,
 * lowercase, every character that is not a letter, digit, mark or space a word of its own, then
 * a split on whitespace). Each tokenizer adds its `model` and `decoder`.
 */
export function huggingFaceFrame(): HfTokenizerFrame {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKC' }, { type: 'Lowercase' }] },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: '[^\\p{L}\\p{N}\\p{M}\\s]' }, behavior: 'Isolated', invert: false },
        { type: 'WhitespaceSplit' },
      ],
    },
    post_processor: null,
  };
}
