/**
 * Compute pipelines, compiled once per kernel name and shape class (kernel-spec.ts) and kept
 * for the device's life. Compiling WGSL costs milliseconds (much more on a software adapter),
 * while a training step dispatches a few hundred kernels from a few dozen distinct
 * pipelines, so every pipeline after the first step comes from here.
 */
import { SHADER_STAGE_COMPUTE } from './device.ts';
import { kernelKey, kernelSource, type KernelSpec } from './kernel-spec.ts';

/** A compiled kernel with its bind-group layout. */
export interface CachedPipeline {
  readonly spec: KernelSpec;
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
}

export class PipelineCache {
  private readonly pipelines = new Map<string, CachedPipeline>();
  /** Pipelines compiled so far (a compile after warm-up means a new shape class). */
  compiled = 0;

  constructor(private readonly device: GPUDevice) {}

  /** The pipeline of `spec`, compiled on first use. */
  get(spec: KernelSpec): CachedPipeline {
    const key = kernelKey(spec);
    const hit = this.pipelines.get(key);
    if (hit) return hit;
    const entries: GPUBindGroupLayoutEntry[] = [
      { binding: 0, visibility: SHADER_STAGE_COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: 0 } },
      ...spec.buffers.map((b, i): GPUBindGroupLayoutEntry => ({
        binding: i + 1, visibility: SHADER_STAGE_COMPUTE, buffer: { type: b.access === 'rw' ? 'storage' : 'read-only-storage' },
      })),
    ];
    const layout = this.device.createBindGroupLayout({ label: key, entries });
    const module = this.device.createShaderModule({ label: key, code: kernelSource(spec) });
    const pipeline = this.device.createComputePipeline({
      label: key,
      layout: this.device.createPipelineLayout({ label: key, bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main' },
    });
    const entry = { spec, pipeline, layout };
    this.pipelines.set(key, entry);
    this.compiled++;
    return entry;
  }

  /** Number of distinct pipelines held. */
  get size(): number {
    return this.pipelines.size;
  }
}
