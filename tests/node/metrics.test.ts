import { describe, expect, it } from 'vitest';
import {
  containsAnswer,
  coverExactMatch,
  exactMatch,
  extractAnswer,
  f1Score,
  findAnswer,
  normalizeAnswer,
} from '../../src/protocol/answer-metrics.ts';

describe('normalizeAnswer (recipe.md section 4)', () => {
  it.each([
    ['The  Eiffel_Tower!', 'eiffel tower'],
    // ‘ ’ ´ and backtick are punctuation; “ ” are not (the reference keeps them).
    ['‘Rock’ n´ roll`s', 'rock n roll s'],
    ['“quoted”', '“quoted”'],
    // Articles go only as whole words, anywhere in the answer.
    ['an apple a day', 'apple day'],
    ['Theatre of Anna', 'theatre of anna'],
    // Punctuation becomes a space before articles are dropped.
    ['A-ha', 'ha'],
    ['U.S.A.', 'u s'],
    ['the_end', 'end'],
    // A letter next to an article keeps it a word part (Unicode word boundary, as Python's \b).
    ['éa', 'éa'],
    ['  Ulm,\tGermany. ', 'ulm germany'],
    ['True', 'yes'],
    [' False ', 'no'],
    ['true', 'true'],
    ['', ''],
    ['The.', ''],
  ])('%j -> %j', (input, expected) => {
    expect(normalizeAnswer(input)).toBe(expected);
  });
});

describe('exactMatch', () => {
  it('compares normalized strings, best over the golds', () => {
    expect(exactMatch('The Ulm', ['ulm'])).toBe(true);
    expect(exactMatch('ulm city', ['ulm'])).toBe(false);
    expect(exactMatch('ulm city', ['berlin', 'Ulm City!'])).toBe(true);
    expect(exactMatch('True', ['yes'])).toBe(true);
    expect(exactMatch('', ['ulm'])).toBe(false);
  });

  it('refuses an empty gold list', () => {
    expect(() => exactMatch('ulm', [])).toThrow(/golds must be a non-empty array/);
  });
});

describe('f1Score', () => {
  it('counts shared tokens as multisets', () => {
    // pred "city of ulm" (articles gone) vs "ulm": p = 1/3, r = 1, f1 = 2*(1/3)/(4/3) = 0.5
    expect(f1Score('the city of ulm', ['ulm'])).toEqual({ f1: 0.5, precision: 1 / 3, recall: 1 });
    // "ulm ulm" vs "ulm": shared 1 (not 2): p = 1/2, r = 1, f1 = 2/3
    const r = f1Score('ulm ulm', ['ulm']);
    expect(r.f1).toBeCloseTo(2 / 3, 12);
    expect(r.precision).toBe(0.5);
  });

  it('takes the gold with the best F1 and returns its precision and recall', () => {
    // vs "ulm": p 1/2, r 1, f1 2/3. vs "Ulm an der Donau" -> "ulm der donau": shared 2,
    // p 1, r 2/3, f1 = 2*(2/3)/(5/3) = 0.8.
    const r = f1Score('ulm donau', ['ulm', 'Ulm an der Donau']);
    expect(r.f1).toBeCloseTo(0.8, 12);
    expect(r.precision).toBe(1);
    expect(r.recall).toBeCloseTo(2 / 3, 12);
  });

  it('keeps the first gold on an F1 tie (its precision and recall)', () => {
    // "x y" vs "x": p 1/2, r 1; vs "x y z w": p 1, r 1/2; both F1 2/3.
    expect(f1Score('x y', ['x', 'x y z w'])).toEqual({ f1: 2 / 3, precision: 0.5, recall: 1 });
    expect(f1Score('x y', ['x y z w', 'x'])).toEqual({ f1: 2 / 3, precision: 1, recall: 0.5 });
  });

  it('gives 0 when nothing overlaps, and for an empty prediction', () => {
    expect(f1Score('berlin', ['ulm'])).toEqual({ f1: 0, precision: 0, recall: 0 });
    expect(f1Score('', ['ulm'])).toEqual({ f1: 0, precision: 0, recall: 0 });
    expect(f1Score('the', ['ulm'])).toEqual({ f1: 0, precision: 0, recall: 0 });
  });

  it('treats yes / no / noanswer as labels: no partial credit', () => {
    expect(f1Score('yes', ['yes']).f1).toBe(1);
    expect(f1Score('Yes.', ['no']).f1).toBe(0);
    // Token overlap alone would give 2/3 and 1/2; the label rule gives 0.
    expect(f1Score('no', ['no way']).f1).toBe(0);
    expect(f1Score('yes it is', ['yes']).f1).toBe(0);
    expect(f1Score('noanswer', ['no answer']).f1).toBe(0);
    expect(f1Score('True', ['yes']).f1).toBe(1);
    expect(f1Score('no', ['ulm', 'no']).f1).toBe(1);
  });
});

describe('coverExactMatch (ACC_R)', () => {
  it('needs every gold token among the prediction tokens, in any order', () => {
    expect(coverExactMatch('born in ulm germany', ['Ulm, Germany'])).toBe(true);
    expect(coverExactMatch('germany ulm', ['ulm germany'])).toBe(true);
    expect(coverExactMatch('germany', ['ulm germany'])).toBe(false);
    expect(coverExactMatch('germany', ['ulm germany', 'Germany'])).toBe(true);
    expect(coverExactMatch('', ['ulm'])).toBe(false);
    // Whole tokens only: "ulmer" does not cover "ulm".
    expect(coverExactMatch('ulmer', ['ulm'])).toBe(false);
  });

  it('covers a gold that normalizes to "" only with an empty prediction', () => {
    expect(coverExactMatch('', ['the'])).toBe(true);
    expect(coverExactMatch('ulm', ['the'])).toBe(false);
  });
});

describe('containsAnswer', () => {
  it('matches a gold as a run of whole normalized words', () => {
    expect(containsAnswer('Kovar was born in Ulm, Germany.', ['ulm germany'])).toBe(true);
    expect(containsAnswer('Kovar was born in Ulm in Germany.', ['ulm germany'])).toBe(false);
    expect(containsAnswer('Kovar visited Ulmer Münster.', ['ulm'])).toBe(false);
    expect(containsAnswer('nothing here', ['berlin', 'here'])).toBe(true);
    expect(containsAnswer('the end', ['the'])).toBe(false);
  });
});

describe('extractAnswer', () => {
  it('takes the text between the last <answer> and the following </answer>', () => {
    expect(extractAnswer('x </think> <answer>  ulm  </answer>')).toBe('ulm');
    expect(extractAnswer('<answer> berlin </answer> then <answer> ulm </answer> tail')).toBe('ulm');
    expect(extractAnswer('<answer></answer>')).toBe('');
  });

  it('gives "" (findAnswer null) when the tags are missing', () => {
    expect(extractAnswer('no answer here')).toBe('');
    expect(findAnswer('no answer here')).toBeNull();
    // The last <answer> is never closed (cut off): no answer, not the earlier one.
    expect(extractAnswer('<answer> berlin </answer> <answer> ulm')).toBe('');
    expect(findAnswer('</answer> ulm <answer>')).toBeNull();
    expect(findAnswer('<answer>  </answer>')).toBe('');
  });

  it('reads tags written out with the search tags around them', () => {
    const c = '<|begin_of_query|> kovar <|end_of_query|> <|begin_of_documents|> (1) kovar <|end_of_documents|> </think> <answer> ulm </answer>';
    expect(extractAnswer(c)).toBe('ulm');
  });
});
