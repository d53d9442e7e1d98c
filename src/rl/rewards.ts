/**
 * Outcome rewards of the two RL stages (recipe.md section 6), as plain functions
 * `(completion, sample, settings) -> {reward, parts}`.
 *
 * - Stage 1 (paper) rewards the act of searching in a well-formed way, whatever the answer:
 *   R = R_retrieval + R_format, 0.5 each.
 * - Stage 2 (paper) rewards the answer: R = F1 + (0 if well-formed else formatPenalty), and
 *   with `ungroundedPenalty` (ours, off by default) less for a wrong answer read nowhere.
 *
 * The reward is always the sum of four parts, `retrieval + format + answer + penalty`, so the
 * page can show where a number came from; `f1`, `em`, `coverEm`, `docsFound` and
 * `answerInDocs` are measured in both stages whether or not they are paid.
 */
import { containsAnswer, coverExactMatch, exactMatch, f1Score, findAnswer } from '../protocol/answer-metrics.ts';
import { checkFormat, countTags, documentBlocks, retrievalCount, searchTagsBalanced, searchTurns } from '../protocol/format.ts';
import { contentWords } from '../protocol/prompts.ts';
import { answerSource } from './search-diagnostics.ts';

/** R_retrieval of Stage 1 (recipe.md section 6). */
export const STAGE1_RETRIEVAL_REWARD = 0.5;
/** R_format of Stage 1 (recipe.md section 6). */
export const STAGE1_FORMAT_REWARD = 0.5;
/** The Llama Stage-1 code's answer term: +1 if Cover-EM is correct, -1 otherwise. */
export const STAGE1_ANSWER_BONUS = 1;

/** What a reward needs to know about the question beyond the completion. */
export interface RewardSample {
  /** Gold answers (at least one); metrics take the maximum over them. */
  answers: string[];
  /** The question; needed by Stage 1's `relevant` retrieval reward. */
  question?: string;
  /**
   * Optional: the documents each search returned, as text, one array per search in order
   * (`[]` for a search that found nothing). When absent, the documents are read from the
   * document blocks of the completion (a block holding `None` = no hit). The trainer should
   * pass them: the rollout knows exactly what it spliced.
   */
  retrievedDocs?: string[][];
}

/** Settings of the rewards; {@link DEFAULT_REWARD_SETTINGS} holds the paper's choices. */
export interface RewardSettings {
  /**
   * Stage 1: when R_retrieval is paid. `'any'` (paper): the four search tags balanced and at
   * least one search. `'found'`: in addition, at least one search returned a document
   * (recipe.md section 11: the paper's reward locked in a query that finds nothing).
   * `'relevant'`: `'found'`, and every query shares a content word with the question or with
   * the documents retrieved before it (issue 15: under `'found'` Stage 1 collapsed into one
   * constant query for every question, a name or the word "to", which always finds documents).
   * `'follow-up'`: half of R_retrieval for a first query that names the question and returns
   * documents, the other half for a follow-up search: a later query naming a word of the
   * documents already retrieved that the question does not hold, which itself returned documents
   * (only after an on-topic first search). A later query that follows no lead costs nothing
   * (issue 15: under `'relevant'` a second search risked the whole reward, so Stage 1 pruned it
   * within a few steps; this pays "search again with a lead you read" without saying which lead).
   */
  retrievalReward: RetrievalRewardRule;
  /**
   * Stage 1: add +1 / -1 for a Cover-EM correct / wrong answer, as the official Llama Stage-1
   * reward code does (recipe.md section 6). A missing answer counts as wrong. Default off.
   */
  answerBonus: boolean;
  /**
   * Stage 1: pay R_format only together with R_retrieval (false: the paper, each on its own).
   * Without it a base that rarely searches can learn `</think> <answer> X </answer>` and keep
   * the 0.5 of R_format without ever searching (issue 15: an 8,000-step base on seed 7 wrote no
   * search from step 10 of Stage 1 on, and Stage 2 then had nothing to learn from).
   */
  formatNeedsSearch: boolean;
  /**
   * Stage 2: added to the reward of a completion that is not well-formed. Must be finite and
   * <= 0. Paper: -2; the Llama Stage-2 code: -1.
   */
  formatPenalty: number;
  /**
   * Stage 2: added to the reward of a wrong answer (F1 0) whose words occur in neither the
   * retrieved documents nor the question (`answerSource` 'nowhere': recalled or made up). Must
   * be finite and <= 0; 0 (the paper's reward, and the default) turns it off. Why: with the
   * answer retrieved every time, half of the `alma_mater` and `employer` misses of the current
   * recipe answered a university or company that trains as an answer elsewhere and is in none
   * of the documents (recipe.md section 11: small answer sets invite guessing); under F1 alone a
   * guess costs no more than a misread. A right answer is never penalized (HotpotQA's yes / no
   * answers occur in no document). Measured (seed 7, -0.5): the guesses became misreads, not
   * reads: `alma_mater` 0.71 -> 0.13 (it answered the person's employer or birthplace), test
   * 0.89 -> 0.80. So it stays off.
   */
  ungroundedPenalty: number;
}

/** When Stage 1 pays R_retrieval; see {@link RewardSettings.retrievalReward}. */
export type RetrievalRewardRule = 'any' | 'found' | 'relevant' | 'follow-up';
export const RETRIEVAL_REWARD_RULES: readonly RetrievalRewardRule[] = ['any', 'found', 'relevant', 'follow-up'];

/** The paper's reward settings (recipe.md section 6). */
export const DEFAULT_REWARD_SETTINGS: Readonly<RewardSettings> = Object.freeze({
  retrievalReward: 'any',
  answerBonus: false,
  formatNeedsSearch: false,
  formatPenalty: -2,
  ungroundedPenalty: 0,
});

const SETTING_KEYS = Object.keys(DEFAULT_REWARD_SETTINGS) as (keyof RewardSettings)[];

/**
 * Fills the missing settings from {@link DEFAULT_REWARD_SETTINGS} and validates the result.
 *
 * @throws Error naming the setting: an unknown key, `retrievalReward` not 'any' / 'found',
 *   `answerBonus` or `formatNeedsSearch` not a boolean, `formatPenalty` or `ungroundedPenalty` not
 *   a finite number <= 0 (a positive penalty would pay for broken format or for a guess).
 */
export function resolveRewardSettings(settings: Partial<RewardSettings> = {}): RewardSettings {
  if (typeof settings !== 'object' || settings === null) throw new Error('reward settings must be an object');
  for (const k of Object.keys(settings)) {
    if (!SETTING_KEYS.includes(k as keyof RewardSettings)) {
      throw new Error(`unknown reward setting "${k}" (known: ${SETTING_KEYS.join(', ')})`);
    }
  }
  const s: RewardSettings = { ...DEFAULT_REWARD_SETTINGS, ...settings };
  if (!RETRIEVAL_REWARD_RULES.includes(s.retrievalReward)) {
    throw new Error(`reward setting retrievalReward must be one of ${RETRIEVAL_REWARD_RULES.map((r) => `'${r}'`).join(', ')}, got ${JSON.stringify(s.retrievalReward)}`);
  }
  if (typeof s.answerBonus !== 'boolean') {
    throw new Error(`reward setting answerBonus must be true or false, got ${JSON.stringify(s.answerBonus)}`);
  }
  if (typeof s.formatNeedsSearch !== 'boolean') {
    throw new Error(`reward setting formatNeedsSearch must be true or false, got ${JSON.stringify(s.formatNeedsSearch)}`);
  }
  if (typeof s.formatPenalty !== 'number' || !Number.isFinite(s.formatPenalty) || s.formatPenalty > 0) {
    throw new Error(`reward setting formatPenalty must be a finite number <= 0, got ${String(s.formatPenalty)}`);
  }
  if (typeof s.ungroundedPenalty !== 'number' || !Number.isFinite(s.ungroundedPenalty) || s.ungroundedPenalty > 0) {
    throw new Error(`reward setting ungroundedPenalty must be a finite number <= 0, got ${String(s.ungroundedPenalty)}`);
  }
  return s;
}

/** The pieces of a reward, and the measurements shown beside it. */
export interface RewardParts {
  /** Stage 1 R_retrieval paid (0 or 0.5; under `'follow-up'` also 0.25); 0 in Stage 2. */
  retrieval: number;
  /** Stage 1 R_format paid (0 or 0.5); 0 in Stage 2. */
  format: number;
  /** Answer term paid: Stage 2 the F1; Stage 1 +1 / -1 with `answerBonus`, else 0. */
  answer: number;
  /** Stage 2 penalties applied: `formatPenalty` when not well-formed plus `ungroundedPenalty` for a wrong answer read nowhere; 0 in Stage 1. */
  penalty: number;
  /** Token F1 of the prediction, in [0, 1]; 0 when the answer tags are missing. */
  f1: number;
  /** Exact match of the prediction; false when the answer tags are missing. */
  em: boolean;
  /** Cover-EM (ACC_R) of the prediction; false when the answer tags are missing. */
  coverEm: boolean;
  /** The prediction: the text of the last closed answer, "" when missing. */
  prediction: string;
  /** Whether the completion passes all seven rules of recipe.md section 5. */
  formatOk: boolean;
  /** The format rules broken, as readable reasons (empty when `formatOk`). */
  violations: string[];
  /** Completed searches (see `retrievalCount` in format.ts). */
  retrievals: number;
  /** Did any search return at least one document. */
  docsFound: boolean;
  /** Did a retrieved document contain a gold answer (normalized, as whole words). */
  answerInDocs: boolean;
}

/** A reward and its parts; `reward === retrieval + format + answer + penalty`. */
export interface RewardResult {
  reward: number;
  parts: RewardParts;
}

function validateSample(sample: RewardSample): void {
  if (typeof sample !== 'object' || sample === null) throw new Error('reward sample must be an object');
  const { answers, retrievedDocs, question } = sample;
  if (question !== undefined && typeof question !== 'string') throw new Error('reward sample: question must be a string');
  if (!Array.isArray(answers) || answers.length === 0) {
    throw new Error('reward sample: answers must be a non-empty array of strings');
  }
  answers.forEach((a, i) => {
    if (typeof a !== 'string') throw new Error(`reward sample: answers[${i}] is not a string`);
  });
  if (retrievedDocs === undefined) return;
  if (!Array.isArray(retrievedDocs)) throw new Error('reward sample: retrievedDocs must be an array of arrays of strings');
  retrievedDocs.forEach((docs, i) => {
    if (!Array.isArray(docs)) throw new Error(`reward sample: retrievedDocs[${i}] is not an array`);
    docs.forEach((d, j) => {
      if (typeof d !== 'string') throw new Error(`reward sample: retrievedDocs[${i}][${j}] is not a string`);
    });
  });
}

/**
 * Splits a document block as the rollout writes it, `(1) Title: text (2) ...` (recipe.md
 * section 3), into its documents. The markers are looked for in sequence ((1) at the start, then
 * the first (2) after it, ...), so a "(1990)" or a repeated "(1)" in a document's text stays
 * part of it. `None` (or nothing) means no hit: []. Used only when the sample does not carry
 * the retrieved documents.
 */
export function splitDocumentBlock(block: string): string[] {
  const text = block.trim();
  if (text === '' || text.toLowerCase() === 'none') return [];
  const marker = (k: number) => new RegExp(`\\(\\s*${k}\\s*\\)`, 'g');
  const first = marker(1);
  const m1 = first.exec(text);
  // A block that does not start with (1) is one document (a format we did not write).
  if (!m1 || m1.index !== 0) return [text];
  const docs: string[] = [];
  let start = first.lastIndex;
  for (let k = 2; ; k++) {
    const next = marker(k);
    next.lastIndex = start;
    const m = next.exec(text);
    if (!m) break;
    docs.push(text.slice(start, m.index).trim());
    start = next.lastIndex;
  }
  docs.push(text.slice(start).trim());
  return docs;
}

/** The documents the searches returned: from the sample when given, else from the completion. */
function retrievedDocuments(completion: string, sample: RewardSample): string[] {
  if (sample.retrievedDocs) return sample.retrievedDocs.flat();
  return documentBlocks(completion).flatMap(splitDocumentBlock);
}

/** Everything both stages measure, before any reward is paid. */
function measure(completion: string, sample: RewardSample) {
  if (typeof completion !== 'string') throw new Error('reward: completion must be a string');
  validateSample(sample);
  const counts = countTags(completion);
  const format = checkFormat(completion);
  const answer = findAnswer(completion);
  const docs = retrievedDocuments(completion, sample);
  const golds = sample.answers;
  return {
    // Rule 1 and at least one search: the paper's condition for R_retrieval.
    searched: searchTagsBalanced(counts) && counts.queryOpen >= 1,
    format,
    // Missing answer tags score nothing, even against a gold that normalizes to "".
    f1: answer === null ? 0 : f1Score(answer, golds).f1,
    em: answer === null ? false : exactMatch(answer, golds),
    coverEm: answer === null ? false : coverExactMatch(answer, golds),
    prediction: answer ?? '',
    retrievals: retrievalCount(completion),
    docsFound: docs.length > 0,
    answerInDocs: docs.some((d) => containsAnswer(d, golds)),
    docs,
  };
}

/** A wrong answer (F1 0) whose words are in neither the documents nor the question; no answer is not one. */
function answeredFromNowhere(m: ReturnType<typeof measure>, sample: RewardSample): boolean {
  return m.prediction !== '' && m.f1 === 0 && answerSource(m.prediction, m.docs.join(' '), sample.question ?? '') === 'nowhere';
}

/**
 * True iff the completion made at least one search and every query shares a content word
 * (`contentWords` of src/protocol/prompts.ts) with the question or with the documents retrieved by
 * the searches before it. A constant query ("to", or one name for every question) fails it.
 */
export function queriesRelevant(completion: string, question: string, retrievedDocs?: string[][]): boolean {
  const turns = searchTurns(completion);
  if (turns.length === 0) return false;
  const known = new Set(contentWords(question));
  return turns.every((t, k) => {
    const ok = contentWords(t.query).some((w) => known.has(w));
    // What this search returned may name the next hop's entity.
    const docs = retrievedDocs ? (retrievedDocs[k] ?? []).join(' ') : t.documents;
    for (const w of contentWords(docs)) known.add(w);
    return ok;
  });
}

/**
 * True iff a search after the first names a content word of the documents retrieved before it
 * that the question does not hold (a lead read in the documents, such as the bridge entity of a
 * multi-hop question), and that search returned documents. Repeating the question's name, or a
 * name from nowhere, is not a follow-up. Documents come from `retrievedDocs` (one array per
 * search) when given, else from the completion's blocks (`None` = nothing found).
 */
export function followsLead(completion: string, question: string, retrievedDocs?: string[][]): boolean {
  const turns = searchTurns(completion);
  const asked = new Set(contentWords(question));
  const read = new Set<string>();
  return turns.some((t, k) => {
    const docs = turnDocuments(t, k, retrievedDocs);
    const lead = k > 0 && docs.length > 0 && contentWords(t.query).some((w) => read.has(w) && !asked.has(w));
    for (const w of contentWords(docs.join(' '))) read.add(w);
    return lead;
  });
}

/**
 * True iff `query` shares a content word (`contentWords`, src/protocol/prompts.ts) with
 * `question`, i.e. names one of its entities: a query "on topic". The trainer's
 * `firstQueryOnTopic` metric and the `'follow-up'` reward's first half use it.
 */
export function queryNamesQuestion(query: string, question: string): boolean {
  const asked = new Set(contentWords(question));
  return contentWords(query).some((w) => asked.has(w));
}

/** True iff the first search names the question and returned documents. */
function firstQueryOnTopic(completion: string, question: string, retrievedDocs?: string[][]): boolean {
  const first = searchTurns(completion)[0];
  return first !== undefined && turnDocuments(first, 0, retrievedDocs).length > 0 && queryNamesQuestion(first.query, question);
}

/** The documents search `k` returned: from `retrievedDocs` when given, else split out of its block. */
function turnDocuments(turn: { documents: string }, k: number, retrievedDocs?: string[][]): string[] {
  return retrievedDocs ? (retrievedDocs[k] ?? []) : splitDocumentBlock(turn.documents);
}

/** R_retrieval of Stage 1 under rule `rule` (see {@link RewardSettings.retrievalReward}). */
function stage1Retrieval(rule: RetrievalRewardRule, m: ReturnType<typeof measure>, completion: string, sample: RewardSample): number {
  const question = sample.question;
  if ((rule === 'relevant' || rule === 'follow-up') && question === undefined) {
    throw new Error(`reward: retrievalReward '${rule}' needs the question in the reward sample`);
  }
  if (!m.searched) return 0;
  if (rule === 'any') return STAGE1_RETRIEVAL_REWARD;
  if (rule === 'follow-up') {
    // Half for an on-topic first search, the other half for a follow-up after it (an off-topic
    // first query earns nothing, so a constant query plus a follow-up cannot pay).
    if (!firstQueryOnTopic(completion, question!, sample.retrievedDocs)) return 0;
    return (STAGE1_RETRIEVAL_REWARD / 2) * (followsLead(completion, question!, sample.retrievedDocs) ? 2 : 1);
  }
  const paid = m.docsFound && (rule === 'found' || queriesRelevant(completion, question!, sample.retrievedDocs));
  return paid ? STAGE1_RETRIEVAL_REWARD : 0;
}

function result(m: ReturnType<typeof measure>, paid: Pick<RewardParts, 'retrieval' | 'format' | 'answer' | 'penalty'>): RewardResult {
  return {
    reward: paid.retrieval + paid.format + paid.answer + paid.penalty,
    parts: {
      ...paid,
      f1: m.f1,
      em: m.em,
      coverEm: m.coverEm,
      prediction: m.prediction,
      formatOk: m.format.ok,
      violations: m.format.violations,
      retrievals: m.retrievals,
      docsFound: m.docsFound,
      answerInDocs: m.answerInDocs,
    },
  };
}

/**
 * Stage 1 reward (recipe.md section 6, the paper's Qwen Stage 1):
 * R = 0.5 [four search tags balanced, at least one search, and with `retrievalReward:
 * 'found'` a document returned, with `'relevant'` also every query on topic; `'follow-up'`: a
 * half for an on-topic first search, a half for a follow-up search] + 0.5 [well-formed,
 * and with `formatNeedsSearch` the first part paid too] (+1 / -1 for Cover-EM right / wrong with
 * `answerBonus`). Range [0, 1], or [-1, 2] with the bonus.
 *
 * @throws Error on a bad sample (no gold answer, wrong types) or bad settings.
 */
export function stage1Reward(completion: string, sample: RewardSample, settings: Partial<RewardSettings> = {}): RewardResult {
  const s = resolveRewardSettings(settings);
  const m = measure(completion, sample);
  const retrieval = stage1Retrieval(s.retrievalReward, m, completion, sample);
  const retrievalPaid = retrieval > 0;
  return result(m, {
    retrieval,
    format: m.format.ok && (retrievalPaid || !s.formatNeedsSearch) ? STAGE1_FORMAT_REWARD : 0,
    answer: s.answerBonus ? (m.coverEm ? STAGE1_ANSWER_BONUS : -STAGE1_ANSWER_BONUS) : 0,
    penalty: 0,
  });
}

/**
 * Stage 2 reward (recipe.md section 6): R = F1 + (0 if well-formed else `formatPenalty`)
 * + (`ungroundedPenalty` for a wrong answer whose words are in neither the retrieved documents
 * nor the question; 0 by default). F1 is measured even on a malformed completion (the paper's
 * code does so), and is 0 when the answer tags are missing. Range [formatPenalty +
 * ungroundedPenalty, 1].
 *
 * @throws Error on a bad sample (no gold answer, wrong types) or bad settings.
 */
export function stage2Reward(completion: string, sample: RewardSample, settings: Partial<RewardSettings> = {}): RewardResult {
  const s = resolveRewardSettings(settings);
  const m = measure(completion, sample);
  // Only looked for when paid: the default (0) adds nothing.
  const guess = s.ungroundedPenalty < 0 && answeredFromNowhere(m, sample) ? s.ungroundedPenalty : 0;
  const penalty = (m.format.ok ? 0 : s.formatPenalty) + guess;
  return result(m, { retrieval: 0, format: 0, answer: m.f1, penalty });
}

/** An RL stage that has an outcome reward. */
export type RewardStage = 1 | 2;

/**
 * The reward of `completion` for the given stage: {@link stage1Reward} or {@link stage2Reward}.
 *
 * @throws Error if `stage` is not 1 or 2, on a bad sample, or on bad settings.
 */
export function computeReward(
  stage: RewardStage,
  completion: string,
  sample: RewardSample,
  settings: Partial<RewardSettings> = {},
): RewardResult {
  if (stage === 1) return stage1Reward(completion, sample, settings);
  if (stage === 2) return stage2Reward(completion, sample, settings);
  throw new Error(`reward stage must be 1 or 2, got ${JSON.stringify(stage)}`);
}
