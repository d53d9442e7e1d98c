/**
 * Encyclopedia paragraphs: one document per entity per world (the "2,000 search-world
 * documents"; recipe.md section 11).
 *
 * A document is 3-6 sentences with normal casing and punctuation. Its forward facts (the
 * entity's own relations and attributes: what questions ask about) come first, within
 * FACT_WINDOW (35) words, because a rollout cuts documents to 40 words. Later sentences mention
 * related entities in reverse (a city lists people born there, a person the book they wrote),
 * so every name appears in several documents and retrieval meets distractors.
 *
 * Every document draws its phrasings from its own random stream (seed, world, entity), so a
 * document is the same text wherever and whenever it is generated: within one world a fact is
 * always written the same way.
 */
import type { CorpusDocument } from '../corpus/types.ts';
import { Rng } from '../util/rng.ts';
import { DOCUMENT_PHRASINGS, PRONOUNS, withArticle, type PhrasingRole } from './lexicon.ts';
import { deriveSeed, STREAM } from './seeds.ts';
import type { Entity, World } from './types.ts';
import { attributeOf, birthYearOf, objectOf, subjectsOf } from './world.ts';

/**
 * How a world's documents are written. `bridgeBacklinks` (the default, true): a document also
 * names the entities that point at it along the relations a question chain crosses (a person's
 * page lists the books they wrote and the companies they founded, a company's page some of its
 * staff), so that one search for the first entity of a chain often returns the second hop's
 * document as well. False: those sentences are left out, so every hop of a chain needs its own
 * search (issue 15: the policy searches as much as the retrieval makes necessary). Other reverse
 * mentions (a city's natives, a university's alumni) stay: they are distractors, not bridges.
 */
export interface DocumentStyle {
  bridgeBacklinks: boolean;
}

/** The style every world used before {@link DocumentStyle} existed, and Stage 0's. */
export const DEFAULT_DOCUMENT_STYLE: Readonly<DocumentStyle> = Object.freeze({ bridgeBacklinks: true });

/** Least and most sentences of a document. */
export const MIN_SENTENCES = 3;
export const MAX_SENTENCES = 6;

/** "A", "A and B", "A, B and C". */
export function formatList(items: readonly string[]): string {
  if (items.length === 0) throw new Error('formatList: empty list');
  if (items.length === 1) return items[0]!;
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** Fills `{slot}`s; throws naming a slot that has no value (a bug in a phrasing). */
function fill(template: string, slots: Readonly<Record<string, string>>): string {
  return template.replace(/\{([A-Za-z_]+)\}/g, (_, key: string) => {
    const v = slots[key];
    if (v === undefined) throw new Error(`documents: no value for slot {${key}} in "${template}"`);
    return v;
  });
}

/** Writes the sentences of one document, picking phrasings from the document's own stream. */
class ParagraphWriter {
  readonly sentences: string[] = [];
  private readonly base: Record<string, string>;

  constructor(
    private readonly rng: Rng,
    private readonly entity: Entity,
  ) {
    this.base = { Name: entity.name };
  }

  /** Appends one sentence of `role` with the given slot values. */
  say(role: PhrasingRole, slots: Readonly<Record<string, string>> = {}): void {
    this.sentences.push(this.compose(role, slots));
  }

  /** One sentence of `role`, not yet appended. */
  compose(role: PhrasingRole, slots: Readonly<Record<string, string>> = {}): string {
    const template = this.rng.pick(DOCUMENT_PHRASINGS[role]);
    return fill(template, { ...this.base, ...this.subjectSlots(), ...slots });
  }

  /** Appends filler sentences (no facts) up to the minimum, and now and then one more. */
  finish(role: PhrasingRole): string {
    const fillers = this.rng.shuffle([...DOCUMENT_PHRASINGS[role]]);
    let k = 0;
    const add = () => this.sentences.push(fill(fillers[k++ % fillers.length]!, { ...this.base, ...this.subjectSlots() }));
    while (this.sentences.length < MIN_SENTENCES) add();
    if (this.sentences.length < MAX_SENTENCES && this.rng.next() < 0.35) add();
    return this.sentences.join(' ');
  }

  /** The subject as the name (30%) or a pronoun, fresh for every sentence (persons only). */
  private subjectSlots(): Record<string, string> {
    const gender = this.entity.gender;
    if (!gender) return { Subj: this.entity.name, subj: this.entity.name };
    const p = PRONOUNS[gender];
    const useName = this.rng.next() < 0.3;
    return {
      Subj: useName ? this.entity.name : p.Subj,
      subj: useName ? this.entity.name : p.subj,
      His: p.His,
      his: p.his,
    };
  }
}

/** Up to `2 + rng.int(2)` of `ids`, in random order (the reverse mentions listed in a sentence). */
function someOf(ids: readonly number[], rng: Rng): number[] {
  return rng.shuffle([...ids]).slice(0, 2 + rng.int(2));
}

/**
 * The document of entity `id` in `world`: `{id: docId, title: name, text}`. Deterministic in
 * (seed, world index, id, style). Throws if `id` is not an entity of the world.
 */
export function documentFor(world: World, id: number, style: Readonly<DocumentStyle> = DEFAULT_DOCUMENT_STYLE): CorpusDocument {
  const entity = world.entities[id];
  if (!entity) throw new Error(`documentFor: no entity ${id} (the world has ${world.entities.length})`);
  const rng = new Rng(deriveSeed(world.seed, STREAM.documents, world.worldIndex, id));
  const w = new ParagraphWriter(rng, entity);
  const nameOf = (i: number) => world.entities[i]!.name;
  const listOf = (ids: readonly number[]) => formatList(ids.map(nameOf));
  let text: string;

  switch (entity.kind) {
    case 'person': {
      const facts = {
        a_occ: withArticle(attributeOf(world, 'occupation', id)),
        city: nameOf(objectOf(world, 'birthplace', id)),
        year: String(birthYearOf(world, id)),
        univ: nameOf(objectOf(world, 'almaMater', id)),
        company: nameOf(objectOf(world, 'employer', id)),
      };
      if (rng.next() < 0.3) w.say('personIntroBirth', facts);
      else {
        w.say('personIntro', facts);
        w.say('personBirth', facts);
      }
      if (rng.next() < 0.3) w.say('personStudyWork', facts);
      else {
        const pair = [w.compose('personStudy', facts), w.compose('personWork', facts)];
        if (rng.next() < 0.5) pair.reverse();
        w.sentences.push(...pair);
      }
      if (style.bridgeBacklinks) {
        for (const book of subjectsOf(world, 'author', id)) w.say('personWrote', { book: nameOf(book) });
        for (const company of subjectsOf(world, 'founder', id)) w.say('personFounded', { company: nameOf(company) });
      }
      text = w.finish('personFiller');
      break;
    }
    case 'book': {
      const genre = attributeOf(world, 'genre', id);
      const facts = { author: nameOf(objectOf(world, 'author', id)), genre, a_genre: withArticle(genre) };
      if (rng.next() < 0.6) w.say('bookAuthorGenre', facts);
      else {
        w.say('bookAuthor', facts);
        w.say('bookGenre', facts);
      }
      w.say('bookPublished', { city: nameOf(objectOf(world, 'publishedIn', id)) });
      text = w.finish('bookFiller');
      break;
    }
    case 'company': {
      const facts = {
        founder: nameOf(objectOf(world, 'founder', id)),
        a_industry: withArticle(attributeOf(world, 'industry', id)),
        city: nameOf(objectOf(world, 'headquarters', id)),
      };
      if (rng.next() < 0.5) w.say('companyFounderIndustry', facts);
      else {
        w.say('companyFounder', facts);
        w.say('companyIndustry', facts);
      }
      w.say('companyHeadquarters', facts);
      const staff = subjectsOf(world, 'employer', id);
      if (staff.length > 0 && style.bridgeBacklinks) w.say('companyEmployees', { list: listOf(someOf(staff, rng)) });
      text = w.finish('companyFiller');
      break;
    }
    case 'university': {
      w.say('universityLocation', { city: nameOf(objectOf(world, 'location', id)) });
      const alumni = subjectsOf(world, 'almaMater', id);
      if (alumni.length > 0) w.say('universityAlumni', { list: listOf(someOf(alumni, rng)) });
      text = w.finish('universityFiller');
      break;
    }
    case 'city': {
      w.say('cityIntro', { a_kind: withArticle(attributeOf(world, 'cityKind', id)) });
      const born = subjectsOf(world, 'birthplace', id);
      if (born.length > 0) w.say('cityBorn', { list: listOf(someOf(born, rng)) });
      const companies = subjectsOf(world, 'headquarters', id);
      if (companies.length > 0) w.say('cityCompanies', { list: listOf(someOf(companies, rng)) });
      const universities = subjectsOf(world, 'location', id);
      if (universities.length > 0) w.say('cityUniversities', { list: listOf(someOf(universities, rng)) });
      text = w.finish('cityFiller');
      break;
    }
  }
  return { id: entity.docId, title: entity.name, text };
}

/** Every document of a world, in document-id order (2,000 for the default sizes). */
export function worldDocuments(world: World, style: Readonly<DocumentStyle> = DEFAULT_DOCUMENT_STYLE): CorpusDocument[] {
  return world.entities.map((e) => documentFor(world, e.id, style));
}
