/**
 * `npm run cli -- shipped-run [--out DIR] [--pack DIR] [--base DIR] [--seed S] [--stage1-steps N]
 * [--stage2-steps N] [--eval-limit N] [--groups N] [--prompts-per-step N] [--samples-per-prompt N] [--backend auto|cpu|wasm]
 * [--threads N] [--overwrite] [--json]`:
 * trains the page's default recipe (src/rl/trainer.ts defaultRlSettings) Stage 1 then Stage 2
 * from the base for one seed, exactly as the page would (the same TrainingSession, Stage s
 * seeded with seed + s), evaluates base, Stage 1 and Stage 2, and writes the shipped run the
 * page shows on a first visit (src/session/shipped-run.ts lists the files). Rollouts are kept at the
 * steps the page keeps (src/session/rollout-history.ts), `--groups` groups per step.
 * `--prompts-per-step` and `--samples-per-prompt` shrink the batch for trials and tests; the
 * shipped run keeps the recipe's. Prints the wall time. Refuses a non-empty DIR without
 * --overwrite (nothing is written then).
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { keepStep, pickGroups, type KeptStep } from '../../session/rollout-history.ts';
import { CLI_DEFAULT_STEPS } from './train.ts';
import { DEFAULT_STAGE_STEPS, type EvalRow, type PolicyName } from '../../session/types.ts';
import { type SettingsOverride } from '../../rl/settings.ts';
import { TrainingSession } from '../../session/training-session.ts';
import { evaluatePolicy } from '../../session/evaluation.ts';
import { encodeShippedRollouts, SHIPPED_RUN_FILES, SHIPPED_RUN_NAME, type ShippedRunManifest } from '../../session/shipped-run.ts';
import { RETRIEVER_EVAL_MODES } from '../../eval/evaluate.ts';
import { intFlag, log, openBackend, openPack, parseFlags } from '../common.ts';

const USAGE =
  'npm run cli -- shipped-run [--out DIR] [--pack DIR] [--base DIR] [--seed S] [--stage1-steps N] [--stage2-steps N] ' +
  '[--eval-limit N] [--groups N] [--prompts-per-step N] [--samples-per-prompt N] [--backend auto|cpu|wasm] [--threads N] [--overwrite] [--json]';

/** Stage 2 of the shipped run is the command line's, which is the page's (200 steps). */
export const SHIPPED_STAGE2_STEPS = CLI_DEFAULT_STEPS[2];

export async function run(argv: string[]): Promise<void> {
  const t0 = performance.now();
  const f = parseFlags(argv, {
    out: { type: 'string' }, pack: { type: 'string' }, base: { type: 'string' }, seed: { type: 'string' },
    'stage1-steps': { type: 'string' }, 'stage2-steps': { type: 'string' }, 'eval-limit': { type: 'string' }, groups: { type: 'string' },
    'prompts-per-step': { type: 'string' }, 'samples-per-prompt': { type: 'string' },
    backend: { type: 'string' }, threads: { type: 'string' }, overwrite: { type: 'boolean' }, json: { type: 'boolean' },
  }, USAGE);
  const out = f.out ?? join('public', 'models', SHIPPED_RUN_NAME);
  const packDir = f.pack ?? join('public', 'corpus', 'world');
  const baseDir = f.base ?? join('public', 'models', 'nano-base');
  const seed = intFlag(f.seed, 'seed', 1);
  const steps = { 1: intFlag(f['stage1-steps'], 'stage1-steps', DEFAULT_STAGE_STEPS[1], 1), 2: intFlag(f['stage2-steps'], 'stage2-steps', SHIPPED_STAGE2_STEPS, 1) } as const;
  const evalLimit = intFlag(f['eval-limit'], 'eval-limit', 50, 0);
  const groups = intFlag(f.groups, 'groups', 2, 1);
  const override: SettingsOverride = {};
  if (f['prompts-per-step'] !== undefined) override.promptsPerStep = intFlag(f['prompts-per-step'], 'prompts-per-step', 0, 1);
  if (f['samples-per-prompt'] !== undefined) override.samplesPerPrompt = intFlag(f['samples-per-prompt'], 'samples-per-prompt', 0, 1);
  if (!f.overwrite && (await readdir(out).catch(() => [])).length > 0) {
    throw new Error(`${out} already exists and is not empty (nothing was written; use --overwrite to replace it)`);
  }

  const ctx = await openPack(packDir);
  const backend = await openBackend(f.backend, f.threads);
  const session = new TrainingSession(backend);
  const read = async (name: string): Promise<Uint8Array | null> => {
    try {
      return new Uint8Array(await readFile(join(baseDir, name)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  };
  await session.load(read, ctx.pack.questions, ctx.retriever, ctx.pack.manifest.name);
  log(`shipped-run: ${baseDir} on ${ctx.pack.manifest.name}, seed ${seed}, Stage 1 ${steps[1]} steps, Stage 2 ${steps[2]} steps, backend ${backend.name}`);

  let history: KeptStep[] = [];
  const seconds = { 1: 0, 2: 0 };
  const settings = { 1: null as ShippedRunManifest['stages'][1]['settings'] | null, 2: null as ShippedRunManifest['stages'][1]['settings'] | null };
  for (const stage of [1, 2] as const) {
    const t = performance.now();
    settings[stage] = await session.startStage(stage, override, steps[stage], seed + stage);
    for (let i = 0; i < steps[stage]; i++) {
      const { metrics: m, rollouts } = await session.step();
      history = keepStep(history, { stage, step: m.step, rollouts: pickGroups(rollouts, groups) });
      log(`stage ${stage} step ${m.step}/${steps[stage]} reward ${m.reward.toFixed(3)} retrieval ${m.retrievalRate.toFixed(2)} format ${m.formatRate.toFixed(2)} ` +
        `f1 ${m.f1.toFixed(3)} searches ${m.searchesPerRollout.toFixed(2)} ${m.seconds.toFixed(1)} s`);
    }
    seconds[stage] = (performance.now() - t) / 1000;
  }

  // Evaluate the policies as shipped: F16 weights, widened back (the page loads the same numbers).
  const progress = session.progress();
  const weights = { stage1: await session.weightsFile('stage1', 'F16'), stage2: await session.weightsFile('stage2', 'F16') };
  session.adoptShipped({ ...weights, metrics: [...progress.metrics[1], ...progress.metrics[2]] });
  const tEval = performance.now();
  const evalRows: EvalRow[] = [];
  for (const policy of ['base', 'stage1', 'stage2'] as PolicyName[]) {
    evalRows.push(...await evaluatePolicy(session, { policy, splits: ['test', 'ood'], modes: [...RETRIEVER_EVAL_MODES], limit: evalLimit }));
    log(`evaluated ${policy}: ${evalRows.filter((r) => r.policy === policy && r.mode === 'search').map((r) => `${r.split} Cover-EM ${r.overall.coverEm.toFixed(3)}`).join(', ')}`);
  }
  const evalSeconds = (performance.now() - tEval) / 1000;

  const manifest: ShippedRunManifest = {
    format: 'r1s-shipped-run', version: 1, base: baseDir.split(/[\\/]/).filter(Boolean).at(-1)!, pack: ctx.pack.manifest.name, seed,
    stages: { 1: { steps: steps[1], seconds: round1(seconds[1]), settings: settings[1]! }, 2: { steps: steps[2], seconds: round1(seconds[2]), settings: settings[2]! } },
    wallSeconds: 0, command: `npm run cli -- shipped-run ${argv.join(' ')}`.trim(), createdAt: new Date().toISOString(), evalLimit, eval: evalRows,
  };
  manifest.wallSeconds = round1((performance.now() - t0) / 1000);
  const files = new Map<string, Uint8Array | string>([
    [SHIPPED_RUN_FILES.manifest, `${JSON.stringify(manifest, null, 1)}\n`],
    [SHIPPED_RUN_FILES.metrics, [...progress.metrics[1], ...progress.metrics[2]].map((m) => JSON.stringify(m)).join('\n') + '\n'],
    [SHIPPED_RUN_FILES.rollouts, encodeShippedRollouts(history)],
    [SHIPPED_RUN_FILES.stage1, weights.stage1],
    [SHIPPED_RUN_FILES.stage2, weights.stage2],
  ]);
  // Written beside, then swapped in: an interrupted write never leaves half a run in DIR.
  const tmp = `${out}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  let bytes = 0;
  for (const [name, content] of files) {
    await writeFile(join(tmp, name), content);
    bytes += typeof content === 'string' ? Buffer.byteLength(content) : content.length;
  }
  await rm(out, { recursive: true, force: true });
  await rename(tmp, out);
  const summary = {
    out, seed, steps, seconds: { stage1: round1(seconds[1]), stage2: round1(seconds[2]), eval: round1(evalSeconds) }, wallSeconds: manifest.wallSeconds,
    bytes, keptSteps: history.map((h) => `${h.stage}:${h.step}`),
  };
  if (f.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  log(`shipped-run: wrote ${out} (${(bytes / 1e6).toFixed(2)} MB) in ${manifest.wallSeconds} s wall time ` +
    `(Stage 1 ${summary.seconds.stage1} s, Stage 2 ${summary.seconds.stage2} s, evaluation ${summary.seconds.eval} s)`);
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
