/**
 * Drawing worlds: the shared entities of a seed, and the relations and attributes of one world
 * index (recipe.md section 11, "a stale-knowledge world").
 *
 * - Entities (names, kinds, document ids, genders) depend on the seed only.
 * - Relations and attributes are drawn anew for every world index, each as a balanced draw
 *   (every object used floor(n/m) or ceil(n/m) times), so every entity is used about evenly and
 *   every answer set is large.
 * - Every world other than the search world (index 0) disagrees with the search world on EVERY
 *   fact: a value that happens to equal the search world's is swapped away. Stage 0 trains on
 *   worlds >= 1, so the base model's memory is always stale for the search world and no search
 *   fact can leak into the weights by chance (recipe.md section 11: "keep the searched facts out
 *   of the weights").
 */
import { Rng } from '../util/rng.ts';
import { ATTRIBUTE_VALUES } from './lexicon.ts';
import { displayName, generateNamePool } from './names.ts';
import { deriveSeed, STREAM } from './seeds.ts';
import {
  ENTITY_KINDS,
  FIRST_BIRTH_YEAR,
  LAST_BIRTH_YEAR,
  RELATIONS,
  WORLD_SIZES,
  type AttributeName,
  type Entity,
  type EntityKind,
  type RelationName,
  type World,
} from './types.ts';

/** Throws unless `seed` is an integer in [0, 2^32). */
export function checkSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new Error(`world seed must be an integer in [0, 4294967295], got ${seed}`);
  }
}

/** Formats an entity id as its document id: 42 -> "d0042". */
export function docIdOf(id: number): string {
  return `d${String(id).padStart(4, '0')}`;
}

const entityCache = new Map<number, readonly Entity[]>();

/**
 * The entities of a seed, in document order: the kinds interleaved by a seeded shuffle, so a
 * document id says nothing about the kind. Identical for every world index. Cached per seed.
 */
export function worldEntities(seed: number): readonly Entity[] {
  checkSeed(seed);
  const cached = entityCache.get(seed);
  if (cached) return cached;
  const pool = generateNamePool(seed, WORLD_SIZES);
  const rng = new Rng(deriveSeed(seed, STREAM.entities));
  const slots: { kind: EntityKind; name: string }[] = [];
  for (const kind of ENTITY_KINDS) for (const name of pool[kind]) slots.push({ kind, name });
  rng.shuffle(slots);
  const entities = slots.map(({ kind, name }, id): Entity => {
    const e: Entity = { id, kind, name: displayName(name), docId: docIdOf(id) };
    if (kind === 'person') e.gender = rng.next() < 0.5 ? 'female' : 'male';
    return Object.freeze(e);
  });
  if (entityCache.size >= 8) entityCache.delete(entityCache.keys().next().value!);
  entityCache.set(seed, Object.freeze(entities));
  return entities;
}

/** Entity ids of each kind, ascending (the order in which draws are assigned). */
function idsByKind(entities: readonly Entity[]): Record<EntityKind, number[]> {
  const out = Object.fromEntries(ENTITY_KINDS.map((k) => [k, [] as number[]])) as Record<EntityKind, number[]>;
  for (const e of entities) out[e.kind].push(e.id);
  return out;
}

/**
 * A balanced draw of `n` values from `0..m-1`: each value used floor(n/m) or ceil(n/m) times,
 * in random order. With n <= m the values are distinct.
 */
function balancedDraw(n: number, m: number, rng: Rng): number[] {
  const base = Math.floor(n / m);
  const extra = rng.shuffle(Array.from({ length: m }, (_, v) => v)).slice(0, n % m);
  const out: number[] = [];
  for (let v = 0; v < m; v++) for (let c = 0; c < base; c++) out.push(v);
  out.push(...extra);
  return rng.shuffle(out);
}

/**
 * Swaps values so that `values[i] !== ref[i]` for every i, keeping the multiset of values (and
 * so the balance and distinctness of the draw). Throws if no swap can fix a position.
 */
function avoidReference(values: number[], ref: ArrayLike<number>, rng: Rng, what: string): void {
  const n = values.length;
  const canSwap = (i: number, j: number) => j !== i && values[j] !== ref[i] && values[i] !== ref[j];
  for (let i = 0; i < n; i++) {
    if (values[i] !== ref[i]) continue;
    let j = -1;
    for (let attempt = 0; attempt < 64 && j < 0; attempt++) {
      const c = rng.int(n);
      if (canSwap(i, c)) j = c;
    }
    for (let c = 0; c < n && j < 0; c++) if (canSwap(i, c)) j = c;
    if (j < 0) throw new Error(`generateWorld: cannot draw "${what}" differently from the search world`);
    const t = values[i]!;
    values[i] = values[j]!;
    values[j] = t;
  }
}

const searchWorldCache = new Map<number, World>();

/**
 * Draws world `worldIndex` of `seed`: 0 = the search world, 1 = the pretraining world whose
 * documents Stage 0 reads, 2.. = re-drawn worlds for reading passages. Same arguments => an
 * identical world; names are shared across indexes, relations are independent (and every world
 * >= 1 differs from world 0 on every fact). Throws on a bad seed or index.
 */
export function generateWorld(seed: number, worldIndex: number): World {
  checkSeed(seed);
  if (!Number.isInteger(worldIndex) || worldIndex < 0) {
    throw new Error(`world index must be a non-negative integer, got ${worldIndex}`);
  }
  if (worldIndex === 0) {
    const cached = searchWorldCache.get(seed);
    if (cached) return cached;
  }
  const entities = worldEntities(seed);
  const ofKind = idsByKind(entities);
  const ref = worldIndex === 0 ? undefined : generateWorld(seed, 0);
  const rng = new Rng(deriveSeed(seed, STREAM.relations, worldIndex));
  const n = entities.length;
  const blank = () => new Int32Array(n).fill(-1);

  // Draws `values` (indexes into `objects`) for the subjects, avoiding the search world's values.
  const assign = (target: Int32Array, subjects: readonly number[], values: number[], objects: readonly number[] | null, refArr: Int32Array | undefined, what: string) => {
    if (refArr) {
      const local = new Map<number, number>(objects?.map((o, i) => [o, i]));
      const refLocal = subjects.map((s) => (objects ? local.get(refArr[s]!)! : refArr[s]!));
      avoidReference(values, refLocal, rng, what);
    }
    subjects.forEach((s, i) => {
      target[s] = objects ? objects[values[i]!]! : values[i]!;
    });
  };

  const relations = {} as Record<RelationName, Int32Array>;
  for (const rel of RELATIONS) relations[rel.name] = blank();

  // Authors and founders are distinct persons (a person wrote at most one book or founded at
  // most one company), so that 700 of the 900 persons are used by these two relations.
  const persons = ofKind.person;
  const people = rng.shuffle(persons.map((_, i) => i));
  const nBooks = ofKind.book.length;
  const nCompanies = ofKind.company.length;
  if (nBooks + nCompanies > persons.length) throw new Error('generateWorld: fewer persons than books + companies');

  for (const rel of RELATIONS) {
    const subjects = ofKind[rel.subject];
    const objects = ofKind[rel.object];
    let values: number[];
    if (rel.name === 'author') values = people.slice(0, nBooks);
    else if (rel.name === 'founder') values = people.slice(nBooks, nBooks + nCompanies);
    else values = balancedDraw(subjects.length, objects.length, rng);
    assign(relations[rel.name], subjects, values, objects, ref?.relations[rel.name], rel.name);
  }

  const birthYear = blank();
  const years = LAST_BIRTH_YEAR - FIRST_BIRTH_YEAR + 1;
  const yearValues = balancedDraw(persons.length, years, rng);
  const refYears = ref ? Int32Array.from(ref.birthYear, (y) => (y < 0 ? -1 : y - FIRST_BIRTH_YEAR)) : undefined;
  assign(birthYear, persons, yearValues, null, refYears, 'birthYear');
  for (const p of persons) birthYear[p] = birthYear[p]! + FIRST_BIRTH_YEAR;

  const attributeKinds: Record<AttributeName, EntityKind> = {
    occupation: 'person',
    genre: 'book',
    industry: 'company',
    cityKind: 'city',
  };
  const attributes = {} as Record<AttributeName, Int32Array>;
  for (const name of Object.keys(attributeKinds) as AttributeName[]) {
    attributes[name] = blank();
    const subjects = ofKind[attributeKinds[name]];
    const values = balancedDraw(subjects.length, ATTRIBUTE_VALUES[name].length, rng);
    assign(attributes[name], subjects, values, null, ref?.attributes[name], name);
  }

  const inverse = {} as Record<RelationName, { offsets: Int32Array; items: Int32Array }>;
  for (const rel of RELATIONS) inverse[rel.name] = invert(relations[rel.name], ofKind[rel.subject], n);

  const world: World = Object.freeze({
    seed,
    worldIndex,
    entities,
    ofKind,
    relations,
    birthYear,
    attributes,
    inverse,
  });
  if (worldIndex === 0) {
    if (searchWorldCache.size >= 4) searchWorldCache.delete(searchWorldCache.keys().next().value!);
    searchWorldCache.set(seed, world);
  }
  return world;
}

/** Compressed inverse of a relation: the subjects of object o are items[offsets[o]..offsets[o+1]). */
function invert(relation: Int32Array, subjects: readonly number[], n: number): { offsets: Int32Array; items: Int32Array } {
  const offsets = new Int32Array(n + 1);
  for (const s of subjects) offsets[relation[s]! + 1]!++;
  for (let o = 0; o < n; o++) offsets[o + 1]! += offsets[o]!;
  const fill = offsets.slice(0, n);
  const items = new Int32Array(subjects.length);
  for (const s of subjects) items[fill[relation[s]!]!++] = s;
  return { offsets, items };
}

/** The subjects related to `objectId` by `relation` (e.g. the persons born in a city), ascending. */
export function subjectsOf(world: World, relation: RelationName, objectId: number): number[] {
  const { offsets, items } = world.inverse[relation];
  return Array.from(items.subarray(offsets[objectId]!, offsets[objectId + 1]!));
}

/** The object of a relation for a subject; throws if the relation does not apply to it. */
export function objectOf(world: World, relation: RelationName, subjectId: number): number {
  const o = world.relations[relation][subjectId];
  if (o === undefined || o < 0) {
    const e = world.entities[subjectId];
    throw new Error(`relation "${relation}" does not apply to entity ${subjectId} (${e ? `${e.kind} ${e.name}` : 'unknown'})`);
  }
  return o;
}

/** The value word(s) of an attribute (e.g. "chemist"); throws if it does not apply. */
export function attributeOf(world: World, attribute: AttributeName, id: number): string {
  const v = world.attributes[attribute][id];
  if (v === undefined || v < 0) throw new Error(`attribute "${attribute}" does not apply to entity ${id}`);
  return ATTRIBUTE_VALUES[attribute][v]!;
}

/** A person's birth year; throws for other kinds. */
export function birthYearOf(world: World, id: number): number {
  const y = world.birthYear[id];
  if (y === undefined || y < 0) throw new Error(`entity ${id} has no birth year (not a person)`);
  return y;
}

/** Every entity linked to `id` by a relation, in either direction (deduplicated, ascending). */
export function neighboursOf(world: World, id: number): number[] {
  const out = new Set<number>();
  for (const rel of RELATIONS) {
    const o = world.relations[rel.name][id]!;
    if (o >= 0) out.add(o);
    for (const s of subjectsOf(world, rel.name, id)) out.add(s);
  }
  return [...out].sort((a, b) => a - b);
}
