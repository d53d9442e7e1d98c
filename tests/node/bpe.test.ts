/**
 * The BPE tokenizer (src/tokenizer/bpe.ts): merges learnt on a hand-checked toy corpus, encoding
 * by merge rank, the special tokens kept whole, lossless round trips on the whole multi-hop
 * sample corpus (../shared/data/multihop, skipped with a message when absent), the same ids as
 * Hugging Face's own tokenizer implementation (@huggingface/tokenizers) reading our
 * tokenizer.json, and malformed tokenizer.json files refused with the field named.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { BpeTokenizer, END_OF_WORD, trainBpe } from '../../src/tokenizer/bpe.ts';
import { normalizeText } from '../../src/protocol/normalize.ts';
import { SPECIAL_IDS, SPECIAL_TOKENS } from '../../src/protocol/tags.ts';

const CORPUS = '../shared/data/multihop/corpus_paragraphs.jsonl';
const HAVE_CORPUS = existsSync(CORPUS);
if (!HAVE_CORPUS) console.warn(`bpe.test: ${CORPUS} is absent; the round trip on the real corpus is skipped`);

const hf = (t: BpeTokenizer) => new HfTokenizer(t.toHuggingFace() as never, {} as never);

describe('BPE tokenizer', () => {
  // The classic example: "low" x5, "lower" x2, "newest" x6, "widest" x3.
  const toy = [...Array(5).fill('low'), ...Array(2).fill('lower'), ...Array(6).fill('newest'), ...Array(3).fill('widest')].join(' ');

  it('learns the most frequent pair first, ties to the smaller pair, and encodes by rank', () => {
    const t = trainBpe([toy], { vocabSize: SPECIAL_TOKENS.length + 15, minFrequency: 2 });
    // Pair counts: "e s" 9 and "s t</w>" 9 (newest 6 + widest 3; the tie goes to the smaller
    // pair), then "es t</w>" 9, "l o" 7; then "n e", "e w" and "w est</w>" 6 each: "e w".
    expect(t.merges).toEqual([['e', 's'], ['es', `t${END_OF_WORD}`], ['l', 'o'], ['e', 'w']]);
    const alphabet = ['d', 'e', 'i', 'l', 'n', 'o', 's', 'w', `r${END_OF_WORD}`, `t${END_OF_WORD}`, `w${END_OF_WORD}`].sort();
    expect(t.vocab.slice(SPECIAL_TOKENS.length, SPECIAL_TOKENS.length + alphabet.length)).toEqual(alphabet);
    expect(t.size).toBe(SPECIAL_TOKENS.length + 15);
    // "lowest" was never seen: "lo" + "w" + "est</w>".
    expect(t.encode('lowest').map((i) => t.vocab[i])).toEqual(['lo', 'w', `est${END_OF_WORD}`]);
    expect(t.encode('low').map((i) => t.vocab[i])).toEqual(['lo', `w${END_OF_WORD}`]);
    expect(t.encode('newest').map((i) => t.vocab[i])).toEqual(['n', 'ew', `est${END_OF_WORD}`]);
    // A character never seen in training is <unk>; the rest of the word still encodes.
    expect(t.encode('lox').map((i) => t.vocab[i])).toEqual(['lo', '<unk>']);
    expect(trainBpe([toy], { vocabSize: SPECIAL_TOKENS.length + 15 }).merges).toEqual(t.merges); // deterministic
    expect(() => trainBpe([toy], { vocabSize: 20 })).toThrow(/vocabSize 20 is below the 12 special tokens plus the 11 symbols/);
  });

  it('keeps special tokens whole at their fixed ids and decodes to normalized text', () => {
    const t = trainBpe([toy]);
    const ids = t.encode('<|begin_of_query|>Newest Low<|end_of_query|> <answer> lower </answer>');
    expect(ids[0]).toBe(SPECIAL_IDS['<|begin_of_query|>']);
    expect(ids.at(-1)).toBe(SPECIAL_IDS['</answer>']);
    expect(t.decode(ids)).toBe('<|begin_of_query|> newest low <|end_of_query|> <answer> lower </answer>');
    expect(() => t.decode([t.size])).toThrow(RangeError);
  });

  it('tokenizer.json: read back equal, and Hugging Face\'s implementation gives the same ids', () => {
    const t = trainBpe([toy, 'Lower, wider; newest!']);
    const back = BpeTokenizer.fromHuggingFace(JSON.parse(JSON.stringify(t.toHuggingFace())));
    expect(back.vocab).toEqual(t.vocab);
    expect(back.merges).toEqual(t.merges);
    const text = 'The widest, lowest <answer> newer </answer>';
    expect(hf(t).encode(text, { add_special_tokens: false } as never).ids).toEqual(t.encode(text));
  });

  it('refuses malformed tokenizer.json files, naming the field', () => {
    const good = trainBpe([toy]).toHuggingFace();
    const bad = (patch: (j: ReturnType<typeof structuredClone<typeof good>>) => void) => {
      const j = structuredClone(good);
      patch(j);
      return () => BpeTokenizer.fromHuggingFace(j);
    };
    expect(bad((j) => { (j.model as { type: string }).type = 'WordLevel'; })).toThrow(/model\.type must be "BPE", got "WordLevel"/);
    expect(bad((j) => { j.model.end_of_word_suffix = '@@'; })).toThrow(/end_of_word_suffix must be "<\/w>"/);
    expect(bad((j) => { j.model.vocab['lo'] = 999; })).toThrow(/model\.vocab\["lo"\] = 999 is not an id/);
    expect(bad((j) => { j.model.merges.push(['zz', 'q']); })).toThrow(/merge \d+ \("zz" "q"\) uses "zz", which is not in the vocabulary/);
    expect(bad((j) => { (j.model.merges as unknown[]).push(3); })).toThrow(/model\.merges\[\d+\] is not a pair of strings/);
    expect(bad((j) => { const v = j.model.vocab; const pad = v['<pad>']!; v['<pad>'] = v['<bos>']!; v['<bos>'] = pad; })).toThrow(/id 0 must be the special token <pad>/);
  });

  it.runIf(HAVE_CORPUS)('the multi-hop sample corpus: 8k tokens, every paragraph round-trips, no <unk>, same ids as Hugging Face', () => {
    const docs = readFileSync(CORPUS, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { title: string; text: string });
    const texts = docs.map((d) => `${d.title} . ${d.text}`);
    const t = trainBpe(texts, { vocabSize: 8000 });
    expect(t.size).toBe(8000);
    let tokens = 0, words = 0;
    for (const text of texts) {
      const ids = t.encode(text);
      const n = normalizeText(text);
      expect(t.decode(ids)).toBe(n);
      expect(ids).not.toContain(t.unkId);
      tokens += ids.length;
      words += n.split(' ').length;
    }
    console.log(`bpe: ${texts.length} paragraphs, ${words} words, ${tokens} tokens (${(tokens / words).toFixed(3)} per word), ${t.merges.length} merges`);
    const ref = hf(t);
    for (const text of texts.slice(0, 300)) expect(ref.encode(text, { add_special_tokens: false } as never).ids).toEqual(t.encode(text));
  }, 120_000);
});
