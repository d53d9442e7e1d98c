/**
 * Shared harness of the browser tests: the dev server and Chromium of src/cli/browser.ts, and
 * whether Chromium is there at all.
 */
import { existsSync } from 'node:fs';
import { CHROMIUM } from '../../src/cli/browser.ts';

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
