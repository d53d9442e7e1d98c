/**
 * What both trainer exports (src/corpus/export/search-r1.ts, r1-searcher.ts) share: the
 * dataset a question came from, the split files, and the settings summary the README maps to
 * the trainers' flags. Plain data in, bytes out: the CLI (`export-pack`) and the page's Corpus
 * step write the same files.
 */
import type { Question, Split } from '../types.ts';

/** The export formats: Search-R1 (verl) and R1-Searcher (its OpenRLHF fork). */
export type PackExportFormat = 'search-r1' | 'r1-searcher';
export const PACK_EXPORT_FORMATS: readonly PackExportFormat[] = ['search-r1', 'r1-searcher'];

/**
 * The training settings of our run, as the README maps them to the trainers' flags (the subset
 * of src/rl/trainer.ts `RlSettings` that has a counterpart there; the caller fills it from the
 * settings in force, so this layer needs nothing from src/rl).
 */
export interface RunSettingsSummary {
  /** Questions per RL step. */
  promptsPerStep: number;
  /** Samples per question, G. */
  samplesPerPrompt: number;
  /** Optimizer steps per rollout batch. */
  miniBatches: number;
  /** REINFORCE++ baseline (`reinforce_baseline`, `group_norm`, `reinforce`). */
  advantageEstimator: string;
  /** Stage 2's KL coefficient to the stage's initial policy. */
  klCoef: number;
  /** Stage 1's KL coefficient to the stage's initial policy (the base). */
  stage1KlCoef: number;
  /** Peak learning rate. */
  lr: number;
  /** Most searches per rollout. */
  maxSearches: number;
  /** Documents per search. */
  topK: number;
  /** Most generated tokens per segment. */
  maxNewTokens: number;
  /** Stage 1's retrieval reward rule by name (src/rl/rewards.ts `RetrievalRewardRule`: any, found, relevant, follow-up). */
  retrievalReward: string;
  /** Stage 2's penalty for a completion that is not well-formed (<= 0). */
  formatPenalty: number;
  /** Stage 2's penalty for a wrong answer read in neither the documents nor the question (<= 0; 0 = off). */
  ungroundedPenalty: number;
  /** Hop counts of Stage 1's questions (its curriculum); Stage 2 takes every training question. */
  stage1Hops: number[];
  stage1Steps?: number;
  stage2Steps?: number;
}

/** The pack-level options of an export. */
export interface PackExportOptions {
  /** Our run's settings, mapped to the trainers' flags in the README. */
  settings: RunSettingsSummary;
  /** Search-R1 only: the `data_source` of questions whose dataset its reward does not know (default `nq`). */
  dataSource?: string;
}

/**
 * The dataset a question belongs to: the `dataset:` prefix of an imported question's id, else
 * the `dataset/` prefix of its template, else the pack's name (a generated pack's questions).
 */
export function questionDataset(q: Question, packName: string): string {
  const byId = q.id.match(/^([a-z0-9_-]+):/)?.[1];
  if (byId) return byId;
  const byTemplate = q.template.match(/^([a-z0-9_-]+)\//)?.[1];
  return byTemplate ?? packName;
}

/** The questions of a split, in pack order. */
export const inSplit = (questions: readonly Question[], split: Split) => questions.filter((q) => q.split === split);

/** One JSON Lines file's bytes. */
export function jsonLines(rows: readonly unknown[]): Uint8Array {
  return new TextEncoder().encode(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
}

/**
 * A document's text on one line: the trainers' corpora are line-based (TSV, JSON Lines of
 * `"title"\ntext`), so a tab or line break inside a title or text becomes a space.
 */
export const oneLine = (s: string) => s.replace(/[\t\r\n]+/g, ' ');

/** A question's supporting documents as corpus row numbers (the exported corpora's ids); ids the pack lacks are dropped. */
export function supportingRows(q: Question, rowOf: ReadonlyMap<string, number>): string[] {
  return q.supportingIds.flatMap((id) => (rowOf.has(id) ? [String(rowOf.get(id))] : []));
}

/** Document id -> row number in the exported corpus. */
export const rowNumbers = (documents: readonly { id: string }[]) => new Map(documents.map((d, i) => [d.id, i]));
