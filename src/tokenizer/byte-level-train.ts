/**
 * A small byte-level BPE `tokenizer.json` built from texts, for tests and for random stand-in
 * models of a Hub model's shape (`make-hf-model`): the 256 byte tokens, merges learnt by plain
 * pair counting over GPT-2's split (Sennrich et al. 2016; the most frequent pair first, ties to
 * the smaller pair), optional filler tokens up to a target vocabulary size, and special tokens.
 * Not a fast trainer: O(merges x distinct words), fine for a few hundred merges.
 */
import { BYTES_TO_UNICODE, GPT2_SPLIT } from './byte-level.ts';
import type { Merge } from './bpe.ts';

const utf8 = new TextEncoder();
const toByteChars = (s: string) => Array.from(utf8.encode(s), (b) => BYTES_TO_UNICODE[b]!).join('');

/** Learns up to `count` merges (fewer when no pair is seen twice). */
export function trainByteLevelMerges(texts: Iterable<string>, count: number): Merge[] {
  const freq = new Map<string, number>();
  for (const t of texts) for (const w of t.match(GPT2_SPLIT) ?? []) { const b = toByteChars(w); freq.set(b, (freq.get(b) ?? 0) + 1); }
  const words = [...freq].map(([w, c]) => ({ s: [...w], c }));
  const merges: Merge[] = [];
  while (merges.length < count) {
    const pairs = new Map<string, number>();
    for (const { s, c } of words) for (let i = 0; i + 1 < s.length; i++) { const k = `${s[i]}\u0000${s[i + 1]}`; pairs.set(k, (pairs.get(k) ?? 0) + c); }
    let best = '', bestC = 1;
    for (const [k, c] of pairs) if (c > bestC || (c === bestC && best && k < best)) { best = k; bestC = c; }
    if (!best) break;
    const [a, b] = best.split('\u0000') as [string, string];
    merges.push([a, b]);
    for (const w of words) {
      const o: string[] = [];
      for (let i = 0; i < w.s.length; i++) if (i + 1 < w.s.length && w.s[i] === a && w.s[i + 1] === b) { o.push(a + b); i++; } else o.push(w.s[i]!);
      w.s = o;
    }
  }
  return merges;
}

/** Options of byteLevelTokenizerJson. */
export interface ByteLevelJsonOptions {
  /** Special tokens at ids 0.. (default SmolLM2's: <|endoftext|>, <|im_start|>, <|im_end|>). */
  specials?: string[];
  /** Pad the vocabulary with unused tokens `<|reserved_N|>` up to this size. */
  vocabSize?: number;
}

/**
 * A tokenizer.json in SmolLM2's layout (no normalizer, Digits + ByteLevel pre-tokenizer without
 * a prefix space, ByteLevel decoder, merges as "a b" strings).
 */
export function byteLevelTokenizerJson(merges: readonly Merge[], opts: ByteLevelJsonOptions = {}): Record<string, unknown> {
  const specials = opts.specials ?? ['<|endoftext|>', '<|im_start|>', '<|im_end|>'];
  const vocab: Record<string, number> = {};
  let n = 0;
  for (const t of specials) vocab[t] = n++;
  for (const c of BYTES_TO_UNICODE) vocab[c] = n++;
  for (const [a, b] of merges) if (!(a + b in vocab)) vocab[a + b] = n++;
  for (let r = 0; opts.vocabSize && n < opts.vocabSize; r++) vocab[`<|reserved_${r}|>`] = n++;
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: specials.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Digits', individual_digits: true }, { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true }] },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false,
      byte_fallback: false, ignore_merges: false, vocab, merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}
