/**
 * A Backend wrapper that times every call by op name (wall-clock milliseconds), to see where a
 * training step spends its time. Synchronous backends only (cpu, wasm): for a queued GPU
 * backend the figures would be enqueue times.
 */
import type { Backend } from '../backend/backend.ts';

/** Accumulated time and call count per op. */
export type OpProfile = Record<string, { ms: number; calls: number }>;

/** Returns a backend that forwards every call to `inner` and records its duration in `profile`. */
export function profiled(inner: Backend, profile: OpProfile): Backend {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      return (...args: unknown[]) => {
        const t0 = performance.now();
        const r = (value as (...a: unknown[]) => unknown).apply(target, args);
        const entry = (profile[prop] ??= { ms: 0, calls: 0 });
        entry.ms += performance.now() - t0;
        entry.calls++;
        return r;
      };
    },
  });
}
