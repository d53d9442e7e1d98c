/**
 * `experiment --pack DIR --seeds 3 --out DIR [--ablations]`: the paper's table in miniature
 * (recipe.md section 9). On one base checkpoint: naive generation and standard RAG, then for
 * every seed Stage 1 -> Stage 2 and their evaluations, and with --ablations the Stage-2
 * variants (retrieve mask off, Stage 1 skipped, group_norm, KL on). Every result is a file under
 * --out; a rerun skips what is finished and resumes what is not. Ends with table.md / table.json:
 * mean and spread over seeds, per split and per template.
 */
import { mkdir, readFile, writeFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { EvalMetrics, EvalMode } from '../../eval/evaluate.ts';
import { intFlag, log, parseFlags, required } from '../common.ts';
import { CLI_DEFAULT_STEPS, run as trainCmd } from './train.ts';
import { run as evalCmd } from './eval.ts';

const USAGE =
  'npm run cli -- experiment --pack DIR --out DIR [--base public/models/nano-base] [--seeds 3 | --seed-list 7,9,11] [--stage1-steps 50] [--stage2-steps 200] ' +
  '[--ablations] [--ablation-names no-mask,no-stage1,group-norm,kl] [--ablation-seeds N] [--eval-limit N] [--split test,ood] [--backend auto|cpu|wasm] [--threads N] [--json]';

/** A Stage-2 variant of the ablation table: extra train flags and where it starts from. */
interface Ablation {
  name: string;
  what: string;
  from: 'stage1' | 'base';
  flags: string[];
}

export const ABLATIONS: Ablation[] = [
  { name: 'no-mask', what: 'retrieve mask off (documents trained on as if generated)', from: 'stage1', flags: ['--no-mask-documents'] },
  { name: 'no-stage1', what: 'Stage 1 skipped (Stage 2 from the base)', from: 'base', flags: [] },
  { name: 'group-norm', what: 'group_norm (GRPO-style) instead of reinforce_baseline', from: 'stage1', flags: ['--advantage-estimator', 'group_norm'] },
  { name: 'kl', what: 'KL to the stage-initial policy on (klCoef 1e-3)', from: 'stage1', flags: ['--kl-coef', '0.001'] },
];

interface EvalFile {
  results: { split: string; mode: EvalMode; overall: EvalMetrics; byTemplate: Record<string, EvalMetrics> }[];
}

export async function run(argv: string[]): Promise<void> {
  const f = parseFlags(argv, {
    pack: { type: 'string' }, out: { type: 'string' }, base: { type: 'string' }, seeds: { type: 'string' }, 'seed-list': { type: 'string' },
    'stage1-steps': { type: 'string' }, 'stage2-steps': { type: 'string' }, ablations: { type: 'boolean' }, 'ablation-names': { type: 'string' }, 'ablation-seeds': { type: 'string' },
    'eval-limit': { type: 'string' }, split: { type: 'string' }, backend: { type: 'string' }, threads: { type: 'string' }, json: { type: 'boolean' },
  }, USAGE);
  const pack = required(f.pack, 'pack'), out = required(f.out, 'out');
  const base = f.base ?? 'public/models/nano-base';
  const seedList = f['seed-list'] === undefined
    ? Array.from({ length: intFlag(f.seeds, 'seeds', 3, 1) }, (_, i) => i + 1)
    : parseSeedList(f['seed-list']);
  const seeds = seedList.length;
  const s1 = intFlag(f['stage1-steps'], 'stage1-steps', CLI_DEFAULT_STEPS[1], 1);
  const s2 = intFlag(f['stage2-steps'], 'stage2-steps', CLI_DEFAULT_STEPS[2], 1);
  const limit = intFlag(f['eval-limit'], 'eval-limit', 0, 0);
  const splits = f.split ?? 'test,ood';
  // Ablations cost a full Stage 2 each: on a 2-core machine they may run on fewer seeds, and only those named.
  const ablationSeeds = intFlag(f['ablation-seeds'], 'ablation-seeds', seeds, 1);
  if (ablationSeeds > seeds) throw new Error(`--ablation-seeds ${ablationSeeds} is more than --seeds ${seeds}`);
  const ablations = pickAblations(f['ablation-names']);
  const common = [...(f.backend ? ['--backend', f.backend] : []), ...(f.threads ? ['--threads', f.threads] : [])];
  await mkdir(out, { recursive: true });
  const t0 = performance.now();

  const evalTo = async (file: string, checkpoint: string, modes: string) => {
    if (await exists(file)) return;
    log(`experiment: evaluating ${checkpoint} (${modes}) -> ${file}`);
    await evalCmd(['--pack', pack, '--checkpoint', checkpoint, '--split', splits, '--mode', modes, '--out', file, '--quiet', ...(limit ? ['--limit', String(limit)] : []), ...common]);
  };
  const trainTo = async (dir: string, stage: 1 | 2, init: string, steps: number, seed: number, flags: string[]) => {
    const state = await readJson<{ step: number; totalSteps: number }>(join(dir, 'trainer_state.json'));
    if (state && state.step >= state.totalSteps) return;
    log(`experiment: ${state ? 'resuming' : 'training'} stage ${stage} -> ${dir}`);
    await trainCmd(['--stage', String(stage), '--pack', pack, '--init', init, '--out', dir, '--steps', String(steps), '--seed', String(seed), ...(state ? ['--resume'] : []), ...flags, ...common]);
  };

  await evalTo(join(out, 'base-eval.json'), base, 'naive,rag');
  for (const [k, seed] of seedList.entries()) {
    const dir = join(out, `seed-${seed}`);
    await trainTo(join(dir, 'stage1'), 1, base, s1, seed, []);
    await evalTo(join(dir, 'eval-stage1.json'), join(dir, 'stage1'), 'search');
    await trainTo(join(dir, 'stage2'), 2, join(dir, 'stage1'), s2, seed, []);
    await evalTo(join(dir, 'eval-stage2.json'), join(dir, 'stage2'), 'search');
    if (f.ablations && k < ablationSeeds) {
      for (const a of ablations) {
        const init = a.from === 'base' ? base : join(dir, 'stage1');
        await trainTo(join(dir, `ablation-${a.name}`), 2, init, s2, seed, a.flags);
        await evalTo(join(dir, `eval-ablation-${a.name}.json`), join(dir, `ablation-${a.name}`), 'search');
      }
    }
  }

  // Gather every evaluation into one table: method -> split -> per-seed metrics.
  const methods: { name: string; files: string[]; mode: EvalMode }[] = [
    { name: 'naive', files: [join(out, 'base-eval.json')], mode: 'naive' },
    { name: 'rag', files: [join(out, 'base-eval.json')], mode: 'rag' },
    { name: 'stage1', files: seedFiles(out, seedList, 'eval-stage1.json'), mode: 'search' },
    { name: 'stage2', files: seedFiles(out, seedList, 'eval-stage2.json'), mode: 'search' },
    ...(f.ablations ? ablations.map((a) => ({ name: `stage2 ${a.name}`, files: seedFiles(out, seedList.slice(0, ablationSeeds), `eval-ablation-${a.name}.json`), mode: 'search' as EvalMode })) : []),
  ];
  const table = await gather(methods, splits.split(','));
  const seconds = (performance.now() - t0) / 1000;
  const md = renderTable(table, splits.split(','), seeds) + (f.ablations ? `\nAblations (${ablationSeeds} seed(s)): ${ablations.map((a) => `\`${a.name}\` = ${a.what}`).join('; ')}.\n` : '');
  await writeFile(join(out, 'table.md'), md);
  await writeFile(join(out, 'table.json'), `${JSON.stringify({ seeds: seedList, stage1Steps: s1, stage2Steps: s2, base, table }, null, 2)}\n`);
  log(`experiment: done in ${seconds.toFixed(0)} s this run; table in ${join(out, 'table.md')}`);
  if (f.json) process.stdout.write(`${JSON.stringify({ out, table })}\n`);
  else process.stdout.write(md);
}

/** The ablations named by --ablation-names (all when absent); an unknown name is an error that lists the known ones. */
export function pickAblations(names: string | undefined): Ablation[] {
  if (!names) return ABLATIONS;
  return names.split(',').map((n) => {
    const a = ABLATIONS.find((x) => x.name === n.trim());
    if (!a) throw new Error(`--ablation-names: unknown ablation '${n}' (known: ${ABLATIONS.map((x) => x.name).join(', ')})`);
    return a;
  });
}

function seedFiles(out: string, seeds: readonly number[], name: string): string[] {
  return seeds.map((seed) => join(out, `seed-${seed}`, name));
}

/**
 * `--seed-list 7,9,11`: distinct non-negative integer seeds, in the order given (so a table can
 * be gathered over seeds run by separate invocations, some used for tuning and some not).
 * @throws Error naming the entry that is not such a seed, or a repeated one.
 */
export function parseSeedList(text: string): number[] {
  const seeds = text.split(',').map((t) => {
    const v = t.trim();
    if (!/^\d+$/.test(v)) throw new Error(`--seed-list: "${v}" is not a non-negative integer (example: 7,9,11)`);
    return Number(v);
  });
  const dup = seeds.find((s, i) => seeds.indexOf(s) !== i);
  if (dup !== undefined) throw new Error(`--seed-list: seed ${dup} is listed twice`);
  return seeds;
}

/** One cell: mean and population std over seeds. */
interface Cell {
  mean: number;
  std: number;
  n: number;
}

type Table = Record<string, Record<string, { overall: Record<string, Cell>; byTemplate: Record<string, Record<string, Cell>> }>>;

type NumericKey = { [K in keyof EvalMetrics]: EvalMetrics[K] extends number ? K : never }[keyof EvalMetrics];
const KEYS: NumericKey[] = ['coverEm', 'f1', 'em', 'formatRate', 'searchesPerQuestion', 'answerInDocs', 'supportRecall', 'firstHopFound', 'multiSearch', 'bridgeQueried'];

async function gather(methods: { name: string; files: string[]; mode: EvalMode }[], splits: string[]): Promise<Table> {
  const table: Table = {};
  for (const m of methods) {
    const runs = (await Promise.all(m.files.map((f) => readJson<EvalFile>(f)))).filter((x): x is EvalFile => !!x);
    table[m.name] = {};
    for (const split of splits) {
      const rs = runs.map((r) => r.results.find((x) => x.split === split && x.mode === m.mode)).filter((x) => !!x);
      if (rs.length === 0) continue;
      const cell = (vals: number[]): Cell => {
        const v = vals.filter(Number.isFinite);
        const mean = v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
        return { mean: v.length ? mean : NaN, std: v.length ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length) : NaN, n: v.length };
      };
      const overall = Object.fromEntries(KEYS.map((k) => [k, cell(rs.map((r) => r.overall[k]))]));
      const templates = [...new Set(rs.flatMap((r) => Object.keys(r.byTemplate)))].sort();
      const byTemplate = Object.fromEntries(templates.map((t) => [t, Object.fromEntries(KEYS.map((k) => [k, cell(rs.map((r) => r.byTemplate[t]?.[k] ?? NaN))]))]));
      table[m.name]![split] = { overall, byTemplate };
    }
  }
  return table;
}

function renderTable(table: Table, splits: string[], seeds: number): string {
  const f = (c: Cell | undefined) => (!c || Number.isNaN(c.mean) ? '-' : c.n > 1 ? `${c.mean.toFixed(3)} ± ${c.std.toFixed(3)}` : c.mean.toFixed(3));
  const lines = [`Mean ± std over ${seeds} seed(s) (naive and rag are deterministic, one base). Cover-EM is the paper's ACC_R.`, ''];
  lines.push(`| method | ${splits.map((s) => `${s} Cover-EM | ${s} F1 | ${s} searches | ${s} answer in docs`).join(' | ')} |`);
  lines.push(`|---|${splits.map(() => '---|---|---|---').join('|')}|`);
  for (const [name, bySplit] of Object.entries(table)) {
    lines.push(`| ${name} | ${splits.map((s) => { const o = bySplit[s]?.overall; return `${f(o?.coverEm)} | ${f(o?.f1)} | ${f(o?.searchesPerQuestion)} | ${f(o?.answerInDocs)}`; }).join(' | ')} |`);
  }
  for (const split of splits) {
    const templates = [...new Set(Object.values(table).flatMap((t) => Object.keys(t[split]?.byTemplate ?? {})))].sort();
    lines.push('', `Cover-EM per template, split ${split}:`, '', `| template | ${Object.keys(table).join(' | ')} |`, `|---|${Object.keys(table).map(() => '---').join('|')}|`);
    for (const t of templates) lines.push(`| ${t} | ${Object.values(table).map((m) => f(m[split]?.byTemplate[t]?.coverEm)).join(' | ')} |`);
  }
  return `${lines.join('\n')}\n`;
}

async function readJson<T>(file: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
