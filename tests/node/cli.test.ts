/**
 * The command line on the committed world pack: search output, and bad input refused with an
 * error that names the problem while nothing already saved is touched (corrupt shard,
 * impossible setting, an existing output folder). Training runs on a tiny model.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run as searchCmd } from '../../src/cli/commands/search.ts';
import { run as trainCmd } from '../../src/cli/commands/train.ts';
import { run as evalCmd } from '../../src/cli/commands/eval.ts';
import { openPack, packTokenizer } from '../../src/cli/common.ts';
import { saveCheckpointDir } from '../../src/io/checkpoint-fs.ts';
import { validateConfig } from '../../src/model/config.ts';
import { initParams } from '../../src/model/params.ts';
import { downloadParams } from '../../src/io/checkpoint.ts';
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.ts';
import { CHROMIUM_FLAGS, chromiumArgs } from '../../src/cli/browser.ts';
import { run as pageTrainCmd } from '../../src/cli/commands/page-train.ts';

const PACK = 'public/corpus/world';
let root: string;
let base: string;

/** Runs a command capturing stdout. */
async function capture(f: () => Promise<void>): Promise<string> {
  const write = process.stdout.write.bind(process.stdout);
  let out = '';
  process.stdout.write = ((chunk: string | Uint8Array) => { out += String(chunk); return true; }) as typeof process.stdout.write;
  try {
    await f();
  } finally {
    process.stdout.write = write;
  }
  return out;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'r1s-cli-'));
  // A tiny model over the world pack's vocabulary: fast enough for CLI tests on the CPU backend.
  const ctx = await openPack(PACK);
  const tokenizer = await packTokenizer(ctx);
  const config = validateConfig({ vocabSize: tokenizer.size, hiddenSize: 16, intermediateSize: 24, numLayers: 1, numHeads: 2, maxPositions: 512, rmsEps: 1e-5, ropeTheta: 10000, tieEmbeddings: true });
  const b = new CpuBackend();
  base = join(root, 'base');
  await saveCheckpointDir(base, { config, tokenizer, weights: await downloadParams(b, initParams(b, config, 1)) });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('cli', () => {
  it('chromium: extra flags replace the defaults of the same name (a real GPU turns SwiftShader off)', () => {
    expect(chromiumArgs()).toEqual(CHROMIUM_FLAGS);
    const args = chromiumArgs(['--use-vulkan=native', '--use-webgpu-adapter=default', '--ignore-gpu-blocklist']);
    expect(args.filter((a) => a.includes('swiftshader'))).toEqual(['--use-angle=swiftshader']);
    expect(args).toContain('--use-vulkan=native');
    expect(args.slice(-1)).toEqual(['--ignore-gpu-blocklist']);
    expect(args).toContain('--enable-unsafe-webgpu');
  });

  it('page-train: bad flags are refused before a browser starts', async () => {
    await expect(pageTrainCmd(['--stages', '3'])).rejects.toThrow(/--stages must be 1, 2 or 1,2, got "3"/);
    await expect(pageTrainCmd(['--timeout', 'soon'])).rejects.toThrow(/--timeout must be a positive number of seconds, got "soon"/);
    const done = join(root, 'page-run');
    await mkdir(done, { recursive: true });
    await writeFile(join(done, 'metrics.jsonl'), '{"step":1}\n');
    await expect(pageTrainCmd(['--out', done])).rejects.toThrow(/metrics.jsonl already exists \(nothing was written; choose another --out\)/);
    expect(await readFile(join(done, 'metrics.jsonl'), 'utf8')).toBe('{"step":1}\n');
  });

  it('search prints the ranked hits as JSON', async () => {
    const out = await capture(() => searchCmd(['--pack', PACK, '--query', 'Kreimpon born', '--k', '3', '--json']));
    const hits = JSON.parse(out) as { id: string; title: string; score: number }[];
    expect(hits).toHaveLength(3);
    expect(hits[0]!.title).toBe('Kreimpon');
    expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);
  });

  it('refuses a corrupt shard with an error naming it', async () => {
    const bad = join(root, 'bad-pack');
    await cp(PACK, bad, { recursive: true });
    const shard = join(bad, 'shard-002.jsonl');
    const bytes = await readFile(shard);
    bytes[100] = bytes[100] === 0x61 ? 0x62 : 0x61;
    await writeFile(shard, bytes);
    await expect(searchCmd(['--pack', bad, '--query', 'x'])).rejects.toThrow(/shard-002\.jsonl/);
    await expect(evalCmd(['--pack', bad, '--checkpoint', base, '--backend', 'cpu'])).rejects.toThrow(/shard-002\.jsonl.*SHA-256|SHA-256.*shard-002\.jsonl/);
  });

  it('train: an impossible setting is refused, naming it, before anything is written', async () => {
    const out = join(root, 'never');
    await expect(trainCmd(['--stage', '1', '--pack', PACK, '--init', base, '--out', out, '--steps', '1', '--samples-per-prompt', '0', '--backend', 'cpu'])).rejects.toThrow(/samples-per-prompt must be an integer >= 1/);
    await expect(trainCmd(['--stage', '1', '--pack', PACK, '--init', base, '--out', out, '--steps', '1', '--set', 'rollout.topP=0', '--backend', 'cpu'])).rejects.toThrow(/topP must be in \(0, 1\]/);
    await expect(trainCmd(['--stage', '3', '--pack', PACK, '--init', base, '--out', out])).rejects.toThrow(/--stage must be 1 or 2/);
    await expect(trainCmd(['--stage', '1', '--pack', PACK, '--init', base, '--out', out, '--set', 'rollout.bogus=1'])).rejects.toThrow(/unknown setting "rollout.bogus"/);
    await expect(readdir(out)).rejects.toThrow();
  });

  it('train: runs a step, writes metrics.jsonl, and never overwrites an existing folder', async () => {
    const out = join(root, 's1');
    const args = ['--stage', '1', '--pack', PACK, '--init', base, '--out', out, '--steps', '1', '--prompts-per-step', '2', '--samples-per-prompt', '2', '--set', 'rollout.maxNewTokens=6', '--backend', 'cpu', '--json'];
    const summary = JSON.parse(await capture(() => trainCmd(args)));
    expect(summary.steps).toBe(1);
    const lines = (await readFile(join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    for (const k of ['step', 'reward', 'retrievalRate', 'formatRate', 'f1', 'answerInDocs', 'searchesPerRollout', 'kl', 'loss', 'tokens', 'seconds']) expect(lines[0]).toHaveProperty(k);
    const before = await readFile(join(out, 'model.safetensors'));
    await expect(trainCmd(args)).rejects.toThrow(/already exists and is not empty/);
    expect(await readFile(join(out, 'model.safetensors'))).toEqual(before);
  });

  it('train --resume continues bit for bit: 1 step, then resume to 2 = 2 steps straight', async () => {
    const common = ['--stage', '2', '--pack', PACK, '--init', base, '--prompts-per-step', '2', '--samples-per-prompt', '3', '--set', 'rollout.maxNewTokens=8', '--backend', 'cpu', '--seed', '5', '--steps', '2', '--save-every', '1'];
    const straight = join(root, 'straight'), resumed = join(root, 'resumed');
    await capture(() => trainCmd([...common, '--out', straight]));
    await capture(() => trainCmd([...common, '--out', resumed, '--stop-after', '1']));
    expect(JSON.parse(await readFile(join(resumed, 'trainer_state.json'), 'utf8')).step).toBe(1);
    await capture(() => trainCmd([...common, '--out', resumed, '--resume']));
    for (const f of ['model.safetensors', 'optimizer.safetensors']) {
      expect(Buffer.compare(await readFile(join(straight, f)), await readFile(join(resumed, f))), f).toBe(0);
    }
    const strip = (t: string) => t.trim().split('\n').map((l) => { const m = JSON.parse(l); for (const k of ['seconds', 'rolloutSeconds', 'updateSeconds']) delete m[k]; return m; });
    expect(strip(await readFile(join(resumed, 'metrics.jsonl'), 'utf8'))).toEqual(strip(await readFile(join(straight, 'metrics.jsonl'), 'utf8')));
  });

  it('train --resume with learnability sampling restores the per-template estimates: the same questions as a straight run', async () => {
    const common = ['--stage', '2', '--pack', PACK, '--init', base, '--prompts-per-step', '3', '--samples-per-prompt', '2', '--set', 'rollout.maxNewTokens=8', '--backend', 'cpu',
      '--seed', '9', '--steps', '3', '--save-every', '1', '--hops', '1', '--question-sampling', 'learnability'];
    const straight = join(root, 'learn-straight'), resumed = join(root, 'learn-resumed');
    await capture(() => trainCmd([...common, '--out', straight]));
    await capture(() => trainCmd([...common, '--out', resumed, '--stop-after', '1']));
    const state = JSON.parse(await readFile(join(resumed, 'trainer_state.json'), 'utf8'));
    expect(state.settings.questionSampling).toBe('learnability');
    expect(Object.keys(state.templateSuccess).length).toBeGreaterThan(0);
    await capture(() => trainCmd([...common, '--out', resumed, '--resume']));
    const questions = async (dir: string) => JSON.parse(await readFile(join(dir, 'rollouts.json'), 'utf8')).map((r: { questionId: string }) => r.questionId);
    expect(await questions(resumed)).toEqual(await questions(straight));
    for (const f of ['model.safetensors', 'trainer_state.json']) {
      const read = async (dir: string) => (f.endsWith('.json') ? JSON.stringify({ ...JSON.parse(await readFile(join(dir, f), 'utf8')), elapsedSeconds: 0 }) : await readFile(join(dir, f)));
      expect(await read(resumed), f).toEqual(await read(straight));
    }
  });
});
