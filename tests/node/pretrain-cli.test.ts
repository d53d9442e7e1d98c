/**
 * `pretrain --init`: continuing a base (issue 15's mixed-preset Stage 0) starts from its weights,
 * records both runs in the lineage, and refuses a checkpoint of another vocabulary.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseStage0Mix, run as pretrainCmd } from '../../src/cli/commands/pretrain.ts';
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.ts';
import { downloadParams } from '../../src/io/checkpoint.ts';
import { loadCheckpointDir, saveCheckpointDir } from '../../src/io/checkpoint-fs.ts';
import { validateConfig } from '../../src/model/config.ts';
import { initParams } from '../../src/model/params.ts';
import { Tokenizer } from '../../src/tokenizer/tokenizer.ts';
import { SPECIAL_TOKENS } from '../../src/protocol/tags.ts';

const PACK = 'public/corpus/world';
const BASE = 'public/models/nano-base';
let root: string;

/** Runs a command with its log lines silenced. */
async function quiet(f: () => Promise<void>): Promise<void> {
  const writeErr = process.stderr.write.bind(process.stderr);
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    await f();
  } finally {
    process.stderr.write = writeErr;
  }
}

const firstLoss = async (dir: string): Promise<number> => (JSON.parse((await readFile(join(dir, 'metrics.jsonl'), 'utf8')).split('\n')[0]!) as { loss: number }).loss;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'r1s-pretrain-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('pretrain --init', () => {
  it("continues the shipped base: its first step's loss is a trained model's, not a fresh one's, and the lineage has both runs", async () => {
    const cont = join(root, 'cont'), fresh = join(root, 'fresh');
    const common = ['--pack', PACK, '--steps', '1', '--batch', '2', '--backend', 'cpu', '--seed', '3', '--prompt-preset', 'compact,chain'];
    await quiet(() => pretrainCmd([...common, '--init', BASE, '--out', cont]));
    await quiet(() => pretrainCmd([...common, '--preset', 'nano', '--out', fresh]));
    // A fresh nano model starts near ln(vocabulary) = ln(2551) = 7.8 nats; the 8,000-step base near 1.
    expect(await firstLoss(fresh)).toBeGreaterThan(6);
    expect(await firstLoss(cont)).toBeLessThan(3);
    const ckpt = await loadCheckpointDir(cont);
    const baseCkpt = await loadCheckpointDir(BASE);
    expect(ckpt.config).toEqual(baseCkpt.config);
    expect(ckpt.state!.init).toBe(BASE);
    expect(ckpt.state!.lineage.map((l) => [l.stage, l.steps])).toEqual([...baseCkpt.state!.lineage.map((l) => [l.stage, l.steps]), [0, 1]]);
  });

  it('refuses a checkpoint of another vocabulary, --preset with --init, a Stage-0 share outside [0, 1] and 1-hop shares summing past 1, before training', async () => {
    const b = new CpuBackend();
    const tokenizer = new Tokenizer([...SPECIAL_TOKENS, 'a', 'b']);
    const config = validateConfig({ vocabSize: tokenizer.size, hiddenSize: 8, intermediateSize: 8, numLayers: 1, numHeads: 2, maxPositions: 64, rmsEps: 1e-5, ropeTheta: 10000, tieEmbeddings: true });
    const other = join(root, 'other');
    await saveCheckpointDir(other, { config, tokenizer, weights: await downloadParams(b, initParams(b, config, 1)) });
    const common = ['--pack', PACK, '--steps', '1', '--batch', '1', '--backend', 'cpu'];
    await expect(pretrainCmd([...common, '--init', other, '--out', join(root, 'x')])).rejects.toThrow(/--init: .*other's tokenizer.json is not the vocabulary pretrain builds .*\(14 vs 2551 tokens\)/);
    await expect(pretrainCmd([...common, '--init', BASE, '--preset', 'small', '--out', join(root, 'y')])).rejects.toThrow(/leave --preset out/);
    await expect(pretrainCmd([...common, '--init', BASE, '--stage0-follow-up', '2', '--out', join(root, 'z')])).rejects.toThrow(/--stage0-follow-up: expected a share in \[0, 1\], got "2"/);
    await expect(pretrainCmd([...common, '--init', BASE, '--stage0-years', '1.5', '--out', join(root, 'w')])).rejects.toThrow(/--stage0-years: expected a share in \[0, 1\], got "1.5"/);
    await expect(pretrainCmd([...common, '--init', BASE, '--stage0-employers', 'x', '--out', join(root, 'v')])).rejects.toThrow(/--stage0-employers must be a number/);
    await expect(pretrainCmd([...common, '--init', BASE, '--stage0-backlink-free', '-1', '--out', join(root, 'u')])).rejects.toThrow(/--stage0-backlink-free: expected a share in \[0, 1\], got "-1"/);
    // Shares that are each fine but too much together: the sampler names them, before training.
    await expect(pretrainCmd([...common, '--init', BASE, '--stage0-years', '0.5', '--stage0-employers', '0.6', '--out', join(root, 't')])).rejects.toThrow(/yearShare \+ employerShare must be at most 1/);
  });
});

describe('--stage0-mix', () => {
  it('reads three weights (documents, reading, prompts) and names what is wrong', () => {
    expect(parseStage0Mix('0.2, 0.4,0.4')).toEqual({ document: 0.2, reading: 0.4, prompt: 0.4 });
    expect(() => parseStage0Mix('0.5,0.5')).toThrow(/--stage0-mix: expected three weights .* got "0.5,0.5"/);
    expect(() => parseStage0Mix('0,0,0')).toThrow(/not all 0/);
    expect(() => parseStage0Mix('1,-1,1')).toThrow(/--stage0-mix/);
    expect(() => parseStage0Mix('1,x,1')).toThrow(/--stage0-mix/);
  });
});
