/**
 * Types and sizes of the synthetic "world" (recipe.md section 11, "stale-knowledge world").
 *
 * A world is drawn from a seed and a world index. Every world of one seed shares the same
 * entities (names, kinds, document ids); the relations and attributes are drawn anew for every
 * world index. World 0 is the search world (served only by the search engine), world 1 the
 * pretraining world whose documents Stage 0 reads, worlds 2.. re-drawn worlds for reading
 * passages.
 */

/** Kinds of entity; every entity has exactly one document per world. */
export type EntityKind = 'person' | 'city' | 'company' | 'book' | 'university';

/** Entity kinds in a fixed order (the order in which pools and draws are made). */
export const ENTITY_KINDS: readonly EntityKind[] = ['person', 'city', 'company', 'book', 'university'];

/** Number of entities (= documents per world) of each kind: 2,000 in total. */
export const WORLD_SIZES: Readonly<Record<EntityKind, number>> = Object.freeze({
  person: 900,
  city: 260,
  company: 300,
  book: 400,
  university: 140,
});

/** Birth years are drawn from this inclusive range (each year is one token, e.g. "1873"). */
export const FIRST_BIRTH_YEAR = 1800;
export const LAST_BIRTH_YEAR = 1989;

/**
 * Relations between entities (subject -> object). All but `publishedIn` are asked about by a
 * question template; `publishedIn` only adds city names to book documents (retrieval distractors).
 */
export type RelationName =
  | 'birthplace'
  | 'employer'
  | 'almaMater'
  | 'author'
  | 'founder'
  | 'headquarters'
  | 'location'
  | 'publishedIn';

/** Subject and object kinds of one relation. */
export interface RelationInfo {
  name: RelationName;
  subject: EntityKind;
  object: EntityKind;
}

/** Every relation with its kinds, in the order they are drawn. */
export const RELATIONS: readonly RelationInfo[] = [
  { name: 'birthplace', subject: 'person', object: 'city' },
  { name: 'employer', subject: 'person', object: 'company' },
  { name: 'almaMater', subject: 'person', object: 'university' },
  { name: 'author', subject: 'book', object: 'person' },
  { name: 'founder', subject: 'company', object: 'person' },
  { name: 'headquarters', subject: 'company', object: 'city' },
  { name: 'location', subject: 'university', object: 'city' },
  { name: 'publishedIn', subject: 'book', object: 'city' },
];

/** Word-valued attributes (values come from the lists in lexicon.ts). */
export type AttributeName = 'occupation' | 'genre' | 'industry' | 'cityKind';

/** One entity; identical in every world of a seed. */
export interface Entity {
  /** Index into `World.entities`; also fixes the document id. */
  id: number;
  kind: EntityKind;
  /** Display name: one capitalized pseudo-word, a single token once lowercased (e.g. "Kovar"). */
  name: string;
  /** Id of the entity's document in every world, e.g. `"d0042"`. */
  docId: string;
  /** Persons only: chooses he/she in the documents. */
  gender?: 'female' | 'male';
}

/**
 * One drawn world. Arrays are indexed by entity id; `-1` marks entities the relation or
 * attribute does not apply to.
 */
export interface World {
  seed: number;
  worldIndex: number;
  /** Shared by every world of the seed, in document order. */
  entities: readonly Entity[];
  /** Entity ids of each kind, ascending. */
  ofKind: Readonly<Record<EntityKind, readonly number[]>>;
  /** Object entity id of each relation, by subject id (-1: not a subject). */
  relations: Readonly<Record<RelationName, Int32Array>>;
  /** Birth year of each person (-1 for other kinds). */
  birthYear: Int32Array;
  /** Index into the attribute's value list (lexicon.ts), by entity id (-1: not applicable). */
  attributes: Readonly<Record<AttributeName, Int32Array>>;
  /** Inverse of each relation in compressed form: see `subjectsOf` in world.ts. */
  inverse: Readonly<Record<RelationName, { offsets: Int32Array; items: Int32Array }>>;
}
