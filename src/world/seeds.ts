/**
 * Derived seeds: one independent random stream per (seed, purpose, ...) tuple.
 *
 * Each part of the world (names, relations, every single document, splits, ...) draws from its
 * own stream, so generating one document never depends on which other documents were generated
 * before it, and adding a draw to one part never shifts the numbers of another.
 */

/** Purposes of the derived streams (stable numbers: changing one changes every pack). */
export const STREAM = Object.freeze({
  names: 1,
  entities: 2,
  relations: 3,
  documents: 4,
  split: 5,
  questions: 6,
  stage0: 7,
});

/** murmur3's 32-bit finalizer: a bijective bit mixer. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Mixes integers (each taken modulo 2^32) into one unsigned 32-bit seed. Order matters:
 * `deriveSeed(1, 2) !== deriveSeed(2, 1)` in general.
 */
export function deriveSeed(...parts: number[]): number {
  let h = 0x2545f491;
  for (const p of parts) h = fmix32((h ^ fmix32((p >>> 0) + 0x9e3779b9)) + 0x6d2b79f5);
  return h;
}
