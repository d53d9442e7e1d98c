/**
 * Word-level tokenizer: one token per normalized word (src/tokenizer/normalize.ts), with the
 * special tokens of src/tokenizer/special.ts at fixed ids 0..11. Saved and loaded as a Hugging
 * Face `tokenizer.json` (WordLevel model) so an exported checkpoint tokenizes the same way in
 * `transformers`.
 *
 * Lossless on normalized text: `decode(encode(normalizeText(s))) === normalizeText(s)` for any
 * s whose words are all in the vocabulary; unknown words become `<unk>`.
 */
import { normalizeText, splitWords } from './normalize.ts';
import { EOS, PAD, SPECIAL_TOKENS, UNK, BOS } from './special.ts';
import type { TextTokenizer } from './text-tokenizer.ts';

export class Tokenizer implements TextTokenizer {
  /** id -> token. */
  readonly vocab: readonly string[];
  private readonly ids: Map<string, number>;
  readonly padId: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly unkId: number;

  /** @param vocab every token in id order; must start with SPECIAL_TOKENS and hold no duplicate. */
  constructor(vocab: readonly string[]) {
    SPECIAL_TOKENS.forEach((t, i) => {
      if (vocab[i] !== t) throw new Error(`tokenizer: id ${i} must be the special token ${t}, got ${JSON.stringify(vocab[i])}`);
    });
    this.ids = new Map();
    vocab.forEach((t, i) => {
      if (typeof t !== 'string' || t.length === 0) throw new Error(`tokenizer: token ${i} is empty or not a string`);
      if (/\s/.test(t)) throw new Error(`tokenizer: token ${i} (${JSON.stringify(t)}) contains whitespace`);
      if (this.ids.has(t)) throw new Error(`tokenizer: token ${JSON.stringify(t)} appears twice (ids ${this.ids.get(t)} and ${i})`);
      this.ids.set(t, i);
    });
    this.vocab = [...vocab];
    this.padId = this.ids.get(PAD)!;
    this.bosId = this.ids.get(BOS)!;
    this.eosId = this.ids.get(EOS)!;
    this.unkId = this.ids.get(UNK)!;
  }

  /** A tokenizer with the special tokens followed by `words` (duplicates and specials skipped). */
  static fromWords(words: Iterable<string>): Tokenizer {
    const vocab: string[] = [...SPECIAL_TOKENS];
    const seen = new Set(vocab);
    for (const w of words) {
      if (!w || seen.has(w)) continue;
      seen.add(w);
      vocab.push(w);
    }
    return new Tokenizer(vocab);
  }

  /** V: number of tokens. */
  get size(): number {
    return this.vocab.length;
  }

  /** The id of a token, or undefined. */
  idOf(token: string): number | undefined {
    return this.ids.get(token);
  }

  /** The id of a token; throws if the vocabulary lacks it. */
  id(token: string): number {
    const i = this.ids.get(token);
    if (i === undefined) throw new Error(`tokenizer: no token ${JSON.stringify(token)}`);
    return i;
  }

  /** Token ids of a text (normalized first); unknown words map to `<unk>`. */
  encode(text: string): number[] {
    return splitWords(text).map((w) => this.ids.get(w) ?? this.unkId);
  }

  /** One id per already-normalized word (`<unk>` for a word the vocabulary lacks). */
  encodeWords(words: readonly string[]): number[][] {
    return words.map((w) => [this.ids.get(w) ?? this.unkId]);
  }

  /** Number of words of `text` the vocabulary lacks. */
  countUnknown(text: string): number {
    return splitWords(text).filter((w) => !this.ids.has(w)).length;
  }

  /** The text of token ids: tokens joined by single spaces. Throws on an id outside [0, V). */
  decode(ids: ArrayLike<number>, opts: { skipSpecial?: (id: number) => boolean } = {}): string {
    const out: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const t = this.vocab[id];
      if (t === undefined) throw new RangeError(`tokenizer: id ${id} outside [0, ${this.size})`);
      if (opts.skipSpecial?.(id)) continue;
      out.push(t);
    }
    return out.join(' ');
  }

  /** The Hugging Face `tokenizer.json` object (WordLevel model). */
  toHuggingFace(): HfTokenizerJson {
    return {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: SPECIAL_TOKENS.map((content, id) => ({
        id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
      })),
      normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKC' }, { type: 'Lowercase' }] },
      pre_tokenizer: {
        type: 'Sequence',
        pretokenizers: [
          // Every character that is not a letter, digit, mark or space is a word of its own
          // (normalize.ts does the same), then split on whitespace.
          { type: 'Split', pattern: { Regex: '[^\\p{L}\\p{N}\\p{M}\\s]' }, behavior: 'Isolated', invert: false },
          { type: 'WhitespaceSplit' },
        ],
      },
      post_processor: null,
      decoder: null,
      model: { type: 'WordLevel', vocab: Object.fromEntries(this.vocab.map((t, i) => [t, i])), unk_token: UNK },
    };
  }

  /**
   * Reads a Hugging Face `tokenizer.json` (WordLevel). Throws naming the field when the model
   * type is not WordLevel, ids are not 0..V-1 without gaps, or the special tokens are missing.
   */
  static fromHuggingFace(json: unknown): Tokenizer {
    const j = json as Partial<HfTokenizerJson> | null;
    if (!j || typeof j !== 'object') throw new Error('tokenizer.json: not a JSON object');
    const model = j.model as HfTokenizerJson['model'] | undefined;
    if (!model || model.type !== 'WordLevel') throw new Error(`tokenizer.json: model.type must be "WordLevel", got ${JSON.stringify(model?.type)}`);
    if (!model.vocab || typeof model.vocab !== 'object') throw new Error('tokenizer.json: model.vocab is missing');
    const entries = Object.entries(model.vocab);
    const vocab: string[] = new Array(entries.length);
    for (const [tok, id] of entries) {
      if (!Number.isInteger(id) || id < 0 || id >= entries.length) throw new Error(`tokenizer.json: model.vocab[${JSON.stringify(tok)}] = ${id} is not an id in [0, ${entries.length})`);
      if (vocab[id] !== undefined) throw new Error(`tokenizer.json: id ${id} is used twice in model.vocab`);
      vocab[id] = tok;
    }
    if (model.unk_token !== UNK) throw new Error(`tokenizer.json: model.unk_token must be ${UNK}`);
    return new Tokenizer(vocab);
  }
}

/** The subset of Hugging Face's tokenizer.json schema we write and read. */
export interface HfTokenizerJson {
  version: string;
  truncation: null;
  padding: null;
  added_tokens: { id: number; content: string; single_word: boolean; lstrip: boolean; rstrip: boolean; normalized: boolean; special: boolean }[];
  normalizer: unknown;
  pre_tokenizer: unknown;
  post_processor: null;
  decoder: null;
  model: { type: 'WordLevel'; vocab: Record<string, number>; unk_token: string };
}

/**
 * Vocabulary words from texts, most frequent first (ties in code-point order), so the same
 * texts always give the same ids. `maxWords` caps the list (rare words become `<unk>`);
 * `minCount` drops words seen fewer times. Special tokens in the texts are skipped.
 */
export function buildVocabulary(texts: Iterable<string>, opts: { maxWords?: number; minCount?: number } = {}): string[] {
  const counts = new Map<string, number>();
  const special = new Set<string>(SPECIAL_TOKENS);
  for (const text of texts) {
    for (const w of normalizeText(text).split(' ')) {
      if (!w || special.has(w)) continue;
      counts.set(w, (counts.get(w) ?? 0) + 1);
    }
  }
  const minCount = opts.minCount ?? 1;
  const words = [...counts].filter(([, c]) => c >= minCount).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return words.slice(0, opts.maxWords ?? words.length).map(([w]) => w);
}
