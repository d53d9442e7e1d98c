/**
 * Byte-pair encoding (Sennrich et al., 2016) over normalized words, for real text: a word-level
 * vocabulary of the imported multi-hop corpus (1.3M words, 62k distinct) would either explode
 * the embedding or turn answers into `<unk>`; ~8k subwords cover every word.
 *
 * Pre-tokenization is the word-level tokenizer's (src/protocol/normalize.ts: NFKC, lowercase,
 * punctuation as words of their own, whitespace split). A word is split into characters, its
 * last character marked with the end-of-word suffix `</w>`, and the merges are applied by rank.
 * The special tokens (src/protocol/tags.ts) keep ids 0..11 and are never split.
 *
 * Saved as a Hugging Face `tokenizer.json` with a BPE model (`end_of_word_suffix` "</w>",
 * decoder BPEDecoder), which standard tooling loads (tests/node/bpe.test.ts checks it with
 * @huggingface/tokenizers). Lossless on normalized text whose characters were seen in training:
 * `decode(encode(normalizeText(s))) === normalizeText(s)`; an unseen character becomes `<unk>`.
 */
import { normalizeText, SPECIAL_RE } from '../protocol/normalize.ts';
import { SPECIAL_TOKENS, UNK } from '../protocol/tags.ts';
import { huggingFaceFrame, Vocabulary, vocabFromHuggingFace, type HfTokenizerFrame } from './vocabulary.ts';
import type { TextTokenizer } from './text-tokenizer.ts';

/** Marks the last symbol of a word (so "in" inside a word and the word "in" differ). */
export const END_OF_WORD = '</w>';

/** A merge: two adjacent symbols that become one, in rank order. */
export type Merge = readonly [string, string];

/** Options of trainBpe. */
export interface BpeTrainOptions {
  /** Target vocabulary size, special tokens and the character alphabet included. Default 8000. */
  vocabSize?: number;
  /** A pair seen fewer times than this is never merged. Default 2. */
  minFrequency?: number;
}

/** The subset of Hugging Face's tokenizer.json (BPE model) we write and read. */
export interface HfBpeTokenizerJson extends HfTokenizerFrame {
  decoder: { type: 'BPEDecoder'; suffix: string };
  model: {
    type: 'BPE'; dropout: null; unk_token: string; continuing_subword_prefix: null; end_of_word_suffix: string;
    fuse_unk: boolean; byte_fallback: boolean; ignore_merges: boolean; vocab: Record<string, number>; merges: [string, string][];
  };
}

/**
 * Applies merges to a word's symbols, lowest rank first, every occurrence of the chosen pair
 * left to right (for merges learnt in order this equals Hugging Face's one-at-a-time queue).
 * `ranks` maps "a b" to the rank of the merge of a and b. Returns a new array.
 */
export function mergeSymbols(symbols: readonly string[], ranks: ReadonlyMap<string, number>, merges: readonly Merge[]): string[] {
  let s = [...symbols];
  for (;;) {
    let best = -1, bestRank = Infinity;
    for (let i = 0; i + 1 < s.length; i++) {
      const r = ranks.get(`${s[i]} ${s[i + 1]}`);
      if (r !== undefined && r < bestRank) { bestRank = r; best = i; }
    }
    if (best < 0) return s;
    const [a, b] = merges[bestRank]!;
    const out: string[] = [];
    for (let i = 0; i < s.length; i++) {
      if (i + 1 < s.length && s[i] === a && s[i + 1] === b) { out.push(a + b); i++; } else out.push(s[i]!);
    }
    s = out;
  }
}

/** Splits a word into its initial symbols: characters, the last one with END_OF_WORD. */
function initialSymbols(word: string): string[] {
  const chars = [...word];
  chars[chars.length - 1] += END_OF_WORD;
  return chars;
}

export class BpeTokenizer extends Vocabulary implements TextTokenizer {
  readonly merges: readonly Merge[];
  /** "a b" -> rank of the merge of a and b. */
  private readonly ranks = new Map<string, number>();
  /** word -> its token ids (words repeat a lot in a corpus). */
  private readonly cache = new Map<string, number[]>();

  /**
   * @param vocab every token in id order, starting with SPECIAL_TOKENS, no duplicates.
   * @param merges in rank order; both parts and their concatenation must be in `vocab`.
   * @throws Error naming the token or merge that breaks these rules.
   */
  constructor(vocab: readonly string[], merges: readonly Merge[]) {
    super(vocab, 'bpe');
    merges.forEach(([a, b], r) => {
      for (const t of [a, b, a + b]) if (!this.ids.has(t)) throw new Error(`bpe: merge ${r} (${JSON.stringify(a)} ${JSON.stringify(b)}) uses ${JSON.stringify(t)}, which is not in the vocabulary`);
      this.ranks.set(`${a} ${b}`, r);
    });
    this.merges = merges.map(([a, b]) => [a, b] as const);
  }

  /** Token ids of each already-normalized word. */
  encodeWords(words: readonly string[]): number[][] {
    return words.map((w) => this.encodeWord(w));
  }

  /** Number of words of `text` with a character never seen in training (they hold `<unk>`). */
  countUnknown(text: string): number {
    const n = normalizeText(text);
    return n ? n.split(' ').filter((w) => this.encodeWord(w).includes(this.unkId)).length : 0;
  }

  /** Token ids of one normalized word: merges applied lowest rank first, as Hugging Face's BPE does. */
  encodeWord(word: string): number[] {
    const hit = this.cache.get(word);
    if (hit) return hit;
    const special = this.ids.get(word);
    if (special !== undefined && special < SPECIAL_TOKENS.length) return [special];
    const s = mergeSymbols(initialSymbols(word), this.ranks, this.merges);
    const ids = s.map((t) => this.ids.get(t) ?? this.unkId);
    if (this.cache.size < 200_000) this.cache.set(word, ids);
    return ids;
  }

  /** Token ids of a text (normalized first); special tokens written out as text become their ids. */
  encode(text: string): number[] {
    const out: number[] = [];
    const n = normalizeText(text);
    if (!n) return out;
    for (const w of n.split(' ')) out.push(...this.encodeWord(w));
    return out;
  }

  /**
   * The text of token ids: subwords joined, `</w>` ends a word, special tokens are words of
   * their own. @throws RangeError on an id outside [0, V).
   */
  decode(ids: ArrayLike<number>, opts: { skipSpecial?: (id: number) => boolean } = {}): string {
    let text = '';
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const t = this.vocab[id];
      if (t === undefined) throw new RangeError(`bpe: id ${id} outside [0, ${this.size})`);
      if (opts.skipSpecial?.(id)) continue;
      if (id < SPECIAL_TOKENS.length) text += ` ${t} `;
      else text += t.endsWith(END_OF_WORD) ? `${t.slice(0, -END_OF_WORD.length)} ` : t;
    }
    return text.replace(/\s+/g, ' ').trim();
  }

  /** The Hugging Face `tokenizer.json` object (BPE model, same normalization as ours). */
  toHuggingFace(): HfBpeTokenizerJson {
    return {
      ...huggingFaceFrame(),
      decoder: { type: 'BPEDecoder', suffix: END_OF_WORD },
      model: {
        type: 'BPE', dropout: null, unk_token: UNK, continuing_subword_prefix: null, end_of_word_suffix: END_OF_WORD,
        fuse_unk: false, byte_fallback: false, ignore_merges: false,
        vocab: Object.fromEntries(this.vocab.map((t, i) => [t, i])), merges: this.merges.map(([a, b]) => [a, b]),
      },
    };
  }

  /**
   * Reads a Hugging Face `tokenizer.json` with a BPE model. Merges may be pairs or "a b"
   * strings (both forms exist). @throws Error naming the field: wrong model type or suffix,
   * ids not 0..V-1, missing special tokens, a merge outside the vocabulary.
   */
  static fromHuggingFace(json: unknown): BpeTokenizer {
    const model = (json as Partial<HfBpeTokenizerJson> | null)?.model as Partial<HfBpeTokenizerJson['model']> | undefined;
    if (!model || model.type !== 'BPE') throw new Error(`tokenizer.json: model.type must be "BPE", got ${JSON.stringify(model?.type)}`);
    if (model.end_of_word_suffix !== END_OF_WORD) throw new Error(`tokenizer.json: model.end_of_word_suffix must be "${END_OF_WORD}", got ${JSON.stringify(model.end_of_word_suffix)}`);
    if (!model.vocab || typeof model.vocab !== 'object') throw new Error('tokenizer.json: model.vocab is missing');
    if (!Array.isArray(model.merges)) throw new Error('tokenizer.json: model.merges is missing');
    const vocab = vocabFromHuggingFace(model.vocab);
    const merges = (model.merges as unknown[]).map((m, i): Merge => {
      const pair = typeof m === 'string' ? m.split(' ') : m;
      if (!Array.isArray(pair) || pair.length !== 2 || pair.some((x) => typeof x !== 'string')) throw new Error(`tokenizer.json: model.merges[${i}] is not a pair of strings`);
      return [pair[0] as string, pair[1] as string];
    });
    return new BpeTokenizer(vocab, merges);
  }
}

/**
 * Learns merges from texts until the vocabulary holds `vocabSize` tokens (or no pair is seen
 * `minFrequency` times). Deterministic: ties between pairs of equal count go to the pair whose
 * symbols come first in code-point order. Cost: one pass over the distinct words per merge's
 * affected words (pair -> words index), a few seconds for 62k distinct words.
 * @throws Error when vocabSize cannot even hold the special tokens and the alphabet.
 */
export function trainBpe(texts: Iterable<string>, opts: BpeTrainOptions = {}): BpeTokenizer {
  const vocabSize = opts.vocabSize ?? 8000, minFrequency = opts.minFrequency ?? 2;
  // Word frequencies over the normalized texts (special tokens are not words to learn).
  const special = new Set<string>(SPECIAL_TOKENS);
  const freq = new Map<string, number>();
  for (const text of texts) {
    for (const piece of text.split(SPECIAL_RE)) {
      if (special.has(piece)) continue;
      const n = normalizeText(piece);
      if (n) for (const w of n.split(' ')) freq.set(w, (freq.get(w) ?? 0) + 1);
    }
  }
  const words = [...freq.keys()].sort();
  const counts = words.map((w) => freq.get(w)!);
  const symbols = words.map(initialSymbols);
  // The alphabet: every initial symbol, in code-point order.
  const alphabet = [...new Set(symbols.flat())].sort();
  if (SPECIAL_TOKENS.length + alphabet.length > vocabSize) {
    throw new Error(`bpe: vocabSize ${vocabSize} is below the ${SPECIAL_TOKENS.length} special tokens plus the ${alphabet.length} symbols of the alphabet`);
  }
  const vocab: string[] = [...SPECIAL_TOKENS, ...alphabet];
  const merges: Merge[] = [];

  // Pair statistics: "a\u0000b" -> count, -> the words holding it, and a max-heap of
  // (count, pair) entries; an entry whose count is stale is skipped when it comes up.
  const SEP = '\u0000';
  const pairCount = new Map<string, number>();
  const pairWords = new Map<string, Set<number>>();
  const heap = new PairHeap();
  const touched = new Set<string>();
  const addWord = (wi: number, sign: 1 | -1) => {
    const s = symbols[wi]!;
    for (let i = 0; i + 1 < s.length; i++) {
      const key = s[i] + SEP + s[i + 1];
      const c = (pairCount.get(key) ?? 0) + sign * counts[wi]!;
      if (c > 0) pairCount.set(key, c); else pairCount.delete(key);
      touched.add(key);
      if (sign > 0) {
        let set = pairWords.get(key);
        if (!set) pairWords.set(key, set = new Set());
        set.add(wi);
      }
    }
  };
  const flush = () => {
    for (const key of touched) { const c = pairCount.get(key); if (c) heap.push(c, key); }
    touched.clear();
  };
  for (let wi = 0; wi < words.length; wi++) addWord(wi, 1);
  flush();

  while (vocab.length < vocabSize) {
    let top = heap.pop();
    while (top && pairCount.get(top.key) !== top.count) top = heap.pop();
    if (!top || top.count < minFrequency) break;
    const [a, b] = top.key.split(SEP) as [string, string];
    merges.push([a, b]);
    vocab.push(a + b);
    for (const wi of pairWords.get(top.key) ?? []) {
      const s = symbols[wi]!;
      if (!s.some((x, i) => x === a && s[i + 1] === b)) continue;
      addWord(wi, -1);
      const out: string[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) { out.push(a + b); i++; } else out.push(s[i]!);
      }
      symbols[wi] = out;
      addWord(wi, 1);
    }
    pairCount.delete(top.key);
    pairWords.delete(top.key);
    touched.delete(top.key);
    flush();
  }
  return new BpeTokenizer(vocab, merges);
}

/** A binary max-heap of (count, key): higher count first, then the smaller key (deterministic ties). */
class PairHeap {
  private readonly counts: number[] = [];
  private readonly keys: string[] = [];

  private above(i: number, j: number): boolean {
    const ci = this.counts[i]!, cj = this.counts[j]!;
    return ci > cj || (ci === cj && this.keys[i]! < this.keys[j]!);
  }

  private swap(i: number, j: number): void {
    [this.counts[i], this.counts[j]] = [this.counts[j]!, this.counts[i]!];
    [this.keys[i], this.keys[j]] = [this.keys[j]!, this.keys[i]!];
  }

  push(count: number, key: string): void {
    this.counts.push(count);
    this.keys.push(key);
    for (let i = this.counts.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (!this.above(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  pop(): { count: number; key: string } | undefined {
    const n = this.counts.length;
    if (n === 0) return undefined;
    const top = { count: this.counts[0]!, key: this.keys[0]! };
    this.swap(0, n - 1);
    this.counts.pop();
    this.keys.pop();
    for (let i = 0; ;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < this.counts.length && this.above(l, m)) m = l;
      if (r < this.counts.length && this.above(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return top;
  }
}
