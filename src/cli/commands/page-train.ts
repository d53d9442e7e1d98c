/**
 * `npm run cli -- page-train [--query Q] [--stages 1|1,2] [--out DIR] [--gpu-flags="FLAGS"] [--timeout SECONDS] [--json]`:
 * runs the playground page's own training in headless Debian Chromium (src/cli/browser.ts) and
 * records its curves, so a run on the page's backend (WebGPU in a browser) can be compared
 * with one from `train` on the command line.
 *
 * It opens the page at `?step=stage1&<Q>` (Q holds page settings as in the address bar, e.g.
 * `backend=webgpu&stage1Steps=20`), presses Start on each stage in --stages, and appends each
 * finished step's metrics (src/rl/trainer.ts StepMetrics) to DIR/metrics.jsonl as they come,
 * so a long run can be followed and an interrupted one keeps what it did. Prints the backend
 * the page reported, wall seconds per stage and the means of the last five steps.
 *
 * Throws when the page reports an error, a bad setting in Q, when DIR already holds a
 * metrics.jsonl (it is never overwritten), or when a stage does not finish within --timeout
 * seconds (default 7200).
 */
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { launchBrowser, startServer } from '../browser.ts';
import { parseFlags } from '../common.ts';
import type { StepMetrics } from '../../rl/trainer.ts';

const USAGE = 'npm run cli -- page-train [--query QUERY] [--stages 1|1,2] [--out DIR] [--gpu-flags="FLAGS"] [--timeout SECONDS] [--json]';

/** What the page's <r1s-app> exposes to tools (see src/ui/r1s-app.ts). */
type AppHandle = HTMLElement & { pg: { metrics: Record<1 | 2, StepMetrics[]> } };

/** Summary of one stage as run in the page. */
export interface PageStageSummary {
  stage: 1 | 2;
  steps: number;
  wallSeconds: number;
  /** Means over the last five steps (fewer when the stage is shorter). */
  last5: { retrievalRate: number; rewardRetrieval: number; formatRate: number; answerInDocs: number; f1: number };
}

function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

async function attr(page: Page, name: string): Promise<string | null> {
  return page.locator('r1s-app').getAttribute(name);
}

async function alerts(page: Page): Promise<string> {
  const texts = await page.locator('r1s-app [role=alert]').allTextContents().catch(() => [] as string[]);
  return texts.map((t) => t.replace(/\s+/g, ' ').trim()).filter(Boolean).join(' | ');
}

/** The metrics of a stage's finished steps, as the page holds them. */
async function stageMetrics(page: Page, stage: 1 | 2): Promise<StepMetrics[]> {
  return page.evaluate((s) => (document.querySelector('r1s-app') as AppHandle).pg.metrics[s], stage);
}

/** Polls until <r1s-app> has `name` = `value`; throws on data-state=error or after `timeoutMs`. */
async function waitFor(page: Page, name: string, value: string, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const v = await attr(page, name);
    if (v === value) return;
    if ((await attr(page, 'data-state')) === 'error') throw new Error(`page-train: the page reports an error: ${await alerts(page) || 'no message'}`);
    if (Date.now() - t0 > timeoutMs) throw new Error(`page-train: <r1s-app> ${name} is ${JSON.stringify(v)} after ${Math.round(timeoutMs / 1000)} s, expected "${value}"`);
    await page.waitForTimeout(1000);
  }
}

export async function run(argv: string[]): Promise<void> {
  const values = parseFlags(argv, {
    query: { type: 'string', default: '' },
    stages: { type: 'string', default: '1' },
    out: { type: 'string' },
    'gpu-flags': { type: 'string', default: '' },
    timeout: { type: 'string', default: '7200' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  }, USAGE);
  if (values.help) {
    process.stdout.write(`usage: ${USAGE}\n`);
    return;
  }
  const stages = values.stages.split(',').map((s) => Number(s.trim())) as (1 | 2)[];
  if (!stages.length || stages.some((s) => s !== 1 && s !== 2) || new Set(stages).size !== stages.length) {
    throw new Error(`page-train: --stages must be 1, 2 or 1,2, got "${values.stages}"`);
  }
  const timeoutMs = Number(values.timeout) * 1000;
  if (!(timeoutMs > 0)) throw new Error(`page-train: --timeout must be a positive number of seconds, got "${values.timeout}"`);
  const query = values.query.replace(/^\?/, '');
  const metricsPath = values.out ? join(values.out, 'metrics.jsonl') : null;
  if (metricsPath) {
    // A finished run's curves are never overwritten: a new run needs a new folder.
    if (existsSync(metricsPath)) throw new Error(`page-train: ${metricsPath} already exists (nothing was written; choose another --out)`);
    mkdirSync(values.out!, { recursive: true });
    writeFileSync(metricsPath, '');
  }
  const log = (s: string) => process.stderr.write(`${s}\n`);

  const { server, url } = await startServer();
  const browser = await launchBrowser(values['gpu-flags'].split(/\s+/).filter(Boolean));
  try {
    const page = await (await browser.newContext()).newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.goto(`${url}?step=stage${stages[0]}${query ? `&${query}` : ''}`);
    await waitFor(page, 'data-state', 'ready', 600_000);
    const settingErrors = await alerts(page);
    if (settingErrors) throw new Error(`page-train: the page refused the settings: ${settingErrors}`);
    const status = (await page.locator('r1s-app header [role=status]').textContent())?.trim() ?? '';
    log(`page: ${status}`);
    const summaries: PageStageSummary[] = [];
    for (const stage of stages) {
      await page.getByRole('navigation', { name: 'Guided path' }).getByRole('button', { name: new RegExp(`Stage ${stage}`) }).click();
      const total = (await stageMetrics(page, stage)).length;
      if (total !== 0) throw new Error(`page-train: stage ${stage} already has ${total} steps in this page`);
      const t0 = Date.now();
      await page.locator('r1s-step-stage').getByRole('button', { name: 'Start', exact: true }).click();
      let seen = 0;
      for (;;) {
        const state = await attr(page, 'data-state');
        const ms = await stageMetrics(page, stage);
        for (; seen < ms.length; seen++) {
          const m = ms[seen]!;
          if (metricsPath) appendFileSync(metricsPath, `${JSON.stringify(m)}\n`);
          log(`stage ${stage} step ${m.step}: retrieval ${m.retrievalRate.toFixed(3)} (reward ${m.rewardRetrieval.toFixed(3)}), format ${m.formatRate.toFixed(3)}, answer in docs ${m.answerInDocs.toFixed(3)}, f1 ${m.f1.toFixed(3)}, ${m.seconds.toFixed(1)} s`);
        }
        if (state === 'error') throw new Error(`page-train: the page reports an error: ${await alerts(page) || 'no message'}`);
        if (state === 'ready' && seen > 0) break;
        if (Date.now() - t0 > timeoutMs) throw new Error(`page-train: stage ${stage} did not finish within ${values.timeout} s (${seen} steps done)`);
        await page.waitForTimeout(2000);
      }
      const ms = await stageMetrics(page, stage);
      const tail = ms.slice(-5);
      summaries.push({
        stage, steps: ms.length, wallSeconds: (Date.now() - t0) / 1000,
        last5: {
          retrievalRate: mean(tail.map((m) => m.retrievalRate)), rewardRetrieval: mean(tail.map((m) => m.rewardRetrieval)),
          formatRate: mean(tail.map((m) => m.formatRate)), answerInDocs: mean(tail.map((m) => m.answerInDocs)), f1: mean(tail.map((m) => m.f1)),
        },
      });
    }
    const finalStatus = (await page.locator('r1s-app header [role=status]').textContent())?.trim() ?? '';
    const report = { page: status, finalStatus, stages: summaries, pageErrors: errors };
    if (values.out) writeFileSync(join(values.out, 'summary.json'), `${JSON.stringify(report, null, 2)}\n`);
    if (values.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else {
      for (const s of summaries) {
        const l = s.last5;
        process.stdout.write(`stage ${s.stage}: ${s.steps} steps in ${s.wallSeconds.toFixed(0)} s; last 5 steps: retrieval ${l.retrievalRate.toFixed(3)} (reward ${l.rewardRetrieval.toFixed(3)}), format ${l.formatRate.toFixed(3)}, answer in docs ${l.answerInDocs.toFixed(3)}, f1 ${l.f1.toFixed(3)}\n`);
      }
    }
  } finally {
    await browser.close();
    await server.close();
  }
}
