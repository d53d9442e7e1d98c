/**
 * Benchmark worker of bench.html: runs src/bench/browser-bench.ts off the main thread, where the
 * threaded wasm backend may block on its workers (Atomics.wait is refused on a page's main thread).
 * Receives the settings; posts `{ log }` lines, then `{ report }` or `{ error }`.
 */
import { runBrowserBench, type BrowserBenchSettings } from '../src/bench/browser-bench.ts';

self.onmessage = async (e: MessageEvent<BrowserBenchSettings>) => {
  try {
    const report = await runBrowserBench(e.data, (line) => postMessage({ log: line }));
    postMessage({ report });
  } catch (err) {
    postMessage({ error: err instanceof Error ? err.message : String(err) });
  }
};
