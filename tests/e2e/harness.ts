/**
 * Shared harness of the browser tests: the dev server and Chromium of src/cli/browser.ts, and
 * whether Chromium is there at all.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import type { Browser } from 'playwright-core';
import type { PluginOption, ViteDevServer } from 'vite';
import { CHROMIUM, launchBrowser, startServer } from '../../src/cli/browser.ts';

export { CHROMIUM, CHROMIUM_FLAGS, launchBrowser, startServer } from '../../src/cli/browser.ts';

/**
 * Whether browser tests can run here. In CI a missing Chromium is an error (the CI script
 * installs it); on a developer machine without it the browser tests are skipped with a message.
 */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI) throw new Error(`browser tests: ${CHROMIUM} is missing (CI must install Debian's chromium)`);
  console.warn(`browser tests skipped: ${CHROMIUM} not found (apt-get install -y chromium)`);
  return false;
}

/**
 * Starts the dev server (with `plugins`) and Chromium before a suite's tests and closes both
 * after them. Read `url` and `browser` inside the tests (they are set once the suite starts).
 */
export function useServerAndBrowser(plugins: PluginOption[] = []): { readonly url: string; readonly browser: Browser } {
  let server: ViteDevServer | null = null;
  let browser: Browser | null = null;
  let url = '';
  beforeAll(async () => {
    ({ server, url } = await startServer(plugins));
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  return {
    get url() { return url; },
    get browser() {
      if (!browser) throw new Error('the browser is not started (use it inside a test)');
      return browser;
    },
  };
}
