/**
 * Backend selection: one place that knows which backends exist and what each needs.
 * `auto` takes the fastest one this engine can run; today that is `wasm` when WebAssembly SIMD
 * is available, else the plain TypeScript `cpu` reference.
 */
import type { Backend } from './backend.ts';
import { CpuBackend } from './cpu/cpu-backend.ts';
import { simdSupported } from './wasm/kernel-module.ts';
import { WasmBackend } from './wasm/wasm-backend.ts';

export type BackendName = 'cpu' | 'wasm' | 'auto';

export const BACKEND_NAMES: readonly BackendName[] = ['cpu', 'wasm', 'auto'];

/** Options shared by the backends that take any. */
export interface BackendOptions {
  /** Threads for `wasm` (default: every core). Ignored by `cpu`. */
  threads?: number;
}

/**
 * Creates a backend by name. `auto` = `wasm` when WebAssembly SIMD is available and the
 * backend starts (its memory can be reserved), else `cpu`.
 * Throws on an unknown name, or for `wasm` when SIMD is missing.
 * A `wasm` backend owns worker threads: call its `destroy()` when done with it (they do not
 * keep a Node process alive, but they hold memory).
 */
export async function createBackend(name: BackendName, opts: BackendOptions = {}): Promise<Backend> {
  switch (name) {
    case 'cpu':
      return new CpuBackend();
    case 'wasm':
      return WasmBackend.create({ threads: opts.threads });
    case 'auto':
      // WebGPU goes first here once src/backend/webgpu/ exists: `if (await webgpuAvailable()) ...`.
      if (simdSupported()) {
        try {
          return await WasmBackend.create({ threads: opts.threads });
        } catch {
          // e.g. no memory could be reserved: the reference backend still works
        }
      }
      return new CpuBackend();
    default:
      throw new Error(`unknown backend "${String(name)}" (known: ${BACKEND_NAMES.join(', ')})`);
  }
}

/** Stops a backend's threads if it has any (a no-op for `cpu`). */
export function destroyBackend(b: Backend): void {
  if (b instanceof WasmBackend) b.destroy();
}
