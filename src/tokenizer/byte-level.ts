/**
 * Byte-level BPE as Hugging Face `tokenizer.json` defines it (GPT-2, SmolLM2, Qwen2, Llama 3):
 * the tokenizer of an imported pretrained model, beside our WordLevel and BPE tokenizers.
 *
 * Pipeline of `encode` (the order of tokenizers' `TokenizerImpl::encode`):
 *  1. `added_tokens` are cut out of the raw text first (leftmost, longest match; `lstrip` /
 *     `rstrip` eat the whitespace beside them); each is one id. Added tokens marked
 *     `normalized: true` are matched after normalization instead.
 *  2. The rest is normalized (`normalizer`: NFC, NFKC, NFD, NFKD, Lowercase, Sequence, null).
 *  3. Pre-tokenized (`pre_tokenizer`): `Split` (a regex, behavior Isolated or Removed),
 *     `Digits`, `ByteLevel` (optional leading space, GPT-2's split regex when `use_regex`, then
 *     every UTF-8 byte of a piece mapped to a printable character by BYTES_TO_UNICODE), or a
 *     `Sequence` of them.
 *  4. Each piece is split into characters and the merges applied lowest rank first
 *     (mergeSymbols in bpe.ts); with `ignore_merges` a piece that is already a token stays whole.
 * `decode` maps the characters back to bytes and decodes UTF-8 (the `ByteLevel` decoder), added
 * tokens verbatim, so decode(encode(s)) === s for any string (normalizer null) since every byte
 * has a token. Checked id for id against @huggingface/tokenizers (tests/node/byte-level.test.ts).
 *
 * Unlike our tokenizers the special tokens sit wherever the file puts them: bos/eos/pad ids come
 * from the caller (config.json) or the usual names, and there is no `<unk>` (every byte encodes).
 */
import { mergeSymbols, type Merge } from './bpe.ts';
import type { TextTokenizer } from './text-tokenizer.ts';
import { TokenTable, type HfAddedToken } from './vocabulary.ts';

/**
 * GPT-2's reversible map of the 256 bytes to printable characters: printable Latin-1 bytes map
 * to themselves, the other 68 to U+0100 onward in byte order (Radford et al. 2019, encoder.py).
 */
export const BYTES_TO_UNICODE: readonly string[] = (() => {
  const keep = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out: string[] = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCharCode(keep(b) ? b : 256 + n++);
  return out;
})();
const UNICODE_TO_BYTES = new Map(BYTES_TO_UNICODE.map((c, b) => [c, b]));

/** GPT-2's split regex (the ByteLevel pre-tokenizer with `use_regex`). */
export const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** An entry of tokenizer.json `added_tokens`. */
export type AddedToken = HfAddedToken;

type Normalize = (s: string) => string;
type PreTokenize = (pieces: string[]) => string[];

/** Where a tokenizer.json field is and what is wrong with it. */
function fail(field: string, what: string): never {
  throw new Error(`tokenizer.json: ${field} ${what}`);
}

/** The normalizer of a tokenizer.json (null: identity). @throws naming an unsupported type. */
function readNormalizer(j: unknown, field = 'normalizer'): Normalize {
  if (j === null || j === undefined) return (s) => s;
  const n = j as { type?: unknown; normalizers?: unknown[] };
  switch (n.type) {
    case 'NFC': case 'NFD': case 'NFKC': case 'NFKD': {
      const form = n.type;
      return (s) => s.normalize(form);
    }
    case 'Lowercase': return (s) => s.toLowerCase();
    case 'Sequence': {
      if (!Array.isArray(n.normalizers)) fail(`${field}.normalizers`, 'is not a list');
      const fs = n.normalizers.map((x, i) => readNormalizer(x, `${field}.normalizers[${i}]`));
      return (s) => fs.reduce((t, f) => f(t), s);
    }
    default: return fail(`${field}.type`, `${JSON.stringify(n.type)} is not supported (NFC, NFD, NFKC, NFKD, Lowercase, Sequence or null)`);
  }
}

/**
 * A regex from the Rust (Oniguruma / fancy-regex) syntax tokenizer.json files use. The one
 * construct JavaScript lacks in the patterns models ship is the inline case-insensitive group
 * `(?i:...)`; its ASCII letters become [xX] classes (the way @huggingface/tokenizers reads it).
 */
export function rustRegex(pattern: string, field: string): RegExp {
  let src = '';
  for (let i = 0; i < pattern.length;) {
    if (pattern.startsWith('(?i:', i)) {
      let depth = 1, j = i + 4, inClass = false;
      src += '(?:';
      for (; j < pattern.length && depth > 0; j++) {
        const c = pattern[j]!;
        if (c === '\\') { src += c + (pattern[j + 1] ?? ''); j++; continue; }
        if (c === '[') inClass = true;
        else if (c === ']') inClass = false;
        else if (!inClass && c === '(') depth++;
        else if (!inClass && c === ')') depth--;
        src += !inClass && /[a-z]/i.test(c) ? `[${c.toLowerCase()}${c.toUpperCase()}]` : c;
      }
      i = j;
      continue;
    }
    src += pattern[i];
    i++;
  }
  try {
    return new RegExp(src, 'gu');
  } catch (e) {
    return fail(field, `${JSON.stringify(pattern)} is not a regex this reader understands (${(e as Error).message})`);
  }
}

/** Text cut at every match of `re`: the pieces between and the matches (behavior Isolated). */
function splitIsolated(text: string, re: RegExp): string[] {
  const out: string[] = [];
  let prev = 0;
  for (const m of text.matchAll(re)) {
    if (m.index! > prev) out.push(text.slice(prev, m.index));
    if (m[0].length > 0) out.push(m[0]);
    prev = m.index! + m[0].length;
  }
  if (prev < text.length) out.push(text.slice(prev));
  return out;
}

const utf8 = new TextEncoder();

/** The pre-tokenizer of a tokenizer.json. @throws naming an unsupported type or option. */
function readPreTokenizer(j: unknown, field = 'pre_tokenizer'): { run: PreTokenize; byteLevel: boolean } {
  if (j === null || j === undefined) fail(field, 'is missing (a byte-level BPE needs the ByteLevel pre-tokenizer)');
  const p = j as Record<string, unknown>;
  switch (p.type) {
    case 'ByteLevel': {
      const prefix = p.add_prefix_space === true, useRegex = p.use_regex !== false;
      return {
        byteLevel: true,
        run: (pieces) => pieces.flatMap((piece) => {
          const t = prefix && !piece.startsWith(' ') ? ` ${piece}` : piece;
          const parts = useRegex ? (t.match(GPT2_SPLIT) ?? []) : [t];
          return parts.map((s) => Array.from(utf8.encode(s), (b) => BYTES_TO_UNICODE[b]!).join(''));
        }),
      };
    }
    case 'Split': {
      const pat = p.pattern as { Regex?: unknown; String?: unknown } | undefined;
      let re: RegExp;
      if (typeof pat?.Regex === 'string') re = rustRegex(pat.Regex, `${field}.pattern.Regex`);
      else if (typeof pat?.String === 'string') re = new RegExp(pat.String.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gu');
      else return fail(`${field}.pattern`, 'must be {"Regex": ...} or {"String": ...}');
      const behavior = p.behavior, invert = p.invert === true;
      if (invert) return { byteLevel: false, run: (pieces) => pieces.flatMap((s) => (s.match(re) ?? []).filter((x) => x)) };
      if (behavior === 'Isolated') return { byteLevel: false, run: (pieces) => pieces.flatMap((s) => splitIsolated(s, re)) };
      if (behavior === 'Removed') return { byteLevel: false, run: (pieces) => pieces.flatMap((s) => s.split(re).filter((x) => x)) };
      return fail(`${field}.behavior`, `${JSON.stringify(behavior)} is not supported (Isolated or Removed)`);
    }
    case 'Digits': {
      const re = p.individual_digits === true ? /[^\d]+|\d/gu : /[^\d]+|\d+/gu;
      return { byteLevel: false, run: (pieces) => pieces.flatMap((s) => s.match(re) ?? []) };
    }
    case 'Sequence': {
      if (!Array.isArray(p.pretokenizers)) fail(`${field}.pretokenizers`, 'is not a list');
      const steps = (p.pretokenizers as unknown[]).map((x, i) => readPreTokenizer(x, `${field}.pretokenizers[${i}]`));
      return { byteLevel: steps.some((s) => s.byteLevel), run: (pieces) => steps.reduce((acc, s) => s.run(acc), pieces) };
    }
    default: return fail(`${field}.type`, `${JSON.stringify(p.type)} is not supported (ByteLevel, Split, Digits, Sequence)`);
  }
}

/** Special-token ids the pipeline needs; config.json's bos/eos/pad ids where known. */
export interface SpecialIds {
  bos?: number;
  eos?: number;
  pad?: number;
}

/** Names models use for their special tokens, most specific first. */
const BOS_NAMES = ['<|begin_of_text|>', '<s>', '<|endoftext|>', '<|im_start|>'];
const EOS_NAMES = ['<|end_of_text|>', '</s>', '<|endoftext|>', '<|im_end|>', '<|eot_id|>'];

export class ByteLevelBpeTokenizer extends TokenTable implements TextTokenizer {
  readonly padId: number;
  readonly bosId: number;
  readonly eosId: number;
  /** -1: a byte-level vocabulary has no unknown token (every byte encodes). */
  readonly unkId = -1;
  readonly merges: readonly Merge[];
  readonly addedTokens: readonly AddedToken[];
  private readonly ranks = new Map<string, number>();
  private readonly added = new Map<string, AddedToken>();
  private readonly cache = new Map<string, number[]>();
  private readonly normalize: Normalize;
  private readonly preTokenize: PreTokenize;
  private readonly ignoreMerges: boolean;
  private readonly json: Record<string, unknown>;

  /**
   * Reads a Hugging Face tokenizer.json with a byte-level BPE model, keeping the object for
   * `toHuggingFace`. @throws Error naming the field that is missing, malformed or unsupported.
   */
  constructor(json: Record<string, unknown>, special: SpecialIds = {}) {
    const model = json.model as Record<string, unknown> | undefined;
    if (!model || model.type !== 'BPE') fail('model.type', `must be "BPE", got ${JSON.stringify(model?.type)}`);
    for (const k of ['continuing_subword_prefix', 'end_of_word_suffix'] as const) {
      if (model[k] !== undefined && model[k] !== null && model[k] !== '') fail(`model.${k}`, `must be null for a byte-level BPE, got ${JSON.stringify(model[k])}`);
    }
    if (model.dropout !== undefined && model.dropout !== null && model.dropout !== 0) fail('model.dropout', `must be null, got ${JSON.stringify(model.dropout)}`);
    const vocabRec = model.vocab as Record<string, unknown> | undefined;
    if (!vocabRec || typeof vocabRec !== 'object' || Array.isArray(vocabRec)) fail('model.vocab', 'is missing or not an object');
    if (!Array.isArray(model.merges)) fail('model.merges', 'is missing');
    const decoder = json.decoder as { type?: unknown } | null | undefined;
    if (decoder?.type !== 'ByteLevel') fail('decoder.type', `must be "ByteLevel" for a byte-level BPE, got ${JSON.stringify(decoder?.type)}`);
    const pre = readPreTokenizer(json.pre_tokenizer);
    if (!pre.byteLevel) fail('pre_tokenizer', 'has no ByteLevel step');
    const normalize = readNormalizer(json.normalizer);

    // Ids: model.vocab plus added tokens (which may lie beyond it), 0..V-1 without gaps.
    const vocab: string[] = [];
    const put = (tok: string, id: unknown, field: string) => {
      if (!Number.isInteger(id) || (id as number) < 0) fail(field, `= ${JSON.stringify(id)} is not a non-negative integer id`);
      const have = vocab[id as number];
      if (have !== undefined && have !== tok) fail(field, `gives id ${id} to ${JSON.stringify(tok)}, which already belongs to ${JSON.stringify(have)}`);
      vocab[id as number] = tok;
    };
    for (const [tok, id] of Object.entries(vocabRec)) put(tok, id, `model.vocab[${JSON.stringify(tok)}]`);
    const added = (json.added_tokens ?? []) as unknown;
    if (!Array.isArray(added)) fail('added_tokens', 'is not a list');
    const addedTokens = added.map((a: Partial<AddedToken>, i): AddedToken => {
      if (typeof a?.content !== 'string' || a.content === '') fail(`added_tokens[${i}].content`, 'is not a non-empty string');
      put(a.content, a.id, `added_tokens[${i}].id`);
      if (a.single_word === true) fail(`added_tokens[${i}].single_word`, 'true is not supported');
      return { id: a.id!, content: a.content, special: a.special === true, lstrip: a.lstrip === true, rstrip: a.rstrip === true, normalized: a.normalized === true, single_word: false };
    });
    for (let i = 0; i < vocab.length; i++) if (vocab[i] === undefined) fail('model.vocab', `has no token with id ${i} (ids must be 0..${vocab.length - 1})`);
    super(vocab);
    this.json = json;
    this.preTokenize = pre.run;
    this.normalize = normalize;
    this.ignoreMerges = model.ignore_merges === true;
    this.addedTokens = addedTokens;
    for (const a of this.addedTokens) this.added.set(a.content, a);
    for (let b = 0; b < 256; b++) {
      if (!this.ids.has(BYTES_TO_UNICODE[b]!)) fail('model.vocab', `lacks the byte token ${JSON.stringify(BYTES_TO_UNICODE[b])} (byte ${b}), so some text could not be encoded`);
    }
    this.merges = (model.merges as unknown[]).map((m, i): Merge => {
      const pair = typeof m === 'string' ? m.split(' ') : m;
      if (!Array.isArray(pair) || pair.length !== 2 || pair.some((x) => typeof x !== 'string')) fail(`model.merges[${i}]`, 'is not a pair of strings ("a b" or ["a", "b"])');
      const [a, b] = pair as [string, string];
      if (!this.ids.has(a + b)) fail(`model.merges[${i}]`, `makes ${JSON.stringify(a + b)}, which is not in model.vocab`);
      if (!this.ranks.has(`${a} ${b}`)) this.ranks.set(`${a} ${b}`, i);
      return [a, b];
    });
    const byName = (names: string[]) => names.map((n) => this.ids.get(n)).find((x) => x !== undefined);
    const pick = (given: number | undefined, names: string[], what: string): number => {
      const id = given ?? byName(names);
      if (id === undefined || id < 0 || id >= vocab.length) throw new Error(`tokenizer.json: no ${what} token (config.json gives none, and none of ${names.join(' ')} is in the vocabulary)`);
      return id;
    };
    this.bosId = pick(special.bos, BOS_NAMES, 'beginning-of-sequence');
    this.eosId = pick(special.eos, EOS_NAMES, 'end-of-sequence');
    this.padId = special.pad ?? this.eosId;
  }

  /** Token ids of a text: added tokens, normalization, pre-tokenization, merges (see the file comment). */
  encode(text: string): number[] {
    const out: number[] = [];
    for (const seg of this.splitAdded(text, false)) {
      if (typeof seg !== 'string') { out.push(seg.id); continue; }
      const norm = this.normalize(seg);
      for (const sub of this.splitAdded(norm, true)) {
        if (typeof sub !== 'string') { out.push(sub.id); continue; }
        for (const piece of this.preTokenize([sub])) out.push(...this.encodePiece(piece));
      }
    }
    return out;
  }

  /** One pre-tokenized piece (byte characters) to ids. */
  private encodePiece(piece: string): number[] {
    if (piece.length === 0) return [];
    const hit = this.cache.get(piece);
    if (hit) return hit;
    const whole = this.ignoreMerges ? this.ids.get(piece) : undefined;
    const syms = whole !== undefined ? [piece] : mergeSymbols([...piece], this.ranks, this.merges);
    const ids = syms.map((t) => this.ids.get(t)!);
    if (this.cache.size < 100_000) this.cache.set(piece, ids);
    return ids;
  }

  /**
   * Cuts the added tokens (those with `normalized` equal to the flag) out of a text: leftmost,
   * longest match first, as @huggingface/tokenizers' trie does; lstrip/rstrip trim the
   * neighbouring text's whitespace.
   */
  private splitAdded(text: string, normalized: boolean): (string | AddedToken)[] {
    const toks = this.addedTokens.filter((a) => a.normalized === normalized);
    if (toks.length === 0 || text.length === 0) return text ? [text] : [];
    const parts: (string | AddedToken)[] = [];
    let start = 0;
    for (let i = 0; i < text.length;) {
      let best: AddedToken | undefined;
      for (const a of toks) if (text.startsWith(a.content, i) && (!best || a.content.length > best.content.length)) best = a;
      if (!best) { i++; continue; }
      if (i > start) parts.push(text.slice(start, i));
      parts.push(best);
      i += best.content.length;
      start = i;
    }
    if (start < text.length) parts.push(text.slice(start));
    for (let k = 0; k < parts.length; k++) {
      const a = parts[k];
      if (typeof a === 'string') continue;
      if (a.lstrip && typeof parts[k - 1] === 'string') parts[k - 1] = (parts[k - 1] as string).trimEnd();
      if (a.rstrip && typeof parts[k + 1] === 'string') parts[k + 1] = (parts[k + 1] as string).trimStart();
    }
    return parts.filter((p) => p !== '');
  }

  /** Each word encoded on its own (pretraining's interface; imported models are not pretrained here). */
  encodeWords(words: readonly string[]): number[][] {
    return words.map((w) => this.encode(w));
  }

  /** 0: every byte has a token. */
  countUnknown(): number {
    return 0;
  }

  /**
   * The text of token ids: runs of ordinary tokens become bytes and are decoded as UTF-8 (an
   * incomplete character becomes U+FFFD), added tokens are written as they are.
   * @throws RangeError on an id outside [0, V).
   */
  decode(ids: ArrayLike<number>, opts: { skipSpecial?: (id: number) => boolean } = {}): string {
    let text = '';
    let bytes: number[] = [];
    const flush = () => {
      if (bytes.length) text += new TextDecoder('utf-8', { ignoreBOM: true }).decode(Uint8Array.from(bytes));
      bytes = [];
    };
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!, t = this.vocab[id];
      if (t === undefined) throw new RangeError(`tokenizer: id ${id} outside [0, ${this.size})`);
      if (opts.skipSpecial?.(id)) continue;
      if (this.added.has(t)) { flush(); text += t; continue; }
      for (const c of t) bytes.push(UNICODE_TO_BYTES.get(c) ?? 0x3f);
    }
    flush();
    return text;
  }

  /** The tokenizer.json object it was read from, with any tokens added since (addTokens). */
  toHuggingFace(): object {
    const model = this.json.model as Record<string, unknown>;
    const vocab: Record<string, number> = { ...(model.vocab as Record<string, number>) };
    return { ...this.json, added_tokens: this.addedTokens.map((a) => ({ ...a })), model: { ...model, vocab } };
  }

  /**
   * A tokenizer with `tokens` appended as special added tokens (ids V, V+1, ...), skipping those
   * already in the vocabulary. Returns the new tokenizer and the tokens actually added.
   */
  withAddedTokens(tokens: readonly string[]): { tokenizer: ByteLevelBpeTokenizer; added: string[] } {
    const missing = tokens.filter((t, i) => !this.ids.has(t) && tokens.indexOf(t) === i);
    if (missing.length === 0) return { tokenizer: this, added: [] };
    const json = this.toHuggingFace() as Record<string, unknown>;
    json.added_tokens = [
      ...this.addedTokens,
      ...missing.map((content, k) => ({ id: this.size + k, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    ];
    return { tokenizer: new ByteLevelBpeTokenizer(json, { bos: this.bosId, eos: this.eosId, pad: this.padId }), added: missing };
  }
}

/** Whether a tokenizer.json is byte-level BPE (a BPE model with the ByteLevel decoder). */
export function isByteLevelBpe(json: unknown): boolean {
  const j = json as { model?: { type?: unknown }; decoder?: { type?: unknown } } | null;
  return j?.model?.type === 'BPE' && j?.decoder?.type === 'ByteLevel';
}
