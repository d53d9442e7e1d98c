import { defineConfig } from 'vite';

export default defineConfig({
  server: {
    // Cross-origin isolation lets the page use SharedArrayBuffer (threaded wasm kernels).
    headers: {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
    },
  },
  preview: {
    headers: {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
    },
  },
  worker: { format: 'es' },
  // Pre-bundle what the workers import too; otherwise a cold dev server discovers minisearch and
  // protobufjs only when a worker loads them and reloads the page once (losing a first session).
  optimizeDeps: { entries: ['index.html', 'bench.html', 'workers/*.worker.ts'] },
  build: { target: 'es2022' },
});
