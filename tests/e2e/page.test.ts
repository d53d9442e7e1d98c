/**
 * The page end to end in headless Chromium: a learner walks the six steps of the guided path
 * with small settings (2 questions x 2 samples, 24 new tokens, 2 steps per stage): the corpus
 * and its search engine, samples from the base model and a live rollout, Stage 1 and Stage 2
 * with Step / Start / Continue, the rollout inspector stepped token by token, evaluation and
 * Compare, and the exports, whose ONNX file is run in onnxruntime-web. A screenshot of each
 * step goes to test-results/e2e/; no console error, failed request or dialog may happen.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { unzipFiles } from '../../src/io/zip.ts';
import { chromiumAvailable, useServerAndBrowser } from './harness.ts';
import { deepText, openStep, shot, SHOTS, SMALL, unnamedControls, waitApp, watchedPage } from './page-helpers.ts';

const run = chromiumAvailable();

describe.runIf(run)('the guided path', () => {
  const env = useServerAndBrowser();

  it('walks corpus, base model, Stage 1, Stage 2, evaluation and export', async () => {
    const w = await watchedPage(env.browser);
    const { page } = w;
    const unnamed = new Set<string>();
    const checkNames = async () => (await unnamedControls(page)).forEach((u) => unnamed.add(u));
    await page.goto(`${env.url}?${SMALL}&stage1Steps=2&stage2Steps=2&saveEvery=1&evalLimit=4`);
    await waitApp(page, 'data-state', 'ready');

    // 1. Corpus: every shard verified, ranked hits with the query words marked, a question's supporting document.
    const corpus = page.locator('r1s-step-corpus');
    const shards = corpus.getByRole('table', { name: 'Shards' }).locator('tbody tr');
    expect(await shards.count()).toBeGreaterThan(0);
    expect(await shards.filter({ hasText: 'loaded, hash verified' }).count()).toBe(await shards.count());
    await corpus.getByLabel('Query').fill('Kreimpon born');
    await corpus.getByRole('button', { name: 'Search', exact: true }).click();
    const hits = corpus.getByRole('list', { name: 'Search results' }).locator('li');
    await expect.poll(() => hits.count()).toBe(5);
    expect((await hits.first().locator('mark').allTextContents()).map((t) => t.toLowerCase())).toContain('kreimpon');
    await corpus.getByRole('button', { name: 'Supporting documents of q00000' }).click();
    await expect.poll(() => corpus.locator('.support').textContent(), { timeout: 30_000 }).toContain('Kreimpon');
    await shot(page, '1-corpus');
    await checkNames();

    // 2. Base model: a sample, and a live rollout stepped one token per click.
    await openStep(page, /Base model/);
    const base = page.locator('r1s-step-base');
    await base.getByRole('button', { name: 'Sample', exact: true }).click();
    await base.locator('r1s-sample-card').first().waitFor({ timeout: 60_000 });
    expect(await deepText(base.locator('r1s-sample-card r1s-completion').first())).not.toBe('');
    const live = base.locator('r1s-live');
    await live.getByRole('button', { name: 'Start live rollout' }).click();
    await live.getByRole('button', { name: 'Next token', exact: true }).click();
    await expect.poll(() => live.getAttribute('data-tokens')).toBe('1');
    await live.getByRole('button', { name: 'Next token', exact: true }).click();
    await expect.poll(() => live.getAttribute('data-tokens')).toBe('2');
    expect(await deepText(live.locator('r1s-token-detail'))).toMatch(/probability\s*[\d.]+ %/);
    await shot(page, '2-base-model');
    await checkNames();

    // 3. Stage 1: one Step (a batch of rollouts and one update), then Continue to the end.
    await openStep(page, /Stage 1/);
    const s1 = page.locator('r1s-step-stage');
    await s1.getByRole('button', { name: 'Step', exact: true }).click();
    await waitApp(page, 'data-steps', '1');
    await waitApp(page, 'data-state', 'paused');
    await s1.getByRole('button', { name: 'Continue', exact: true }).click();
    await waitApp(page, 'data-steps', '2');
    await waitApp(page, 'data-state', 'ready');
    expect(await page.locator('r1s-app header [role=status]').textContent()).toContain('Stage 1 finished: 2 steps');
    expect(await s1.locator('r1s-curves canvas').count()).toBeGreaterThanOrEqual(7);
    // The inspector: a rollout of the latest batch, token by token.
    // Pick the rollout of the batch (2 questions x 2 samples) with the most response tokens, and
    // step through up to four of them: a rollout of the base may be as short as `<answer> x
    // </answer>` (the 8,000-step base answers in 3-4 tokens before Stage 1 teaches it to search).
    const insp = s1.locator('r1s-inspector');
    const range = insp.getByLabel('Token position');
    const bounds = async () => `${await range.getAttribute('min')}-${await range.getAttribute('max')}`;
    const seen: string[] = [];
    for (let i = 1; i <= 4; i++) {
      await s1.getByRole('button', { name: `Inspect rollout ${i}` }).click();
      await insp.getByText('probabilities under the policy that sampled this batch').waitFor({ timeout: 30_000 });
      seen.push(await bounds());
    }
    const spans = seen.map((b) => { const [lo, hi] = b.split('-').map(Number); return hi! - lo!; });
    const longest = spans.indexOf(Math.max(...spans));
    const steps = Math.min(4, spans[longest]!);
    expect(steps, 'a rollout with at least two response tokens').toBeGreaterThanOrEqual(1);
    await s1.getByRole('button', { name: `Inspect rollout ${longest + 1}` }).click();
    await expect.poll(bounds).toBe(seen[longest]);
    const first = Number(await insp.getAttribute('data-cursor'));
    for (let k = 1; k <= steps; k++) {
      await insp.getByRole('button', { name: 'Next token', exact: true }).click();
      await expect.poll(() => insp.getAttribute('data-cursor')).toBe(String(first + k));
      const detail = await deepText(insp.locator('r1s-token-detail'));
      expect(detail).toContain(`Position ${first + k}`);
      expect(detail).toMatch(/in the loss\s*(yes|no)/);
    }
    expect(await insp.locator('r1s-token-detail table tr').count()).toBe(5); // the top-5 alternatives
    await shot(page, '3-stage1');
    await checkNames();
    await page.setViewportSize({ width: 768, height: 1024 });
    // Nothing wider than a tablet once the charts have followed the resize (a ResizeObserver, asynchronous).
    await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(768);
    await shot(page, '3-stage1-tablet');
    await page.setViewportSize({ width: 1280, height: 800 });

    // 4. Stage 2 from the Stage-1 policy.
    await openStep(page, /Stage 2/);
    const s2 = page.locator('r1s-step-stage');
    await s2.getByRole('button', { name: 'Start', exact: true }).click();
    await waitApp(page, 'data-stage', '2');
    await waitApp(page, 'data-steps', '2');
    await waitApp(page, 'data-state', 'ready');
    expect(await s2.getByRole('table', { name: 'Latest step' }).textContent()).toMatch(/mean reward\s*-?[\d.]+/);
    await shot(page, '4-stage2');
    await checkNames();

    // 5. Evaluation (test and ood, three modes) and Compare (base, Stage 1, Stage 2).
    await openStep(page, /Evaluate/);
    const ev = page.locator('r1s-step-evaluate');
    await ev.getByRole('button', { name: 'Evaluate', exact: true }).click();
    const rows = ev.getByRole('table', { name: 'Evaluation results' }).locator('tbody tr');
    await expect.poll(() => rows.count(), { timeout: 120_000 }).toBe(6);
    expect(await ev.locator('r1s-bars svg rect').count()).toBeGreaterThan(0);
    await ev.getByRole('button', { name: 'Compare', exact: true }).click();
    await expect.poll(() => ev.locator('r1s-compare r1s-sample-card').count(), { timeout: 60_000 }).toBe(3);
    await shot(page, '5-evaluate');
    await checkNames();

    // 6. Export: both zips, then the ONNX model run in onnxruntime-web against the trainer's policy.
    await openStep(page, /Export/);
    const ex = page.locator('r1s-step-export');
    for (const [button, file] of [['Download Hugging Face folder (zip)', 'model.safetensors'], ['Download ONNX model (zip)', 'onnx/model.onnx']] as const) {
      const download = page.waitForEvent('download');
      await ex.getByRole('button', { name: button }).click();
      const d = await download;
      const path = join(SHOTS, d.suggestedFilename());
      await d.saveAs(path);
      const files = unzipFiles(new Uint8Array(await readFile(path)));
      expect([...files.keys()]).toEqual(expect.arrayContaining([file, 'config.json', 'tokenizer.json', 'README.md']));
    }
    // Run the KV-cache variant (the Node tests run the plain one): new tokens only per call.
    await ex.getByRole('checkbox', { name: 'ONNX with KV cache' }).check();
    await ex.getByRole('button', { name: 'Run the export' }).click();
    const verdict = ex.locator('.ok-box, .alert').first();
    await verdict.waitFor({ timeout: 120_000 });
    expect(await verdict.textContent()).toContain('The ONNX model wrote exactly the tokens the trainer\'s policy writes');
    expect(await deepText(ex.locator('dl'))).toMatch(/KV cache\s*yes: the prompt once, then only the new tokens per call/);
    expect(await ex.getByRole('table', { name: 'Saved runs' }).locator('tbody tr').count()).toBe(1);
    await shot(page, '6-export');
    await checkNames();

    // Every control has an accessible name; everything else must not have happened.
    expect([...unnamed]).toEqual([]);
    expect(w.errors).toEqual([]);
    expect(w.dialogs).toEqual([]);
    await w.context.close();
  }, 400_000);
});
