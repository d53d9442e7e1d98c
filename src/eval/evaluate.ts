/**
 * Evaluation of a policy on a question split (recipe.md sections 8-9): greedy decoding, top-k 5
 * as in the paper's evaluation, and three modes:
 * - `search`: the policy searches on its own (the RL prompt);
 * - `naive`: no search: the prompt without the search instruction, and a query ends the answer;
 * - `rag`: standard retrieval-augmented generation: the top-k documents for the question text
 *   are placed in the prompt (written as one search already made), then one answer, no search;
 * - `oracle`: the policy searches, but every search returns the question's supporting documents
 *   (all hops at once), whatever the query: the reading ceiling (issue 15).
 * Metrics per split, template and hop count: EM, F1, Cover-EM (the paper's ACC_R), format rate,
 * searches per question, response length, the share of questions whose supporting documents
 * were all retrieved, for multi-hop questions the share whose first query found the first hop,
 * the searches' diagnosis (src/rl/search-diagnostics.ts), and where a wrong answer came from
 * when the documents held the right one.
 */
import type { Question } from '../corpus/types.ts';
import type { Llama } from '../model/llama.ts';
import type { Retriever } from '../search/retriever.ts';
import { type TextTokenizer, encodePrompt } from '../tokenizer/text-tokenizer.ts';
import { DOCS_CLOSE, DOCS_OPEN, QUERY_CLOSE, QUERY_OPEN } from '../protocol/tags.ts';
import { Rng } from '../util/rng.ts';
import { checkFormat } from '../protocol/format.ts';
import { DEFAULT_PROMPT_PRESET, getPromptPreset, renderPrompt } from '../protocol/prompts.ts';
import { generateRollouts, type RolloutSettings } from '../rl/rollout.ts';
import { slotAnswerWords } from '../tokenizer/slot-words.ts';
import { containsAnswer, coverExactMatch, exactMatch, f1Score, findAnswer } from '../protocol/answer-metrics.ts';
import { answerSource, bridgeIdsOf, diagnoseSearches, summarizeSearches, type AnswerSource, type SearchDiagnosis } from '../rl/search-diagnostics.ts';
import type { SearchHit } from '../search/search-index.ts';
import { documentText, formatDocuments } from '../protocol/splice.ts';

export type EvalMode = 'search' | 'naive' | 'rag' | 'oracle';
export const EVAL_MODES: readonly EvalMode[] = ['search', 'naive', 'rag', 'oracle'];
/** The modes that need only a search engine (the oracle also needs the pack's documents, which the page's search worker keeps to itself). */
export const RETRIEVER_EVAL_MODES: readonly EvalMode[] = EVAL_MODES.filter((m) => m !== 'oracle');

export interface EvalSettings {
  mode: EvalMode;
  /** Prompt preset of the `search` mode (the RL prompt). */
  promptPreset: string;
  /** Documents per search (paper's evaluation: 5). */
  topK: number;
  maxSearches: number;
  maxNewTokens: number;
  docMaxWords: number;
  maxLength: number;
  /** Questions decoded together. */
  batchSize: number;
  /** Seed of the prompts' placeholder words (evaluation is deterministic for a seed). */
  seed: number;
}

/**
 * Greedy, the RL prompt, up to 3 searches, top-k 5 as in the paper's evaluation. (The nano and
 * small presets have 512 positions: three searches of five documents do not fit; multi-hop
 * experiments evaluate with `--top-k 3`.)
 */
export function defaultEvalSettings(mode: EvalMode = 'search'): EvalSettings {
  return { mode, promptPreset: DEFAULT_PROMPT_PRESET, topK: 5, maxSearches: 3, maxNewTokens: 64, docMaxWords: 40, maxLength: 512, batchSize: 64, seed: 1234 };
}

/** Means over a set of questions. */
export interface EvalMetrics {
  n: number;
  /** Mean hop count of the questions. */
  hops: number;
  em: number;
  f1: number;
  coverEm: number;
  formatRate: number;
  searchesPerQuestion: number;
  responseLength: number;
  /** Share whose retrieved documents (search or RAG context) contain a gold answer. */
  answerInDocs: number;
  /** Share whose supporting documents were all retrieved. */
  supportRecall: number;
  /** Multi-hop questions only: share whose first query found the first supporting document (NaN if none). */
  firstHopFound: number;
  /** Share of questions with two or more searches. */
  multiSearch: number;
  /** Share whose first / last search's documents hold a gold answer. */
  answerInFirstDocs: number;
  answerInLastDocs: number;
  /** Multi-hop questions with a known bridge: share whose later query named one (NaN if none). */
  bridgeQueried: number;
  /**
   * Questions whose retrieved documents held a gold answer but whose answer was wrong (not
   * Cover-EM), and where their answer came from (`answerSource`).
   */
  missedInDocs: { n: number; empty: number; documents: number; question: number; nowhere: number };
}

/** One evaluated question. */
export interface EvalRecord {
  id: string;
  template: string;
  hops: number;
  split: string;
  question: string;
  answers: string[];
  prediction: string;
  em: boolean;
  f1: number;
  coverEm: boolean;
  formatOk: boolean;
  searches: { query: string; ids: string[] }[];
  completion: string;
  finishReason: string;
  /** Retrieved documents held a gold answer. */
  answerInDocs: boolean;
  /** Where the answer came from (see `answerSource`). */
  answerSource: AnswerSource;
}

export interface EvalResult {
  mode: EvalMode;
  overall: EvalMetrics;
  byTemplate: Record<string, EvalMetrics>;
  byHops: Record<string, EvalMetrics>;
  records: EvalRecord[];
}

/**
 * The documents of the pack, by id: the `oracle` mode splices a question's supporting documents
 * from it, and the bridge diagnosis reads the titles of the bridge documents (bridgeIdsOf).
 */
export type DocumentsById = ReadonlyMap<string, { id: string; title: string; text: string }>;

/**
 * Evaluates `questions` with greedy decoding. Deterministic for a model, questions and settings.
 * @throws Error on an unknown mode or a bad batch size, and in `oracle` mode without `documents`
 *   or for a question with no supporting document in them.
 */
export async function evaluate(
  model: Llama, tokenizer: TextTokenizer, retriever: Retriever, questions: readonly Question[], s: EvalSettings,
  onProgress?: (done: number, total: number) => void, documents?: DocumentsById,
): Promise<EvalResult> {
  if (!EVAL_MODES.includes(s.mode)) throw new Error(`eval: unknown mode "${s.mode}" (known: ${EVAL_MODES.join(', ')})`);
  if (!Number.isInteger(s.batchSize) || s.batchSize < 1) throw new Error(`eval: batchSize must be a positive integer, got ${s.batchSize}`);
  if (s.mode === 'oracle') {
    if (!documents) throw new Error('eval: oracle mode needs the pack\'s documents');
    for (const q of questions) {
      if (!(q.supportingIds ?? []).some((id) => documents.has(id))) throw new Error(`eval: oracle mode: question ${q.id} has no supporting document in the pack`);
    }
  }
  const rollout: RolloutSettings = {
    maxNewTokens: s.maxNewTokens, maxSearches: s.mode === 'search' || s.mode === 'oracle' ? s.maxSearches : 0, topK: s.topK, docMaxWords: s.docMaxWords,
    temperature: 0, topP: 1, maxLength: Math.min(s.maxLength, model.config.maxPositions),
  };
  const answerWords = slotAnswerWords(tokenizer);
  const records: EvalRecord[] = [];
  const stats: { inDocs: boolean; support: boolean; firstHop: boolean | null; searches: number; length: number; diagnosis: SearchDiagnosis }[] = [];
  for (let start = 0; start < questions.length; start += s.batchSize) {
    const batch = questions.slice(start, start + s.batchSize);
    // One generator per question, seeded by its position, so a question renders the same prompt in any batch.
    const contexts = s.mode === 'rag' ? await retriever.searchMany(batch.map((q) => q.question), s.topK) : null;
    const prompts = batch.map((q, i) => {
      const rng = new Rng(s.seed * 1000003 + start + i);
      const encode = (text: string) => encodePrompt(tokenizer, text);
      if (s.mode === 'naive') return encode(renderPrompt(getPromptPreset('naive'), q.question, rng, { answerWords }));
      const base = renderPrompt(getPromptPreset(s.promptPreset), q.question, rng, { answerWords });
      if (s.mode === 'search' || s.mode === 'oracle') return encode(base);
      // RAG: the top-k documents, fewer when they would leave no room for the answer (long
      // paragraphs of real text under BPE); the metrics count the documents actually shown.
      for (let k = contexts![i]!.length; ; k--) {
        const ids = encode(`${base} ${QUERY_OPEN} ${q.question} ${QUERY_CLOSE} ${DOCS_OPEN} ${formatDocuments(contexts![i]!.slice(0, k), s.docMaxWords)} ${DOCS_CLOSE}`);
        if (ids.length + rollout.maxNewTokens <= rollout.maxLength || k <= 1) {
          contexts![i] = contexts![i]!.slice(0, k);
          return ids;
        }
      }
    });
    const searcher = s.mode === 'oracle' ? oracleRetriever(batch, documents!) : retriever;
    const rollouts = await generateRollouts(model, tokenizer, searcher, prompts, 1, rollout, new Rng(s.seed));
    rollouts.forEach((r, i) => {
      const q = batch[i]!;
      const completion = tokenizer.decode(r.tokens.slice(r.promptLength));
      const answer = findAnswer(completion);
      const prediction = answer ?? '';
      const hitLists = s.mode === 'rag' ? [contexts![i]!] : r.searches.map((c) => c.hits);
      const retrievedIds = new Set(hitLists.flat().map((h) => h.id));
      const spliced = (h: SearchHit) => documentText(h, s.docMaxWords);
      const retrievedText = hitLists.flat().map(spliced).join('\n');
      const inDocs = retrievedText.length > 0 && containsAnswer(retrievedText, q.answers);
      const coverEm = answer !== null && coverExactMatch(prediction, q.answers);
      const bridges = bridgeIdsOf(q).flatMap((id) => documents?.get(id)?.title ?? []);
      const diagnosis = diagnoseSearches(
        hitLists.map((hits, k) => ({ query: s.mode === 'rag' ? q.question : r.searches[k]!.query, documents: hits.map(spliced) })),
        q.answers, bridges,
      );
      records.push({
        id: q.id, template: q.template, hops: q.hops, split: q.split, question: q.question, answers: q.answers, prediction,
        em: answer !== null && exactMatch(prediction, q.answers),
        f1: answer !== null ? f1Score(prediction, q.answers).f1 : 0,
        coverEm,
        formatOk: checkFormat(completion).ok,
        searches: r.searches.map((c) => ({ query: c.query, ids: c.hits.map((h) => h.id) })),
        completion, finishReason: r.finishReason,
        answerInDocs: inDocs, answerSource: answerSource(prediction, retrievedText, q.question),
      });
      const first = r.searches[0];
      stats.push({
        inDocs,
        diagnosis,
        support: q.supportingIds.length > 0 && q.supportingIds.every((d) => retrievedIds.has(d)),
        firstHop: q.hops >= 2 && q.supportingIds.length > 0 ? !!first && first.hits.some((h) => h.id === q.supportingIds[0]) : null,
        searches: r.searches.length,
        length: r.actionMask.reduce((a, m) => a + m, 0),
      });
    });
    onProgress?.(Math.min(questions.length, start + s.batchSize), questions.length);
  }
  const summarize = (idx: number[]): EvalMetrics => {
    const n = idx.length;
    const mean = (f: (i: number) => number) => (n === 0 ? NaN : idx.reduce((a, i) => a + f(i), 0) / n);
    const multi = idx.filter((i) => stats[i]!.firstHop !== null);
    const searches = summarizeSearches(idx.map((i) => stats[i]!.diagnosis));
    const missed = idx.filter((i) => records[i]!.answerInDocs && !records[i]!.coverEm);
    const from = (src: AnswerSource) => missed.filter((i) => records[i]!.answerSource === src).length;
    return {
      n,
      hops: mean((i) => records[i]!.hops),
      em: mean((i) => +records[i]!.em),
      f1: mean((i) => records[i]!.f1),
      coverEm: mean((i) => +records[i]!.coverEm),
      formatRate: mean((i) => +records[i]!.formatOk),
      searchesPerQuestion: mean((i) => stats[i]!.searches),
      responseLength: mean((i) => stats[i]!.length),
      answerInDocs: mean((i) => +stats[i]!.inDocs),
      supportRecall: mean((i) => +stats[i]!.support),
      firstHopFound: multi.length === 0 ? NaN : multi.reduce((a, i) => a + +stats[i]!.firstHop!, 0) / multi.length,
      multiSearch: searches.multiSearch,
      answerInFirstDocs: searches.answerInFirstDocs,
      answerInLastDocs: searches.answerInLastDocs,
      bridgeQueried: searches.bridgeQueried,
      missedInDocs: { n: missed.length, empty: from('empty'), documents: from('documents'), question: from('question'), nowhere: from('nowhere') },
    };
  };
  const groupBy = (key: (r: EvalRecord) => string) => {
    const g = new Map<string, number[]>();
    records.forEach((r, i) => g.set(key(r), [...(g.get(key(r)) ?? []), i]));
    return Object.fromEntries([...g].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, idx]) => [k, summarize(idx)]));
  };
  return {
    mode: s.mode,
    overall: summarize(records.map((_, i) => i)),
    byTemplate: groupBy((r) => r.template),
    byHops: groupBy((r) => String(r.hops)),
    records,
  };
}

/**
 * The retriever of the `oracle` mode: whatever the query, the search answers with the supporting
 * documents of the question its rollout belongs to (`groups`, see Retriever.searchMany), at
 * most `k` of them, in hop order, with score 1.
 */
function oracleRetriever(batch: readonly Question[], documents: DocumentsById): Retriever {
  const evidence = (q: Question, k: number): SearchHit[] =>
    (q.supportingIds ?? []).flatMap((id) => {
      const d = documents.get(id);
      return d ? [{ id: d.id, title: d.title, text: d.text, score: 1 }] : [];
    }).slice(0, k);
  return {
    search: async () => {
      throw new Error('oracle retriever: search needs the rollout\'s question (use searchMany with groups)');
    },
    searchMany: async (queries, k, groups) => {
      if (!groups || groups.length !== queries.length) throw new Error('oracle retriever: searchMany needs the group of every query');
      return groups.map((g) => evidence(batch[g]!, k));
    },
  };
}
