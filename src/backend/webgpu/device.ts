/**
 * WebGPU device acquisition: one adapter, one device, with the adapter's own limits requested
 * (the defaults cap a storage binding at 128 MiB and workgroup memory at 16 KiB, far below what
 * most GPUs allow), and a plain record of what was obtained for the page and the benchmarks.
 *
 * Safe to import anywhere: nothing here touches a WebGPU global until a function is called
 * (Node has no `navigator.gpu`, and no `GPUBufferUsage` either, hence the constants below).
 */

/** GPUBufferUsage flags (values fixed by the WebGPU specification). */
export const BufferUsage = {
  MAP_READ: 0x0001,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
} as const;

/** GPUMapMode.READ. */
export const MAP_MODE_READ = 0x0001;

/** GPUShaderStage.COMPUTE. */
export const SHADER_STAGE_COMPUTE = 0x4;

/** Why WebGPU cannot be used here (thrown by acquireDevice, returned by probeWebGpu). */
export class WebGpuUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebGpuUnavailableError';
  }
}

/** The limits this backend asks for (each set to what the adapter supports). */
export const REQUESTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
] as const;

export type RequestedLimit = (typeof REQUESTED_LIMITS)[number];

/** What the page and the benchmarks report about the device. */
export interface GpuDeviceInfo {
  vendor: string;
  architecture: string;
  description: string;
  /**
   * A fallback adapter is a software implementation (SwiftShader in Chromium): WebGPU
   * emulated on the CPU, correct but slower than the wasm backend.
   */
  isFallbackAdapter: boolean;
  /** The device's limits for the entries of REQUESTED_LIMITS. */
  limits: Record<RequestedLimit, number>;
}

/** An acquired device with its description. */
export interface GpuContext {
  device: GPUDevice;
  info: GpuDeviceInfo;
}

function gpuApi(): GPU {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (!nav?.gpu) {
    throw new WebGpuUnavailableError(
      'WebGPU is not available in this browser (navigator.gpu is missing; it needs a recent Chrome, Edge or Safari, and a secure context)',
    );
  }
  return nav.gpu;
}

async function requestAdapter(): Promise<GPUAdapter> {
  const adapter = await gpuApi().requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new WebGpuUnavailableError('WebGPU is present but no GPU adapter was offered (blocklisted driver or no GPU)');
  return adapter;
}

function describe(adapter: GPUAdapter, limits: GPUSupportedLimits): GpuDeviceInfo {
  // `isFallbackAdapter` moved from the adapter to adapter.info; read both.
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const fallback = info.isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false;
  const lim = {} as Record<RequestedLimit, number>;
  for (const k of REQUESTED_LIMITS) lim[k] = limits[k];
  return {
    vendor: info.vendor ?? '', architecture: info.architecture ?? '', description: info.description ?? '',
    isFallbackAdapter: fallback || /swiftshader/i.test(`${info.architecture} ${info.description}`), limits: lim,
  };
}

/**
 * Requests an adapter (high performance) and a device with the adapter's own limits for the
 * entries of REQUESTED_LIMITS.
 * @throws WebGpuUnavailableError when the browser has no WebGPU or offers no adapter; the
 *   device request's own error (e.g. a limit refused) otherwise.
 */
export async function acquireDevice(): Promise<GpuContext> {
  const adapter = await requestAdapter();
  const requiredLimits: Record<string, number> = {};
  for (const k of REQUESTED_LIMITS) requiredLimits[k] = adapter.limits[k];
  const device = await adapter.requestDevice({ label: 'r1s webgpu backend', requiredLimits });
  return { device, info: describe(adapter, device.limits) };
}

/** Result of probeWebGpu. */
export type WebGpuProbe =
  | { ok: true; info: GpuDeviceInfo }
  | { ok: false; reason: string };

/** Whether a WebGPU adapter exists here (without creating a device), and what it is. */
export async function probeWebGpu(): Promise<WebGpuProbe> {
  try {
    const adapter = await requestAdapter();
    return { ok: true, info: describe(adapter, adapter.limits) };
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : String(e) };
  }
}
