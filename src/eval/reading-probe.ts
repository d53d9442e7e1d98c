/**
 * The reading probe (issue 15's first wall, measured where it starts): can a checkpoint read the
 * answer out of documents laid in front of it, with no search involved? It greedy-decodes the
 * answer of held-out Stage-0 reading passages (src/stage0/world-mix.ts, a stream of its own, so
 * never the passages pretraining drew) cut right after `<answer>`, and counts exact matches, by
 * layout (`plain`: the shipped base's; `spliced`: after a prompt, as a rollout splices them) and
 * by answer kind (a name or a year).
 *
 * A base that cannot read its own pretraining passages cannot learn to read by RL from an outcome
 * reward either: the oracle ceiling (`eval --mode oracle`) stays low, whatever the search does.
 */
import type { Llama } from '../model/llama.ts';
import type { PromptPreset } from '../protocol/prompts.ts';
import { ANSWER_CLOSE } from '../protocol/tags.ts';
import { generateRollouts } from '../rl/rollout.ts';
import type { Retriever } from '../search/retriever.ts';
import { createStage0Sampler } from '../stage0/world-mix.ts';
import { type TextTokenizer, encodePrompt } from '../tokenizer/text-tokenizer.ts';
import { Rng } from '../util/rng.ts';

/** Layouts of reading passages the probe can draw (src/stage0/world-mix.ts `layout`). */
export const READING_LAYOUTS = ['plain', 'spliced'] as const;
export type ReadingLayout = (typeof READING_LAYOUTS)[number];

/** One probe item: the passage up to and including `<answer>`, and the answer it goes on with. */
export interface ReadingItem {
  prefix: string;
  answer: string;
}

/** Exact matches over some passages. */
export interface ReadingScore {
  passages: number;
  exact: number;
}

/** What the probe found for one layout. */
export interface ReadingProbeResult {
  layout: ReadingLayout;
  overall: ReadingScore;
  /** By the kind of answer: `year` (digits only) or `name`. */
  byKind: Record<'name' | 'year', ReadingScore>;
  /** The first wrong answers, to show what was read instead. */
  misses: { answer: string; given: string }[];
}

/** The probe's stream of Stage-0 passages (seeded apart from pretraining's, which uses the run's seed). */
export const READING_PROBE_STREAM_SEED = 777;

/**
 * `n` held-out reading passages of the world `worldSeed`, each cut after its `<answer>`.
 * @throws Error for an invalid seed or `n` < 1.
 */
export function readingItems(worldSeed: number, layout: ReadingLayout, n: number, preset?: PromptPreset): ReadingItem[] {
  if (!Number.isInteger(n) || n < 1) throw new Error(`reading probe: n must be a positive integer, got ${n}`);
  const sampler = createStage0Sampler(worldSeed, {
    rngSeed: READING_PROBE_STREAM_SEED, mix: { document: 0, reading: 1, prompt: 0 }, layout, ...(preset ? { preset } : {}),
  });
  return Array.from({ length: n }, () => {
    const s = sampler.next();
    const words = s.text.split(' ');
    const span = s.answerSpan!; // [<answer>, ..., </answer>]
    return { prefix: words.slice(0, span.start + 1).join(' '), answer: words.slice(span.start + 1, span.end - 1).join(' ') };
  });
}

/** A retriever that finds nothing: the probe's passages already hold their documents. */
const NO_SEARCH: Retriever = { search: async () => [], searchMany: async (qs) => qs.map(() => []) };

/**
 * Greedy-decodes the answer of each item (at most 8 tokens, up to `</answer>`), `batch` passages
 * at a time, and scores exact match of the normalized text.
 * @throws Error when a prefix does not fit the model's positions.
 */
export async function probeReading(model: Llama, tokenizer: TextTokenizer, items: readonly ReadingItem[], layout: ReadingLayout, batch = 50): Promise<ReadingProbeResult> {
  const maxLength = model.config.maxPositions;
  const byKind: ReadingProbeResult['byKind'] = { name: { passages: 0, exact: 0 }, year: { passages: 0, exact: 0 } };
  const overall: ReadingScore = { passages: 0, exact: 0 };
  const misses: ReadingProbeResult['misses'] = [];
  for (let i = 0; i < items.length; i += batch) {
    const chunk = items.slice(i, i + batch);
    const prompts = chunk.map((it) => encodePrompt(tokenizer, it.prefix));
    const rollouts = await generateRollouts(model, tokenizer, NO_SEARCH, prompts, 1, {
      maxNewTokens: 8, maxSearches: 0, topK: 1, docMaxWords: 1, temperature: 0, topP: 1, maxLength,
    }, new Rng(1));
    rollouts.forEach((r, j) => {
      const it = chunk[j]!;
      const given = tokenizer.decode(r.tokens.slice(r.promptLength)).split(ANSWER_CLOSE)[0]!.trim();
      const ok = given === it.answer;
      const kind = /^\d+$/.test(it.answer) ? 'year' : 'name';
      for (const s of [overall, byKind[kind]]) {
        s.passages++;
        s.exact += +ok;
      }
      if (!ok && misses.length < 8) misses.push({ answer: it.answer, given });
    });
  }
  return { layout, overall, byKind, misses };
}
