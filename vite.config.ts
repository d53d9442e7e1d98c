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
  build: { target: 'es2022' },
});
