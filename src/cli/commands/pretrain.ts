/**
 * `pretrain --pack DIR --preset nano --out CKPT`: Stage 0, next-token pretraining of a fresh
 * base model on the pack's pretraining mix (recipe.md section 11), never on search-world
 * documents or search trajectories (a generated world pack), or on the pack itself with a BPE
 * vocabulary (an imported real corpus, src/stage0/pack-mix.ts). Writes a checkpoint folder
 * with metrics.jsonl. `--init CKPT` continues from a base's weights instead (same pack vocabulary;
 * fresh optimizer and learning-rate schedule; the lineage records both runs).
 */
import { appendFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { presetConfig } from '../../model/config.ts';
import { countParams, initParams } from '../../model/params.ts';
import { defaultPretrainSettings, Pretrainer } from '../../stage0/pretrain.ts';
import { downloadParams, uploadParams } from '../../io/checkpoint.ts';
import { CHECKPOINT_FOLDER, loadModelFolder, saveCheckpointDir } from '../../io/checkpoint-fs.ts';
import { checkOutputFolder } from '../../util/output-folder.ts';
import { createStage0Sampler, type Stage0Mix } from '../../stage0/world-mix.ts';
import { createPackStage0Sampler } from '../../stage0/pack-mix.ts';
import { slotAnswerWords } from '../../tokenizer/slot-words.ts';
import { getPromptPreset } from '../../protocol/prompts.ts';
import { packBpeTokenizer } from '../../tokenizer/pack-vocab.ts';
import { intFlag, log, numFlag, openBackend, openPack, packTokenizer, parseFlags, progressBar, required, shareFlag } from '../common.ts';

const USAGE = 'npm run cli -- pretrain --pack DIR --preset nano|small --out CKPT [--steps 8000] [--batch 32] [--lr 3e-3] [--seed 1] [--backend auto|cpu|wasm] [--threads N] [--log-every 10] [--vocab 8000 (BPE, packs without a world generator)] [--stage0-layout plain|spliced|mixed] [--stage0-follow-up SHARE (spliced passages with query slots)] [--stage0-comparison SHARE (reading passages comparing two birth years)] [--stage0-years SHARE (1-hop reading passages asking a birth year)] [--stage0-birthplaces SHARE (1-hop reading passages asking a birthplace)] [--stage0-employers SHARE (1-hop reading passages asking an employer)] [--stage0-answer-distractors SHARE (random distractor documents of the answer kind)] [--stage0-backlink-free SHARE (reading passages whose documents leave out the bridge backlinks)] [--stage0-weight-follow-ups (follow-up queries weighted like the answer)] [--stage0-mix 0.3,0.45,0.25 (documents, reading passages, prompts)] [--prompt-preset NAME[,NAME...] (one drawn per rendering)] [--init CKPT (continue a base)] [--overwrite] [--json]';

export async function run(argv: string[]): Promise<void> {
  const f = parseFlags(argv, {
    pack: { type: 'string' }, preset: { type: 'string' }, out: { type: 'string' }, steps: { type: 'string' },
    batch: { type: 'string' }, lr: { type: 'string' }, seed: { type: 'string' }, backend: { type: 'string' },
    threads: { type: 'string' }, 'log-every': { type: 'string' }, overwrite: { type: 'boolean' }, json: { type: 'boolean' },
    'max-length': { type: 'string' }, vocab: { type: 'string' }, 'stage0-layout': { type: 'string' }, 'prompt-preset': { type: 'string' },
    init: { type: 'string' }, 'stage0-mix': { type: 'string' }, 'stage0-follow-up': { type: 'string' }, 'stage0-comparison': { type: 'string' }, 'stage0-years': { type: 'string' }, 'stage0-birthplaces': { type: 'string' }, 'stage0-employers': { type: 'string' }, 'stage0-answer-distractors': { type: 'string' }, 'stage0-backlink-free': { type: 'string' }, 'stage0-weight-follow-ups': { type: 'boolean' },
  }, USAGE);
  const packDir = required(f.pack, 'pack'), out = required(f.out, 'out');
  const seed = intFlag(f.seed, 'seed', 1);
  const settings = defaultPretrainSettings();
  settings.steps = intFlag(f.steps, 'steps', settings.steps, 1);
  settings.batchSize = intFlag(f.batch, 'batch', settings.batchSize, 1);
  settings.optimizer.lr = numFlag(f.lr, 'lr', settings.optimizer.lr);
  settings.maxLength = intFlag(f['max-length'], 'max-length', settings.maxLength, 8);
  const logEvery = intFlag(f['log-every'], 'log-every', 10, 1);
  // The output folder is checked before any work: a refusal costs nothing.
  await checkOutputFolder(out, CHECKPOINT_FOLDER, { overwrite: f.overwrite, inputs: f.init === undefined ? [packDir] : [packDir, f.init] });
  const mix = f['stage0-mix'] === undefined ? undefined : parseStage0Mix(f['stage0-mix']);
  const followUpShare = shareFlag(f['stage0-follow-up'], 'stage0-follow-up');
  const comparisonShare = shareFlag(f['stage0-comparison'], 'stage0-comparison');
  const yearShare = shareFlag(f['stage0-years'], 'stage0-years');
  const birthplaceShare = shareFlag(f['stage0-birthplaces'], 'stage0-birthplaces');
  const employerShare = shareFlag(f['stage0-employers'], 'stage0-employers');
  const answerKindDistractors = shareFlag(f['stage0-answer-distractors'], 'stage0-answer-distractors');
  const backlinkFreeShare = shareFlag(f['stage0-backlink-free'], 'stage0-backlink-free');
  const presets = f['prompt-preset'] === undefined ? undefined : f['prompt-preset'].split(',').map((name) => getPromptPreset(name.trim()));

  const ctx = await openPack(packDir);
  const gen = ctx.pack.manifest.generator as { kind?: string; seed?: number } | undefined;
  // A generated world pack pretrains on other worlds (word-level vocabulary); any other pack on
  // its own paragraphs and train questions with a BPE vocabulary (src/stage0/pack-mix.ts).
  const world = typeof gen?.seed === 'number';
  const tokenizer = world ? await packTokenizer(ctx) : packBpeTokenizer(ctx.pack, intFlag(f.vocab, 'vocab', 8000, 64));
  const base = f.init === undefined ? undefined : (await loadModelFolder(f.init)).checkpoint;
  if (base && base.tokenizer.vocab.join('\n') !== tokenizer.vocab.join('\n')) {
    throw new Error(`--init: ${f.init}'s tokenizer.json is not the vocabulary pretrain builds for ${packDir} (${base.tokenizer.size} vs ${tokenizer.size} tokens); continue a base of this pack`);
  }
  if (base && f.preset !== undefined) throw new Error('--init: the model preset comes from the checkpoint; leave --preset out');
  const config = base ? base.config : presetConfig(f.preset ?? 'nano', tokenizer.size);
  const backend = await openBackend(f.backend, f.threads);
  const params = base ? uploadParams(backend, base.weights) : initParams(backend, config, seed);
  const sampler = world
    ? createStage0Sampler(gen!.seed!, { rngSeed: seed, layout: f['stage0-layout'] as 'plain' | 'spliced' | 'mixed' | undefined, presets, mix, followUpShare, comparisonShare, yearShare, birthplaceShare, employerShare, answerKindDistractors, backlinkFreeShare, weightFollowUps: f['stage0-weight-follow-ups'] })
    : createPackStage0Sampler(ctx.pack, { rngSeed: seed, answerWords: slotAnswerWords(tokenizer) });
  const trainer = new Pretrainer(backend, config, params, tokenizer, sampler, settings);
  const modelPreset = base ? (base.state?.preset ?? 'nano') : (f.preset ?? 'nano');
  log(`pretrain: ${ctx.pack.manifest.name} pack, ${base ? `continuing ${f.init}, ` : ''}preset ${modelPreset} (${countParams(config)} parameters, vocabulary ${tokenizer.size}), backend ${backend.name}, ${settings.steps} steps x ${settings.batchSize}`);

  // Metrics go to a scratch file while training (to follow a long run) and into the checkpoint
  // folder at the end; the scratch file is removed however the run ends.
  const scratch = `${out}.metrics-tmp.jsonl`;
  await mkdir(dirname(resolve(out)), { recursive: true });
  await writeFile(scratch, '');
  const lines: string[] = [];
  const bar = progressBar(settings.steps, 'pretrain');
  const t0 = performance.now();
  let windowLoss = 0, windowTokens = 0, windowN = 0;
  try {
    for (let i = 0; i < settings.steps; i++) {
      const m = await trainer.runStep();
      const line = JSON.stringify(m);
      lines.push(line);
      await appendFile(scratch, `${line}\n`);
      if (m.skipped) log(`pretrain: step ${m.step} skipped: its loss or gradient is not finite (loss ${m.loss}); the weights are unchanged`);
      else {
        windowLoss += m.loss;
        windowN++;
      }
      windowTokens += m.tokens;
      bar.update(i + 1, { info: `loss ${m.loss.toFixed(3)}` });
      if ((i + 1) % logEvery === 0 || i + 1 === settings.steps) {
        const el = (performance.now() - t0) / 1000;
        if (!process.stderr.isTTY) log(`step ${i + 1}/${settings.steps} loss ${(windowLoss / windowN).toFixed(4)} lr ${m.lr.toExponential(2)} ${(windowTokens / el).toFixed(0)} tok/s elapsed ${el.toFixed(0)} s`);
        windowLoss = 0;
        windowN = 0;
      }
    }
  } catch (e) {
    await rm(scratch, { force: true });
    throw new Error(`${(e as Error).message} (nothing was written to ${out})`);
  } finally {
    bar.stop();
  }
  const seconds = (performance.now() - t0) / 1000;
  const ckpt = {
    config, tokenizer, weights: await downloadParams(backend, params),
    state: {
      format: 'r1s-trainer-state' as const, version: 1 as const, stage: 0 as const, step: settings.steps, totalSteps: settings.steps, seed,
      rngState: sampler.getState(), optimizerStep: trainer.optimizer.step, settings, pack: ctx.pack.manifest.name, preset: modelPreset,
      init: f.init ?? '', lineage: [...(base?.state?.lineage ?? []), { stage: 0 as const, steps: settings.steps, pack: ctx.pack.manifest.name }], elapsedSeconds: seconds,
    },
  };
  try {
    await saveCheckpointDir(out, ckpt, { overwrite: !!f.overwrite, extra: new Map([['metrics.jsonl', `${lines.join('\n')}\n`]]) });
  } finally {
    await rm(scratch, { force: true });
  }
  const last = lines.slice(-20).map((l) => JSON.parse(l) as { loss: number | null }).filter((x): x is { loss: number } => x.loss !== null);
  const summary = { out, steps: settings.steps, seconds: +seconds.toFixed(1), finalLoss: last.reduce((a, x) => a + x.loss, 0) / last.length, parameters: countParams(config), vocabulary: tokenizer.size, backend: backend.name };
  if (f.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else log(`pretrain: wrote ${out} in ${summary.seconds} s, final loss ${summary.finalLoss.toFixed(4)}`);
}

/**
 * `--stage0-mix 0.3,0.45,0.25`: the weights of documents, reading passages and rendered prompts.
 * @throws Error naming the flag unless it is three finite numbers >= 0, not all 0.
 */
export function parseStage0Mix(text: string): Stage0Mix {
  const parts = text.split(',').map((t) => Number(t.trim()));
  if (parts.length !== 3 || parts.some((v) => !Number.isFinite(v) || v < 0) || parts.every((v) => v === 0)) {
    throw new Error(`--stage0-mix: expected three weights >= 0 (documents,reading,prompts), not all 0, got "${text}"`);
  }
  return { document: parts[0]!, reading: parts[1]!, prompt: parts[2]! };
}
