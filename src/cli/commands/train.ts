/**
 * `train --stage 1|2 --pack DIR --init CKPT --out CKPT --steps N --seed S`: one RL stage of
 * R1-Searcher (recipe.md sections 3-8) from a checkpoint, or from a Hugging Face model folder
 * (Llama or Qwen2 with a byte-level BPE tokenizer; the tags are added, see src/io/hf-model.ts). Writes the policy, the optimizer and
 * trainer state, `metrics.jsonl` (one line per step) and `rollouts.json` (the latest step's
 * rollouts) every `--save-every` steps and at the end. `--resume` continues a run from its
 * output folder bit for bit, after checking what it reads (trainer state, settings, metrics,
 * the pack's name and manifest hash): flags that contradict the run are refused (`--seed`,
 * settings), `--steps` moves the end openly, another pack needs `--allow-other-pack`.
 * A step whose loss or gradient is not finite is skipped (weights unchanged, `skippedUpdates`
 * in its metrics); after 3 in a row the run stops and the last saved checkpoint stays as it was.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Question } from '../../corpus/types.ts';
import { uploadParams, type Checkpoint, type TrainerState } from '../../io/checkpoint.ts';
import { captureRun, resumeRun } from '../../rl/run-state.ts';
import { CHECKPOINT_FOLDER, loadCheckpointDir, loadModelFolder, saveCheckpointDir } from '../../io/checkpoint-fs.ts';
import { checkOutputFolder } from '../../util/output-folder.ts';
import { RlTrainer, type StepMetrics } from '../../rl/trainer.ts';
import { defaultRlSettings, storedRlSettings, validateRlSettings, type RlSettings } from '../../rl/settings.ts';
import { mergeSettingsInto, setSettingPath } from '../../rl/settings-schema.ts';
import { applySettingFlags, SETTING_FLAG_NAMES, SETTING_FLAG_OPTIONS, SETTING_FLAGS_USAGE } from '../settings-flags.ts';
import { jsonErrorOffset, lineColumn } from '../../util/json-where.ts';
import { intFlag, log, openBackend, openPack, parseFlags, progressBar, required } from '../common.ts';
import { searchUrlRetriever } from '../../search/remote-retriever.ts';
import { WasmBackend } from '../../backend/wasm/wasm-backend.ts';
import { formatBytes } from '../../model/memory.ts';
import { checkTrainingFits } from '../../rl/memory-check.ts';

/**
 * Steps of a stage when `--steps` is not given (`experiment` uses the same; the page's Stage 2 too):
 * Stage 2 is longer, since its 3-hop questions need two searches learnt and reading five documents
 * kept improving past step 100 (src/rl/settings.ts; issue 15, seeds 7 and 41 at top-5: test 0.883 /
 * 0.872 at step 100, 0.900 / 0.902 at step 200). Measured with the nano preset on 2 cores (wasm, one
 * thread, two runs sharing the cores): Stage 1 about 360 s, Stage 2 1,900-1,980 s.
 */
export const CLI_DEFAULT_STEPS: Readonly<{ 1: number; 2: number }> = Object.freeze({ 1: 50, 2: 200 });

const USAGE =
  'npm run cli -- train --stage 1|2 --pack DIR --init CKPT --out CKPT [--steps 50 (Stage 1) | 200 (Stage 2)] [--seed S] [--backend auto|cpu|wasm] [--threads N] ' +
  `${SETTING_FLAGS_USAGE} ` +
  '[--settings FILE.json] [--set path=value]... [--save-every N] [--stop-after N] [--resume [--allow-other-pack]] [--overwrite] [--search-url URL] [--json]';

export async function run(argv: string[]): Promise<void> {
  const f = parseFlags(argv, {
    stage: { type: 'string' }, pack: { type: 'string' }, init: { type: 'string' }, out: { type: 'string' }, steps: { type: 'string' },
    seed: { type: 'string' }, backend: { type: 'string' }, threads: { type: 'string' },
    ...SETTING_FLAG_OPTIONS, settings: { type: 'string' }, set: { type: 'string', multiple: true },
    'save-every': { type: 'string' }, 'stop-after': { type: 'string' }, resume: { type: 'boolean' }, overwrite: { type: 'boolean' }, json: { type: 'boolean' },
    'allow-other-pack': { type: 'boolean' },
    'search-url': { type: 'string' },
  }, USAGE);
  const stage = Number(required(f.stage, 'stage'));
  if (stage !== 1 && stage !== 2) throw new Error(`--stage must be 1 or 2, got "${f.stage}"`);
  const packDir = required(f.pack, 'pack'), initDir = required(f.init, 'init'), out = required(f.out, 'out');
  const steps = intFlag(f.steps, 'steps', CLI_DEFAULT_STEPS[stage], 1);
  let seed = intFlag(f.seed, 'seed', 1);
  const saveEvery = intFlag(f['save-every'], 'save-every', 10, 1);
  // Run at most this many steps now (the run stays resumable); 0 = to the end.
  const stopAfter = intFlag(f['stop-after'], 'stop-after', 0, 0);
  const remote = searchUrlRetriever(f['search-url']); // checked before any loading

  // Resume or start: decide before any work, and never touch an unrelated folder.
  let resumeFrom: Checkpoint | null = null;
  if (f.resume) {
    resumeFrom = await loadCheckpointDir(out);
    if (!resumeFrom.state || resumeFrom.state.stage !== stage) throw new Error(`--resume: ${out} holds no stage-${stage} run`);
    if (!resumeFrom.optimizer) throw new Error(`--resume: ${out} has no optimizer.safetensors`);
    if (f.overwrite) throw new Error('--resume continues the run in --out and --overwrite replaces it: pass one of them');
    // Each save replaces the folder: refuse now, not after the first steps, if it holds files no checkpoint holds.
    await checkOutputFolder(out, CHECKPOINT_FOLDER, { overwrite: true });
  } else {
    await checkOutputFolder(out, CHECKPOINT_FOLDER, { overwrite: f.overwrite, inputs: [packDir, initDir], hint: 'use --resume to continue it or --overwrite to replace it' });
  }
  // Our checkpoint, or a Hugging Face model folder (imported, tags added; no pretraining needed).
  const { checkpoint: init, notes: initNotes, imported } = await loadModelFolder(initDir);
  for (const n of initNotes) log(`init: ${n}`);
  if (imported) log(`init: imported ${initDir} (${init.config.family ?? 'llama'}, ${init.tokenizer.size} tokens); the pack's text is tokenized by its tokenizer`);
  const ctx = await openPack(packDir);
  const tokenizer = init.tokenizer;
  const unknown = ctx.pack.questions.slice(0, 200).reduce((n, q) => n + tokenizer.countUnknown(q.question), 0);
  if (unknown > 0) log(`warning: ${unknown} words of the first 200 questions are not in the checkpoint's vocabulary`);

  let settings: RlSettings;
  let totalSteps = steps;
  let metrics: StepMetrics[] = [];
  if (resumeFrom) {
    const st = resumeFrom.state!;
    settings = storedSettings(stage, st.settings, out, init.config);
    // Flags that contradict the stored run are refused; --steps and --pack changes are applied openly.
    if (f.seed !== undefined && seed !== st.seed) throw new Error(`--resume: --seed ${seed} contradicts the run's seed ${st.seed} (${join(out, 'trainer_state.json')}); drop --seed to resume, or start a new run`);
    seed = st.seed;
    if (SETTINGS_FLAGS.some((k) => f[k as keyof typeof f] !== undefined)) {
      const asked = await buildSettings(stage, f, structuredClone(settings));
      const diff = settingsDiff(settings, asked);
      if (diff.length) throw new Error(`--resume: the flags change settings of the stored run (${diff.join('; ')}); a run resumes with its own settings: drop those flags, or start a new run`);
    }
    totalSteps = st.totalSteps;
    if (f.steps !== undefined && steps !== st.totalSteps) {
      if (steps < st.step) throw new Error(`--resume: --steps ${steps} is below the ${st.step} steps this run has done`);
      log(`train: --steps ${steps} ${steps > st.totalSteps ? 'extends' : 'shortens'} the run from ${st.totalSteps} to ${steps} steps${st.step === st.totalSteps ? ' (it had finished)' : ''}; the learning-rate schedule now spans ${steps} steps`);
      totalSteps = steps;
    }
    checkPackIdentity(st, ctx.pack.manifest.name, ctx.pack.manifestSha256, packDir, out, !!f['allow-other-pack']);
    if (JSON.stringify(init.config) !== JSON.stringify(resumeFrom.config) || init.tokenizer.vocab.join('\n') !== resumeFrom.tokenizer.vocab.join('\n')) {
      throw new Error(`--resume: --init ${initDir} has another model shape or vocabulary than the run in ${out} (it started from ${st.init || 'another checkpoint'})`);
    }
    if (st.init && resolve(st.init) !== resolve(initDir)) log(`train: note: the run started from --init ${st.init}; ${initDir} (same shape and vocabulary) is its reference policy now`);
    metrics = (await readMetrics(out)).slice(0, st.step);
    if (metrics.length < st.step) throw new Error(`--resume: ${join(out, 'metrics.jsonl')} holds ${metrics.length} lines, trainer_state.json says ${st.step} steps were done`);
  } else {
    settings = await buildSettings(stage, f, defaultRlSettings(stage));
  }
  const backend = await openBackend(f.backend, f.threads);
  // The parameter count and memory estimate; a run that cannot fit is refused with the numbers.
  log(`memory: ${checkTrainingFits(init.config, settings, backend).line}`);
  const params = uploadParams(backend, (resumeFrom ?? init).weights);
  const needRef = settings.klCoef > 0 || settings.klEvery > 0;
  const refParams = needRef ? uploadParams(backend, init.weights) : undefined;
  const train: Question[] = ctx.pack.questions.filter((q) => q.split === 'train');
  const trainer = new RlTrainer({ backend, config: init.config, params, refParams, tokenizer, retriever: remote ?? ctx.retriever, questions: train, settings, totalSteps, seed,
    documentTitles: new Map(ctx.pack.documents.map((d) => [d.id, d.title])) });
  let elapsed = 0;
  if (resumeFrom) {
    resumeRun(backend, trainer, resumeFrom);
    elapsed = resumeFrom.state!.elapsedSeconds;
    log(`train: resuming ${out} at step ${trainer.step}/${totalSteps}`);
  }
  log(`train: stage ${stage} on ${ctx.pack.manifest.name}, ${train.length} training questions, backend ${backend.name}, ${settings.promptsPerStep} x ${settings.samplesPerPrompt} rollouts per step`);

  let rollouts: unknown[] = [];
  const save = async () => {
    const ckpt = await captureRun(backend, init, trainer, {
      stage: stage as 1 | 2, step: trainer.step, totalSteps, seed, settings, pack: ctx.pack.manifest.name, packSha256: ctx.pack.manifestSha256,
      preset: init.state?.preset ?? '', init: initDir,
      lineage: [...(init.state?.lineage ?? []), { stage: stage as 1 | 2, steps: trainer.step, pack: ctx.pack.manifest.name }], elapsedSeconds: elapsed,
    });
    const extra = new Map<string, string>([
      ['metrics.jsonl', metrics.map((m) => JSON.stringify(m)).join('\n') + (metrics.length ? '\n' : '')],
      ['rollouts.json', `${JSON.stringify(rollouts)}\n`],
    ]);
    await saveCheckpointDir(out, ckpt, { overwrite: true, extra });
  };

  const bar = progressBar(totalSteps, `stage ${stage}`);
  const lastStep = stopAfter > 0 ? Math.min(totalSteps, trainer.step + stopAfter) : totalSteps;
  while (trainer.step < lastStep) {
    let res;
    try {
      res = await trainer.runStep();
    } catch (e) {
      bar.stop();
      throw new Error(`${(e as Error).message} (step ${trainer.step + 1}; the last saved checkpoint in ${out} is untouched)`);
    }
    metrics.push(res.metrics);
    rollouts = res.rollouts;
    if (res.metrics.skippedUpdates) log(`train: step ${res.metrics.step}: ${res.metrics.skippedUpdates} optimizer step(s) skipped, their loss or gradient was not finite (weights and optimizer moments unchanged)`);
    elapsed += res.metrics.seconds;
    const m = res.metrics;
    bar.update(trainer.step, { info: `reward ${m.reward.toFixed(3)} retrieval ${m.retrievalRate.toFixed(2)} format ${m.formatRate.toFixed(2)} f1 ${m.f1.toFixed(3)}` });
    if (!process.stderr.isTTY) {
      log(`step ${m.step} reward ${m.reward.toFixed(3)} retrieval ${m.retrievalRate.toFixed(2)} format ${m.formatRate.toFixed(2)} f1 ${m.f1.toFixed(3)} ` +
        `answerInDocs ${m.answerInDocs.toFixed(2)} onTopic ${m.firstQueryOnTopic.toFixed(2)} searches ${m.searchesPerRollout.toFixed(2)} (by hops ${Object.entries(m.byHops).map(([h, x]) => `${h}:${x.searches.toFixed(2)}`).join(' ')}) spread ${m.groupsWithSpread.toFixed(2)} len ${m.responseLength.toFixed(1)} ${m.seconds.toFixed(1)}s`);
    }
    if (trainer.step % saveEvery === 0 || trainer.step === lastStep) await save();
  }
  bar.stop();
  if (backend instanceof WasmBackend) log(`memory: the wasm backend's memory grew to ${formatBytes(backend.memoryBytes)} (its high-water mark)`);
  const tail = metrics.slice(-10);
  const avg = (k: keyof StepMetrics) => tail.reduce((a, m) => a + (m[k] as number), 0) / Math.max(1, tail.length);
  const summary = { out, stage, steps: trainer.step, seconds: +elapsed.toFixed(1), last10: { reward: avg('reward'), retrievalRate: avg('retrievalRate'), formatRate: avg('formatRate'), f1: avg('f1'), answerInDocs: avg('answerInDocs'), searchesPerRollout: avg('searchesPerRollout') } };
  if (f.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else log(`train: wrote ${out} (${trainer.step} steps, ${summary.seconds} s)`);
}

/** Flags that change settings (refused on --resume when they contradict the stored run). */
const SETTINGS_FLAGS = ['settings', 'set', ...SETTING_FLAG_NAMES];

/**
 * `base` (the stage's defaults, or a resumed run's settings), then --settings FILE, then the
 * setting flags (src/cli/settings-flags.ts: each checked against the setting's bounds), then
 * --set path=value (src/rl/settings-schema.ts: known paths only, values of the default's type,
 * prototype keys refused).
 */
async function buildSettings(stage: 1 | 2, f: Record<string, unknown>, base: RlSettings): Promise<RlSettings> {
  const s = base;
  if (typeof f.settings === 'string') mergeSettingsInto(s, await readJsonFile(f.settings, '--settings'), `--settings ${f.settings}`);
  applySettingFlags(s, f);
  for (const kv of (f.set as string[] | undefined) ?? []) {
    const eq = kv.indexOf('=');
    if (eq < 1) throw new Error(`--set expects path=value, got "${kv}"`);
    let value: unknown;
    try {
      value = JSON.parse(kv.slice(eq + 1));
    } catch {
      value = kv.slice(eq + 1);
    }
    setSettingPath(s, kv.slice(0, eq), value, '--set');
  }
  s.stage = stage;
  return s;
}

/** A JSON file's value. @throws Error naming the flag, the file and the line and column of a syntax error. */
async function readJsonFile(file: string, flag: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new Error(`${flag} ${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${flag} ${file}: ${jsonErrorWhere(text, e as Error)}`);
  }
}

/** "not valid JSON at line L column C (message)" for a JSON.parse error. */
function jsonErrorWhere(text: string, e: Error): string {
  const at = jsonErrorOffset(text);
  return `not valid JSON${at >= 0 ? ` at ${lineColumn(text, at)}` : ''} (${e.message.split('\n')[0]!.replace(/, "[\s\S]*$/, '')})`;
}

/**
 * A resumed run's stored settings, checked as a settings file is (known paths, types) and
 * validated. @throws Error naming trainer_state.json and the setting.
 */
function storedSettings(stage: 1 | 2, stored: unknown, out: string, config: Checkpoint['config']): RlSettings {
  const where = `--resume: ${join(out, 'trainer_state.json')} settings`;
  try {
    // A run saved before a setting existed resumes with the value that reproduces it.
    return validateRlSettings(storedRlSettings(stage, stored, where), config);
  } catch (e) {
    const m = (e as Error).message;
    throw new Error(m.startsWith(where) ? m : `${where}: ${m.replace(/^settings: /, '')}`);
  }
}

/** Leaf paths where two settings objects differ, as "path: stored A, flags B". */
function settingsDiff(stored: unknown, asked: unknown, path = ''): string[] {
  if (stored && asked && typeof stored === 'object' && typeof asked === 'object' && !Array.isArray(stored) && !Array.isArray(asked)) {
    const keys = new Set([...Object.keys(stored), ...Object.keys(asked)]);
    return [...keys].flatMap((k) => settingsDiff((stored as Record<string, unknown>)[k], (asked as Record<string, unknown>)[k], path ? `${path}.${k}` : k));
  }
  return JSON.stringify(stored) === JSON.stringify(asked) ? [] : [`${path}: stored ${JSON.stringify(stored)}, flags ${JSON.stringify(asked)}`];
}

/**
 * Resuming on another pack than the run started on changes what it learns from: refused unless
 * --allow-other-pack, and then said. Older checkpoints without packSha256 are compared by name.
 */
function checkPackIdentity(st: TrainerState, name: string, sha: string | undefined, packDir: string, out: string, allow: boolean): void {
  const sameName = st.pack === name;
  const sameHash = !st.packSha256 || !sha || st.packSha256 === sha;
  if (sameName && sameHash) return;
  const was = `pack "${st.pack}"${st.packSha256 ? ` (manifest SHA-256 ${st.packSha256.slice(0, 12)}...)` : ''}`;
  const now = `pack "${name}"${sha ? ` (manifest SHA-256 ${sha.slice(0, 12)}...)` : ''}`;
  if (!allow) {
    throw new Error(`--resume: the run in ${out} started on ${was}, but --pack ${packDir} is ${now}; resume with the same pack, or pass --allow-other-pack to go on with this one (trainer_state.json will record it)`);
  }
  log(`train: --allow-other-pack: the run started on ${was} and goes on with ${now}; trainer_state.json records the new pack from now on`);
}

/** The run's metrics.jsonl, one record per line. @throws Error naming the file and line. */
async function readMetrics(out: string): Promise<StepMetrics[]> {
  const file = join(out, 'metrics.jsonl');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`--resume: ${file} is missing (every folder train writes has one; the run cannot resume without its metrics)`);
    throw new Error(`--resume: ${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l, i) => {
    let v: unknown;
    try {
      v = JSON.parse(l);
    } catch (e) {
      throw new Error(`--resume: ${file} line ${i + 1} is not valid JSON (${(e as Error).message})`);
    }
    if (!v || typeof v !== 'object' || Array.isArray(v) || typeof (v as StepMetrics).step !== 'number') throw new Error(`--resume: ${file} line ${i + 1} is not a metrics record (an object with a "step" number)`);
    return v as StepMetrics;
  });
}
