/**
 * Loads an exported ONNX model in onnxruntime-web in the browser: in the ONNX check worker
 * (parity-check.ts, the page's "Run the export") and in the browser benchmark. The
 * WebGPU execution provider is asked for when the browser has a hardware WebGPU adapter (the
 * same rule as our own backend selection, src/backend/select.ts: a software adapter is slower
 * than wasm on the same CPU); otherwise, or when WebGPU fails to start, the wasm provider runs it.
 *
 * The runtime is imported only when the check runs. Vite serves the package's wasm binary from
 * node_modules; `env.wasm.wasmPaths` points the runtime at that URL, since the bundled module
 * cannot find it next to itself once Vite has pre-bundled it.
 */
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import { probeWebGpu } from '../backend/webgpu/device.ts';
import { ortNextLogits, type KvCacheShape, type NextLogits, type OrtLike, type OrtSessionLike } from './decode.ts';

/** An ONNX model ready to run. */
export interface OnnxModel {
  /** The execution provider that runs it: `webgpu` or `wasm`. */
  provider: 'webgpu' | 'wasm';
  /** Why WebGPU was not used (empty when it was). */
  note: string;
  next: NextLogits;
  release(): Promise<void>;
}

/** An onnxruntime-web session, the runtime module it came from, and its execution provider. */
export interface OrtSession {
  ort: typeof import('onnxruntime-web/webgpu');
  session: import('onnxruntime-web/webgpu').InferenceSession;
  provider: 'webgpu' | 'wasm';
  /** Why WebGPU was not used (empty when it was). */
  note: string;
}

/**
 * A session over the model's bytes: the WebGPU provider when the browser has a hardware adapter
 * (or any adapter, with `allowSoftwareAdapter`, as the benchmark wants), else wasm on one thread.
 * `preferredOutputLocation` keeps the named outputs on the GPU (WebGPU provider only), e.g. a
 * KV cache fed back as the next call's input.
 * @throws Error from onnxruntime when the wasm provider refuses the model too.
 */
export async function createOrtSession(
  bytes: Uint8Array, opts: { allowSoftwareAdapter?: boolean; preferredOutputLocation?: Record<string, 'cpu' | 'gpu-buffer'> } = {},
): Promise<OrtSession> {
  const ort = await import('onnxruntime-web/webgpu');
  ort.env.wasm.wasmPaths = { wasm: wasmUrl };
  // One thread: a nano model does not need more, and threads would start extra workers.
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  const probe = await probeWebGpu();
  let note = '';
  if (probe.ok && (opts.allowSoftwareAdapter || !probe.info.isFallbackAdapter)) {
    try {
      const session = await ort.InferenceSession.create(bytes, { executionProviders: ['webgpu'], ...(opts.preferredOutputLocation ? { preferredOutputLocation: opts.preferredOutputLocation } : {}) });
      return { ort, session, provider: 'webgpu', note };
    } catch (e) {
      note = `WebGPU did not start in onnxruntime-web (${e instanceof Error ? e.message : String(e)})`;
    }
  } else note = probe.ok ? 'the WebGPU adapter is a software emulation' : probe.reason;
  return { ort, session: await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] }), provider: 'wasm', note };
}

/** Creates a model over the bytes (createOrtSession) that decodes through ortNextLogits (`kv`: the cache's sizes, for a KV-cache export). */
export async function openOnnxModel(bytes: Uint8Array, kv?: KvCacheShape): Promise<OnnxModel> {
  const { ort, session, provider, note } = await createOrtSession(bytes);
  return { provider, note, next: ortNextLogits(ort as unknown as OrtLike, session as unknown as OrtSessionLike, kv), release: () => session.release() };
}
