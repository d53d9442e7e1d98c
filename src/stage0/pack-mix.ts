/**
 * Stage-0 pretraining data for a pack without a world generator (an imported, real corpus):
 * the same three kinds as the world's mix (src/stage0/world-mix.ts, recipe.md section 11), drawn
 * from the pack itself:
 * - documents: paragraphs of the corpus, except those that support a `test` or `ood` question
 *   (the base model should not have read the evidence of the questions it is evaluated on);
 * - reading passages: a `train` question with its supporting paragraphs (and random others up
 *   to 3), numbered and cut as search results are spliced into a rollout, then
 *   `question : <q> <answer> A </answer>`, the answer span weighted by the trainer;
 * - rendered prompts (the compact preset) of `train` questions, as RL will show them.
 * Unlike the world, a real corpus has one version of each fact, so the base model may recall
 * some facts of the paragraphs it read; `eval --mode naive` measures how many.
 */
import type { Pack, Question } from '../corpus/types.ts';
import { COMPACT_PROMPT, renderPrompt } from '../protocol/prompts.ts';
import { DOCUMENT_WORDS, formatDocuments } from '../protocol/splice.ts';
import { ANSWER_CLOSE, ANSWER_OPEN } from '../protocol/tags.ts';
import { normalizeText } from '../protocol/normalize.ts';
import { Rng } from '../util/rng.ts';
import { DEFAULT_STAGE0_MIX, mixSampler, type Stage0Mix, type Stage0Sample, type Stage0Sampler } from './world-mix.ts';

/** Options of {@link createPackStage0Sampler}. */
export interface PackStage0Options {
  /** Seed of the sampling stream. */
  rngSeed: number;
  /** Weights of the three kinds. Default the world's 30 / 45 / 25. */
  mix?: Stage0Mix;
  /** Words filling the prompts' answer slot (slotAnswerWords of the tokenizer). */
  answerWords?: readonly string[];
  /** Words kept of each spliced paragraph. Default DOCUMENT_WORDS (as in rollouts). */
  maxWords?: number;
}

/**
 * A Stage-0 sampler over `pack` (see the file comment). Same pack and options => same texts.
 * @throws Error when the pack has no train question with a supporting paragraph, or no
 *   paragraph outside the test/ood evidence.
 */
export function createPackStage0Sampler(pack: Pack, opts: PackStage0Options): Stage0Sampler {
  const mix = opts.mix ?? DEFAULT_STAGE0_MIX;
  const total = mix.document + mix.reading + mix.prompt;
  if (!(total > 0)) throw new Error('pack Stage 0: mix weights must not all be 0');
  const maxWords = opts.maxWords ?? DOCUMENT_WORDS;
  const byId = new Map(pack.documents.map((d) => [d.id, d]));
  const held = new Set(pack.questions.filter((q) => q.split !== 'train').flatMap((q) => q.supportingIds ?? []));
  const documents = pack.documents.filter((d) => !held.has(d.id));
  const train = pack.questions.filter((q) => q.split === 'train');
  const reading = train.filter((q) => (q.supportingIds ?? []).some((id) => byId.has(id)));
  if (documents.length === 0) throw new Error(`pack Stage 0: every paragraph of ${pack.manifest.name} supports a test or ood question; nothing is left to pretrain on`);
  if (reading.length === 0) throw new Error(`pack Stage 0: ${pack.manifest.name} has no train question with a supporting paragraph`);
  const rng = new Rng(opts.rngSeed);

  const documentSample = (): Stage0Sample => {
    const d = rng.pick(documents);
    return { kind: 'document', text: `${d.title} : ${d.text}`, world: 0 };
  };

  const readingSample = (): Stage0Sample => {
    const q: Question = rng.pick(reading);
    const chosen = new Set((q.supportingIds ?? []).filter((id) => byId.has(id)).slice(0, 3));
    const extra = rng.int(4 - chosen.size);
    for (let k = 0; k < extra; k++) chosen.add(rng.pick(documents).id);
    const docs = rng.shuffle([...chosen]).map((id) => byId.get(id)!);
    const question = `question : ${q.question}`;
    const answer = `${ANSWER_OPEN} ${q.answers[0]} ${ANSWER_CLOSE}`;
    const text = normalizeText(rng.next() < 0.5
      ? `${question} ${formatDocuments(docs, maxWords)} ${answer}`
      : `${formatDocuments(docs, maxWords)} ${question} ${answer}`);
    const words = text.split(' ');
    return { kind: 'reading', text, answerSpan: { start: words.lastIndexOf(ANSWER_OPEN), end: words.lastIndexOf(ANSWER_CLOSE) + 1 }, world: 0 };
  };

  const promptSample = (): Stage0Sample => ({
    kind: 'prompt', text: renderPrompt(COMPACT_PROMPT, rng.pick(train).question, rng, { answerWords: opts.answerWords }), world: 0,
  });

  return mixSampler(rng, mix, { document: documentSample, reading: readingSample, prompt: promptSample });
}
