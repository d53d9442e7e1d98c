/**
 * Saved runs in the browser: a reload in the middle of Stage 1 offers the saved run, and
 * resuming it continues exactly: after the remaining step, the numbers of the last step equal
 * those of a run that was never interrupted (same URL, same seed, its own browser storage).
 * Then the run list renames and deletes the run. And a lost GPU device mid-stage (WebGPU backend
 * on SwiftShader): the page starts a new trainer on a new device and goes on from the last save.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { chromiumAvailable, useServerAndBrowser } from './harness.ts';
import { openStep, shot, SMALL, waitApp, watchedPage } from './page-helpers.ts';

const run = chromiumAvailable();

/** The numbers of the latest step that do not depend on timing. */
async function lastStep(page: Page): Promise<Record<string, string>> {
  const text = (await page.locator('r1s-step-stage').getByRole('table', { name: 'Latest step' }).textContent()) ?? '';
  const out: Record<string, string> = {};
  for (const k of ['mean reward', 'retrieval rate', 'format rate', 'F1', 'response length', 'loss', 'grad norm', 'clip fraction']) {
    const m = new RegExp(`${k}\\s*(-?[\\d.]+(?:e-?\\d+)?)`).exec(text);
    if (!m) throw new Error(`no "${k}" in the latest-step table: ${text}`);
    out[k] = m[1]!;
  }
  return out;
}

describe.runIf(run)('saved runs', () => {
  const env = useServerAndBrowser();

  it('a reload mid-stage resumes the saved run, and it ends as an uninterrupted run does', async () => {
    const link = `${env.url}?${SMALL}&stage1Steps=3&saveEvery=1&step=stage1`;

    // The reference: three steps without a pause.
    const ref = await watchedPage(env.browser);
    await ref.page.goto(link);
    await waitApp(ref.page, 'data-state', 'ready');
    await ref.page.getByRole('button', { name: 'Start', exact: true }).click();
    await waitApp(ref.page, 'data-steps', '3');
    await waitApp(ref.page, 'data-state', 'ready');
    const expected = await lastStep(ref.page);
    await ref.context.close();

    // Two steps, a reload, resume, the third step.
    const w = await watchedPage(env.browser);
    const { page } = w;
    await page.goto(link);
    await waitApp(page, 'data-state', 'ready');
    expect(await page.getByRole('region', { name: 'Saved run found' }).count()).toBe(0);
    for (const k of ['1', '2']) {
      await page.getByRole('button', { name: 'Step', exact: true }).click();
      await waitApp(page, 'data-steps', k);
      await waitApp(page, 'data-saved', k);
    }
    await waitApp(page, 'data-state', 'paused');
    await page.reload();
    await waitApp(page, 'data-state', 'ready');
    expect(await page.locator('r1s-app').getAttribute('data-steps')).toBe('0');
    const offer = page.getByRole('region', { name: 'Saved run found' });
    expect(await offer.textContent()).toContain('Stage 1 at step 2');
    await offer.getByRole('button', { name: 'Resume' }).click();
    await waitApp(page, 'data-steps', '2');
    await waitApp(page, 'data-state', 'paused');
    expect(await page.locator('r1s-app header [role=status]').textContent()).toMatch(/Reopened .*Stage 1, step 2 of 3/);
    // The restored run shows its curves and its latest batch.
    expect(await page.locator('r1s-inspector').getByRole('button', { name: /Inspect rollout/ }).count()).toBe(4);
    await shot(page, 'resume-after-reload');
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    await waitApp(page, 'data-steps', '3');
    await waitApp(page, 'data-state', 'ready');
    expect(await lastStep(page)).toEqual(expected);

    // The run list: rename, then delete (asked twice).
    await openStep(page, /Export/);
    const runs = page.locator('r1s-runs');
    const rows = runs.getByRole('table', { name: 'Saved runs' }).locator('tbody tr');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().locator('td').nth(1).textContent()).toBe('1'); // stage
    expect(await rows.first().locator('td').nth(2).textContent()).toBe('3'); // step
    await runs.getByRole('button', { name: /^Rename / }).click();
    await runs.getByRole('textbox', { name: /^New name for / }).fill('my first run');
    await runs.getByRole('button', { name: 'Save name' }).click();
    await expect.poll(() => rows.first().textContent()).toContain('my first run');
    await runs.getByRole('button', { name: 'Delete my first run' }).click();
    await runs.getByRole('button', { name: 'Really delete my first run' }).click();
    await expect.poll(() => rows.count()).toBe(0);

    expect([...ref.errors, ...w.errors]).toEqual([]);
    expect([...ref.dialogs, ...w.dialogs]).toEqual([]);
    await w.context.close();
  }, 300_000);

  it('a lost GPU device mid-stage: a new device, the run goes on from its last save', async () => {
    const w = await watchedPage(env.browser);
    const { page } = w;
    await page.goto(`${env.url}?${SMALL}&maxNewTokens=12&stage1Steps=2&saveEvery=1&step=stage1&backend=webgpu`);
    await waitApp(page, 'data-state', 'ready', 180_000);
    const status = page.locator('r1s-app header [role=status]');
    expect(await status.textContent()).toContain('on the webgpu backend');
    await page.getByRole('button', { name: 'Step', exact: true }).click();
    await waitApp(page, 'data-steps', '1', 300_000);
    await waitApp(page, 'data-saved', '1');
    await waitApp(page, 'data-state', 'paused');
    // As a driver reset would: the trainer's device is destroyed; the next step fails on it.
    expect(await page.evaluate(() => document.querySelector('r1s-app')!.pg!.loseDevice())).toBe(true);
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    await waitApp(page, 'data-steps', '2', 300_000);
    await waitApp(page, 'data-state', 'ready', 300_000);
    expect(await status.textContent()).toMatch(/Stage 1 finished: 2 steps\. \(The GPU device was lost after step 1 of Stage 1; training resumed on a new device from the save at step 1\.\)/);
    expect(await page.locator('r1s-step-stage').getByRole('alert').count()).toBe(0);
    expect(w.errors).toEqual([]);
    await w.context.close();
  }, 900_000);

  it('a save that does not fit in browser storage is reported, and training goes on', async () => {
    const w = await watchedPage(env.browser);
    // The storage estimate says 10 kB are free: a checkpoint of megabytes cannot fit.
    await w.page.addInitScript(() => {
      Object.defineProperty(navigator.storage, 'estimate', { value: async () => ({ quota: 1_000_000, usage: 990_000 }) });
    });
    await w.page.goto(`${env.url}?${SMALL}&stage1Steps=2&saveEvery=1&step=stage1`);
    await waitApp(w.page, 'data-state', 'ready');
    await w.page.getByRole('button', { name: 'Step', exact: true }).click();
    await waitApp(w.page, 'data-steps', '1');
    const alert = w.page.locator('r1s-step-stage').getByRole('alert').filter({ hasText: 'Saving failed' });
    await expect.poll(() => alert.textContent()).toMatch(/storage full: needs [\d.]+ MB, 0\.010 MB free.*Training goes on unsaved/);
    expect(await w.page.locator('r1s-app').getAttribute('data-saved')).toBe('-1');
    await w.page.getByRole('button', { name: 'Continue', exact: true }).click();
    await waitApp(w.page, 'data-steps', '2');
    await waitApp(w.page, 'data-state', 'ready');
    expect(w.errors).toEqual([]);
    await w.context.close();
  }, 120_000);
});
