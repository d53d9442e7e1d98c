/**
 * The format check of a completion (recipe.md section 5, from the paper's Qwen-Base reward code)
 * and the tag bookkeeping that rewards and the page need: tag counts, document blocks, the
 * number of completed searches.
 *
 * A completion is everything generated after the prompt, the spliced documents included, as
 * text with the tags written out. Tags are single tokens here, so whitespace around them never
 * matters and only the four search tags are counted for rule 1 (recipe.md section 10: the
 * reference counts seven strings with newlines, which also fails a no-hit `None` block).
 */
import {
  ANSWER_CLOSE,
  ANSWER_OPEN,
  DOCS_CLOSE,
  DOCS_OPEN,
  QUERY_CLOSE,
  QUERY_OPEN,
  THINK_CLOSE,
  THINK_OPEN,
} from './tags.ts';

/** Rule 6: the answer may have at most this many whitespace-separated words. */
export const MAX_ANSWER_WORDS = 10;

/** How many times each of the eight tags of recipe.md section 2 occurs in a completion. */
export interface TagCounts {
  /** `<think>` (the prompt opens it, so a completion should hold none). */
  thinkOpen: number;
  /** `</think>` */
  thinkClose: number;
  /** `<answer>` */
  answerOpen: number;
  /** `</answer>` */
  answerClose: number;
  /** `<|begin_of_query|>` */
  queryOpen: number;
  /** `<|end_of_query|>` */
  queryClose: number;
  /** `<|begin_of_documents|>` */
  docsOpen: number;
  /** `<|end_of_documents|>` */
  docsClose: number;
}

/** Non-overlapping occurrences of `needle` in `text` (Python's `str.count`). */
function countOf(text: string, needle: string): number {
  let n = 0;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) n++;
  return n;
}

/** Counts the eight tags in a completion (over the whole text, document blocks included). */
export function countTags(completion: string): TagCounts {
  return {
    thinkOpen: countOf(completion, THINK_OPEN),
    thinkClose: countOf(completion, THINK_CLOSE),
    answerOpen: countOf(completion, ANSWER_OPEN),
    answerClose: countOf(completion, ANSWER_CLOSE),
    queryOpen: countOf(completion, QUERY_OPEN),
    queryClose: countOf(completion, QUERY_CLOSE),
    docsOpen: countOf(completion, DOCS_OPEN),
    docsClose: countOf(completion, DOCS_CLOSE),
  };
}

/** True iff the four search tags occur equally often (rule 1 of recipe.md section 5). */
export function searchTagsBalanced(c: TagCounts): boolean {
  return c.queryOpen === c.queryClose && c.queryClose === c.docsOpen && c.docsOpen === c.docsClose;
}

/** A document block: from `<|begin_of_documents|>` through its `<|end_of_documents|>`. */
interface BlockSpan {
  /** Index of the opening tag. */
  start: number;
  /** Index just past the closing tag, or the text length for an unclosed block. */
  end: number;
  /** The text between the tags. */
  content: string;
  closed: boolean;
}

/**
 * Finds the document blocks left to right. A block ends at the first `<|end_of_documents|>`
 * after its opening tag; an unclosed block runs to the end of the text (a rollout cut off by the
 * length limit, or a model that wrote the tag itself). A stray `<|end_of_documents|>` with no
 * opening belongs to no block.
 */
function scanDocumentBlocks(completion: string): BlockSpan[] {
  const blocks: BlockSpan[] = [];
  let from = 0;
  for (;;) {
    const start = completion.indexOf(DOCS_OPEN, from);
    if (start < 0) break;
    const contentStart = start + DOCS_OPEN.length;
    const close = completion.indexOf(DOCS_CLOSE, contentStart);
    if (close < 0) {
      blocks.push({ start, end: completion.length, content: completion.slice(contentStart), closed: false });
      break;
    }
    const end = close + DOCS_CLOSE.length;
    blocks.push({ start, end, content: completion.slice(contentStart, close), closed: true });
    from = end;
  }
  return blocks;
}

/**
 * The text of each document block of a completion (tags excluded, trimmed), in order; an
 * unclosed last block runs to the end of the text. A no-hit block holds `None`.
 */
export function documentBlocks(completion: string): string[] {
  return scanDocumentBlocks(completion).map((b) => b.content.trim());
}

/**
 * The completion with every document block (tags included) replaced by one space: the text
 * the policy wrote itself. The space keeps the words on either side of a block apart, so
 * "assist<docs>...</docs>ant" does not become "assistant".
 */
export function stripDocumentBlocks(completion: string): string {
  let out = '';
  let from = 0;
  for (const b of scanDocumentBlocks(completion)) {
    out += completion.slice(from, b.start) + ' ';
    from = b.end;
  }
  return out + completion.slice(from);
}

const SEARCH_TAG_RE = /<\|(?:begin|end)_of_(?:query|documents)\|>/g;

/**
 * Number of completed searches in a completion: occurrences of the sequence
 * `<|begin_of_query|> ... <|end_of_query|> <|begin_of_documents|> ... <|end_of_documents|>`
 * with the four search tags in exactly this order (other text, and think/answer tags, may lie
 * between them). A query cut off before its documents, an unclosed document block, or a
 * document block the policy opened without a query does not count. In a completion whose
 * rule 1 holds and whose searches all completed, this equals each of the four tag counts.
 */
export function retrievalCount(completion: string): number {
  // idle -> (query open) -> inQuery -> (query close) -> queried -> (docs open) -> inDocs -> (docs close) -> idle
  let state: 'idle' | 'inQuery' | 'queried' | 'inDocs' = 'idle';
  let n = 0;
  for (const m of completion.matchAll(SEARCH_TAG_RE)) {
    const tag = m[0];
    if (tag === QUERY_OPEN) state = 'inQuery';
    else if (tag === QUERY_CLOSE) state = state === 'inQuery' ? 'queried' : 'idle';
    else if (tag === DOCS_OPEN) state = state === 'queried' ? 'inDocs' : 'idle';
    else {
      if (state === 'inDocs') n++;
      state = 'idle';
    }
  }
  return n;
}

/** Result of {@link checkFormat}. */
export interface FormatCheck {
  /** True iff all seven rules hold (no violation). */
  ok: boolean;
  /** One short readable reason per broken rule, in rule order (the page shows them). */
  violations: string[];
}

const times = (n: number) => (n === 1 ? '1 time' : `${n} times`);

/**
 * The answer text for rules 5 and 6: after the last `<answer>`, up to the next `</answer>` or
 * the end of the text, trimmed (as the reference code splits it); null without `<answer>`.
 */
function answerTextForRules(completion: string): string | null {
  const open = completion.lastIndexOf(ANSWER_OPEN);
  if (open < 0) return null;
  const rest = completion.slice(open + ANSWER_OPEN.length);
  const close = rest.indexOf(ANSWER_CLOSE);
  return (close < 0 ? rest : rest.slice(0, close)).trim();
}

/**
 * Checks the seven format rules of recipe.md section 5 on a completion (the generated text
 * after the prompt, documents included):
 * 1. `<|begin_of_query|>`, `<|end_of_query|>`, `<|begin_of_documents|>`, `<|end_of_documents|>`
 *    occur equally often;
 * 2. neither `Assistant` nor `assistant` occurs outside the document blocks (our variant: the
 *    reference also counts inside documents, which punishes the policy for what search returned);
 * 3. `<think>` does not occur and `</think>` occurs exactly once;
 * 4. `<answer>` and `</answer>` occur exactly once each; we also require `<answer>` to come
 *    first (the reference does not check the order; with the order reversed there is no answer
 *    to score, see {@link findAnswer});
 * 5. the answer text contains neither `begin_of_query` nor `begin_of_documents`;
 * 6. the answer text has at most {@link MAX_ANSWER_WORDS} whitespace-separated words;
 * 7. no CJK character (U+4E00..U+9FFF) occurs outside the document blocks.
 * Rules 5 and 6 are checked only when an `<answer>` exists (otherwise rule 4 already fails).
 * Never throws on a string.
 */
export function checkFormat(completion: string): FormatCheck {
  const c = countTags(completion);
  const outside = stripDocumentBlocks(completion);
  const violations: string[] = [];

  // Rule 1.
  if (!searchTagsBalanced(c)) {
    violations.push(
      `search tags unbalanced: ${c.queryOpen} ${QUERY_OPEN}, ${c.queryClose} ${QUERY_CLOSE}, ` +
        `${c.docsOpen} ${DOCS_OPEN}, ${c.docsClose} ${DOCS_CLOSE}`,
    );
  }
  // Rule 2: a new turn would let the policy talk past its own answer.
  const turn = /[Aa]ssistant/.exec(outside);
  if (turn) violations.push(`"${turn[0]}" written outside the documents (a new turn)`);
  // Rule 3.
  if (c.thinkOpen > 0) violations.push(`${THINK_OPEN} occurs ${times(c.thinkOpen)} (the prompt already opened it)`);
  if (c.thinkClose !== 1) violations.push(`${THINK_CLOSE} occurs ${times(c.thinkClose)} (needs exactly 1)`);
  // Rule 4.
  if (c.answerOpen !== 1) violations.push(`${ANSWER_OPEN} occurs ${times(c.answerOpen)} (needs exactly 1)`);
  if (c.answerClose !== 1) violations.push(`${ANSWER_CLOSE} occurs ${times(c.answerClose)} (needs exactly 1)`);
  if (c.answerOpen === 1 && c.answerClose === 1 && completion.indexOf(ANSWER_CLOSE) < completion.indexOf(ANSWER_OPEN)) {
    violations.push(`${ANSWER_CLOSE} comes before ${ANSWER_OPEN}`);
  }
  // Rules 5 and 6.
  const answer = answerTextForRules(completion);
  if (answer !== null) {
    if (answer.includes('begin_of_query') || answer.includes('begin_of_documents')) {
      violations.push('the answer contains a search (query or documents tag)');
    }
    const words = answer.split(/\s+/).filter((w) => w.length > 0).length;
    if (words > MAX_ANSWER_WORDS) violations.push(`the answer has ${words} words (at most ${MAX_ANSWER_WORDS})`);
  }
  // Rule 7.
  const cjk = /[\u4e00-\u9fff]/.exec(outside);
  if (cjk) violations.push(`CJK character "${cjk[0]}" written outside the documents`);

  return { ok: violations.length === 0, violations };
}

/** One completed search of a completion: what the policy asked and the block it got back. */
export interface SearchTurn {
  /** The query text between `<|begin_of_query|>` and `<|end_of_query|>`, trimmed. */
  query: string;
  /** The text of the document block that followed it (tags excluded, trimmed). */
  documents: string;
}

/**
 * The completed searches of a completion in order, under the same state machine as
 * {@link retrievalCount} (so `searchTurns(c).length === retrievalCount(c)`).
 */
export function searchTurns(completion: string): SearchTurn[] {
  let state: 'idle' | 'inQuery' | 'queried' | 'inDocs' = 'idle';
  let queryStart = 0, query = '', docsStart = 0;
  const turns: SearchTurn[] = [];
  for (const m of completion.matchAll(SEARCH_TAG_RE)) {
    const tag = m[0], at = m.index!;
    if (tag === QUERY_OPEN) { state = 'inQuery'; queryStart = at + tag.length; }
    else if (tag === QUERY_CLOSE) {
      if (state === 'inQuery') { state = 'queried'; query = completion.slice(queryStart, at).trim(); }
      else state = 'idle';
    } else if (tag === DOCS_OPEN) {
      if (state === 'queried') { state = 'inDocs'; docsStart = at + tag.length; }
      else state = 'idle';
    } else {
      if (state === 'inDocs') turns.push({ query, documents: completion.slice(docsStart, at).trim() });
      state = 'idle';
    }
  }
  return turns;
}
