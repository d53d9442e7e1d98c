/**
 * The browser benchmark page (tests/browser/bench.html): the WebGPU backend and the wasm
 * backend measured side by side in one page, same preset and shapes (src/backend/webgpu/bench.ts).
 */
import { WasmBackend } from '../../src/backend/wasm/wasm-backend.ts';
import { benchWebGpu, runBackendBench, type BackendBenchOptions } from '../../src/backend/webgpu/bench.ts';

const bench = {
  async run(opts: BackendBenchOptions & { wasmThreads?: number; skipWasm?: boolean }) {
    const webgpu = await benchWebGpu(opts);
    let wasm = null;
    if (!opts.skipWasm) {
      // The page's main thread may not block, so wasm runs on one thread here.
      const b = await WasmBackend.create({ threads: opts.wasmThreads ?? 1 });
      try {
        wasm = { threads: b.threads, result: await runBackendBench(b, opts) };
      } finally {
        b.destroy();
      }
    }
    return { userAgent: navigator.userAgent, hardwareConcurrency: navigator.hardwareConcurrency, webgpu, wasm };
  },
};

(window as unknown as { bench: typeof bench }).bench = bench;
document.body.dataset.ready = '1';
