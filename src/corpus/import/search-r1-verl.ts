/**
 * Search-R1's training and test rows (Jin et al., 2025; PeterGriffinJin/Search-R1
 * `scripts/data_process/nq_search.py`, `qa_search_train_merge.py`): verl's RL data layout, in
 * `train.parquet` / `test.parquet` (or the same rows as JSON Lines). Each row has
 * `data_source` ("nq", "hotpotqa", ..), `prompt` (chat messages `[{role, content}]`, the search
 * prompt ending in `Question: <question>\n`), `ability`, `reward_model: {style, ground_truth:
 * {target: [answers]}}` and `extra_info: {split, index}`; the FlashRAG columns the script
 * started from (`id`, `question`, `golden_answers`, `metadata`) usually stay beside them.
 *
 * Read: the question from `question` when present, else from the prompt after its last
 * `Question:`; answers from `reward_model.ground_truth.target` (plus `golden_answers`); the row's
 * dataset from `data_source` (per row: a merged file mixes nq and hotpotqa; Search-R1's
 * `2wikimultihopqa` is our `2wiki`); its split from `extra_info.split`; the id from `id`, else
 * `extra_info.index`. `metadata.dataset` / `.template` / `.hops` / `.supporting_ids`, which our own export writes
 * (src/corpus/export/search-r1.ts), restore the pack's dataset (written as a `data_source`
 * Search-R1's reward knows), template and hop count.
 */
import { answerList, collapseSpace, describe, isRecord, optionalId, questionText } from './fields.ts';
import { RecordError, type FormatReader, type SourceQuestion } from './types.ts';
import type { Split } from '../types.ts';

/** Search-R1's `data_source` names that differ from ours. */
const DATA_SOURCE_NAMES: Readonly<Record<string, string>> = { '2wikimultihopqa': '2wiki' };

/** The question of a verl `prompt`: the last user message, after its last `Question:`. */
function questionFromPrompt(prompt: unknown): string {
  if (!Array.isArray(prompt)) throw new RecordError('missing-question', `field "prompt" must be a list of chat messages, got ${describe(prompt)}`);
  const user = [...prompt].reverse().find((m) => isRecord(m) && m.role === 'user' && typeof m.content === 'string') as { content: string } | undefined;
  if (!user) throw new RecordError('missing-question', 'field "prompt" has no user message with a string "content"');
  const at = user.content.lastIndexOf('Question:');
  const q = collapseSpace(at >= 0 ? user.content.slice(at + 'Question:'.length) : user.content);
  if (q === '') throw new RecordError('missing-question', 'the prompt\'s user message has no question text');
  return q;
}

export const searchR1Verl: FormatReader<SourceQuestion> = {
  format: 'search-r1-verl',
  role: 'questions',
  container: 'jsonl',
  description: 'Search-R1 / verl rows {data_source, prompt, ability, reward_model: {ground_truth: {target}}, extra_info: {split, index}} (parquet or JSON Lines)',
  matches: (r) => 'prompt' in r && isRecord(r.reward_model),
  read(r) {
    const question = typeof r.question === 'string' && r.question.trim() !== '' ? questionText(r, 'question') : questionFromPrompt(r.prompt);
    const rm = isRecord(r.reward_model) ? r.reward_model : {};
    const gt = rm.ground_truth;
    if (!isRecord(gt)) throw new RecordError('missing-answer', `field "reward_model.ground_truth" must be an object {target: [..]}, got ${describe(gt)}`);
    const answers = answerList({ target: gt.target, golden_answers: r.golden_answers }, ['target', 'golden_answers']);
    const extra = isRecord(r.extra_info) ? r.extra_info : {};
    const split = extra.split;
    if (split !== undefined && split !== null && split !== 'train' && split !== 'test' && split !== 'ood') {
      throw new RecordError('bad-field', `field "extra_info.split" must be train, test or ood, got ${JSON.stringify(split)}`);
    }
    const source = typeof r.data_source === 'string' && r.data_source.trim() !== '' ? r.data_source.trim() : undefined;
    const meta = isRecord(r.metadata) ? r.metadata : {};
    const template = typeof meta.template === 'string' && meta.template !== '' ? meta.template : undefined;
    const hops = Number.isSafeInteger(meta.hops) && (meta.hops as number) >= 0 ? (meta.hops as number) : undefined;
    const type = typeof meta.type === 'string' && meta.type !== '' ? meta.type : undefined;
    const supportingIds = Array.isArray(meta.supporting_ids) ? meta.supporting_ids.filter((x): x is string => typeof x === 'string') : [];
    const ownDataset = typeof meta.dataset === 'string' && /^[a-z0-9_-]+$/.test(meta.dataset) ? meta.dataset : undefined;
    return {
      sourceId: optionalId(r, 'id') ?? optionalId(extra, 'index'),
      question,
      answers,
      ...(type ? { type } : {}),
      ...(hops !== undefined ? { hops } : {}),
      ...(template ? { template } : {}),
      ...(split ? { split: split as Split } : {}),
      ...(ownDataset ? { dataset: ownDataset } : source ? { dataset: DATA_SOURCE_NAMES[source] ?? source } : {}),
      ...(supportingIds.length ? { supportingIds } : {}),
      supporting: [],
      contexts: [],
    };
  },
};
