/**
 * Whether RL training of a model at a run's settings fits the backend, checked before any
 * weight is uploaded (src/model/memory.ts has the estimate): the wasm backend's memory maximum
 * (wasm32: 4 GiB), the WebGPU device's largest buffer and storage binding. Used by `train` and
 * by the page when it loads a model.
 */
import type { Backend } from '../backend/backend.ts';
import type { WasmBackend } from '../backend/wasm/wasm-backend.ts';
import type { WebGpuBackend } from '../backend/webgpu/webgpu-backend.ts';
import type { ModelConfig } from '../model/config.ts';
import { checkMemoryFits, describeEstimate, estimateTrainingMemory, formatBytes, largestFittingMicroBatch, type MemoryEstimate, type MemoryLimits } from '../model/memory.ts';
import type { RlSettings } from './settings.ts';
import { trainingShapeOf } from './training-shape.ts';

/** What a backend can hold (nothing known for the cpu backend). */
export function backendMemoryLimits(b: Backend): MemoryLimits {
  if (b.name === 'wasm') return { backend: 'wasm', totalBytes: (b as WasmBackend).memoryLimitBytes };
  if (b.name === 'webgpu') {
    const l = (b as WebGpuBackend).info.limits;
    return { backend: 'webgpu', maxTensorBytes: Math.min(l.maxBufferSize, l.maxStorageBufferBindingSize) };
  }
  return { backend: b.name };
}

/**
 * The estimate for `config` at `settings` and one line describing it.
 * @throws Error with the numbers (and, on wasm, a micro-batch that fits) when it cannot fit `backend`.
 */
export function checkTrainingFits(config: ModelConfig, settings: RlSettings, backend: Backend): { estimate: MemoryEstimate; line: string } {
  const shape = trainingShapeOf(settings);
  const estimate = estimateTrainingMemory(config, shape);
  const limits = backendMemoryLimits(backend);
  try {
    checkMemoryFits(estimate, limits);
  } catch (e) {
    const n = limits.totalBytes ? largestFittingMicroBatch(config, shape, limits.totalBytes) : 0;
    throw new Error(`${(e as Error).message}${n > 0 ? ` (update.microBatchTokens=${n} fits ${formatBytes(limits.totalBytes!)})` : ''}`);
  }
  return { estimate, line: describeEstimate(estimate) };
}
