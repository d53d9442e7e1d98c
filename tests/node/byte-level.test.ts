/**
 * Byte-level BPE (src/tokenizer/byte-level.ts) against Hugging Face's own implementation
 * (@huggingface/tokenizers) on tokenizer.json files built here: a small byte-level BPE trained
 * on generated strings (src/tokenizer/byte-level-train.ts, plain pair counting, no download), written in the two layouts models ship (SmolLM2:
 * Digits + ByteLevel with its regex, merges as "a b" strings; Qwen2 / Llama 3: NFC, a Split
 * regex with an inline (?i:...) group, ByteLevel without regex, merges as pairs,
 * ignore_merges), with added tokens. 1,000 strings with emoji, CJK, combining marks and
 * whitespace runs must get the same ids, and decode(encode(s)) must give s back.
 */
import { describe, expect, it } from 'vitest';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { BYTES_TO_UNICODE, ByteLevelBpeTokenizer } from '../../src/tokenizer/byte-level.ts';
import { trainByteLevelMerges } from '../../src/tokenizer/byte-level-train.ts';
import { tokenizerFromHuggingFace } from '../../src/tokenizer/from-hugging-face.ts';
import { Rng } from '../../src/util/rng.ts';

const QWEN_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

const FRAGMENTS = [
  'the', 'The', ' quick', 'brown', 'fox', "it's", "we're", "I'LL", "they'VE", 'jumps', 'over', 'lazy', 'dog', 'search', 'answer',
  'Paris', 'Zürich', 'naïve', 'café', 'e\u0301', 'a\u0308\u0323', 'n\u0303o', 'ﬁ', 'Ⅻ', '１２３', '2024', '3.14', '-42', '1,000,000',
  '東京', '北京大学', '日本語のテキスト', '한국어', 'Привет', 'مرحبا', 'שלום', 'हिन्दी', 'ไทย', 'Ελληνικά',
  '😀', '👍🏽', '👨‍👩‍👧‍👦', '🇫🇷', '🏳️‍🌈', '❤️', '🤖✨', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '𠜎',
  ' ', '  ', '   ', '\t', '\n', '\n\n', '\r\n', ' \n ', '\u00a0', '\u3000', '\u2003', '\t\t ',
  '.', ',', '!', '?', '...', '—', '“quoted”', '(paren)', '[x]', '{y}', '#', '$5', '%', '&', '*', '@user', '<tag>', '</tag>', '\\', '~', '`code`',
  '<|im_start|>', '<|im_end|>', '<|endoftext|>', '<mask>',
];

/** Random strings: 1 to 12 fragments, joined by nothing, a space or a whitespace run. */
function strings(n: number, seed: number): string[] {
  const rng = new Rng(seed), out: string[] = [];
  const glue = ['', ' ', ' ', '  ', '\n', '\t'];
  for (let i = 0; i < n; i++) {
    const k = 1 + rng.int(12);
    let s = '';
    for (let j = 0; j < k; j++) s += (j ? glue[rng.int(glue.length)] : '') + FRAGMENTS[rng.int(FRAGMENTS.length)];
    if (rng.next() < 0.1) s = ` ${s}  `;
    out.push(s);
  }
  return out;
}

const CORPUS = strings(400, 1).map((s) => s.replace(/<\|[a-z_]+\|>|<mask>/g, ''));
const MERGES = trainByteLevelMerges(CORPUS, 400);

type Layout = 'smollm2' | 'qwen2' | 'gpt2-prefix';

function tokenizerJson(layout: Layout): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  const specials = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'];
  specials.forEach((t, i) => { vocab[t] = i; });
  for (const c of BYTES_TO_UNICODE) vocab[c] = Object.keys(vocab).length;
  for (const [a, b] of MERGES) if (!(a + b in vocab)) vocab[a + b] = Object.keys(vocab).length;
  const V = Object.keys(vocab).length;
  const added = [
    ...specials.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    // An added token beyond model.vocab that eats the whitespace on its left (like <mask> in RoBERTa).
    { id: V, content: '<mask>', single_word: false, lstrip: true, rstrip: false, normalized: false, special: true },
  ];
  const qwen = layout === 'qwen2';
  return {
    version: '1.0', truncation: null, padding: null, added_tokens: added,
    normalizer: qwen ? { type: 'NFC' } : null,
    pre_tokenizer: qwen
      ? { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: QWEN_SPLIT }, behavior: 'Isolated', invert: false }, { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false }] }
      : layout === 'smollm2'
        ? { type: 'Sequence', pretokenizers: [{ type: 'Digits', individual_digits: true }, { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true }] }
        : { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false,
      ignore_merges: qwen, vocab, merges: qwen ? MERGES.map(([a, b]) => [a, b]) : MERGES.map(([a, b]) => `${a} ${b}`),
    },
  };
}

describe('byte-level BPE: the same ids as @huggingface/tokenizers', () => {
  const texts = strings(1000, 7);
  it('the test strings cover emoji, CJK, combining marks, whitespace runs and added tokens', () => {
    const all = texts.join('');
    for (const re of [/\p{Extended_Pictographic}/u, /\p{Script=Han}/u, /\p{M}/u, / {3}/, /\t/, /\n/, /\u3000/, /<\|im_end\|>/, /<mask>/]) expect(all).toMatch(re);
    expect(MERGES.length).toBeGreaterThan(300);
  });

  for (const layout of ['smollm2', 'qwen2', 'gpt2-prefix'] as const) {
    it(`${layout} layout: 1,000 strings, then a lossless round trip`, () => {
      const json = tokenizerJson(layout);
      const ours = tokenizerFromHuggingFace(json);
      expect(ours).toBeInstanceOf(ByteLevelBpeTokenizer);
      const ref = new HfTokenizer(json as never, {} as never);
      let merged = 0;
      for (const text of texts) {
        const ids = ours.encode(text);
        expect(ids, JSON.stringify(text)).toEqual(ref.encode(text, { add_special_tokens: false } as never).ids);
        merged += ids.filter((id) => id >= 259).length;
        // Lossless: everything comes back but what lstrip ate (whitespace left of <mask>), what
        // NFC changed, and the space add_prefix_space adds to every piece that lacks one.
        if (layout === 'gpt2-prefix') continue;
        const expected = (layout === 'qwen2' ? text.normalize('NFC') : text).replace(/\s+<mask>/g, '<mask>');
        expect(ours.decode(ids), JSON.stringify(text)).toBe(expected);
      }
      expect(merged, 'the merges are used').toBeGreaterThan(2000);
      expect(ours.bosId).toBe(0);
      expect(ours.eosId).toBe(0);
      expect(ours.unkId).toBe(-1);
    });
  }

  it('decodes any UTF-8 text exactly (no normalizer, no prefix space)', () => {
    const json = tokenizerJson('smollm2');
    const t = new ByteLevelBpeTokenizer(json);
    for (const s of [...strings(200, 3).map((x) => x.replace(/<mask>/g, '')), '\u0000\u0001\u007f', 'a\u200db', '\ufeffBOM', 'x'.repeat(300)]) expect(t.decode(t.encode(s))).toBe(s);
  });

  it('appends missing tags as added tokens at the end, keeping existing ids', () => {
    const t = new ByteLevelBpeTokenizer(tokenizerJson('smollm2'));
    const { tokenizer, added } = t.withAddedTokens(['<think>', '<|im_end|>', '<answer>']);
    expect(added).toEqual(['<think>', '<answer>']);
    expect(tokenizer.size).toBe(t.size + 2);
    expect(tokenizer.id('<think>')).toBe(t.size);
    expect(tokenizer.encode('a <think>b</think>')).toContain(t.size);
    const ref = new HfTokenizer(tokenizer.toHuggingFace() as never, {} as never);
    expect(ref.encode('x<answer>y <think> z', { add_special_tokens: false } as never).ids).toEqual(tokenizer.encode('x<answer>y <think> z'));
  });

  it('refuses what it does not implement, naming the field', () => {
    const edit = (f: (j: Record<string, unknown>) => void) => { const j = tokenizerJson('qwen2'); f(j); return () => new ByteLevelBpeTokenizer(j); };
    expect(edit((j) => { (j.pre_tokenizer as { pretokenizers: { behavior: string }[] }).pretokenizers[0]!.behavior = 'MergedWithPrevious'; })).toThrow(/pre_tokenizer.pretokenizers\[0\].behavior "MergedWithPrevious" is not supported/);
    expect(edit((j) => { j.normalizer = { type: 'Replace', pattern: { String: ' ' }, content: '▁' }; })).toThrow(/normalizer.type "Replace" is not supported/);
    expect(edit((j) => { delete (j.model as { vocab: Record<string, number> }).vocab['Ġ']; })).toThrow(/model.vocab|lacks the byte token/);
    expect(edit((j) => { (j.model as { merges: unknown[] }).merges.push(['q', 'zz']); })).toThrow(new RegExp(`model.merges\\[${MERGES.length}\\] makes "qzz", which is not in model.vocab`));
  });
});
