/**
 * The page end to end in headless Chromium: it loads the world pack into the search worker and
 * the base checkpoint into the trainer worker, and completes two RL steps in the worker.
 * Small settings from the URL keep it quick (the model is the shipped nano base).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { chromiumAvailable, launchBrowser, startServer } from './harness.ts';

const run = chromiumAvailable();

describe.runIf(run)('the page', () => {
  let server: ViteDevServer;
  let url: string;
  let browser: Browser;

  beforeAll(async () => {
    ({ server, url } = await startServer());
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('loads, runs two Stage-1 steps in the trainer worker, renders rollouts as text', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('response', (r) => { if (r.status() >= 400) errors.push(`HTTP ${r.status()} ${r.url()}`); });
    await page.goto(`${url}?promptsPerStep=2&samplesPerPrompt=2&maxNewTokens=24&stage1Steps=2`);
    const app = page.locator('r1s-app');
    await expect.poll(() => app.getAttribute('data-state'), { timeout: 120_000 }).toBe('ready');
    await page.getByRole('button', { name: 'Start Stage 1' }).click();
    await expect.poll(() => app.getAttribute('data-steps'), { timeout: 240_000, interval: 500 }).toBe('2');
    await expect.poll(() => app.getAttribute('data-state'), { timeout: 30_000 }).toBe('ready');
    expect(await page.getByRole('status').textContent()).toContain('Stage 1 finished: 2 steps');
    // Rollouts are shown; every <r1s-rollouts> article is text (no element from model output).
    const articles = page.locator('r1s-rollouts article');
    expect(await articles.count()).toBeGreaterThan(0);
    expect(errors).toEqual([]);
    await page.close();
  }, 400_000);
});
