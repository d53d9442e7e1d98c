/**
 * The teaching page as a first-time learner meets it, in headless Chromium:
 * - a first visit shows the shipped trained run (public/models/shipped-run, written by
 *   `npm run cli -- shipped-run`) without training: Compare answers one question with the base,
 *   Stage-1 and Stage-2 policies; the step slider reaches an early step whose rollouts have
 *   non-zero advantages, drawn as a heat-map and as the cycle diagram; every step of the path is
 *   photographed at 1280 and 768 px (test-results/e2e/teach-*.png); at 1280 x 800 the curves and
 *   the inspector start on the first screen; at 768 px no table column is clipped;
 * - greedy decoding twice gives the same text;
 * - a setting changed in one stage leaves the other stage's value (and the URL holds both);
 * - a reload, then Resume, loses no finished step; an inspected rollout stays pinned while
 *   training goes on; starting a finished stage again asks first.
 * No console error, failed request or dialog; every control has an accessible name.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { SHIPPED_RUN_FILES, SHIPPED_RUN_NAME, type ShippedRunManifest } from '../../src/session/shipped-run.ts';
import { chromiumAvailable, useServerAndBrowser } from './harness.ts';
import { deepText, openStep, shot, SHOTS, SMALL, unnamedControls, waitApp, watchedPage } from './page-helpers.ts';

const run = chromiumAvailable();
const MANIFEST = `public/models/${SHIPPED_RUN_NAME}/${SHIPPED_RUN_FILES.manifest}`;

/** The steps of the guided path, as the navigation names them, and the screenshot names. */
const STEPS: [RegExp, string][] = [[/Corpus/, 'corpus'], [/Base model/, 'base'], [/Stage 1/, 'stage1'], [/Stage 2/, 'stage2'], [/Evaluate/, 'evaluate'], [/Export/, 'export']];

/** Scrolling boxes (`.scroll`, open shadow roots included) whose content is wider than they are: a clipped column. */
async function clippedBoxes(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const walk = (root: Document | ShadowRoot) => {
      for (const el of Array.from(root.querySelectorAll<HTMLElement>('*'))) {
        if (el.classList.contains('scroll') && el.getClientRects().length > 0 && el.scrollWidth > el.clientWidth + 1) {
          out.push(`${(el.getRootNode() as ShadowRoot).host?.tagName.toLowerCase()}: ${el.querySelector('table')?.getAttribute('aria-label') ?? 'box'} (${el.scrollWidth} > ${el.clientWidth})`);
        }
        if (el.shadowRoot) walk(el.shadowRoot);
      }
    };
    walk(document);
    return out;
  });
}

/** Screenshots of `name` at 1280 and 768 px (the page follows the resize first); at 768 px no column is clipped. */
async function shotBoth(page: Page, name: string): Promise<void> {
  await shot(page, `teach-${name}-1280`);
  await page.setViewportSize({ width: 768, height: 1024 });
  await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(768);
  if (name.includes('evaluate')) await expect.poll(() => clippedBoxes(page)).toEqual([]);
  await shot(page, `teach-${name}-768`);
  await page.setViewportSize({ width: 1280, height: 800 });
}

describe.runIf(run)('the teaching page', () => {
  const env = useServerAndBrowser();

  it('a first visit sees a trained run: Compare, early-step advantages, the cycle, every step at 1280 and 768 px', async () => {
    expect(existsSync(MANIFEST), `${MANIFEST} (npm run cli -- shipped-run)`).toBe(true);
    const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8')) as ShippedRunManifest;
    const w = await watchedPage(env.browser);
    const { page } = w;
    const unnamed = new Set<string>();
    const checkNames = async () => (await unnamedControls(page)).forEach((u) => unnamed.add(u));
    const tLoad = Date.now();
    await page.goto(env.url);
    await waitApp(page, 'data-state', 'ready');
    console.log(`first visit: the page was ready ${((Date.now() - tLoad) / 1000).toFixed(1)} s after opening it`);
    const offer = page.getByRole('region', { name: 'A trained run' });
    await shotBoth(page, '0-first-visit');
    await checkNames();

    // One click: the shipped run, then Compare on a test question, with no training.
    const t0 = Date.now();
    await offer.getByRole('button', { name: 'See a trained run' }).click();
    const cards = page.locator('r1s-compare r1s-sample-card');
    await expect.poll(() => cards.count(), { timeout: 60_000 }).toBe(3);
    console.log(`first visit: Compare answered by three policies ${((Date.now() - t0) / 1000).toFixed(1)} s after the click`);
    expect(await page.locator('r1s-app').getAttribute('data-step')).toBe('evaluate');
    expect(await page.locator('r1s-app').getAttribute('data-stage')).toBe('0'); // nothing trained in the page
    for (const [policy, heading] of [['base', 'Base model'], ['stage1', `step ${manifest.stages[1].steps} of ${manifest.stages[1].steps}`], ['stage2', `step ${manifest.stages[2].steps} of ${manifest.stages[2].steps}`]]) {
      const card = page.locator(`r1s-compare r1s-sample-card[data-policy=${policy}]`);
      const text = await deepText(card);
      expect(text).toContain(heading!);
      expect(text).toContain('greedy decoding');
      expect((await deepText(card.locator('r1s-completion'))).length).toBeGreaterThan(0);
    }
    // Evaluation in the paper's layout: a row per method, with the step of each policy.
    const paper = page.getByRole('table', { name: "Evaluation in the paper's layout" });
    expect(await paper.locator('tbody tr').count()).toBe(new Set(manifest.eval.map((r) => `${r.mode}/${r.policy}`)).size);
    expect(await paper.textContent()).toContain(`Stage 2, step ${manifest.stages[2].steps} of ${manifest.stages[2].steps}`);
    expect(await page.getByRole('table', { name: 'Searches per question by hop count' }).locator('tbody tr').count()).toBeGreaterThan(0);

    // The step slider reaches an early step of Stage 1 (first half), whose kept rollouts differ within their groups.
    await openStep(page, /Stage 1/);
    const s1 = page.locator('r1s-step-stage');
    expect(await s1.locator('r1s-curves canvas').count()).toBeGreaterThanOrEqual(7);
    // At 1280 x 800 the curves and the inspector start on the first screen (the settings are folded).
    const tops = await page.evaluate(() => {
      window.scrollTo(0, 0);
      const st = document.querySelector('r1s-app')!.shadowRoot!.querySelector('r1s-step-stage')!.shadowRoot!;
      return ['[id^=curves-h]', '[id^=insp-h]'].map((q) => st.querySelector(q)!.getBoundingClientRect().top);
    });
    expect(tops.every((t) => t > 0 && t < 800), `curves and inspector headings at y = ${tops.join(', ')}`).toBe(true);
    const insp = s1.locator('r1s-inspector');
    const slider = insp.getByRole('slider', { name: 'Step of the kept rollouts' });
    const rows = insp.getByRole('table', { name: 'Rollouts of the step' }).locator('tbody tr');
    let shaped: number[] = [];
    let step = 0;
    for (let i = 0; i < 4 && !shaped.some((x) => Math.abs(x) > 0); i++) {
      await slider.fill(String(i));
      await expect.poll(() => insp.getAttribute('data-step')).not.toBe(String(step));
      step = Number(await insp.getAttribute('data-step'));
      shaped = await rows.evaluateAll((trs) => trs.map((tr) => Number(tr.children[3]!.textContent)));
    }
    expect(shaped.some((x) => Math.abs(x) > 0), `advantages after the group baseline at step ${step}: ${shaped.join(', ')}`).toBe(true);
    expect(step).toBeLessThanOrEqual(manifest.stages[1].steps / 2);
    // Inspect a rollout with a non-zero advantage: its tokens are a heat-map, the cycle lights the cursor's part.
    const k = shaped.findIndex((x) => Math.abs(x) > 0);
    await rows.nth(k).getByRole('button', { name: /^Inspect rollout/ }).click();
    const tape = insp.locator('r1s-token-tape');
    await expect.poll(() => tape.locator('.tok.inloss').count()).toBeGreaterThan(0);
    const advs = await tape.locator('.tok.inloss').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-advantage'))));
    expect(advs.some((a) => a !== 0)).toBe(true);
    expect(await deepText(tape.getByLabel('Colour legend'))).toContain('negative advantage');
    expect(await deepText(insp.locator('#adv-explain'))).toMatch(/normalized over all loss tokens of the batch/);
    const cycle = insp.locator('r1s-cycle');
    await expect.poll(() => cycle.getAttribute('data-lit')).toMatch(/^(think|query|answer)/);
    await insp.getByRole('button', { name: 'Last token', exact: true }).click();
    await expect.poll(() => cycle.getAttribute('data-lit')).toContain('reward baseline');
    await insp.getByText(new RegExp(`the policy that sampled step ${step} was not kept`)).waitFor({ timeout: 30_000 });
    await cycle.screenshot({ path: `${SHOTS}/teach-cycle-diagram.png` });
    await shot(page, 'teach-3-stage1-inspector-1280');
    await checkNames();

    // Every step of the path at 1280 and 768 px.
    for (const [label, name] of STEPS) {
      await openStep(page, label);
      await page.waitForTimeout(300);
      await shotBoth(page, `${STEPS.findIndex((s) => s[1] === name) + 1}-${name}`);
      await checkNames();
    }
    expect([...unnamed]).toEqual([]);
    expect(w.errors).toEqual([]);
    expect(w.dialogs).toEqual([]);
    await w.context.close();
  }, 300_000);

  it('greedy decoding twice gives the same text, and the card says it was greedy', async () => {
    const w = await watchedPage(env.browser);
    const { page } = w;
    await page.goto(`${env.url}?step=base&maxNewTokens=24`);
    await waitApp(page, 'data-state', 'ready');
    const base = page.locator('r1s-step-base');
    const cards = base.locator('r1s-sample-card');
    for (const n of [1, 2]) {
      await base.getByRole('button', { name: 'Greedy answer' }).click();
      await expect.poll(() => cards.count(), { timeout: 60_000 }).toBe(n);
    }
    const [a, b] = await Promise.all([deepText(cards.nth(0).locator('r1s-completion')), deepText(cards.nth(1).locator('r1s-completion'))]);
    expect(a.length).toBeGreaterThan(0);
    expect(b).toBe(a);
    expect(await cards.nth(0).locator('[data-decoding]').getAttribute('data-decoding')).toBe('greedy');
    // A sample says it was sampled, with its seed.
    await base.getByRole('button', { name: 'Sample', exact: true }).click();
    await expect.poll(() => cards.count(), { timeout: 60_000 }).toBe(3);
    expect(await deepText(cards.nth(0).locator('[data-decoding]'))).toMatch(/sampled: temperature 1, top-p 0\.95, seed \d+/);
    expect(w.errors).toEqual([]);
    await w.context.close();
  }, 180_000);

  it("a stage's setting leaves the other stage's value; the URL holds each (old plain keys set both)", async () => {
    const w = await watchedPage(env.browser);
    const { page } = w;
    const lr = async (stage: 1 | 2) => {
      await openStep(page, stage === 1 ? /Stage 1/ : /Stage 2/);
      const st = page.locator('r1s-step-stage');
      await st.locator('details summary', { hasText: `Settings of Stage ${stage}` }).click();
      return st.getByLabel('Learning rate');
    };
    await page.goto(`${env.url}?step=stage1`);
    await waitApp(page, 'data-state', 'ready');
    const l1 = await lr(1);
    await l1.fill('0.001');
    await l1.press('Enter');
    await l1.blur();
    await expect.poll(() => page.url()).toContain('s1.lr=0.001');
    expect(await (await lr(2)).inputValue()).toBe('0.0003');
    expect(await (await lr(1)).inputValue()).toBe('0.001');
    expect(page.url()).not.toContain('s2.lr');
    // An older link's plain key reaches both stages.
    await page.goto(`${env.url}?step=stage1&lr=0.002`);
    await waitApp(page, 'data-state', 'ready');
    expect(await (await lr(1)).inputValue()).toBe('0.002');
    expect(await (await lr(2)).inputValue()).toBe('0.002');
    expect(w.errors).toEqual([]);
    await w.context.close();
  }, 120_000);

  it('a reload, then Resume (the only primary action), loses no finished step; a finished stage asks before starting again', async () => {
    const w = await watchedPage(env.browser);
    const { page } = w;
    await page.goto(`${env.url}?${SMALL}&stage1Steps=3&step=stage1`);
    await waitApp(page, 'data-state', 'ready');
    for (const k of ['1', '2']) {
      await page.getByRole('button', { name: 'Step', exact: true }).click();
      await waitApp(page, 'data-steps', k);
      await waitApp(page, 'data-saved', k); // saved at every step's end
    }
    await page.reload();
    await waitApp(page, 'data-state', 'ready');
    const offer = page.getByRole('region', { name: 'Saved run found' });
    expect(await offer.textContent()).toContain('Stage 1 at step 2');
    // Resume is the only primary action: the page's own buttons, the stage's training controls and the live mode's are secondary.
    const primaries = await page.evaluate(() => {
      const app = document.querySelector('r1s-app')!.shadowRoot!;
      const stage = app.querySelector('r1s-step-stage')!.shadowRoot!;
      const buttons = [...app.querySelectorAll<HTMLElement>('.resume button, .trained button, .pager button'), ...stage.querySelectorAll<HTMLElement>('section[aria-labelledby^="run-h"] button'),
        ...(stage.querySelector('r1s-live')?.shadowRoot?.querySelectorAll<HTMLElement>('button') ?? [])];
      // A disabled button offers no action; the navigation pills are not actions either.
      return [...new Set(buttons)].filter((b) => !b.closest('nav') && !b.classList.contains('secondary') && !(b as HTMLButtonElement).disabled && b.getClientRects().length > 0)
        .map((b) => (b.textContent ?? '').trim());
    });
    expect(primaries).toEqual(['Resume']);
    await offer.getByRole('button', { name: 'Resume' }).click();
    await waitApp(page, 'data-steps', '2');
    // Inspecting a rollout pins the inspector to its step: the next training step does not take it away.
    const insp = page.locator('r1s-inspector');
    await insp.getByRole('button', { name: 'Inspect rollout 1' }).click();
    await insp.getByRole('button', { name: 'Last token', exact: true }).click();
    const cursor = await insp.getAttribute('data-cursor');
    await page.getByRole('button', { name: 'Continue', exact: true }).click();
    await waitApp(page, 'data-steps', '3');
    await waitApp(page, 'data-state', 'ready');
    expect([await insp.getAttribute('data-step'), await insp.getAttribute('data-selected'), await insp.getAttribute('data-cursor')]).toEqual(['2', '0', cursor]);
    expect(await deepText(insp)).toContain('pinned to step 2 (training is at 3)');
    await insp.getByRole('button', { name: 'Follow the latest step' }).click();
    await expect.poll(() => insp.getAttribute('data-step')).toBe('3');
    // Start on the finished stage asks first; keeping the results keeps every step.
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    const ask = page.getByRole('group', { name: 'Confirm starting again' });
    expect(await ask.textContent()).toContain("drops Stage 1's 3 steps");
    await ask.getByRole('button', { name: 'Keep my results' }).click();
    expect(await ask.count()).toBe(0);
    expect(await page.locator('r1s-app').getAttribute('data-steps')).toBe('3');
    expect(w.errors).toEqual([]);
    expect(w.dialogs).toEqual([]);
    await w.context.close();
  }, 300_000);
});
