/**
 * Questions about a world (the templates; recipe.md section 8: difficulty = hops and
 * template, some templates held out as the out-of-domain set).
 *
 * A template names its subject kind, its hop count and how to follow its chain through the
 * world's relations. Following the chain gives the supporting entities in hop order (their
 * documents are the question's `supportingIds`) and the one-word answer.
 *
 * Splits of the search world's questions:
 * - train: every (train subject, template) pair of the in-domain templates;
 * - test: up to 100 per in-domain template, about test subjects only (subjects disjoint from train);
 * - ood: 100 per held-out template (comparison_born_first, founder_birthplace), any subject.
 */
import type { Question } from '../corpus/types.ts';
import { Rng } from '../util/rng.ts';
import { QUESTION_PHRASINGS, STAGE0_BIRTH_ORDER_PHRASINGS, type TemplateName } from './lexicon.ts';
import { deriveSeed, STREAM } from './seeds.ts';
import type { EntityKind, World } from './types.ts';
import { birthYearOf, objectOf, worldEntities } from './world.ts';

/** The followed chain of a question: supporting entities in hop order, and the answer. */
export interface Chain {
  /** Entity ids whose documents support the answer, in hop order. */
  entities: number[];
  /** The answer word: a display name (e.g. "Kovar") or a year ("1873"). */
  answer: string;
}

/** A question template. */
export interface QuestionTemplate {
  name: TemplateName;
  /** Documents needed to answer (1-3). */
  hops: 1 | 2 | 3;
  /** Kind of the entities named in the question. */
  subjectKind: EntityKind;
  /** How many entities the question names (2 for a comparison). */
  arity: 1 | 2;
  /** Held out of training entirely (the ood split). */
  ood: boolean;
  /** Follows the chain; null when the question has no single answer (equal birth years). */
  follow(world: World, subjects: readonly number[]): Chain | null;
}

const nameOf = (w: World, id: number) => w.entities[id]!.name;

/** A template that follows `path` (relation names) from its one subject; answer = the last object's name. */
function chainTemplate(
  name: TemplateName,
  subjectKind: EntityKind,
  path: readonly Parameters<typeof objectOf>[1][],
  ood = false,
): QuestionTemplate {
  return {
    name,
    hops: path.length as 1 | 2 | 3,
    subjectKind,
    arity: 1,
    ood,
    follow(world, [subject]) {
      const entities = [subject!];
      let at = subject!;
      for (const rel of path) {
        at = objectOf(world, rel, at);
        entities.push(at);
      }
      // The last object is the answer, not a supporting document: its own document is not
      // needed (the previous document names it).
      entities.pop();
      return { entities, answer: nameOf(world, at) };
    },
  };
}

/** Every template, in the order questions are generated (in-domain first, then ood). */
export const QUESTION_TEMPLATES: readonly QuestionTemplate[] = [
  chainTemplate('birthplace', 'person', ['birthplace']),
  {
    name: 'birth_year',
    hops: 1,
    subjectKind: 'person',
    arity: 1,
    ood: false,
    follow: (world, [p]) => ({ entities: [p!], answer: String(birthYearOf(world, p!)) }),
  },
  chainTemplate('employer', 'person', ['employer']),
  chainTemplate('alma_mater', 'person', ['almaMater']),
  chainTemplate('author', 'book', ['author']),
  chainTemplate('founder', 'company', ['founder']),
  chainTemplate('headquarters', 'company', ['headquarters']),
  chainTemplate('location', 'university', ['location']),
  chainTemplate('author_birthplace', 'book', ['author', 'birthplace']),
  chainTemplate('employer_headquarters', 'person', ['employer', 'headquarters']),
  chainTemplate('author_employer_headquarters', 'book', ['author', 'employer', 'headquarters']),
  {
    name: 'comparison_born_first',
    hops: 2,
    subjectKind: 'person',
    arity: 2,
    ood: true,
    follow(world, [a, b]) {
      const ya = birthYearOf(world, a!);
      const yb = birthYearOf(world, b!);
      if (a === b || ya === yb) return null;
      return { entities: [a!, b!], answer: nameOf(world, ya < yb ? a! : b!) };
    },
  },
  chainTemplate('founder_birthplace', 'company', ['founder', 'birthplace'], true),
];

/** Looks a template up by name; throws naming the known templates. */
export function getTemplate(name: string): QuestionTemplate {
  const t = QUESTION_TEMPLATES.find((x) => x.name === name);
  if (!t) throw new Error(`unknown question template "${name}" (known: ${QUESTION_TEMPLATES.map((x) => x.name).join(', ')})`);
  return t;
}

/** A question before it gets an id and a split, with its followed chain. */
export interface AskedQuestion {
  question: string;
  answers: string[];
  hops: number;
  template: TemplateName;
  supportingIds: string[];
  /** Supporting entity ids in hop order (same order as supportingIds). */
  chain: number[];
  /** The entities the question names. */
  subjects: number[];
}

/**
 * Asks `template` about `subjects` (1 entity, or 2 for a comparison) in `world`, with a
 * paraphrase picked by `rng`. Returns null when the question would have no single answer
 * (a comparison of equal birth years). Throws on a subject of the wrong kind or count.
 */
export function askQuestion(world: World, template: QuestionTemplate, subjects: readonly number[], rng: Rng): AskedQuestion | null {
  if (subjects.length !== template.arity) {
    throw new Error(`template "${template.name}" names ${template.arity} entities, got ${subjects.length}`);
  }
  for (const s of subjects) {
    const e = world.entities[s];
    if (!e || e.kind !== template.subjectKind) {
      throw new Error(`template "${template.name}" asks about a ${template.subjectKind}, got entity ${s} (${e?.kind ?? 'unknown'})`);
    }
  }
  const chain = template.follow(world, subjects);
  if (!chain) return null;
  const phrasing = rng.pick(QUESTION_PHRASINGS[template.name]);
  const [x, y] = subjects.map((s) => nameOf(world, s));
  const question = phrasing.replace('{X}', x!).replace('{A}', x!).replace('{B}', y ?? '');
  return {
    question,
    answers: [chain.answer],
    hops: template.hops,
    template: template.name,
    supportingIds: chain.entities.map((id) => world.entities[id]!.docId),
    chain: chain.entities,
    subjects: [...subjects],
  };
}

/** A Stage-0 birth-order question: its text, answer and the two persons' ids (question order). */
export interface BirthOrderQuestion {
  question: string;
  answers: [string];
  /** Both persons, in the order the question names them: their documents answer it. */
  chain: [number, number];
  subjects: [number, number];
}

/**
 * A birth-order question about persons `a` and `b` of `world` for Stage 0 only (wordings of
 * `STAGE0_BIRTH_ORDER_PHRASINGS`, never the ood template's): `direction` 'first' asks who was
 * born first (answer: the earlier-born), 'later' who was born later. Null when the two are the
 * same person or share a birth year. Throws on an entity that is not a person.
 */
export function askBirthOrder(world: World, a: number, b: number, direction: 'first' | 'later', rng: Rng): BirthOrderQuestion | null {
  for (const s of [a, b]) {
    if (world.entities[s]?.kind !== 'person') throw new Error(`askBirthOrder: entity ${s} is not a person`);
  }
  // Who was born first is the held-out template's own rule; only the wording and direction differ.
  const chain = getTemplate('comparison_born_first').follow(world, [a, b]);
  if (!chain) return null;
  const first = chain.answer === nameOf(world, a) ? a : b;
  const answer = direction === 'first' ? first : first === a ? b : a;
  const question = rng.pick(STAGE0_BIRTH_ORDER_PHRASINGS[direction]).replace('{A}', nameOf(world, a)).replace('{B}', nameOf(world, b));
  return { question, answers: [nameOf(world, answer)], chain: [a, b], subjects: [a, b] };
}

/**
 * Number of test subjects per subject kind. About 20%, except where 100 test questions per
 * template need more: books (25%) and companies (33%). Universities (140) keep 20%, so the
 * `location` template has 28 test questions.
 */
export const TEST_SUBJECTS: Readonly<Partial<Record<EntityKind, number>>> = Object.freeze({
  person: 180,
  book: 100,
  company: 100,
  university: 28,
});

/** Train and test subjects of one kind, each ascending; disjoint. */
export interface SubjectSplit {
  train: number[];
  test: number[];
}

/**
 * The train/test split of question subjects for a seed (the same for every world of the seed).
 * Kinds that no template asks about (cities) are absent.
 */
export function subjectSplit(seed: number): Partial<Record<EntityKind, SubjectSplit>> {
  const entities = worldEntities(seed);
  const rng = new Rng(deriveSeed(seed, STREAM.split));
  const out: Partial<Record<EntityKind, SubjectSplit>> = {};
  for (const [kind, nTest] of Object.entries(TEST_SUBJECTS) as [EntityKind, number][]) {
    const ids = rng.shuffle(entities.filter((e) => e.kind === kind).map((e) => e.id));
    const asc = (a: number, b: number) => a - b;
    out[kind] = { test: ids.slice(0, nTest).sort(asc), train: ids.slice(nTest).sort(asc) };
  }
  return out;
}

/** Options of {@link generateQuestions}. */
export interface QuestionOptions {
  /** Test questions per in-domain template (fewer when there are fewer test subjects). Default 100. */
  testPerTemplate?: number;
  /** Questions per ood template. Default 100. */
  oodPerTemplate?: number;
}

/**
 * The question set of a world (the search world, index 0, for the pack): train, test and ood
 * splits as described at the top of this file, ids `q00000`.. in that order. Deterministic in
 * (seed, world index, options).
 */
export function generateQuestions(world: World, opts: QuestionOptions = {}): Question[] {
  const testPer = opts.testPerTemplate ?? 100;
  const oodPer = opts.oodPerTemplate ?? 100;
  for (const [k, v] of [['testPerTemplate', testPer], ['oodPerTemplate', oodPer]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`generateQuestions: ${k} must be a non-negative integer, got ${v}`);
  }
  const rng = new Rng(deriveSeed(world.seed, STREAM.questions, world.worldIndex));
  const split = subjectSplit(world.seed);
  const out: Question[] = [];
  const push = (q: AskedQuestion | null, s: Question['split']) => {
    if (!q) throw new Error(`generateQuestions: no single answer for a "${s}" question`);
    out.push({
      id: `q${String(out.length).padStart(5, '0')}`,
      question: q.question,
      answers: q.answers,
      hops: q.hops,
      template: q.template,
      split: s,
      supportingIds: q.supportingIds,
    });
  };
  const inDomain = QUESTION_TEMPLATES.filter((t) => !t.ood);
  for (const t of inDomain) {
    for (const s of split[t.subjectKind]!.train) push(askQuestion(world, t, [s], rng), 'train');
  }
  for (const t of inDomain) {
    const subjects = rng.shuffle([...split[t.subjectKind]!.test]).slice(0, testPer);
    for (const s of subjects.sort((a, b) => a - b)) push(askQuestion(world, t, [s], rng), 'test');
  }
  for (const t of QUESTION_TEMPLATES.filter((x) => x.ood)) {
    const pool = world.ofKind[t.subjectKind];
    if (t.arity === 1) {
      const subjects = rng.shuffle([...pool]).slice(0, oodPer).sort((a, b) => a - b);
      for (const s of subjects) push(askQuestion(world, t, [s], rng), 'ood');
      continue;
    }
    const seen = new Set<string>();
    let made = 0;
    for (let attempt = 0; made < oodPer; attempt++) {
      if (attempt > 100 * (oodPer + 10)) throw new Error(`generateQuestions: cannot draw ${oodPer} "${t.name}" questions`);
      const a = rng.pick(pool);
      const b = rng.pick(pool);
      const key = a < b ? `${a}:${b}` : `${b}:${a}`;
      if (seen.has(key)) continue;
      const q = askQuestion(world, t, [a, b], rng);
      if (!q) continue;
      seen.add(key);
      push(q, 'ood');
      made++;
    }
  }
  return out;
}
