/**
 * Stage-0 pretraining data for the base model: the mix recipe.md section 11 found to teach a
 * tiny model search ("a second round found a recipe that teaches search"):
 * - 30% documents of pretraining world 1 (language, names, the shape of facts);
 * - 45% reading passages: 1-3 documents cut to 40 words and numbered exactly as search results
 *   are spliced into a rollout, then `question : <q> <answer> Z </answer>` (the question before
 *   or after them). 20% come from world 1, the rest from 60 re-drawn worlds (indexes 2..61), so
 *   the answer must be read from the passage, not recalled; the trainer weights the answer span
 *   x5. Option `layout: 'spliced'` (issue 15, an experiment that has not taught reading yet, see
 *   README) lays them out as a rollout after its searches instead: the question (or the whole
 *   rendered prompt), one tagged document block per hop trained as context only, then
 *   `</think> <answer> Z </answer>`;
 * - 25% rendered prompts (`compact` unless told otherwise), which show the tags in trajectory order with
 *   freshly filled slots and a question from a pretraining world (its answer never shown).
 *
 * World 0, the search world, is never used: not its documents, not its facts (and every other
 * world disagrees with it on every fact, see world.ts), so the base model cannot recall what
 * search serves.
 */
import { STAGE0_PROMPT_PRESET, getPromptPreset, questionWords, renderPrompt, type PromptPreset } from '../protocol/prompts.ts';
import { normalizeText } from '../protocol/normalize.ts';
import { Rng, type RngState } from '../util/rng.ts';
import { DEFAULT_DOCUMENT_STYLE, documentFor, type DocumentStyle } from '../world/documents.ts';
import { worldVocabulary } from '../world/vocabulary.ts';
import { answerSpanOf, documentBlock, documentSpansOf, DOCUMENT_WORDS, followUpQuerySpansOf, formatDocuments, readingPassage } from '../protocol/splice.ts';
import { ANSWER_CLOSE, ANSWER_OPEN, QUERY_CLOSE, QUERY_OPEN } from '../protocol/tags.ts';
import { askBirthOrder, askQuestion, getTemplate, QUESTION_TEMPLATES, type AskedQuestion, type QuestionTemplate } from '../world/questions.ts';
import { deriveSeed, STREAM } from '../world/seeds.ts';
import type { EntityKind, World } from '../world/types.ts';
import { checkSeed, generateWorld, neighboursOf, worldEntities } from '../world/world.ts';

/** What a Stage-0 text is. */
export type Stage0Kind = 'document' | 'reading' | 'prompt';

/** One pretraining text. */
export interface Stage0Sample {
  kind: Stage0Kind;
  /** The text; reading passages are already normalized (`normalizeText(text) === text`). */
  text: string;
  /**
   * Reading passages only: the half-open word range [start, end) of `<answer> Z </answer>`,
   * tags included, in `normalizeText(text).split(' ')`; the trainer weights these words x5
   * (recipe.md section 11).
   */
  answerSpan?: { start: number; end: number };
  /** Reading passages only: the document blocks' word ranges, trained as context only (weight 0). */
  contextSpans?: { start: number; end: number }[];
  /** Spliced passages with option `weightFollowUps`: the follow-up queries' word ranges, weighted like the answer. */
  weightedSpans?: { start: number; end: number }[];
  /** The world the text was drawn from (always >= 1). */
  world: number;
}

/** Relative weights of the three kinds (need not sum to 1). */
export interface Stage0Mix {
  document: number;
  reading: number;
  prompt: number;
}

/** recipe.md section 11: 30% documents, 45% reading passages, 25% prompts. */
export const DEFAULT_STAGE0_MIX: Readonly<Stage0Mix> = Object.freeze({ document: 0.3, reading: 0.45, prompt: 0.25 });

/** Options of {@link createStage0Sampler}; every field has the recipe's default. */
export interface Stage0Options {
  /** Weights of the three kinds. Default {@link DEFAULT_STAGE0_MIX}. */
  mix?: Stage0Mix;
  /** Re-drawn worlds for reading passages and prompts: indexes 2..1+readingWorlds. Default 60. */
  readingWorlds?: number;
  /**
   * Share of reading passages from world 1 (the rest from the re-drawn worlds). Default 0.2 for
   * `plain`, 0 for `spliced` (in `mixed`, each passage its own layout's default):
   * world 1's facts are also in its documents, so its passages can be answered by recall; with
   * half of them from world 1 a longer Stage 0 answered search-world passages from memory, and
   * with 0.2 the policy still answered some years and schools from memory (issue 15).
   */
  firstWorldShare?: number;
  /**
   * Layout of reading passages. `plain` (default; the shipped base): 1-3 numbered documents with
   * no tags, the question before or after them. `spliced` (issue 15, an experiment): the layout
   * of a rollout after its searches, one tagged document block per hop, trained as context only.
   * `mixed`: each passage `spliced` with probability `splicedShare`, else `plain`.
   */
  layout?: 'plain' | 'spliced' | 'mixed';
  /** `mixed`: share of reading passages in the spliced layout. Default 0.5. */
  splicedShare?: number;
  /** `spliced`: share of reading passages asking a 2- or 3-hop question. Default 0.35. */
  multiHopShare?: number;
  /**
   * `spliced`: share of multi-block passages shown with a query slot before each block, as a
   * format description shows them (issue 15): the first holds words of the question, a later one
   * a random name that the block before it mentions (not its documents' titles, not the
   * question's), not chosen to be the next hop's entity: so the base sees "search again with a
   * name read in the documents" after real documents while which name is left to RL. By chance
   * the name has its document in the next block about one time in three (README, issue 15), so
   * these passages come close to trajectories. Default 0 (no draw is made, so the texts are those
   * of a sampler without the option).
   */
  followUpShare?: number;
  /**
   * Share of reading passages (either layout) asking which of two persons was born first or
   * later (issue 15; wordings of `STAGE0_BIRTH_ORDER_PHRASINGS`, never the ood template's), with
   * both persons' documents (`spliced`: one block per person): the base learns to compare two
   * years read in documents, a skill no other passage teaches. Default 0 (no draw is made, so
   * the texts are those of a sampler without the option).
   */
  comparisonShare?: number;
  /**
   * Share of 1-hop reading passages (either layout) asking a birth year (template `birth_year`;
   * the others share the rest evenly). Issue 15: a base whose first run was cut to 6,000 steps
   * read years weakly, and its third run (spliced, chains that end in "where was X born") taught
   * it to answer "when was X born?" with the birthplace read in the document (oracle
   * `birth_year` 0.01). Default: no draw, each 1-hop template equally often (1 in 8), so the
   * texts are those of a sampler without the option.
   */
  yearShare?: number;
  /**
   * Share of 1-hop reading passages asking a birthplace (template `birthplace`), drawn beside
   * `yearShare` (the shares together at most 1; the other relations share the rest evenly, the
   * birth year among them without `yearShare`). Issue 15: a third run with more year passages
   * (`yearShare` 0.3) taught the base to read years and lost birthplaces among distractors
   * ("where was X born?" answered with another city of the documents); asking both "born"
   * questions as often was meant to make the question word decide. Alone it did not (README:
   * "Both born readings in a 42-minute base"). Default: no draw (the texts are those of a
   * sampler without the option).
   */
  birthplaceShare?: number;
  /**
   * Share of 1-hop reading passages asking an employer (template `employer`), drawn beside
   * `yearShare` and `birthplaceShare` (all three together at most 1; the templates without a
   * share split the rest evenly). Issue 15: the shipped base read an employer out of the one
   * right document 0.73 of the time (oracle; every miss a company name from no document) where
   * it read a university 0.94, and RL lifted it to 0.83-0.89, under the target of 0.9 x the
   * answer in the documents. More of these passages alone did not help (why: `backlinkFreeShare`).
   * Default: no draw (the texts are those of a sampler without the option).
   */
  employerShare?: number;
  /**
   * Share of the random distractor documents (either layout) drawn among entities of the
   * answer's kind instead of the supporting document's kind, when the answer is an entity:
   * other cities for "where was X born?", other universities for "where did X study?". Issue
   * 15: in spliced passages the one city page in a birthplace passage was mostly the answer's
   * own ("people born in drusve include ... doldou"), so a base could answer with the city
   * page's title; among retrieved city pages (standard RAG retrieves them on the word
   * "birthplace") it then answered another city (`birthplace` 0.01-0.03 with RAG). With pages
   * of other cities beside it, only the asked name tells which city: at 0.5 the birthplace came
   * back (RAG 0.60-0.62) and, unless years were asked more often, the years went (README: "Both
   * born readings in a 42-minute base"). Default 0 (no draw is made, so the texts are those of
   * a sampler without the option).
   */
  answerKindDistractors?: number;
  /**
   * Share of reading passages (either layout) whose documents are written without the bridge
   * backlinks (`DocumentStyle.bridgeBacklinks` false: a person's page leaves out the books they
   * wrote and the companies they founded, a company's page its staff). Issue 15: the shipped
   * base read a person's employer only where such a sentence followed it (oracle `employer`: 73
   * of 75 pages with one, 0 of 25 without; appending "she wrote kero ." to those 25 made it read
   * 24), because in most Stage-0 pages, and in every 3-hop chain's author page, one does: it had
   * learnt where the employer sits, not the words that say it. No question asks along a
   * backlink, so every passage stays answerable. With `employerShare` 0.4 and this at 0.5, 800
   * steps from the shipped base read 21 of the 25 (README, issue 15). Default 0 (no draw is
   * made, so the texts are those of a sampler without the option).
   */
  backlinkFreeShare?: number;
  /**
   * `spliced` with `followUpShare`: weight the words of every follow-up query (a name copied
   * out of the block before) like the answer (issue 15). Trained at weight 1, the base wrote a
   * name from nowhere in 62 of 63 second queries at Stage 1's step 10 (seed 19), so Stage 1's
   * follow-up reward was almost never paid. Weighted, it did not copy more (README, issue 15).
   * Default false (the texts and weights are those of a sampler without the option).
   */
  weightFollowUps?: boolean;
  /** `plain`: share of reading passages asking a 2-hop question (with both documents). Default 0.25. */
  twoHopShare?: number;
  /** `plain`: share of reading passages that put the question before the documents. Default 0.5. */
  questionFirstShare?: number;
  /** Words each passage document is cut to. Default 40 (as in a rollout). */
  maxWords?: number;
  /** Prompt preset of the rendered prompts. Default {@link STAGE0_PROMPT_PRESET}. */
  preset?: PromptPreset;
  /**
   * Several presets instead of `preset`, one drawn (uniformly) at every rendering: a base that
   * has read in one preset's layout and seen another's search blocks (issue 15). With one preset
   * no draw is made, so the texts equal `preset`'s bit for bit.
   */
  presets?: readonly PromptPreset[];
  /** Seed of the sampling stream. Default derived from the world seed. */
  rngSeed?: number;
}

/** A seeded, resumable source of Stage-0 texts. */
export interface Stage0Sampler {
  /** The next text. */
  next(): Stage0Sample;
  /** The sampling stream's state (for a checkpoint); with setState a run resumes bit for bit. */
  getState(): RngState;
  setState(state: RngState): void;
}

/** What a spliced reading passage needs of its question (a template's question or a birth-order one). */
type PassageQuestion = Pick<AskedQuestion, 'question' | 'answers' | 'chain' | 'subjects'>;

/** Documents written without the bridge backlinks (option `backlinkFreeShare`). */
const BACKLINK_FREE: Readonly<DocumentStyle> = Object.freeze({ bridgeBacklinks: false });

/** Documents of one reading passage, all blocks together. */
const MAX_PASSAGE_DOCUMENTS = 5;

/** In-domain templates used by reading passages: the 1-hop ones, the 2-hop bridges, and (spliced layout) every chain. */
const READING_ONE_HOP = QUESTION_TEMPLATES.filter((t) => !t.ood && t.hops === 1);
const READING_TWO_HOP = QUESTION_TEMPLATES.filter((t) => !t.ood && t.hops === 2);
const READING_MULTI_HOP = QUESTION_TEMPLATES.filter((t) => !t.ood && t.hops > 1);
/** The 1-hop templates a share option can ask for, in the order their shares are laid on one draw. */
const ONE_HOP_SHARE_OPTIONS = [
  ['yearShare', getTemplate('birth_year')],
  ['birthplaceShare', getTemplate('birthplace')],
  ['employerShare', getTemplate('employer')],
] as const satisfies readonly (readonly [keyof Stage0Options, QuestionTemplate])[];

function checkShare(name: string, v: number): void {
  if (!(v >= 0 && v <= 1)) throw new Error(`createStage0Sampler: ${name} must be in [0, 1], got ${v}`);
}

/**
 * Creates a Stage-0 sampler over the worlds of `seed` (see the top of this file). Same seed and
 * options => the same sequence of texts. Throws on a bad seed or option, naming it.
 */
export function createStage0Sampler(seed: number, opts: Stage0Options = {}): Stage0Sampler {
  checkSeed(seed);
  const mix = opts.mix ?? DEFAULT_STAGE0_MIX;
  for (const k of ['document', 'reading', 'prompt'] as const) {
    if (!(Number.isFinite(mix[k]) && mix[k] >= 0)) throw new Error(`createStage0Sampler: mix.${k} must be a finite number >= 0, got ${mix[k]}`);
  }
  const total = mix.document + mix.reading + mix.prompt;
  if (!(total > 0)) throw new Error('createStage0Sampler: mix weights must not all be 0');
  const readingWorlds = opts.readingWorlds ?? 60;
  if (!Number.isInteger(readingWorlds) || readingWorlds < 0) {
    throw new Error(`createStage0Sampler: readingWorlds must be a non-negative integer, got ${readingWorlds}`);
  }
  const layout = opts.layout ?? 'plain';
  if (layout !== 'plain' && layout !== 'spliced' && layout !== 'mixed') {
    throw new Error(`createStage0Sampler: layout must be 'plain', 'spliced' or 'mixed', got ${JSON.stringify(layout)}`);
  }
  const plainFirstWorldShare = opts.firstWorldShare ?? 0.2;
  const splicedFirstWorldShare = opts.firstWorldShare ?? 0;
  const splicedShare = opts.splicedShare ?? 0.5;
  checkShare('splicedShare', splicedShare);
  const multiHopShare = opts.multiHopShare ?? 0.35;
  const followUpShare = opts.followUpShare ?? 0;
  checkShare('followUpShare', followUpShare);
  const comparisonShare = opts.comparisonShare ?? 0;
  checkShare('comparisonShare', comparisonShare);
  const answerKindDistractors = opts.answerKindDistractors ?? 0;
  checkShare('answerKindDistractors', answerKindDistractors);
  const backlinkFreeShare = opts.backlinkFreeShare ?? 0;
  checkShare('backlinkFreeShare', backlinkFreeShare);
  // The 1-hop templates given a share, and the others, which split the rest evenly.
  const oneHopShares = ONE_HOP_SHARE_OPTIONS.filter(([name]) => opts[name] !== undefined).map(([name, t]) => ({ name, t, share: opts[name]! }));
  for (const { name, share } of oneHopShares) checkShare(name, share);
  if (oneHopShares.reduce((a, x) => a + x.share, 0) > 1) {
    throw new Error(`createStage0Sampler: ${oneHopShares.map((x) => x.name).join(' + ')} must be at most 1, got ${oneHopShares.map((x) => x.share).join(' + ')}`);
  }
  const oneHopRest = READING_ONE_HOP.filter((t) => !oneHopShares.some((x) => x.t === t));
  const twoHopShare = opts.twoHopShare ?? 0.25;
  const questionFirstShare = opts.questionFirstShare ?? 0.5;
  if (opts.firstWorldShare !== undefined) checkShare('firstWorldShare', opts.firstWorldShare);
  checkShare('multiHopShare', multiHopShare);
  checkShare('twoHopShare', twoHopShare);
  checkShare('questionFirstShare', questionFirstShare);
  const maxWords = opts.maxWords ?? DOCUMENT_WORDS;
  if (!Number.isInteger(maxWords) || maxWords < 1) throw new Error(`createStage0Sampler: maxWords must be a positive integer, got ${maxWords}`);
  if (opts.preset && opts.presets) throw new Error('createStage0Sampler: give preset or presets, not both');
  if (opts.presets && opts.presets.length === 0) throw new Error('createStage0Sampler: presets must name at least one preset');
  const presets = opts.presets ?? [opts.preset ?? getPromptPreset(STAGE0_PROMPT_PRESET)];

  const rng = new Rng(opts.rngSeed ?? deriveSeed(seed, STREAM.stage0));
  const worlds = new Map<number, World>();
  const names = new Map<World, ReadonlySet<string>>();
  /** The normalized entity names of `w` (each a single word). */
  const namesOf = (w: World): ReadonlySet<string> => {
    let set = names.get(w);
    if (!set) names.set(w, (set = new Set(w.entities.map((e) => normalizeText(e.name)))));
    return set;
  };
  const world = (index: number): World => {
    let w = worlds.get(index);
    if (!w) worlds.set(index, (w = generateWorld(seed, index)));
    return w;
  };
  const entities = worldEntities(seed);
  /** Entity kind of each name (entities are the same in every world of a seed). */
  const kindOfName = new Map(entities.map((e) => [e.name, e.kind] as const));
  /**
   * The kind of a passage's random distractors: the answer's kind (option
   * `answerKindDistractors`, when the answer is an entity) or `supporting` (no draw without
   * the option).
   */
  const distractorKind = (q: PassageQuestion, supporting: () => EntityKind): EntityKind => {
    const answerKind = answerKindDistractors > 0 ? kindOfName.get(q.answers[0]!) : undefined;
    return answerKind !== undefined && rng.next() < answerKindDistractors ? answerKind : supporting();
  };
  // The answer slot of rendered prompts holds a random word of the vocabulary (mostly names),
  // as RL prompts do (src/rl/trainer.ts).
  const answerWords = worldVocabulary(seed).filter((w) => /^[\p{L}\p{N}]+$/u.test(w));
  /** The preset of one rendering (no draw with a single preset: the shipped base's stream). */
  const drawPreset = (): PromptPreset => (presets.length === 1 ? presets[0]! : rng.pick(presets));

  /** A question of `template` about random subjects of `w` (retries comparisons of equal years). */
  const randomQuestion = (w: World, template: QuestionTemplate): AskedQuestion => {
    for (let attempt = 0; attempt < 100; attempt++) {
      const subjects = Array.from({ length: template.arity }, () => rng.pick(w.ofKind[template.subjectKind]));
      const q = askQuestion(w, template, subjects, rng);
      if (q) return q;
    }
    throw new Error(`createStage0Sampler: cannot draw a "${template.name}" question`);
  };

  /** A Stage-0 birth-order question about two random persons of `w` (option `comparisonShare`). */
  const birthOrderQuestion = (w: World): PassageQuestion => {
    const direction = rng.next() < 0.5 ? 'first' : 'later';
    for (let attempt = 0; attempt < 100; attempt++) {
      const q = askBirthOrder(w, rng.pick(w.ofKind.person), rng.pick(w.ofKind.person), direction, rng);
      if (q) return q;
    }
    throw new Error('createStage0Sampler: cannot draw a birth-order question');
  };

  /**
   * A 1-hop template: each template given a share (`yearShare`, `birthplaceShare`,
   * `employerShare`) with that probability, read off one draw in that order, else one of the
   * others. Without any share no draw is made, so the shipped base's first runs' streams are
   * unchanged (and with only the first two, the streams of the runs that used them).
   */
  const oneHopTemplate = (): QuestionTemplate => {
    if (oneHopShares.length === 0) return rng.pick(READING_ONE_HOP);
    const r = rng.next();
    let upTo = 0; // summed in this order, so the bounds are the ones the earlier runs compared
    for (const { t, share } of oneHopShares) {
      upTo += share;
      if (r < upTo) return t;
    }
    return rng.pick(oneHopRest);
  };

  /**
   * The question of one reading passage about `w`: a birth-order one with probability
   * `comparisonShare` (no draw when 0), else a template's, from `multi` with probability
   * `multiShare` and 1-hop otherwise.
   */
  const passageQuestion = (w: World, multiShare: number, multi: readonly QuestionTemplate[]): PassageQuestion =>
    comparisonShare > 0 && rng.next() < comparisonShare
      ? birthOrderQuestion(w)
      : randomQuestion(w, rng.next() < multiShare ? rng.pick(multi) : oneHopTemplate());

  const documentSample = (): Stage0Sample => {
    const id = rng.int(entities.length);
    return { kind: 'document', text: documentFor(world(1), id).text, world: 1 };
  };

  /**
   * One distractor document's entity: half the time one linked to the subject (taken out of
   * `related`), else a random entity of the kind `kind()` names that is not `chosen`.
   */
  const drawDistractor = (w: World, related: number[], chosen: ReadonlySet<number>, kind: () => EntityKind): number => {
    if (related.length > 0 && rng.next() < 0.5) return related.splice(rng.int(related.length), 1)[0]!;
    const pool = w.ofKind[kind()];
    let id: number;
    do id = rng.pick(pool);
    while (chosen.has(id));
    return id;
  };

  /** How one reading passage's documents are written (option `backlinkFreeShare`; no draw at 0). */
  const passageStyle = (): Readonly<DocumentStyle> =>
    backlinkFreeShare > 0 && rng.next() < backlinkFreeShare ? BACKLINK_FREE : DEFAULT_DOCUMENT_STYLE;

  /** The layout the shipped base was pretrained on (`layout: 'plain'`): numbered documents, no tags. */
  const plainReadingSample = (): Stage0Sample => {
    const index = readingWorlds === 0 || rng.next() < plainFirstWorldShare ? 1 : 2 + rng.int(readingWorlds);
    const w = world(index);
    const q = passageQuestion(w, twoHopShare, READING_TWO_HOP);
    const chosen = new Set(q.chain);
    const distractors = rng.int(4 - q.chain.length); // 1 document + 0..2, or 2 + 0..1
    // Half the distractors are entities linked to the subject (their documents mention it),
    // half random entities of a supporting document's kind: both look like plausible hits.
    const related = neighboursOf(w, q.subjects[0]!).filter((id) => !chosen.has(id));
    for (let k = 0; k < distractors; k++) chosen.add(drawDistractor(w, related, chosen, () => distractorKind(q, () => w.entities[rng.pick(q.chain)]!.kind)));
    const style = passageStyle();
    const docs = rng.shuffle([...chosen]).map((id) => documentFor(w, id, style));
    const question = ['question :', normalizeText(q.question)];
    const answer = [ANSWER_OPEN, normalizeText(q.answers[0]!), ANSWER_CLOSE];
    // Question first is the order of a rollout (the question is in the prompt, the documents
    // come later); question last is the easier reading exercise. Both, so the skill transfers.
    const text = (rng.next() < questionFirstShare
      ? [...question, formatDocuments(docs, maxWords), ...answer]
      : [formatDocuments(docs, maxWords), ...question, ...answer]
    ).join(' ');
    return { kind: 'reading', text, answerSpan: answerSpanOf(text), world: index };
  };

  /** Issue 15's layout (option `layout: 'spliced'`): one document block per hop, as a rollout splices them. */
  const splicedReadingSample = (): Stage0Sample => {
    const index = readingWorlds === 0 || rng.next() < splicedFirstWorldShare ? 1 : 2 + rng.int(readingWorlds);
    const w = world(index);
    const q = passageQuestion(w, multiHopShare, READING_MULTI_HOP);
    // One document block per hop, in hop order (as successive searches would splice them), each
    // with 0-2 distractors: entities linked to the subject (their documents mention it) or random
    // entities of the hop's kind (or the answer's: `answerKindDistractors`). Both look like
    // plausible hits.
    const chosen = new Set(q.chain);
    const related = neighboursOf(w, q.subjects[0]!).filter((id) => !chosen.has(id));
    // At most 5 documents in all, so that a passage fits Stage 0's sequence length.
    let spare = MAX_PASSAGE_DOCUMENTS - q.chain.length;
    const style = passageStyle();
    const blockIds: number[][] = [];
    const blocks = q.chain.map((hop) => {
      const ids = [hop];
      for (let k = Math.min(spare, rng.int(3)); k > 0; k--, spare--) {
        const id = drawDistractor(w, related, chosen, () => distractorKind(q, () => w.entities[hop]!.kind));
        chosen.add(id);
        ids.push(id);
      }
      blockIds.push(ids);
      return documentBlock(rng.shuffle(ids).map((id) => documentFor(w, id, style)), maxWords);
    });
    if (followUpShare > 0 && blocks.length > 1 && rng.next() < followUpShare) addQuerySlots(w, q, blocks, blockIds);
    // Half the passages open with the whole rendered prompt (format description included), so
    // the answer is read at the positions it has in a rollout; half with the question alone.
    const opening = rng.next() < 0.5 ? normalizeText(renderPrompt(drawPreset(), q.question, rng, { answerWords })) : undefined;
    const text = readingPassage(normalizeText(q.question), blocks, normalizeText(q.answers[0]!), opening);
    const sample: Stage0Sample = { kind: 'reading', text, answerSpan: answerSpanOf(text), contextSpans: documentSpansOf(text), world: index };
    if (opts.weightFollowUps) sample.weightedSpans = followUpQuerySpansOf(text);
    return sample;
  };

  /**
   * Puts a query slot before every block (option `followUpShare`): words of the question before
   * the first, before a later one a random name mentioned in the block before it that is neither
   * one of its titles nor a word of the question (no slot when there is none). The draws run
   * from the last block to the first: the shipped base's Stage-0 stream depends on that order.
   */
  const addQuerySlots = (w: World, q: PassageQuestion, blocks: string[], blockIds: readonly number[][]): void => {
    const question = normalizeText(q.question);
    const asked = new Set(question.split(' '));
    const all = namesOf(w);
    const slot = (words: string) => `${QUERY_OPEN} ${words} ${QUERY_CLOSE}`;
    const leads = blocks.map((block, b) => {
      const titles = new Set(blockIds[b]!.map((id) => normalizeText(w.entities[id]!.name)));
      return [...new Set(block.split(' ').filter((x) => all.has(x) && !titles.has(x) && !asked.has(x)))];
    });
    for (let b = blocks.length - 1; b >= 1; b--) {
      const pool = leads[b - 1]!;
      if (pool.length > 0) blocks[b] = `${slot(rng.pick(pool))} ${blocks[b]}`;
    }
    blocks[0] = `${slot(questionWords(question, rng))} ${blocks[0]}`;
  };

  const readingSample = layout === 'spliced' ? splicedReadingSample
    : layout === 'plain' ? plainReadingSample
    // mixed: a base that reads (plain passages taught it) in the layout a rollout has (issue 15).
    : () => (rng.next() < splicedShare ? splicedReadingSample() : plainReadingSample());

  const promptSample = (): Stage0Sample => {
    const index = 1 + rng.int(readingWorlds + 1);
    const q = randomQuestion(world(index), rng.pick(QUESTION_TEMPLATES));
    return { kind: 'prompt', text: renderPrompt(drawPreset(), q.question, rng, { answerWords }), world: index };
  };

  return mixSampler(rng, mix, { document: documentSample, reading: readingSample, prompt: promptSample });
}

/**
 * A sampler that draws the kind by `mix` (weights, not all 0) from `rng`, then a text of that
 * kind; its state is `rng`'s. Shared by the world's and the imported packs' Stage 0.
 */
export function mixSampler(rng: Rng, mix: Stage0Mix, draw: Record<Stage0Kind, () => Stage0Sample>): Stage0Sampler {
  const total = mix.document + mix.reading + mix.prompt;
  return {
    next() {
      const u = rng.next() * total;
      if (u < mix.document) return draw.document();
      if (u < mix.document + mix.reading) return draw.reading();
      return draw.prompt();
    },
    getState: () => rng.getState(),
    setState: (state) => rng.setState(state),
  };
}
