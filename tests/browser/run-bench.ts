/**
 * `npx tsx tests/browser/run-bench.ts [--preset nano] [--only matmul|step|rl] [--rows 256]
 *  [--tokens 512] [--skip-wasm]`: opens tests/browser/bench.html in headless Debian Chromium
 * (the test harness's flags: SwiftShader WebGPU unless the machine offers a GPU to Chromium)
 * and prints the WebGPU and wasm figures as JSON. With SwiftShader the WebGPU figures measure
 * a CPU emulation (`webgpu.cpuEmulation` is true).
 */
import { parseArgs } from 'node:util';
import { launchBrowser, startServer } from '../e2e/harness.ts';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      preset: { type: 'string', default: 'nano' },
      only: { type: 'string' },
      rows: { type: 'string' },
      tokens: { type: 'string' },
      'skip-wasm': { type: 'boolean', default: false },
    },
  });
  if (values.only && !['matmul', 'step', 'rl'].includes(values.only)) throw new Error(`run-bench: --only must be matmul, step or rl, got "${values.only}"`);
  const num = (v: string | undefined, flag: string) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`run-bench: --${flag} must be a positive integer, got "${v}"`);
    return n;
  };
  const opts = {
    preset: values.preset, only: values.only, rows: num(values.rows, 'rows'), tokens: num(values.tokens, 'tokens'), skipWasm: values['skip-wasm'],
  };
  const { server, url } = await startServer();
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    await page.goto(`${url}tests/browser/bench.html`);
    await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 60_000 });
    const result = await page.evaluate((o) => (window as unknown as { bench: { run(x: unknown): Promise<unknown> } }).bench.run(o), opts);
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
