/**
 * Which part of one RL step (R1-Searcher's cycle: prompt, reasoning, query, search, documents,
 * answer; then reward, group baseline, advantage, loss) a token of a rollout belongs to, for the
 * cycle diagram (<r1s-cycle>). Pure data from the token texts and masks (token-rows.ts).
 */
import { ANSWER_CLOSE, ANSWER_OPEN, QUERY_CLOSE, QUERY_OPEN } from '../protocol/tags.ts';
import type { TokenRow } from './token-rows.ts';

/** The segment of a rollout a token is in. */
export type TokenPart = 'prompt' | 'think' | 'query' | 'search' | 'documents' | 'answer';

/** Boxes of the cycle diagram. */
export type CycleBox = TokenPart | 'reward' | 'baseline' | 'advantage' | 'loss' | 'update';

/**
 * The part of every row: the prompt; `query` from `<|begin_of_query|>` up to the words before
 * `<|end_of_query|>`; `search` for `<|end_of_query|>` (the token that calls the engine);
 * `documents` for spliced tokens (retrieve mask 0); `answer` from `<answer>` to `</answer>`;
 * everything else the policy wrote is `think`.
 */
export function tokenParts(rows: readonly TokenRow[]): TokenPart[] {
  let state: 'think' | 'query' | 'answer' = 'think';
  return rows.map((r) => {
    if (r.kind === 'prompt') return 'prompt';
    if (r.kind === 'document') return 'documents';
    if (r.text === QUERY_OPEN) state = 'query';
    if (r.text === ANSWER_OPEN) state = 'answer';
    if (r.text === QUERY_CLOSE) {
      state = 'think';
      return 'search';
    }
    const part = state;
    if (r.text === ANSWER_CLOSE) state = 'think';
    return part;
  });
}

/**
 * The boxes a token lights: its own part; for a token in the loss also the advantage and the
 * loss it enters; for the last generated token (where the outcome reward is placed) also the
 * reward parts and the group baseline.
 */
export function litBoxes(rows: readonly TokenRow[], parts: readonly TokenPart[], cursor: number): CycleBox[] {
  const r = rows[cursor];
  if (!r) return [];
  const out: CycleBox[] = [parts[cursor]!];
  let last = -1;
  for (const x of rows) if (x.kind === 'generated') last = x.index;
  if (cursor === last) out.push('reward', 'baseline');
  if (r.inLoss) out.push('advantage', 'loss', 'update');
  return out;
}
