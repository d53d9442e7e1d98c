/**
 * Helpers of the page tests: a page that records every console error, uncaught exception,
 * failed response and dialog; waiting on <r1s-app>'s data attributes; screenshots under
 * test-results/e2e/ (git-ignored, kept as the run's artifacts).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';

export const SHOTS = join('test-results', 'e2e');

/** Small settings that keep a step near a second on the wasm backend (2 questions x 2 samples, 24 tokens). */
export const SMALL = 'promptsPerStep=2&samplesPerPrompt=2&maxNewTokens=24';

export interface WatchedPage {
  context: BrowserContext;
  page: Page;
  /** Console errors, page errors and HTTP failures, in order. */
  errors: string[];
  /** Messages of dialogs the page opened (alert, confirm, ...): there must be none. */
  dialogs: string[];
}

/** A page in a fresh context (its own IndexedDB), recording what must not happen. */
export async function watchedPage(browser: Browser, viewport = { width: 1280, height: 800 }): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  const errors: string[] = [];
  const dialogs: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('response', (r) => { if (r.status() >= 400) errors.push(`HTTP ${r.status()} ${r.url()}`); });
  page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
  return { context, page, errors, dialogs };
}

/** Waits until <r1s-app> has `attr` equal to `value` (or matching it). */
export async function waitApp(page: Page, attr: string, value: string | RegExp, timeout = 120_000): Promise<void> {
  const app = page.locator('r1s-app');
  const t0 = Date.now();
  let last: string | null = null;
  while (Date.now() - t0 < timeout) {
    last = await app.getAttribute(attr);
    if (last !== null && (typeof value === 'string' ? last === value : value.test(last))) return;
    if (last === 'error' && attr === 'data-state') break;
    await page.waitForTimeout(200);
  }
  const alert = await page.locator('r1s-app .alert').allTextContents().catch(() => []);
  throw new Error(`r1s-app ${attr} is ${JSON.stringify(last)}, expected ${value} (alerts: ${alert.join(' | ') || 'none'})`);
}

/** A full-page screenshot under test-results/e2e/. Returns its path. */
export async function shot(page: Page, name: string): Promise<string> {
  mkdirSync(SHOTS, { recursive: true });
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Opens a step of the guided path by its navigation button. */
export async function openStep(page: Page, label: RegExp): Promise<void> {
  await page.getByRole('navigation', { name: 'Guided path' }).getByRole('button', { name: label }).click();
}

/** The text of an element including every shadow root below it (textContent stops at a shadow host). */
export async function deepText(locator: import('playwright-core').Locator): Promise<string> {
  return locator.evaluate((root) => {
    const walk = (n: Node): string => {
      let s = '';
      const el = n as Element;
      if (el.shadowRoot) s += walk(el.shadowRoot);
      if (n.nodeType === Node.TEXT_NODE) return n.textContent ?? '';
      for (const c of Array.from(n.childNodes)) s += walk(c);
      return s;
    };
    return walk(root).replace(/\s+/g, ' ').trim();
  });
}

/**
 * Controls without an accessible name, open shadow roots included (a light version of the
 * accessible-name computation: aria-label, aria-labelledby, <label>, a button's text, title).
 * Returns a short description of each offender.
 */
export async function unnamedControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const nameOf = (el: HTMLElement): string => {
      const aria = el.getAttribute('aria-label');
      if (aria?.trim()) return aria;
      const by = el.getAttribute('aria-labelledby');
      if (by) {
        const root = el.getRootNode() as Document | ShadowRoot;
        const t = by.split(/\s+/).map((id) => root.getElementById(id)?.textContent ?? '').join(' ');
        if (t.trim()) return t;
      }
      const labels = (el as HTMLInputElement).labels;
      if (labels && labels.length) {
        const t = Array.from(labels).map((l) => l.textContent ?? '').join(' ');
        if (t.trim()) return t;
      }
      if (el.tagName === 'BUTTON') return el.textContent ?? '';
      return el.getAttribute('title') ?? '';
    };
    const walk = (root: Document | ShadowRoot) => {
      for (const el of Array.from(root.querySelectorAll<HTMLElement>('*'))) {
        if (el.matches('button, input, select, textarea, [tabindex="0"]') && !nameOf(el).trim()) {
          const host = (el.getRootNode() as ShadowRoot).host?.tagName.toLowerCase() ?? 'document';
          out.push(`${host}: <${el.tagName.toLowerCase()} ${el.getAttribute('type') ?? ''}>`);
        }
        if (el.shadowRoot) walk(el.shadowRoot);
      }
    };
    walk(document);
    return out;
  });
}
