/**
 * bench.html: runs the browser benchmark (workers/bench.worker.ts) with the settings in the URL
 * and shows progress and the JSON report as text. `document.body.dataset.state` becomes `done`
 * or `error` for the headless driver (`npm run bench -- --browser`).
 */
import { benchSettingsFromUrl } from './browser-bench.ts';

const status = document.getElementById('status')!;
const logEl = document.getElementById('log')!;
const result = document.getElementById('result')!;

function fail(message: string): void {
  status.textContent = `Benchmark failed: ${message}`;
  document.body.dataset.state = 'error';
}

try {
  const settings = benchSettingsFromUrl(location.search);
  const worker = new Worker(new URL('../../workers/bench.worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (e: MessageEvent<{ log?: string; report?: { seconds: number }; error?: string }>) => {
    if (e.data.log !== undefined) {
      logEl.textContent += `${e.data.log}\n`;
      console.log(e.data.log);
    } else if (e.data.report) {
      result.textContent = JSON.stringify(e.data.report, null, 2);
      status.textContent = `Done in ${e.data.report.seconds.toFixed(0)} s.`;
      document.body.dataset.state = 'done';
      worker.terminate();
    } else fail(e.data.error ?? 'unknown error');
  };
  worker.onerror = (e) => fail(e.message);
  worker.postMessage(settings);
} catch (e) {
  fail(e instanceof Error ? e.message : String(e));
}
