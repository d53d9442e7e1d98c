/**
 * Answer normalization and answer metrics: EM, token F1, Cover-EM (recipe.md section 4).
 *
 * These are the HotpotQA/SQuAD-family metrics as R1-Searcher's reward servers and evaluation
 * script compute them; Cover-EM is the paper's ACC_R. Every metric takes a list of gold answers
 * and returns the best score over them (recipe.md section 10: the released reward uses one gold
 * string, its evaluation the maximum; we take the maximum everywhere).
 *
 * Everything works on text. Tags are single tokens in our vocabulary, but completions travel as
 * text with the tags written out (`"<answer> ulm </answer>"`).
 */
import { ANSWER_CLOSE, ANSWER_OPEN } from './tags.ts';

/**
 * ASCII punctuation (Python's `string.punctuation`: ranges 0x21-0x2F, 0x3A-0x40, 0x5B-0x60,
 * 0x7B-0x7E, backtick and underscore included) plus the three typographic marks the reference
 * code adds: ‘ ’ ´. Other Unicode punctuation (“ ” – …) is kept, as in the reference.
 */
const ANSWER_PUNCT_RE = /[\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e\u2018\u2019\u00b4]/g;

/**
 * The articles a, an, the as whole words. The lookarounds reproduce Python's Unicode `\b`
 * (word characters = letters, digits, underscore); JavaScript's `\b` is ASCII-only even with
 * the `u` flag, which would strip the "a" out of "éa".
 */
const ARTICLE_RE = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;

/** Normalized answers that F1 treats as labels, not as text (recipe.md section 4). */
const LABEL_ANSWERS = new Set(['yes', 'no', 'noanswer']);

/**
 * Maps the strings Python writes for booleans to yes/no (the reference's `bool_mapping`):
 * exactly `"True"` -> `"yes"`, `"False"` -> `"no"` (after trimming), anything else unchanged.
 * Case-sensitive on purpose: a lowercase "true" is an ordinary word.
 */
function mapBoolean(s: string): string {
  const t = s.trim();
  if (t === 'True') return 'yes';
  if (t === 'False') return 'no';
  return s;
}

/**
 * Normalizes an answer for comparison (recipe.md section 4), in the reference order:
 * booleans True -> yes, False -> no; `_` -> space; lowercase; each punctuation character
 * (ASCII plus ‘ ’ ´ `) -> space; the words a, an, the removed; whitespace collapsed and trimmed.
 *
 * Because punctuation becomes a space before articles are dropped, "U.S.A." normalizes to
 * "u s" (the reference behaves the same way). Returns "" for an answer that is all
 * punctuation, articles or whitespace.
 *
 * @example normalizeAnswer("The Eiffel_Tower!") === "eiffel tower"
 */
export function normalizeAnswer(s: string): string {
  return mapBoolean(s)
    .replace(/_/g, ' ')
    .toLowerCase()
    .replace(ANSWER_PUNCT_RE, ' ')
    .replace(ARTICLE_RE, ' ')
    .split(/\s+/)
    .filter((w) => w.length > 0)
    .join(' ');
}

/** The words of a normalized answer ([] for ""). */
function answerTokens(s: string): string[] {
  const n = normalizeAnswer(s);
  return n ? n.split(' ') : [];
}

function checkGolds(golds: readonly string[], fn: string): void {
  if (!Array.isArray(golds) || golds.length === 0) {
    throw new Error(`${fn}: golds must be a non-empty array of gold answers`);
  }
  for (let i = 0; i < golds.length; i++) {
    if (typeof golds[i] !== 'string') throw new Error(`${fn}: golds[${i}] is not a string`);
  }
}

/**
 * Exact match (recipe.md section 4): true iff `normalizeAnswer(prediction)` equals
 * `normalizeAnswer(gold)` for at least one gold answer.
 *
 * @throws Error if `golds` is empty or holds a non-string.
 */
export function exactMatch(prediction: string, golds: readonly string[]): boolean {
  checkGolds(golds, 'exactMatch');
  const p = normalizeAnswer(prediction);
  return golds.some((g) => normalizeAnswer(g) === p);
}

/** Token-level F1 with its two halves; all three lie in [0, 1]. */
export interface F1Result {
  f1: number;
  /** Shared tokens / prediction tokens. */
  precision: number;
  /** Shared tokens / gold tokens. */
  recall: number;
}

const ZERO_F1: Readonly<F1Result> = Object.freeze({ f1: 0, precision: 0, recall: 0 });

/** F1 against one gold answer (the reference's `f1_score`). */
function f1One(prediction: string, gold: string): F1Result {
  const p = normalizeAnswer(prediction);
  const g = normalizeAnswer(gold);
  // yes / no / noanswer are labels: partial overlap with them earns nothing.
  if ((LABEL_ANSWERS.has(p) || LABEL_ANSWERS.has(g)) && p !== g) return { ...ZERO_F1 };
  const pTokens = p ? p.split(' ') : [];
  const gTokens = g ? g.split(' ') : [];
  // Multiset intersection: each gold token can be matched as often as it occurs in the gold.
  const goldCounts = new Map<string, number>();
  for (const t of gTokens) goldCounts.set(t, (goldCounts.get(t) ?? 0) + 1);
  let shared = 0;
  for (const t of pTokens) {
    const left = goldCounts.get(t) ?? 0;
    if (left > 0) {
      shared++;
      goldCounts.set(t, left - 1);
    }
  }
  if (shared === 0) return { ...ZERO_F1 };
  const precision = shared / pTokens.length;
  const recall = shared / gTokens.length;
  return { f1: (2 * precision * recall) / (precision + recall), precision, recall };
}

/**
 * Token F1 between the normalized prediction and the best gold answer (recipe.md section 4).
 * Tokens are the words of {@link normalizeAnswer}, compared as multisets. F1 is 0 when nothing
 * overlaps, and 0 when either side normalizes to yes / no / noanswer and the two differ.
 * With several golds, returns the triple of the gold with the highest F1 (the first on ties).
 *
 * @throws Error if `golds` is empty or holds a non-string.
 */
export function f1Score(prediction: string, golds: readonly string[]): F1Result {
  checkGolds(golds, 'f1Score');
  let best = f1One(prediction, golds[0]!);
  for (let i = 1; i < golds.length; i++) {
    const r = f1One(prediction, golds[i]!);
    if (r.f1 > best.f1) best = r;
  }
  return best;
}

/**
 * Cover exact match, the paper's ACC_R (recipe.md section 4): true iff, for some gold, every
 * token of the normalized gold occurs among the tokens of the normalized prediction (order and
 * adjacency ignored). A gold that normalizes to "" is covered only by a prediction that also
 * normalizes to "" (the reference compares `[""]` token lists).
 *
 * @throws Error if `golds` is empty or holds a non-string.
 */
export function coverExactMatch(prediction: string, golds: readonly string[]): boolean {
  checkGolds(golds, 'coverExactMatch');
  const pTokens = answerTokens(prediction);
  const pSet = new Set(pTokens);
  return golds.some((g) => {
    const gTokens = answerTokens(g);
    if (gTokens.length === 0) return pTokens.length === 0;
    return gTokens.every((t) => pSet.has(t));
  });
}

/**
 * True iff some gold answer occurs in `text` as a run of whole words, both sides normalized
 * with {@link normalizeAnswer} ("did a retrieved document contain the answer", recipe.md
 * section 11). Golds that normalize to "" never match.
 *
 * @throws Error if `golds` is empty or holds a non-string.
 */
export function containsAnswer(text: string, golds: readonly string[]): boolean {
  checkGolds(golds, 'containsAnswer');
  // Padding with spaces turns "whole words" into a substring test on the normalized text.
  const hay = ` ${normalizeAnswer(text)} `;
  return golds.some((g) => {
    const n = normalizeAnswer(g);
    return n.length > 0 && hay.includes(` ${n} `);
  });
}

/**
 * The answer of a completion: the text between the LAST `<answer>` and the first `</answer>`
 * after it, trimmed (recipe.md section 4). Returns null when there is no `<answer>` or no
 * `</answer>` follows the last one (e.g. a rollout cut off by the length limit).
 */
export function findAnswer(completion: string): string | null {
  const open = completion.lastIndexOf(ANSWER_OPEN);
  if (open < 0) return null;
  const start = open + ANSWER_OPEN.length;
  const close = completion.indexOf(ANSWER_CLOSE, start);
  if (close < 0) return null;
  return completion.slice(start, close).trim();
}

/**
 * The prediction scored by the metrics: {@link findAnswer}, or "" when the answer tags are
 * missing (recipe.md sections 4 and 10; the reference evaluation writes "I don't know.").
 */
export function extractAnswer(completion: string): string {
  return findAnswer(completion) ?? '';
}
