/**
 * `train --stage 1|2 --pack DIR --init CKPT --out CKPT --steps N --seed S`: one RL stage of
 * R1-Searcher (recipe.md sections 3-8) from a checkpoint, or from a Hugging Face model folder
 * (Llama or Qwen2 with a byte-level BPE tokenizer; the tags are added, see src/io/hf-model.ts). Writes the policy, the optimizer and
 * trainer state, `metrics.jsonl` (one line per step) and `rollouts.json` (the latest step's
 * rollouts) every `--save-every` steps and at the end. `--resume` continues a run from its
 * output folder bit for bit.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Question } from '../../corpus/types.ts';
import { downloadParams, uploadParams, type Checkpoint, type TrainerState } from '../../io/checkpoint.ts';
import { loadCheckpointDir, loadModelFolder, saveCheckpointDir } from '../../io/checkpoint-fs.ts';
import type { ParamSet } from '../../model/params.ts';
import type { RewardSettings } from '../../rl/rewards.ts';
import { defaultRlSettings, RlTrainer, upgradeRlSettings, type RlSettings, type StepMetrics } from '../../rl/trainer.ts';
import type { Backend } from '../../backend/backend.ts';
import { intFlag, log, numFlag, openBackend, openPack, parseFlags, progressBar, required } from '../common.ts';
import { searchUrlRetriever } from '../../search/remote-retriever.ts';
import { WasmBackend } from '../../backend/wasm/wasm-backend.ts';
import { formatBytes } from '../../model/memory.ts';
import { checkTrainingFits } from '../../rl/memory-check.ts';

const USAGE =
  'npm run cli -- train --stage 1|2 --pack DIR --init CKPT --out CKPT --steps N [--seed S] [--backend auto|cpu|wasm] [--threads N] ' +
  '[--prompts-per-step N] [--samples-per-prompt N] [--lr X] [--kl-coef X] [--advantage-estimator reinforce_baseline|group_norm|reinforce] ' +
  '[--max-searches N] [--top-k N] [--retrieval-reward relevant|found|any] [--format-penalty X] [--hops 1,2] [--no-mask-documents] ' +
  '[--settings FILE.json] [--set path=value]... [--save-every N] [--stop-after N] [--resume] [--overwrite] [--search-url URL] [--json]';

export async function run(argv: string[]): Promise<void> {
  const f = parseFlags(argv, {
    stage: { type: 'string' }, pack: { type: 'string' }, init: { type: 'string' }, out: { type: 'string' }, steps: { type: 'string' },
    seed: { type: 'string' }, backend: { type: 'string' }, threads: { type: 'string' },
    'prompts-per-step': { type: 'string' }, 'samples-per-prompt': { type: 'string' }, lr: { type: 'string' }, 'kl-coef': { type: 'string' },
    'advantage-estimator': { type: 'string' }, 'max-searches': { type: 'string' }, 'top-k': { type: 'string' },
    'retrieval-reward': { type: 'string' }, 'format-penalty': { type: 'string' }, hops: { type: 'string' },
    'no-mask-documents': { type: 'boolean' }, settings: { type: 'string' }, set: { type: 'string', multiple: true },
    'save-every': { type: 'string' }, 'stop-after': { type: 'string' }, resume: { type: 'boolean' }, overwrite: { type: 'boolean' }, json: { type: 'boolean' },
    'search-url': { type: 'string' },
  }, USAGE);
  const stage = Number(required(f.stage, 'stage'));
  if (stage !== 1 && stage !== 2) throw new Error(`--stage must be 1 or 2, got "${f.stage}"`);
  const packDir = required(f.pack, 'pack'), initDir = required(f.init, 'init'), out = required(f.out, 'out');
  const steps = intFlag(f.steps, 'steps', 50, 1);
  const seed = intFlag(f.seed, 'seed', 1);
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
  } else if (!f.overwrite && (await folderHasFiles(out))) {
    throw new Error(`${out} already exists and is not empty (nothing was written; use --resume to continue it or --overwrite to replace it)`);
  }
  // Our checkpoint, or a Hugging Face model folder (imported, tags added; no pretraining needed).
  const { checkpoint: init, notes: initNotes, imported } = await loadModelFolder(initDir);
  for (const n of initNotes) log(`init: ${n}`);
  if (imported) log(`init: imported ${initDir} (${init.config.family ?? 'llama'}, ${init.tokenizer.size} tokens); the pack's text is tokenized by its tokenizer`);
  const ctx = await openPack(packDir);
  const tokenizer = init.tokenizer;
  const unknown = ctx.pack.questions.slice(0, 200).reduce((n, q) => n + tokenizer.countUnknown(q.question), 0);
  if (unknown > 0) log(`warning: ${unknown} words of the first 200 questions are not in the checkpoint's vocabulary`);

  const settings: RlSettings = resumeFrom ? upgradeRlSettings(resumeFrom.state!.settings as RlSettings) : await buildSettings(stage, f);
  const backend = await openBackend(f.backend, f.threads);
  // The parameter count and memory estimate; a run that cannot fit is refused with the numbers.
  log(`memory: ${checkTrainingFits(init.config, settings, backend).line}`);
  const params = uploadParams(backend, (resumeFrom ?? init).weights);
  const needRef = settings.klCoef > 0 || settings.klEvery > 0;
  const refParams = needRef ? uploadParams(backend, init.weights) : undefined;
  const train: Question[] = ctx.pack.questions.filter((q) => q.split === 'train');
  const totalSteps = resumeFrom ? resumeFrom.state!.totalSteps : steps;
  const trainer = new RlTrainer({ backend, config: init.config, params, refParams, tokenizer, retriever: remote ?? ctx.retriever, questions: train, settings, totalSteps, seed,
    documentTitles: new Map(ctx.pack.documents.map((d) => [d.id, d.title])) });
  let metrics: StepMetrics[] = [];
  let elapsed = 0;
  if (resumeFrom) {
    restoreOptimizer(backend, trainer.optimizer.m, trainer.optimizer.v, resumeFrom);
    trainer.optimizer.step = resumeFrom.state!.optimizerStep;
    trainer.rng.setState(resumeFrom.state!.rngState);
    trainer.step = resumeFrom.state!.step;
    elapsed = resumeFrom.state!.elapsedSeconds;
    metrics = (await readFile(join(out, 'metrics.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as StepMetrics).slice(0, trainer.step);
    log(`train: resuming ${out} at step ${trainer.step}/${totalSteps}`);
  }
  log(`train: stage ${stage} on ${ctx.pack.manifest.name}, ${train.length} training questions, backend ${backend.name}, ${settings.promptsPerStep} x ${settings.samplesPerPrompt} rollouts per step`);

  let rollouts: unknown[] = [];
  const save = async () => {
    const state: TrainerState = {
      format: 'r1s-trainer-state', version: 1, stage: stage as 1 | 2, step: trainer.step, totalSteps, seed, rngState: trainer.rng.getState(),
      optimizerStep: trainer.optimizer.step, settings, pack: ctx.pack.manifest.name, preset: init.state?.preset ?? '', init: initDir,
      lineage: [...(init.state?.lineage ?? []), { stage: stage as 1 | 2, steps: trainer.step, pack: ctx.pack.manifest.name }], elapsedSeconds: elapsed,
    };
    const ckpt: Checkpoint = {
      config: init.config, tokenizer, weights: await downloadParams(backend, params),
      optimizer: { m: await downloadParams(backend, trainer.optimizer.m), v: await downloadParams(backend, trainer.optimizer.v) }, state,
    };
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

/** Defaults of the stage, then --settings FILE, then the individual flags, then --set path=value. */
async function buildSettings(stage: 1 | 2, f: Record<string, unknown>): Promise<RlSettings> {
  const s = defaultRlSettings(stage);
  if (typeof f.settings === 'string') mergeInto(s, JSON.parse(await readFile(f.settings, 'utf8')) as object, 'settings file');
  const str = (k: string) => f[k] as string | undefined;
  if (str('prompts-per-step')) s.promptsPerStep = intFlag(str('prompts-per-step'), 'prompts-per-step', 0, 1);
  if (str('samples-per-prompt')) s.samplesPerPrompt = intFlag(str('samples-per-prompt'), 'samples-per-prompt', 0, 1);
  if (str('lr')) s.optimizer.lr = numFlag(str('lr'), 'lr', 0);
  if (str('kl-coef')) s.klCoef = numFlag(str('kl-coef'), 'kl-coef', 0);
  if (str('advantage-estimator')) s.advantageEstimator = str('advantage-estimator') as RlSettings['advantageEstimator'];
  if (str('max-searches')) s.rollout.maxSearches = intFlag(str('max-searches'), 'max-searches', 0, 0);
  if (str('top-k')) s.rollout.topK = intFlag(str('top-k'), 'top-k', 0, 1);
  if (str('retrieval-reward')) s.reward.retrievalReward = str('retrieval-reward') as RewardSettings['retrievalReward'];
  if (str('format-penalty')) s.reward.formatPenalty = numFlag(str('format-penalty'), 'format-penalty', 0);
  if (str('hops')) s.curriculum = [{ fromStep: 0, hops: str('hops')!.split(',').map((h) => intFlag(h, 'hops', 0, 1)) }];
  if (f['no-mask-documents']) s.maskDocuments = false;
  for (const kv of (f.set as string[] | undefined) ?? []) {
    const eq = kv.indexOf('=');
    if (eq < 1) throw new Error(`--set expects path=value, got "${kv}"`);
    const path = kv.slice(0, eq).split('.');
    let value: unknown;
    try {
      value = JSON.parse(kv.slice(eq + 1));
    } catch {
      value = kv.slice(eq + 1);
    }
    let obj = s as unknown as Record<string, unknown>;
    for (const p of path.slice(0, -1)) {
      if (typeof obj[p] !== 'object' || obj[p] === null) throw new Error(`--set: unknown setting "${kv.slice(0, eq)}"`);
      obj = obj[p] as Record<string, unknown>;
    }
    const last = path[path.length - 1]!;
    if (!(last in obj)) throw new Error(`--set: unknown setting "${kv.slice(0, eq)}"`);
    obj[last] = value;
  }
  return s;
}

/** Deep-merges `src` into `dst`; an unknown key is an error naming it. */
function mergeInto(dst: object, src: object, what: string, path = ''): void {
  for (const [k, v] of Object.entries(src)) {
    const d = dst as Record<string, unknown>;
    if (!(k in d)) throw new Error(`${what}: unknown setting "${path}${k}"`);
    if (v && typeof v === 'object' && !Array.isArray(v) && d[k] && typeof d[k] === 'object') mergeInto(d[k] as object, v, what, `${path}${k}.`);
    else d[k] = v;
  }
}

function restoreOptimizer(backend: Backend, m: ParamSet, v: ParamSet, ckpt: Checkpoint): void {
  for (const [k, t] of ckpt.optimizer!.m) backend.write(m.get(k)!, t.data);
  for (const [k, t] of ckpt.optimizer!.v) backend.write(v.get(k)!, t.data);
}

async function folderHasFiles(dir: string): Promise<boolean> {
  const { readdir } = await import('node:fs/promises');
  try {
    return (await readdir(dir)).length > 0;
  } catch {
    return false;
  }
}
