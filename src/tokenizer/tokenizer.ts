/**
 * Word-level tokenizer: one token per normalized word (src/protocol/normalize.ts), with the
 * special tokens of src/protocol/tags.ts at fixed ids 0..11. Saved and loaded as a Hugging
 * Face `tokenizer.json` (WordLevel model) so an exported checkpoint tokenizes the same way in
 * `transformers`.
 *
 * Lossless on normalized text: `decode(encode(normalizeText(s))) === normalizeText(s)` for any
 * s whose words are all in the vocabulary; unknown words become `<unk>`.
 */
import { normalizeText, splitWords } from '../protocol/normalize.ts';
import { SPECIAL_TOKENS, UNK } from '../protocol/tags.ts';
import type { TextTokenizer } from './text-tokenizer.ts';
import { huggingFaceFrame, Vocabulary, vocabFromHuggingFace, type HfTokenizerFrame } from './vocabulary.ts';

export class Tokenizer extends Vocabulary implements TextTokenizer {
  /** @param vocab every token in id order; must start with SPECIAL_TOKENS and hold no duplicate or whitespace. */
  constructor(vocab: readonly string[]) {
    super(vocab, 'tokenizer', (t, i) => {
      if (/\s/.test(t)) throw new Error(`tokenizer: token ${i} (${JSON.stringify(t)}) contains whitespace`);
    });
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
      ...huggingFaceFrame(),
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
    const vocab = vocabFromHuggingFace(model.vocab);
    if (model.unk_token !== UNK) throw new Error(`tokenizer.json: model.unk_token must be ${UNK}`);
    return new Tokenizer(vocab);
  }
}

/** The subset of Hugging Face's tokenizer.json schema we write and read. */
export interface HfTokenizerJson extends HfTokenizerFrame {
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
