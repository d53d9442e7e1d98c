/**
 * Issue 18: nothing outside the folder, nothing deleted by mistake, no silent bad state. One
 * `describe` per hole found by probing; every test here failed on the code before the fix.
 * Training runs on a tiny model over the committed world pack (CPU backend).
 */
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.ts';
import { openPack, packTokenizer } from '../../src/cli/common.ts';
import { positionLogits } from '../../src/cli/commands/logits.ts';
import { run as exportCmd } from '../../src/cli/commands/export.ts';
import { run as importCmd } from '../../src/cli/commands/import.ts';
import { run as pretrainCmd } from '../../src/cli/commands/pretrain.ts';
import { run as trainCmd } from '../../src/cli/commands/train.ts';
import { fsSource, loadPack } from '../../src/corpus/pack-loader.ts';
import { writePack } from '../../src/corpus/pack-writer.ts';
import type { CorpusDocument, Question } from '../../src/corpus/types.ts';
import { checkState, downloadParams, type Checkpoint } from '../../src/io/checkpoint.ts';
import { loadCheckpointDir, saveCheckpointDir } from '../../src/io/checkpoint-fs.ts';
import { fromHfConfig, toHfConfig } from '../../src/io/hf-config.ts';
import { validateConfig, type ModelConfig } from '../../src/model/config.ts';
import { Llama } from '../../src/model/llama.ts';
import { AdamW } from '../../src/model/optimizer.ts';
import { initParams, zerosLike, type ParamSet } from '../../src/model/params.ts';
import { Pretrainer } from '../../src/stage0/pretrain.ts';
import { policyUpdate } from '../../src/rl/policy-update.ts';
import { generateRollouts } from '../../src/rl/rollout.ts';
import { mergeSettings } from '../../src/rl/settings.ts';
import { defaultRlSettings } from '../../src/rl/settings.ts';
import { Tokenizer } from '../../src/tokenizer/tokenizer.ts';
import { readPageConfig, DEFAULT_PAGE_CONFIG } from '../../src/ui/url-config.ts';
import { Rng } from '../../src/util/rng.ts';

const PACK = 'public/corpus/world';
const b = new CpuBackend();
let root: string;
let base: string;

/** Runs a command capturing stdout and stderr. */
async function capture(f: () => Promise<void>): Promise<{ out: string; err: string }> {
  const write = process.stdout.write.bind(process.stdout), writeErr = process.stderr.write.bind(process.stderr);
  let out = '', err = '';
  process.stdout.write = ((chunk: string | Uint8Array) => { out += String(chunk); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => { err += String(chunk); return true; }) as typeof process.stderr.write;
  try {
    await f();
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
  return { out, err };
}

/** Every file of a folder, name -> bytes. */
async function snapshot(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const f of (await readdir(dir)).sort()) out.set(f, await readFile(join(dir, f)));
  return out;
}

const doc = (i: number): CorpusDocument => ({ id: `d${i}`, title: `T${i}`, text: `text ${i}` });
const question = (i: number): Question => ({ id: `q${i}`, question: `where is T${i}`, answers: ['x'], hops: 1, template: 't', split: 'train', supportingIds: [] });
const tinySpec = (name = 'tiny') => ({ name, description: 'd', source: 's', license: 'l', documents: [0, 1, 2, 3].map(doc), questions: [0, 1].map(question), shards: 2 });

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'r1s-safety-'));
  const ctx = await openPack(PACK);
  const tokenizer = await packTokenizer(ctx);
  const config = validateConfig({ vocabSize: tokenizer.size, hiddenSize: 16, intermediateSize: 24, numLayers: 1, numHeads: 2, maxPositions: 512, rmsEps: 1e-5, ropeTheta: 10000, tieEmbeddings: true });
  base = join(root, 'base');
  await saveCheckpointDir(base, { config, tokenizer, weights: await downloadParams(b, initParams(b, config, 1)) });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const TRAIN = ['--stage', '1', '--pack', PACK, '--prompts-per-step', '2', '--samples-per-prompt', '2', '--set', 'rollout.maxNewTokens=6', '--backend', 'cpu'];

describe('1. reads stay inside the pack and checkpoint folders', () => {
  it('a manifest whose vocabulary file leaves the pack is refused, and the word list is hashed', async () => {
    const dir = join(root, 'vocab-pack');
    await writePack(dir, { ...tinySpec(), generator: { vocabulary: { file: '../../../../etc/passwd', bytes: 1, sha256: '0'.repeat(64) } } });
    await expect(loadPack(fsSource(dir))).rejects.toThrow(/field "generator.vocabulary.file" must be a relative path inside the pack, got "..\/..\/..\/..\/etc\/passwd"/);
    // An entry without a hash is refused too: every file a pack uses is hashed.
    await writePack(dir, { ...tinySpec(), generator: { vocabulary: { file: 'words.txt' } }, extraFiles: [{ file: 'words.txt', content: 'alpha\n' }] }, { overwrite: true });
    // (that pack's manifest no longer validates, but it is still a pack folder --overwrite may replace)
    await expect(loadPack(fsSource(dir))).rejects.toThrow(/field "generator.vocabulary.bytes" is missing/);
    // A word list that differs from its hash is refused when the tokenizer reads it.
    await writePack(dir, {
      ...tinySpec(), generator: { vocabulary: { file: 'words.txt', bytes: 6, sha256: 'a'.repeat(64) } }, extraFiles: [{ file: 'words.txt', content: 'alpha\n' }],
    }, { overwrite: true });
    const ctx = await openPack(dir);
    await expect(packTokenizer(ctx)).rejects.toThrow(/pack file words.txt: SHA-256 is [0-9a-f]{64}, the manifest says a{64}/);
  });

  it('a shard that is a symbolic link to a file outside the pack is refused', async () => {
    const dir = join(root, 'link-pack');
    await writePack(dir, tinySpec());
    const outside = join(root, 'outside-shard.jsonl');
    await cp(join(dir, 'shard-000.jsonl'), outside);
    await rm(join(dir, 'shard-000.jsonl'));
    await symlink(outside, join(dir, 'shard-000.jsonl'));
    await expect(loadPack(fsSource(dir))).rejects.toThrow(/pack file shard-000.jsonl: cannot be read .*is a symbolic link to .*outside-shard.jsonl, outside the folder/);
    // A link that stays inside the pack is fine.
    await rm(join(dir, 'shard-000.jsonl'));
    await cp(outside, join(dir, 'real-000.jsonl'));
    await symlink('real-000.jsonl', join(dir, 'shard-000.jsonl'));
    expect((await loadPack(fsSource(dir))).documents).toHaveLength(4);
  });

  it('a checkpoint file that is a symbolic link out of its folder is refused', async () => {
    const dir = join(root, 'link-ckpt');
    await cp(base, dir, { recursive: true });
    const outside = join(root, 'outside-model.safetensors');
    await cp(join(dir, 'model.safetensors'), outside);
    await rm(join(dir, 'model.safetensors'));
    await symlink(outside, join(dir, 'model.safetensors'));
    await expect(loadCheckpointDir(dir)).rejects.toThrow(/checkpoint: model.safetensors: "model.safetensors" is a symbolic link to .*outside-model.safetensors, outside the folder/);
  });
});

describe('2. --overwrite replaces only an output of the same kind, checked before any work', () => {
  it('import --overwrite refuses a folder holding its own inputs and other files', async () => {
    const dir = join(root, 'import-here');
    await mkdir(dir);
    await writeFile(join(dir, 'corpus.jsonl'), `${JSON.stringify({ id: 'd1', title: 'Kovar', text: 'Kovar is a town in Lomi.' })}\n`);
    await writeFile(join(dir, 'q.jsonl'), `${JSON.stringify({ id: 'a', question: 'Where is Kovar?', answers: ['Lomi'], contexts: [], supporting_titles: ['Kovar'] })}\n`);
    await writeFile(join(dir, 'notes.txt'), 'my notes');
    const before = await snapshot(dir);
    await expect(importCmd(['--questions', join(dir, 'q.jsonl'), '--corpus', join(dir, 'corpus.jsonl'), '--out', dir, '--overwrite'])).rejects.toThrow(/q\.jsonl lies inside the output folder/);
    // Inputs elsewhere, the folder still is not a pack: refused naming what is there.
    const inputs = join(root, 'import-inputs');
    await cp(dir, inputs, { recursive: true });
    await expect(importCmd(['--questions', join(inputs, 'q.jsonl'), '--corpus', join(inputs, 'corpus.jsonl'), '--out', dir, '--overwrite']))
      .rejects.toThrow(/import-here is not a pack folder: it has no manifest.json \(it holds "corpus.jsonl", "notes.txt", "q.jsonl"\)/);
    expect(await snapshot(dir)).toEqual(before);
  });

  it('a pack folder with a file its manifest does not list is not replaced', async () => {
    const dir = join(root, 'pack-with-notes');
    await writePack(dir, tinySpec());
    await writeFile(join(dir, 'notes.txt'), 'mine');
    await expect(writePack(dir, tinySpec('other'), { overwrite: true })).rejects.toThrow(/it holds "notes.txt", which its manifest does not list/);
    expect(await readFile(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('train --out <a corpus pack> --overwrite is refused and the pack is untouched', async () => {
    const pack = join(root, 'pack-as-out');
    await writePack(pack, tinySpec());
    const before = await snapshot(pack);
    await expect(trainCmd([...TRAIN, '--init', base, '--out', pack, '--steps', '1', '--overwrite'])).rejects.toThrow(/pack-as-out is not a checkpoint folder: it has no config.json/);
    expect(await snapshot(pack)).toEqual(before);
    // A checkpoint is replaced, but only by a complete new one (the old one stays until then).
    const ckpt = join(root, 'ckpt-replace');
    await cp(base, ckpt, { recursive: true });
    await capture(() => trainCmd([...TRAIN, '--init', base, '--out', ckpt, '--steps', '1', '--overwrite']));
    expect(JSON.parse(await readFile(join(ckpt, 'trainer_state.json'), 'utf8')).stage).toBe(1);
    expect((await readdir(root)).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('export --overwrite replaces an earlier export, never a checkpoint or a file that is not a zip', async () => {
    const ckpt = join(root, 'export-over-ckpt');
    await cp(base, ckpt, { recursive: true });
    const before = await snapshot(ckpt);
    await expect(exportCmd(['--checkpoint', base, '--format', 'hf', '--out', ckpt, '--overwrite'])).rejects.toThrow(/export-over-ckpt is not an export folder: it has no config.json and tokenizer_config.json/);
    expect(await snapshot(ckpt)).toEqual(before);
    const hf = join(root, 'export-hf');
    await capture(() => exportCmd(['--checkpoint', base, '--format', 'hf', '--out', hf]));
    await capture(() => exportCmd(['--checkpoint', base, '--format', 'hf', '--out', hf, '--overwrite']));
    const notes = join(root, 'notes.zip');
    await writeFile(notes, 'not a zip');
    await expect(exportCmd(['--checkpoint', base, '--format', 'hf', '--out', notes, '--zip', '--overwrite'])).rejects.toThrow(/notes.zip is not a zip file/);
    expect(await readFile(notes, 'utf8')).toBe('not a zip');
  });

  it('pretrain --out <existing folder> fails before training (no step run, no scratch file)', async () => {
    const out = join(root, 'pre-exists');
    await mkdir(out);
    await writeFile(join(out, 'keep.txt'), 'x');
    const runStep = vi.spyOn(Pretrainer.prototype, 'runStep');
    try {
      await expect(pretrainCmd(['--pack', PACK, '--preset', 'nano', '--out', out, '--steps', '1', '--batch', '1', '--backend', 'cpu'])).rejects.toThrow(/pre-exists already exists and is not empty \(nothing was written/);
      await expect(pretrainCmd(['--pack', PACK, '--preset', 'nano', '--out', out, '--steps', '1', '--batch', '1', '--backend', 'cpu', '--overwrite'])).rejects.toThrow(/pre-exists is not a checkpoint folder/);
      expect(runStep).not.toHaveBeenCalled();
    } finally {
      runStep.mockRestore();
    }
    expect((await readdir(root)).filter((n) => n.includes('metrics-tmp'))).toEqual([]);
    expect(await readdir(out)).toEqual(['keep.txt']);
  });
});

describe('3. --resume validates what it reads and refuses contradicting flags', () => {
  let run: string;
  const common = () => [...TRAIN, '--init', base, '--out', run, '--seed', '5', '--save-every', '1'];
  beforeAll(async () => {
    run = join(root, 'resume-run');
    await capture(() => trainCmd([...common(), '--steps', '2']));
  });
  const editState = async (dir: string, f: (s: Record<string, unknown>) => void) => {
    const p = join(dir, 'trainer_state.json');
    const s = JSON.parse(await readFile(p, 'utf8'));
    f(s);
    await writeFile(p, JSON.stringify(s));
  };
  const copyRun = async (name: string) => {
    const dir = join(root, name);
    await cp(run, dir, { recursive: true });
    return dir;
  };

  it('an all-zero RNG state and a step beyond the total are refused, naming trainer_state.json', async () => {
    const zero = await copyRun('rng-zero');
    await editState(zero, (s) => (s.rngState = [0, 0, 0, 0]));
    await expect(trainCmd([...TRAIN, '--init', base, '--out', zero, '--resume'])).rejects.toThrow(/trainer_state.json: rngState is all zero/);
    expect(() => new Rng(1).setState([0, 0, 0, 0])).toThrow(/all-zero state is refused/);
    const beyond = await copyRun('step-beyond');
    await editState(beyond, (s) => Object.assign(s, { step: 5, totalSteps: 3 }));
    await expect(trainCmd([...TRAIN, '--init', base, '--out', beyond, '--resume'])).rejects.toThrow(/trainer_state.json: step 5 is beyond totalSteps 3/);
    expect(() => checkState({ format: 'r1s-trainer-state', version: 1, stage: 1, step: 1, totalSteps: 1, seed: 1, optimizerStep: 1, rngState: [1, 2, 3, 2 ** 32], lineage: [] })).toThrow(/rngState must be four unsigned 32-bit integers/);
    const ok = { format: 'r1s-trainer-state', version: 1, stage: 2, step: 1, totalSteps: 1, seed: 1, optimizerStep: 1, rngState: [1, 2, 3, 4], lineage: [] };
    expect(checkState({ ...ok, templateSuccess: { birthplace: 0.75 } }).templateSuccess).toEqual({ birthplace: 0.75 });
    expect(() => checkState({ ...ok, templateSuccess: { birthplace: 1.5 } })).toThrow('trainer_state.json: templateSuccess.birthplace must be a number in [0, 1], got 1.5');
    expect(() => checkState({ ...ok, templateSuccess: [0.5] })).toThrow(/templateSuccess must be an object/);
    // Stored settings are validated like a settings file.
    const badSettings = await copyRun('bad-settings');
    await editState(badSettings, (s) => ((s.settings as { promptsPerStep: unknown }).promptsPerStep = '8'));
    await expect(trainCmd([...TRAIN, '--init', base, '--out', badSettings, '--resume'])).rejects.toThrow(/trainer_state.json settings: "promptsPerStep" must be a number, got "8"/);
  });

  it('--pack pointing at another pack is refused unless --allow-other-pack, which says so', async () => {
    const other = join(root, 'other-world');
    await cp(PACK, other, { recursive: true });
    const m = JSON.parse(await readFile(join(other, 'manifest.json'), 'utf8'));
    m.description = 'changed';
    await writeFile(join(other, 'manifest.json'), JSON.stringify(m));
    const dir = await copyRun('other-pack');
    await editState(dir, (s) => Object.assign(s, { totalSteps: 3 }));
    const args = [...TRAIN.map((a) => (a === PACK ? other : a)), '--init', base, '--out', dir, '--resume'];
    await expect(trainCmd(args)).rejects.toThrow(/started on pack "world" \(manifest SHA-256 [0-9a-f]{12}\.\.\.\), but --pack .*other-world is pack "world" \(manifest SHA-256 [0-9a-f]{12}\.\.\.\); resume with the same pack, or pass --allow-other-pack/);
    const { err } = await capture(() => trainCmd([...args, '--allow-other-pack']));
    expect(err).toMatch(/--allow-other-pack: the run started on pack "world" .* and goes on with pack "world"/);
    const st = JSON.parse(await readFile(join(dir, 'trainer_state.json'), 'utf8'));
    expect(st.step).toBe(3);
    expect(st.packSha256).not.toBe(JSON.parse(await readFile(join(run, 'trainer_state.json'), 'utf8')).packSha256);
  });

  it('--seed contradicting the stored seed and changed settings are refused; --steps extends a finished run and says so', async () => {
    const dir = await copyRun('extend');
    await expect(trainCmd([...TRAIN, '--init', base, '--out', dir, '--resume', '--seed', '7'])).rejects.toThrow(/--seed 7 contradicts the run's seed 5/);
    await expect(trainCmd([...TRAIN, '--init', base, '--out', dir, '--resume', '--lr', '0.01'])).rejects.toThrow(/the flags change settings of the stored run \(optimizer.lr: stored 0.0003, flags 0.01\)/);
    // The original command plus --resume is fine: it says nothing new.
    const { err: same } = await capture(() => trainCmd([...common(), '--steps', '2', '--resume']));
    expect(same).toMatch(/resuming .* at step 2\/2/);
    const { err } = await capture(() => trainCmd([...TRAIN, '--init', base, '--out', dir, '--resume', '--steps', '3']));
    expect(err).toMatch(/--steps 3 extends the run from 2 to 3 steps \(it had finished\)/);
    const st = JSON.parse(await readFile(join(dir, 'trainer_state.json'), 'utf8'));
    expect([st.step, st.totalSteps, st.seed]).toEqual([3, 3, 5]);
    expect((await readFile(join(dir, 'metrics.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(3);
    await expect(trainCmd([...TRAIN, '--init', base, '--out', dir, '--resume', '--steps', '2'])).rejects.toThrow(/--steps 2 is below the 3 steps this run has done/);
  });

  it('a run folder holding a file no checkpoint holds is refused before any step (each save replaces the folder)', async () => {
    const dir = await copyRun('foreign-file');
    await editState(dir, (s) => Object.assign(s, { totalSteps: 3 }));
    await writeFile(join(dir, 'notes.txt'), 'mine');
    const before = await snapshot(dir);
    await expect(trainCmd([...TRAIN, '--init', base, '--out', dir, '--resume'])).rejects.toThrow(/foreign-file is not a checkpoint folder: it holds "notes.txt", which no checkpoint holds/);
    expect(await snapshot(dir)).toEqual(before);
  });

  it('a bad or missing metrics.jsonl is named with its line', async () => {
    const dir = await copyRun('bad-metrics');
    await editState(dir, (s) => Object.assign(s, { totalSteps: 3 }));
    const lines = (await readFile(join(dir, 'metrics.jsonl'), 'utf8')).split('\n');
    lines[1] = '{"step": 2,';
    await writeFile(join(dir, 'metrics.jsonl'), lines.join('\n'));
    await expect(trainCmd([...TRAIN, '--init', base, '--out', dir, '--resume'])).rejects.toThrow(/bad-metrics\/metrics.jsonl line 2 is not valid JSON/);
    await rm(join(dir, 'metrics.jsonl'));
    await expect(trainCmd([...TRAIN, '--init', base, '--out', dir, '--resume'])).rejects.toThrow(/bad-metrics\/metrics.jsonl is missing \(every folder train writes has one/);
  });
});

describe('4. non-finite numbers are caught before anything is written', () => {
  const cfg: ModelConfig = validateConfig({ vocabSize: 20, hiddenSize: 8, intermediateSize: 12, numLayers: 1, numHeads: 2, maxPositions: 32, rmsEps: 1e-5, ropeTheta: 10000, tieEmbeddings: true });
  const tok = Tokenizer.fromWords(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
  const host = (p: ParamSet) => new Map([...p].map(([k, t]) => [k, (b.view(t) as Float32Array).slice()]));
  const sameBits = (x: Map<string, Float32Array>, y: Map<string, Float32Array>) =>
    [...x].every(([k, a]) => Buffer.from(a.buffer).equals(Buffer.from(y.get(k)!.buffer)));
  const poke = (p: ParamSet, name: string, value: number) => {
    const v = b.view(p.get(name)!) as Float32Array;
    v.fill(value);
  };

  it('AdamW: a non-finite gradient leaves parameters, moments and step count as they were; 3 in a row stop', async () => {
    const params = initParams(b, cfg, 1), grads = zerosLike(b, cfg);
    const opt = new AdamW(b, cfg, { lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, gradClip: 1 });
    const fillGrads = (x: number) => { for (const g of grads.values()) (b.view(g) as Float32Array).fill(x); };
    fillGrads(0.01);
    expect((await opt.updateIfFinite(params, grads, 1e-2)).applied).toBe(true);
    const before = { p: host(params), m: host(opt.m), v: host(opt.v), step: opt.step };
    for (const bad of [NaN, 3e38]) { // NaN, and an overflow of the squared norm
      fillGrads(0.01);
      (b.view(grads.get('model.norm.weight')!) as Float32Array)[0] = bad;
      const r = await opt.updateIfFinite(params, grads, 1e-2);
      expect(r.applied).toBe(false);
      expect(sameBits(host(params), before.p) && sameBits(host(opt.m), before.m) && sameBits(host(opt.v), before.v)).toBe(true);
      expect(opt.step).toBe(before.step);
      expect([...grads.values()].every((g) => (b.view(g) as Float32Array).every((x) => x === 0))).toBe(true);
    }
    fillGrads(NaN);
    await expect(opt.updateIfFinite(params, grads, 1e-2)).rejects.toThrow(/optimizer: 3 updates in a row had a non-finite loss or gradient/);
    expect(sameBits(host(params), before.p)).toBe(true);
    // A finite update resets the count and is bit for bit the unchecked one.
    const twin = new AdamW(b, cfg, opt.settings), pa = initParams(b, cfg, 2), pb = initParams(b, cfg, 2);
    const ga = zerosLike(b, cfg), gb = zerosLike(b, cfg);
    for (const [k, g] of ga) { (b.view(g) as Float32Array).fill(0.3); (b.view(gb.get(k)!) as Float32Array).fill(0.3); }
    const fresh = new AdamW(b, cfg, opt.settings);
    twin.update(pa, ga, 1e-2);
    await fresh.updateIfFinite(pb, gb, 1e-2);
    expect(sameBits(host(pa), host(pb))).toBe(true);
  });

  it('kernels: clipScale is -1 (skip) for a non-finite norm or guard, and adamw then writes nothing (cpu and wasm)', async () => {
    const { createBackend } = await import('../../src/backend/select.ts');
    for (const be of [b, await createBackend('wasm', { threads: 1 })]) {
      const n = 37, rng = new Rng(2);
      const init = () => Float32Array.from({ length: n }, () => rng.normal());
      const [p0, g0, m0] = [init(), init(), init()], v0 = init().map((x) => x * x);
      const param = be.fromArray(p0, [n]), grad = be.fromArray(g0, [n]), m = be.fromArray(m0, [n]), v = be.fromArray(v0, [n]);
      for (const [sq, guard] of [[NaN, 1], [Infinity, 1], [4, NaN], [4, -Infinity]]) {
        const scale = be.zeros([1]);
        be.clipScale(be.fromArray(Float32Array.of(sq!), [1]), 1, scale, be.fromArray(Float32Array.of(guard!), [1]));
        expect((await be.read(scale))[0], `${be.name} ${sq} ${guard}`).toBe(-1);
        be.adamw(param, grad, m, v, scale, { lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, step: 2 });
      }
      expect([await be.read(param), await be.read(m), await be.read(v)]).toEqual([p0, m0, v0]);
    }
  });

  it('pretraining: an injected NaN weight and an overflowing one skip the step with the message, weights unchanged', async () => {
    const sampler = { next: () => ({ kind: 'doc', text: 'a b c d e f g a b' }) };
    const settings = { steps: 10, batchSize: 2, optimizer: { lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, gradClip: 1 }, warmup: 0, lrMinRatio: 1, maxLength: 16, answerWeight: 1, microBatchTokens: 64 };
    const params = initParams(b, cfg, 3);
    const pre = new Pretrainer(b, cfg, params, tok, sampler, settings);
    expect((await pre.runStep()).skipped).toBeUndefined();
    const good = host(params);
    const saved = (b.view(params.get('model.norm.weight')!) as Float32Array).slice();
    poke(params, 'model.norm.weight', NaN);
    const m = await pre.runStep();
    expect(m.skipped).toBe(true);
    expect(Number.isNaN(m.loss)).toBe(true);
    poke(params, 'model.norm.weight', 3e38); // finite, but the forward pass overflows
    expect((await pre.runStep()).skipped).toBe(true);
    (b.view(params.get('model.norm.weight')!) as Float32Array).set(saved);
    expect(sameBits(host(params), good)).toBe(true); // nothing else moved
    expect(pre.optimizer.step).toBe(1);
    expect((await pre.runStep()).skipped).toBeUndefined(); // a finite step resets the count
    poke(params, 'model.norm.weight', NaN);
    await pre.runStep();
    await pre.runStep();
    await expect(pre.runStep()).rejects.toThrow(/pretrain: step 7: optimizer: 3 updates in a row had a non-finite loss or gradient/);
  });

  it('policy update: NaN and overflowing advantages skip the optimizer step; parameters and moments stay', async () => {
    const model = new Llama(b, cfg, initParams(b, cfg, 4));
    const opt = new AdamW(b, cfg, { lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, gradClip: 1 });
    const upd = { clipEps: 0.2, miniBatches: 1, microBatchTokens: 64, lossAggregation: 'sequence-mean' as const };
    const seq = (adv: number) => ({ tokens: [1, 5, 6, 7], lossMask: Uint8Array.from([0, 0, 1, 1]), oldLogProbs: new Float32Array(4).fill(-2), advantages: new Float32Array(4).fill(adv) });
    const ok = await policyUpdate(model, opt, zerosLike(b, cfg), [seq(1)], 1e-2, upd, new Rng(1));
    expect(ok.skipped).toBe(0);
    const before = { p: host(model.params), m: host(opt.m), v: host(opt.v) };
    for (const adv of [NaN, 3e38]) {
      const st = await policyUpdate(model, opt, zerosLike(b, cfg), [seq(adv)], 1e-2, upd, new Rng(1));
      expect(st).toMatchObject({ skipped: 1, loss: 0, gradNorm: 0 });
      expect(sameBits(host(model.params), before.p) && sameBits(host(opt.m), before.m) && sameBits(host(opt.v), before.v)).toBe(true);
    }
  });

  it('rollouts from NaN weights stop with the cause, not a bad token id', async () => {
    const params = initParams(b, cfg, 5);
    poke(params, 'model.norm.weight', NaN);
    const model = new Llama(b, cfg, params);
    const retriever = { search: async () => [], searchMany: async (q: string[]) => q.map(() => []) };
    const settings = { ...defaultRlSettings(1).rollout, maxNewTokens: 4, maxLength: 30 };
    await expect(generateRollouts(model, tok, retriever, [[1, 13, 14]], 2, settings, new Rng(1))).rejects.toThrow(/rollout: the policy's logits are not finite/);
  });

  it('weights of 3e38 or NaN are refused on load, naming the tensor; NaN is never saved; logits refuse non-finite output', async () => {
    const good = await loadCheckpointDir(base);
    for (const [bad, what] of [[3e38, /tensor model.embed_tokens.weight holds 3\.0+\d*e\+38 \(beyond \+-65504: a forward pass would overflow\) at element 7; refused/], [NaN, /tensor model.embed_tokens.weight: value NaN at index 7 is not finite/]] as const) {
      const dir = join(root, `weights-${bad}`);
      await cp(base, dir, { recursive: true });
      const st = await readFile(join(dir, 'model.safetensors'));
      const hdr = Number(st.readBigUInt64LE(0));
      const off = JSON.parse(st.subarray(8, 8 + hdr).toString())['model.embed_tokens.weight'].data_offsets[0];
      st.writeFloatLE(bad, 8 + hdr + off + 7 * 4);
      await writeFile(join(dir, 'model.safetensors'), st);
      await expect(loadCheckpointDir(dir)).rejects.toThrow(what);
    }
    const nan: Checkpoint = { ...good, weights: new Map([...good.weights].map(([k, t]) => [k, { shape: t.shape, data: t.data.map(() => NaN) }])) };
    await expect(saveCheckpointDir(join(root, 'nan-save'), nan)).rejects.toThrow(/model.safetensors: tensor .* holds NaN at element 0; refused/);
    await expect(readdir(join(root, 'nan-save'))).rejects.toThrow();
    for (const bad of [NaN, 3e38]) {
      const w = new Map([...good.weights].map(([k, t]) => [k, { shape: t.shape, data: k === 'model.norm.weight' ? t.data.map(() => bad) : t.data }]));
      await expect(positionLogits(good.config, w, [[1, 2, 3]])).rejects.toThrow(/logits: the logit of token \d+ at position 0 of sequence 0 is (NaN|-?Infinity): the weights or activations overflow or hold NaN/);
    }
  });

  it('train: after 3 non-finite steps in a row the run stops, the last good checkpoint intact', async () => {
    const out = join(root, 'nan-run');
    let inject = false;
    const orig = CpuBackend.prototype.sumSquares;
    const spy = vi.spyOn(CpuBackend.prototype, 'sumSquares').mockImplementation(function (this: CpuBackend, ...args: Parameters<CpuBackend['sumSquares']>) {
      orig.apply(this, args);
      if (inject) (this.view(args[1]) as Float32Array)[0] = NaN;
    });
    try {
      await capture(() => trainCmd([...TRAIN, '--init', base, '--out', out, '--steps', '6', '--stop-after', '1', '--save-every', '1']));
      const good = await readFile(join(out, 'model.safetensors'));
      inject = true;
      await expect(capture(() => trainCmd([...TRAIN, '--init', base, '--out', out, '--resume', '--save-every', '1'])))
        .rejects.toThrow(/optimizer: 3 updates in a row had a non-finite loss or gradient .* \(step 4; the last saved checkpoint in .*nan-run is untouched\)/);
      expect(await readFile(join(out, 'model.safetensors'))).toEqual(good);
      const metrics = (await readFile(join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
      expect(metrics.map((m) => m.skippedUpdates ?? 0)).toEqual([0, 1, 1]);
      expect(JSON.parse(await readFile(join(out, 'trainer_state.json'), 'utf8')).step).toBe(3);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('6. settings paths cannot reach object prototypes', () => {
  it('--set, a settings file, stored settings and URLs are refused or ignored; Object.prototype stays clean', async () => {
    const toString = Object.prototype.toString;
    const out = join(root, 'proto');
    const run = (...extra: string[]) => trainCmd([...TRAIN, '--init', base, '--out', out, '--steps', '1', ...extra]);
    await expect(run('--set', '__proto__.toString=1')).rejects.toThrow(/--set: "__proto__" names "__proto__", which is not a setting \(refused: it would reach an object prototype\)/);
    await expect(run('--set', 'constructor.prototype.polluted=1')).rejects.toThrow(/names "constructor"/);
    await expect(run('--set', 'rollout.constructor=1')).rejects.toThrow(/"rollout.constructor" names "constructor"/);
    await expect(run('--set', 'toString=1')).rejects.toThrow(/unknown setting "toString"/);
    const file = join(root, 'proto.json');
    await writeFile(file, '{"rollout": {"__proto__": {"polluted": 1}}}');
    await expect(run('--settings', file)).rejects.toThrow(/"rollout.__proto__" names "__proto__"/);
    expect(() => mergeSettings(1, JSON.parse('{"__proto__": {"toString": 1}}'))).toThrow(/names "__proto__"/);
    expect(() => mergeSettings(1, JSON.parse('{"optimizer": {"lr": "0.1"}}'))).toThrow(/"optimizer.lr" must be a number, got "0.1"/);
    const page = readPageConfig('?__proto__=x&constructor=y&toString=1&prototype=z');
    expect(page).toEqual({ config: { ...DEFAULT_PAGE_CONFIG }, errors: [] });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype.toString).toBe(toString);
    await expect(readdir(out)).rejects.toThrow();
  });
});

describe('7. a closed standard output ends the command quietly', () => {
  it('logits | head -c 100: exit 0, no stack trace', async () => {
    const tsx = resolve('node_modules/.bin/tsx');
    const child = spawn(tsx, ['src/cli/main.ts', 'logits', '--checkpoint', base, '--text', 'who wrote the book', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const first = await new Promise<Buffer>((res) => child.stdout.once('data', (d: Buffer) => res(d)));
    child.stdout.destroy(); // the reader is gone, as after `| head -c 100`
    const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    expect(first.length).toBeGreaterThan(0);
    expect(err).not.toMatch(/EPIPE|Error|at /);
    expect(code).toBe(0);
  }, 60_000);
});

describe('9. messages name the file, line and field', () => {
  it('a settings file with bad JSON, a negative hidden_size, hops given as strings', async () => {
    const out = join(root, 'msgs');
    const file = join(root, 'bad-settings.json');
    await writeFile(file, '{\n  "klCoef": 0,\n  "lr": ,\n}\n');
    await expect(trainCmd([...TRAIN, '--init', base, '--out', out, '--settings', file])).rejects.toThrow(/--settings .*bad-settings.json: not valid JSON at line 3 column 9/);
    await writeFile(file, '{"curriculum": [{"fromStep": 0, "hops": ["1"]}]}');
    await expect(trainCmd([...TRAIN, '--init', base, '--out', out, '--settings', file])).rejects.toThrow(/--settings .*bad-settings.json: "curriculum\[0\].hops\[0\]" must be a number, got "1"/);
    const cfg = toHfConfig(validateConfig({ vocabSize: 32, hiddenSize: 16, intermediateSize: 24, numLayers: 1, numHeads: 2, maxPositions: 64, rmsEps: 1e-5, ropeTheta: 10000, tieEmbeddings: true }), { bos: 1, eos: 2, pad: 0 });
    expect(() => fromHfConfig({ ...cfg, hidden_size: -128 })).toThrow('config.json: hidden_size must be a positive integer, got -128');
    await expect(readdir(out)).rejects.toThrow();
  });
});
