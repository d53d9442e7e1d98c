import { describe, expect, it } from 'vitest';
import { Tokenizer, buildVocabulary } from '../../src/tokenizer/tokenizer.ts';
import { normalizeText } from '../../src/protocol/normalize.ts';
import { SPECIAL_TOKENS, QUERY_OPEN, QUERY_CLOSE } from '../../src/protocol/tags.ts';

describe('normalizeText', () => {
  it('lowercases, isolates punctuation, keeps tags whole, collapses whitespace', () => {
    expect(normalizeText('  Aldric was born in Kovar,  in 1873. ')).toBe('aldric was born in kovar , in 1873 .');
    expect(normalizeText(`x${QUERY_OPEN}Kovar born${QUERY_CLOSE}y`)).toBe(`x ${QUERY_OPEN} kovar born ${QUERY_CLOSE} y`);
    expect(normalizeText("it's (1) Title: text")).toBe("it ' s ( 1 ) title : text");
    expect(normalizeText('Ｆｕｌｌ')).toBe('full'); // NFKC
    expect(normalizeText('<img src=x onerror=alert(1)>')).toBe('< img src = x onerror = alert ( 1 ) >');
  });
});

describe('Tokenizer', () => {
  const tok = Tokenizer.fromWords(buildVocabulary(['Aldric was born in Kovar.', 'Kovar is a city.']));

  it('puts the special tokens at fixed ids and words by frequency', () => {
    SPECIAL_TOKENS.forEach((t, i) => expect(tok.id(t)).toBe(i));
    expect(tok.vocab[SPECIAL_TOKENS.length]).toBe('.'); // most frequent (2), ties by code point
    expect(tok.vocab[SPECIAL_TOKENS.length + 1]).toBe('kovar');
  });

  it('round-trips normalized text, tags included, and maps unknown words to <unk>', () => {
    const text = `<think> ${QUERY_OPEN} Kovar ${QUERY_CLOSE} aldric was born in kovar .`;
    const ids = tok.encode(text);
    expect(ids[0]).toBe(tok.id('<think>'));
    expect(ids[1]).toBe(tok.id(QUERY_OPEN));
    expect(tok.decode(ids)).toBe(normalizeText(text));
    expect(tok.encode('Zebra kovar')).toEqual([tok.unkId, tok.id('kovar')]);
    expect(tok.countUnknown('zebra kovar')).toBe(1);
    expect(() => tok.decode([tok.size])).toThrow(/outside/);
  });

  it('saves and loads a Hugging Face WordLevel tokenizer.json', () => {
    const json = JSON.parse(JSON.stringify(tok.toHuggingFace()));
    expect(json.model.type).toBe('WordLevel');
    expect(json.added_tokens).toHaveLength(SPECIAL_TOKENS.length);
    const back = Tokenizer.fromHuggingFace(json);
    expect(back.vocab).toEqual(tok.vocab);
  });

  it('refuses malformed tokenizer files with the field named', () => {
    const good = tok.toHuggingFace();
    expect(() => Tokenizer.fromHuggingFace({ ...good, model: { ...good.model, type: 'BPE' } })).toThrow(/WordLevel/);
    expect(() => Tokenizer.fromHuggingFace({ ...good, model: { ...good.model, vocab: { ...good.model.vocab, kovar: 0 } } })).toThrow(/id 0 is used twice|special token/);
    expect(() => Tokenizer.fromHuggingFace({ ...good, model: { ...good.model, vocab: { '<pad>': 5 } } })).toThrow(/not an id/);
    expect(() => new Tokenizer(['a', 'b'])).toThrow(/special token/);
    expect(() => Tokenizer.fromHuggingFace(null)).toThrow(/not a JSON object/);
  });
});
