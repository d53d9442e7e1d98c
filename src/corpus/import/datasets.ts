/**
 * What the importer knows about the benchmarks the paper uses (recipe.md section 8) and their
 * repackagings: a short name for templates and ids, the citation and licence lines the pack
 * shows, the hop count when a file does not say, and the default split.
 *
 * Split rule (documented for users in the import report): HotpotQA and 2WikiMultiHopQA, the
 * paper's in-domain sets, are divided into train / test by a seeded hash of the question id
 * (`splitByHash`); MuSiQue and Bamboogle, its out-of-domain sets, are `ood`; R1-Searcher's own
 * training files are `train`; any other dataset is hashed like HotpotQA. `--split NAME=SPLIT`
 * overrides the rule per dataset.
 */
import type { Split } from '../types.ts';
import type { ImportFormat } from './types.ts';

export interface DatasetInfo {
  /** Short name used in ids and templates. */
  name: string;
  /** Citation line. */
  label: string;
  license: string;
  /** Hops when the question does not say (recipe.md section 8: "about as many searches as hops"). */
  hops?: number;
  split: Split | 'hash';
}

/** The benchmarks of the paper; licences as given in ../shared/data/multihop/README.md. */
export const KNOWN_DATASETS: Readonly<Record<string, DatasetInfo>> = {
  hotpotqa: { name: 'hotpotqa', label: 'HotpotQA (Yang et al., 2018)', license: 'CC BY-SA 4.0', hops: 2, split: 'hash' },
  '2wiki': { name: '2wiki', label: '2WikiMultiHopQA (Ho et al., 2020)', license: 'Apache-2.0', hops: 2, split: 'hash' },
  musique: { name: 'musique', label: 'MuSiQue (Trivedi et al., 2022)', license: 'CC BY 4.0', split: 'ood' },
  bamboogle: { name: 'bamboogle', label: 'Bamboogle (Press et al., 2022)', license: 'MIT', hops: 2, split: 'ood' },
  // Single-hop sets of Search-R1's training and test mix (its data_source names).
  nq: { name: 'nq', label: 'Natural Questions (Kwiatkowski et al., 2019)', license: 'CC BY-SA 3.0', hops: 1, split: 'hash' },
  triviaqa: { name: 'triviaqa', label: 'TriviaQA (Joshi et al., 2017)', license: 'Apache-2.0', hops: 1, split: 'hash' },
  popqa: { name: 'popqa', label: 'PopQA (Mallen et al., 2023)', license: 'MIT', hops: 1, split: 'hash' },
};

/** File-name patterns of the known datasets, tried in order. */
const NAME_PATTERNS: readonly [RegExp, string][] = [
  [/hotpot/i, 'hotpotqa'],
  [/2wiki|wikimultihop/i, '2wiki'],
  [/musique/i, 'musique'],
  [/bamboogle/i, 'bamboogle'],
];

/** The known dataset a file name points to, if any. */
export function datasetFromFileName(file: string): string | undefined {
  const base = file.split(/[\\/]/).pop() ?? file;
  return NAME_PATTERNS.find(([re]) => re.test(base))?.[1];
}

/** A dataset name for an unknown file: its base name without extension, as [a-z0-9_-]. */
export function fileStem(file: string): string {
  const base = (file.split(/[\\/]/).pop() ?? file).replace(/\.(jsonl?|json\.gz|txt|tsv|parquet)$/i, '');
  return base.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '') || 'questions';
}

/** The dataset's info, or the rule for an unknown one (see the file comment). */
export function datasetInfo(name: string, format: ImportFormat): DatasetInfo {
  const known = KNOWN_DATASETS[name];
  if (known) return known;
  if (format === 'r1-searcher') return { name, label: `${name} (R1-Searcher question file, Song et al., 2025)`, license: 'MIT (R1-Searcher repository)', split: 'train' };
  return { name, label: name, license: 'unknown (see the source of the file)', split: 'hash' };
}

/**
 * Whether a question goes to `test` under the hash rule: a 32-bit FNV-1a hash of
 * `seed + "\0" + id`, mixed by MurmurHash3's finalizer, as a fraction of 2^32, below
 * `testFraction`. Depends on nothing but the seed and the id, so re-importing with more files
 * never moves a question between splits.
 */
export function splitByHash(id: string, seed: number, testFraction: number): 'train' | 'test' {
  let h = 0x811c9dc5;
  const s = `${seed}\u0000${id}`;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296 < testFraction ? 'test' : 'train';
}
