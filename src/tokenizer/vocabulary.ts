/**
 * What the word-level and the BPE tokenizer share: the token list in id order, with the special
 * tokens of src/protocol/tags.ts at ids 0..11, token -> id lookups, and reading a Hugging Face
 * `model.vocab` record back into that list.
 */
import { BOS, EOS, PAD, SPECIAL_TOKENS, UNK } from '../protocol/tags.ts';

export class Vocabulary {
  /** id -> token. */
  readonly vocab: readonly string[];
  protected readonly ids = new Map<string, number>();
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
    vocab.forEach((t, i) => {
      if (typeof t !== 'string' || t.length === 0) throw new Error(`${who}: token ${i} is empty or not a string`);
      checkToken?.(t, i);
      if (this.ids.has(t)) throw new Error(`${who}: token ${JSON.stringify(t)} appears twice (ids ${this.ids.get(t)} and ${i})`);
      this.ids.set(t, i);
    });
    this.vocab = [...vocab];
    this.padId = this.ids.get(PAD)!;
    this.bosId = this.ids.get(BOS)!;
    this.eosId = this.ids.get(EOS)!;
    this.unkId = this.ids.get(UNK)!;
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

/**
 * The parts of a Hugging Face `tokenizer.json` both our tokenizers write the same: the special
 * tokens as added tokens, and the normalization and pre-tokenization of normalize.ts (NFKC,
 * lowercase, every character that is not a letter, digit, mark or space a word of its own, then
 * a split on whitespace). Each tokenizer adds its `model` and `decoder`.
 */
export function huggingFaceFrame() {
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
