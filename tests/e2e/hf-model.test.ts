/**
 * Bring your own model in the page (issue 19): a Hugging Face folder (a random grouped-query
 * Llama with Llama 3 RoPE scaling and a byte-level BPE tokenizer, written by make-hf-model) is
 * picked in the Base model step; config.json alone gives the parameter count and the memory
 * before loading; it loads as the base with the tags added; Stage 1 and Stage 2 each run a
 * step on it; the Hugging Face export loads back with the tags and the same architecture.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as makeHfModel } from '../../src/cli/commands/make-hf-model.ts';
import { importCheckpointFiles } from '../../src/io/import.ts';
import { unzipFiles } from '../../src/io/zip.ts';
import { TAGS } from '../../src/protocol/tags.ts';
import { chromiumAvailable, useServerAndBrowser } from './harness.ts';
import { openStep, shot, SHOTS, SMALL, waitApp, watchedPage } from './page-helpers.ts';

const run = chromiumAvailable();

describe.runIf(run)('an imported Hugging Face model in the page', () => {
  const env = useServerAndBrowser();
  let root = '', dir = '';
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'r1s-e2e-hf-'));
    dir = join(root, 'tiny-gqa');
    await makeHfModel(['--shape', 'tiny-gqa', '--pack', 'public/corpus/world', '--out', dir, '--merges', '120']);
  });
  afterAll(async () => { await rm(root, { recursive: true, force: true }); });

  it('picks the folder, shows its size before loading, trains Stage 1 and Stage 2, and exports it back', async () => {
    const { page } = await watchedPage(env.browser);
    await page.goto(`${env.url}?${SMALL}&stage1Steps=1&stage2Steps=1&saveEvery=1`);
    await waitApp(page, 'data-state', 'ready');

    await openStep(page, /Base model/);
    const byo = page.locator('r1s-hf-import');
    await byo.getByLabel('Choose a Hugging Face model folder').setInputFiles(dir);
    const status = byo.getByRole('status').first();
    await expect.poll(() => status.textContent(), { timeout: 30_000 }).toMatch(/tiny-gqa: 0\.1M parameters; training needs about \d+ MiB: weights \d+ KiB/);
    await byo.getByRole('button', { name: 'Load as the base model' }).click();
    const ok = byo.locator('.ok-box');
    await ok.waitFor({ timeout: 120_000 });
    expect((await ok.textContent())?.replace(/\s+/g, ' ')).toMatch(/Loaded tiny-gqa as the base model\. .*added 8 tag tokens/);
    await shot(page, 'hf-import');

    await openStep(page, /Stage 1/);
    await page.locator('r1s-step-stage').getByRole('button', { name: 'Step', exact: true }).click();
    await waitApp(page, 'data-steps', '1');
    await waitApp(page, 'data-state', /ready|paused/);
    await openStep(page, /Stage 2/);
    await page.locator('r1s-step-stage').getByRole('button', { name: 'Start', exact: true }).click();
    await waitApp(page, 'data-stage', '2');
    await waitApp(page, 'data-steps', '1');
    await waitApp(page, 'data-state', 'ready');

    await openStep(page, /Export/);
    const download = page.waitForEvent('download');
    await page.locator('r1s-step-export').getByRole('button', { name: 'Download Hugging Face folder (zip)' }).click();
    const d = await download;
    const path = join(SHOTS, `hf-${d.suggestedFilename()}`);
    await d.saveAs(path);
    const { checkpoint } = await importCheckpointFiles(unzipFiles(new Uint8Array(await readFile(path))), { modelOnly: true });
    expect(checkpoint.config.numKvHeads).toBe(2);
    expect(checkpoint.config.ropeScaling?.type).toBe('llama3');
    for (const t of TAGS) expect(checkpoint.tokenizer.encode(t)).toHaveLength(1);
  });
});
