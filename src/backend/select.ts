/**
 * Backend selection: one place that knows which backends exist and what each needs.
 * `auto` takes the fastest one this engine can run: `webgpu` when a hardware WebGPU adapter
 * exists, else `wasm` when WebAssembly SIMD is available, else the plain TypeScript `cpu`
 * reference. A software WebGPU adapter (Chromium's SwiftShader, a CPU emulation) is passed
 * over by `auto`, because the wasm kernels are faster on the same CPU; `webgpu` by name
 * still uses it.
 */
import type { Backend } from './backend.ts';
import { CpuBackend } from './cpu/cpu-backend.ts';
import { simdSupported } from './wasm/kernel-module.ts';
import { WasmBackend } from './wasm/wasm-backend.ts';
import { probeWebGpu, WebGpuUnavailableError } from './webgpu/device.ts';
import { WebGpuBackend } from './webgpu/webgpu-backend.ts';

export type BackendName = 'cpu' | 'wasm' | 'webgpu' | 'auto';

export const BACKEND_NAMES: readonly BackendName[] = ['cpu', 'wasm', 'webgpu', 'auto'];

/** Options shared by the backends that take any. */
export interface BackendOptions {
  /** Threads for `wasm` (default: every core). Ignored by `cpu` and `webgpu`. */
  threads?: number;
}

/** A backend with a sentence for the learner when it is not the one asked for or expected. */
export interface BackendChoice {
  backend: Backend;
  /** Why `auto` (or a fallback) did not give WebGPU; empty when nothing needs saying. */
  note: string;
}

/**
 * Creates a backend by name. `auto` = `webgpu` on a hardware adapter, else `wasm` when
 * WebAssembly SIMD is available and the backend starts (its memory can be reserved), else `cpu`.
 * Throws on an unknown name, for `wasm` when SIMD is missing, and for `webgpu` when there is
 * no WebGPU adapter (WebGpuUnavailableError).
 * A `wasm` backend owns worker threads and a `webgpu` one a device: call `destroyBackend`
 * when done with it.
 */
export async function createBackend(name: BackendName, opts: BackendOptions = {}): Promise<Backend> {
  switch (name) {
    case 'cpu':
      return new CpuBackend();
    case 'wasm':
      return WasmBackend.create({ threads: opts.threads });
    case 'webgpu':
      return WebGpuBackend.create();
    case 'auto':
      return (await createBackendWithNote('auto', opts)).backend;
    default:
      throw new Error(`unknown backend "${String(name)}" (known: ${BACKEND_NAMES.join(', ')})`);
  }
}

/**
 * Like createBackend, for the page: `auto` says why it did not pick WebGPU, and `webgpu` on a
 * browser without WebGPU falls back to the CPU path (wasm, else cpu) with a note instead of
 * failing. Throws on an unknown name, and for `wasm` when SIMD is missing.
 */
export async function createBackendWithNote(name: BackendName, opts: BackendOptions = {}): Promise<BackendChoice> {
  if (name === 'cpu' || name === 'wasm') return { backend: await createBackend(name, opts), note: '' };
  if (name === 'webgpu') {
    try {
      return { backend: await WebGpuBackend.create(), note: '' };
    } catch (e) {
      if (!(e instanceof WebGpuUnavailableError)) throw e;
      const cpu = await cpuPath(opts);
      return { backend: cpu, note: `${e.message}; running on the ${cpu.name} backend instead` };
    }
  }
  if (name !== 'auto') throw new Error(`unknown backend "${String(name)}" (known: ${BACKEND_NAMES.join(', ')})`);
  const probe = await probeWebGpu();
  let why: string;
  if (probe.ok && !probe.info.isFallbackAdapter) {
    try {
      return { backend: await WebGpuBackend.create(), note: '' };
    } catch (e) {
      why = `WebGPU did not start (${e instanceof Error ? e.message : String(e)})`;
    }
  } else if (probe.ok) {
    const what = [probe.info.vendor, probe.info.architecture].filter(Boolean).join(' ') || 'unknown';
    why = `the WebGPU adapter (${what}) is a software emulation on the CPU`;
  } else {
    why = probe.reason;
  }
  const cpu = await cpuPath(opts);
  return { backend: cpu, note: `${why}; running on the ${cpu.name} backend` };
}

/** wasm when SIMD is there and it starts, else the reference. */
async function cpuPath(opts: BackendOptions): Promise<Backend> {
  if (simdSupported()) {
    try {
      return await WasmBackend.create({ threads: opts.threads });
    } catch {
      // e.g. no memory could be reserved: the reference backend still works
    }
  }
  return new CpuBackend();
}

/** Stops a backend's threads or device if it has any (a no-op for `cpu`). */
export function destroyBackend(b: Backend): void {
  if (b instanceof WasmBackend) b.destroy();
  if (b instanceof WebGpuBackend) b.destroy();
}

/**
 * For a backend that can lose its device (webgpu): a promise that resolves to the Error to
 * report when that happens. Null for backends that cannot.
 */
export function backendLost(b: Backend): Promise<Error> | null {
  return b instanceof WebGpuBackend ? b.lost.then((l) => l.error) : null;
}

/** A line describing the device behind a backend (the WebGPU adapter and limits; wasm threads); empty for cpu. */
export function backendDetail(b: Backend): string {
  if (b instanceof WebGpuBackend) return b.summary();
  if (b instanceof WasmBackend) return `${b.threads} thread${b.threads === 1 ? '' : 's'}${b.threadNote ? ` (${b.threadNote})` : ''}`;
  return '';
}
