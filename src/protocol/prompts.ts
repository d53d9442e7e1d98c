/**
 * Prompt templates (recipe.md section 2). A template is data, not code: a preset is a string
 * with slots, rendered per question.
 *
 * Slots:
 * - `{question}`: the question text;
 * - `{query}`, `{documents}`, `{answer}`: placeholder slots of the format description. They
 *   are filled anew at every rendering (recipe.md section 11: fixed placeholder words are
 *   copied literally by a tiny model). `{query}` holds a few words taken from the question
 *   when the preset's `querySlot` is `"question-words"`, random filler words otherwise.
 *
 * Every prompt ends with an opened `<think>`; the model must close it exactly once.
 */
import type { Rng } from '../util/rng.ts';
import { DOCS_CLOSE, DOCS_OPEN, QUERY_CLOSE, QUERY_OPEN } from './tags.ts';

/** A prompt preset. */
export interface PromptPreset {
  name: string;
  /** One line shown in the page. */
  description: string;
  /** The template with `{question}` and optionally `{query}`, `{documents}`, `{answer}`. */
  template: string;
  /** What fills `{query}`: words of the question, or random filler words. */
  querySlot: 'question-words' | 'random';
  /** Whether the template tells the model it may search (false for `naive` evaluation). */
  allowsSearch: boolean;
  /**
   * Presets with a `{searches}` slot: how many search blocks the format description shows,
   * `[min, max]`, the count drawn anew at every rendering (issue 15: searching again after
   * documents must be a move the base has seen).
   */
  searchBlocks?: readonly [number, number];
}

/**
 * The paper's base-model prompt (R1-Searcher, section 3; recipe.md section 2), kept whole as
 * preset `paper`. Too long for a tiny model's context budget, but available to compare.
 */
export const PAPER_PROMPT: PromptPreset = {
  name: 'paper',
  description: "The R1-Searcher paper's prompt for base models, word for word.",
  template:
    'The User asks a question, and the Assistant solves it. The Assistant first thinks about the reasoning ' +
    'process in the mind and then provides the User with the final answer. The output format of reasoning ' +
    'process and final answer are enclosed within <think> </think> and <answer> </answer> tags, respectively, ' +
    'i.e., "<think> reasoning process here </think> <answer> final answer here </answer>". During the thinking ' +
    'process, the Assistant can perform searching for uncertain knowledge if necessary with the format of ' +
    '"<|begin_of_query|> search query (only list keywords, such as "keyword_1 keyword_2 ...")<|end_of_query|>". ' +
    'A query must involve only a single triple. Then, the search system will provide the Assistant with the ' +
    'retrieval information with the format of "<|begin_of_documents|> ...search results... <|end_of_documents|>".' +
    '\n\nUser:{question}\nAssistant: <think>',
  querySlot: 'random',
  allowsSearch: true,
};

/**
 * Short prompt for tiny models: a format description showing the tags in trajectory order
 * with freshly filled slots, then the question. This is the rendering that Stage 0 also
 * pretrains on (recipe.md section 11: the tags must be seen before RL can start).
 */
export const COMPACT_PROMPT: PromptPreset = {
  name: 'compact',
  description: 'Short format description with the tags in trajectory order; the query slot shows words of the question.',
  // The question comes first: in Stage 0 the query slot then follows the question it was taken
  // from, so the base learns "after <|begin_of_query|>, copy a name of the question", which is
  // what its first search needs (a slot before the question could only be guessed).
  template:
    'question : {question} answer the question . search if needed , in this format : <think> <|begin_of_query|> {query} ' +
    '<|end_of_query|> <|begin_of_documents|> {documents} <|end_of_documents|> </think> <answer> {answer} </answer> . <think>',
  querySlot: 'question-words',
  allowsSearch: true,
};

/**
 * The default for tiny models: like `compact`, but the format description shows one to three
 * search blocks, the count drawn anew at every rendering, and its slots show where each part
 * comes from (never a real query, document or answer; every slot is refilled at random):
 * - the first query slot holds words of the question (as in `compact`);
 * - each documents slot holds filler words and one random name;
 * - a later query slot holds the name of the documents slot before it;
 * - the answer slot holds the name of the last documents slot.
 * So a base pretrained on these renderings has seen "search again with a name read from the
 * documents" and "answer with a name read from the last documents" as moves of the format,
 * while what to search for and which name to read is left to RL (recipe.md section 11).
 */
export const CHAIN_PROMPT: PromptPreset = {
  name: 'chain',
  description: 'Format description with one to three searches: a later query and the answer take a name from the documents before them.',
  // The question comes first (the first query slot copies from it) and again last: the skeleton
  // teaches "a later query copies the name just read", and with the question repeated right
  // before the real <think>, the nearest name is the question's. With the question only first, a
  // base copied the skeleton's last name into its first real query (issue 15, measured: 0 of 40
  // greedy queries named the question's entity).
  template:
    'question : {question} answer the question . search if needed , in this format : <think> {searches} </think> ' +
    '<answer> {answer} </answer> . question : {question} <think>',
  querySlot: 'question-words',
  allowsSearch: true,
  searchBlocks: [1, 3],
};

/** Naive generation (recipe.md section 9 baseline): no search in the format description. */
export const NAIVE_PROMPT: PromptPreset = {
  name: 'naive',
  description: 'No search: the format shows thinking and an answer only.',
  template: 'question : {question} answer the question in this format : <think> </think> <answer> {answer} </answer> . <think>',
  querySlot: 'random',
  allowsSearch: false,
};

/**
 * Standard RAG (recipe.md section 9 baseline): the top-k documents for the question are placed
 * in the prompt (`{context}`), then one answer, no search.
 */
export const RAG_PROMPT: PromptPreset = {
  name: 'rag',
  description: 'Retrieved documents for the question are given in the prompt; no search.',
  template:
    '{context} question : {question} answer the question in this format : <think> </think> <answer> {answer} </answer> . <think>',
  querySlot: 'random',
  allowsSearch: false,
};

/**
 * The preset RL and evaluation use unless told otherwise. `chain` needs a base that has seen its
 * renderings and still reads after them: the shipped base continued 2,000 steps on `compact` and
 * `chain` renderings mixed (`pretrain --init ... --prompt-preset compact,chain`). With it, Stage 2
 * reached test Cover-EM 0.67 against 0.58 for `compact` on the base before (issue 15, 4 seeds).
 */
export const DEFAULT_PROMPT_PRESET = 'chain';

/**
 * The preset Stage 0 renders unless told otherwise (`pretrain` from scratch): `compact`. A base
 * pretrained on `chain` alone does not read after it (issue 15: reading probe 0.000 spliced),
 * so `chain` comes in only when a reading base is continued with both presets mixed.
 */
export const STAGE0_PROMPT_PRESET = 'compact';

/** The presets, in the order their words enter a world pack's vocabulary (append new ones last: the order fixes token ids). */
export const PROMPT_PRESETS: Readonly<Record<string, PromptPreset>> = {
  compact: COMPACT_PROMPT,
  paper: PAPER_PROMPT,
  naive: NAIVE_PROMPT,
  rag: RAG_PROMPT,
  chain: CHAIN_PROMPT,
};

/**
 * For an imported instruct (chat) model: the R1-Searcher format as a system message in the
 * ChatML template that SmolLM2-Instruct and Qwen2.5-Instruct use (the paper trains its instruct
 * models with a system prompt of this kind rather than the base-model prompt), ending in the
 * assistant's opened `<think>`. Our wording. Kept out of PROMPT_PRESETS on purpose: the world
 * generator reserves the words of those templates (src/world/names.ts), and a new preset must
 * not change a regenerated pack.
 */
export const INSTRUCT_CHATML_PROMPT: PromptPreset = {
  name: 'instruct-chatml',
  description: 'For chat (instruct) models: the format as a system message in the ChatML template (<|im_start|> ... <|im_end|>).',
  template:
    '<|im_start|>system\nYou are a helpful assistant. Reason inside <think> </think>, then give the final answer inside ' +
    '<answer> </answer>. While reasoning you may look up facts you are unsure of: write <|begin_of_query|> keywords ' +
    '<|end_of_query|>, and the search results will appear between <|begin_of_documents|> and <|end_of_documents|>.<|im_end|>\n' +
    '<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n<think>',
  querySlot: 'random',
  allowsSearch: true,
};

/** Every preset a run may name: PROMPT_PRESETS and the instruct-model presets. */
export const ALL_PROMPT_PRESETS: Readonly<Record<string, PromptPreset>> = { ...PROMPT_PRESETS, 'instruct-chatml': INSTRUCT_CHATML_PROMPT };

/** Looks a preset up by name; throws naming the known presets. */
export function getPromptPreset(name: string): PromptPreset {
  const p = ALL_PROMPT_PRESETS[name];
  if (!p) throw new Error(`unknown prompt preset "${name}" (known: ${Object.keys(ALL_PROMPT_PRESETS).join(', ')})`);
  return p;
}

/**
 * Words that fill the placeholder slots; also part of every vocabulary. Generic words, never
 * names: the only names in a rendered prompt are then the question's (and the query slot's,
 * taken from it), so "copy a name of the prompt into the query" finds the subject; with random
 * names in the slots a tiny model copied those instead. Many of them, drawn anew at every
 * rendering, so none is learned as a literal answer (recipe.md section 11).
 */
export const FILLER_WORDS = [
  'keywords', 'words', 'facts', 'text', 'name', 'place', 'result', 'results', 'answer', 'note', 'entry', 'topic',
  'item', 'detail', 'details', 'record', 'passage', 'page', 'line', 'term', 'value', 'source', 'info', 'data',
  'search', 'query', 'document', 'documents', 'evidence', 'clue', 'clues', 'hint', 'fact', 'list', 'title', 'summary',
  'reply', 'finding', 'findings', 'report', 'notes', 'remark', 'content', 'snippet', 'excerpt', 'article', 'paragraph',
  'reference', 'lookup', 'match', 'hit', 'hits', 'output', 'response', 'solution', 'guess', 'lead', 'pointer', 'key',
] as const;

/** Words of a question that are worth searching for (not question words or function words). */
const QUERY_STOPWORDS = new Set([
  'who', 'what', 'where', 'when', 'which', 'was', 'were', 'is', 'are', 'the', 'a', 'an', 'of', 'in', 'did', 'does', 'do',
  'for', 'by', 'to', 'at', 'that', 'first', 'earlier', 'or', 'and', 'city', 'company', 'university', 'year', 'born',
  'based', 'located', 'headquarters', 'author', 'founder', 'birthplace', 'employed', 'study', 'studied', 'attend',
  'work', 'worked', 'wrote', 'founded',
]);

/** Options of {@link renderPrompt}. */
export interface RenderOptions {
  /** Words the query (when random) and documents slots are filled with (defaults to FILLER_WORDS). */
  fillerWords?: readonly string[];
  /**
   * Words the answer slot is filled with (defaults to the filler words). Stage 0 and RL pass the
   * vocabulary (mostly names): an answer slot of generic words taught the base to answer
   * "article" or "guess"; a random name keeps "the answer is a name", and reading says which.
   */
  answerWords?: readonly string[];
  /** Text for `{context}` (RAG preset). */
  context?: string;
}

/**
 * Renders a prompt for a question. Random choices come from `rng`, so a seeded run renders the
 * same prompts. `question` is used as given (the tokenizer normalizes it later).
 */
export function renderPrompt(preset: PromptPreset, question: string, rng: Rng, opts: RenderOptions = {}): string {
  const filler = opts.fillerWords && opts.fillerWords.length > 0 ? opts.fillerWords : FILLER_WORDS;
  const randomWords = (min: number, max: number) => {
    const n = min + rng.int(max - min + 1);
    return Array.from({ length: n }, () => rng.pick(filler)).join(' ');
  };
  const names = opts.answerWords && opts.answerWords.length > 0 ? opts.answerWords : null;
  const query = preset.querySlot === 'question-words' ? questionWords(question, rng) : randomWords(1, 2);
  let text = preset.template;
  let answer: string;
  if (preset.searchBlocks) {
    const [min, max] = preset.searchBlocks;
    const blocks: string[] = [];
    let q = query, name = '';
    for (let k = 0, n = min + rng.int(max - min + 1); k < n; k++) {
      // One name among the filler words of each documents slot; the next query and the answer
      // copy it. A query never holds a number (a year finds nothing), so only the last slot,
      // which the answer copies, may hold one.
      const last = k === n - 1;
      const pool = names && !last ? queryNames(names) : names;
      name = pool ? rng.pick(pool) : rng.pick(filler);
      const words = randomWords(2, 4).split(' ');
      words.splice(rng.int(words.length + 1), 0, name);
      blocks.push(`${QUERY_OPEN} ${q} ${QUERY_CLOSE} ${DOCS_OPEN} ${words.join(' ')} ${DOCS_CLOSE}`);
      q = name;
    }
    text = text.replace('{searches}', blocks.join(' '));
    answer = name;
  } else {
    // The draw order (query, documents, answer) is the one every earlier run used: keep it.
    text = text.replace('{query}', query).replace('{documents}', randomWords(2, 4));
    answer = names ? rng.pick(names) : randomWords(1, 1);
  }
  return text
    .replace('{answer}', answer)
    .replace('{context}', opts.context ?? '')
    .replaceAll('{question}', () => question)
    .replace(/\s+/g, ' ')
    .trim();
}

const queryNameCache = new WeakMap<readonly string[], readonly string[]>();

/** The words of `names` that are not numbers (cached per array, since prompts are rendered often). */
function queryNames(names: readonly string[]): readonly string[] {
  let out = queryNameCache.get(names);
  if (!out) {
    const words = names.filter((w) => !/^\p{N}+$/u.test(w));
    out = words.length > 0 ? words : names;
    queryNameCache.set(names, out);
  }
  return out;
}

/**
 * The words of a text worth searching for: lowercased, punctuation dropped, question and
 * function words (and the relation words of the templates) removed. The `question-words` query
 * slot draws from them, and Stage 1's `relevant` retrieval reward asks a query to share one with
 * the question or the documents before it (src/rl/rewards.ts).
 */
export function contentWords(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]/gu, ' ')
    .split(/\s+/)
    .filter((w) => w && !QUERY_STOPWORDS.has(w));
}

/** One to two content words of a question, in question order (the `question-words` query slot). */
export function questionWords(question: string, rng: Rng): string {
  const words = contentWords(question);
  if (words.length === 0) return rng.pick(FILLER_WORDS);
  const n = Math.min(words.length, 1 + rng.int(2));
  const start = rng.int(words.length - n + 1);
  return words.slice(start, start + n).join(' ');
}
