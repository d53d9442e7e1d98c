/**
 * The wasm backend's kernel module: every generated kernel in one WebAssembly module that
 * imports its linear memory (`env.memory`), so the calling thread and every worker
 * instantiate the same compiled module over the same (shared) memory.
 */
import { ModuleBuilder } from './wasm-builder.ts';
import { addMatmul, DEFAULT_TILE, type MatmulTile } from './kernels/matmul.ts';
import { addNorm } from './kernels/norm.ts';
import { addSwiglu } from './kernels/swiglu.ts';
import { addOptimizer } from './kernels/optimizer.ts';
import { addElementwise } from './kernels/elementwise.ts';
import { addSoftmax } from './kernels/softmax.ts';
import { addAttention } from './kernels/attention.ts';
import { addRope } from './kernels/rope.ts';

/** 64 KiB. */
export const PAGE_BYTES = 65536;

export interface KernelModuleOptions {
  /** Whether the memory is a SharedArrayBuffer-backed memory (needed for threads). */
  shared: boolean;
  /** Largest memory the module accepts, in pages. */
  maximumPages: number;
  /** Matmul register tile (tests and benchmarks try others). */
  tile?: MatmulTile;
  /** Fused multiply-adds (relaxed SIMD) in the matmul kernels; needs relaxedSimdSupported(). */
  fma?: boolean;
}

/** The compiled kernel module and the names of its exports in a fixed order. */
export interface KernelModule {
  module: WebAssembly.Module;
  exportNames: string[];
  tile: MatmulTile;
  fma: boolean;
}

/** The kernel module's binary and export names (generation takes a few milliseconds). */
export function generateKernelModule(opts: KernelModuleOptions): { bytes: Uint8Array; exportNames: string[]; tile: MatmulTile; fma: boolean } {
  const tile = opts.tile ?? DEFAULT_TILE, fma = opts.fma ?? false;
  const mb = new ModuleBuilder({ module: 'env', name: 'memory', initialPages: 1, maximumPages: opts.maximumPages, shared: opts.shared });
  addMatmul(mb, tile, fma);
  addNorm(mb);
  // swiglu, optimizer, elementwise: the order these kernels were added in when they shared one
  // file, kept so that the module's bytes (and its export order) do not change.
  addSwiglu(mb);
  addOptimizer(mb);
  addElementwise(mb);
  addSoftmax(mb);
  addAttention(mb);
  addRope(mb);
  return { bytes: mb.encode(), exportNames: mb.exportNames(), tile, fma };
}

/**
 * Generates and compiles the kernel module. Asynchronous because browsers refuse to compile
 * modules over 4 KB synchronously on a page's main thread.
 */
export async function buildKernelModule(opts: KernelModuleOptions): Promise<KernelModule> {
  const { bytes, exportNames, tile, fma } = generateKernelModule(opts);
  return { module: await WebAssembly.compile(bytes as BufferSource), exportNames, tile, fma };
}

/**
 * Whether this engine runs 128-bit WebAssembly SIMD: validates a tiny module whose one
 * function returns an f32x4.splat (what every kernel here needs).
 */
export function simdSupported(): boolean {
  if (typeof WebAssembly !== 'object' || typeof WebAssembly.validate !== 'function') return false;
  const probe = Uint8Array.of(
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type: () -> v128
    0x03, 0x02, 0x01, 0x00, // one function of type 0
    0x0a, 0x0b, 0x01, 0x09, 0x00, // code: one body of 9 bytes, no locals
    0x43, 0x00, 0x00, 0x80, 0x3f, // f32.const 1
    0xfd, 0x13, // f32x4.splat
    0x0b, // end
  );
  try {
    return WebAssembly.validate(probe);
  } catch {
    return false;
  }
}

/**
 * Whether this engine runs relaxed SIMD (f32x4.relaxed_madd): Chromium 114+ by default; Node
 * 20 only with --experimental-wasm-relaxed-simd.
 */
export function relaxedSimdSupported(): boolean {
  const probe = Uint8Array.of(
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type: () -> v128
    0x03, 0x02, 0x01, 0x00,
    0x0a, 0x13, 0x01, 0x11, 0x00, // code: one body of 17 bytes
    0x41, 0x00, 0xfd, 0x11, 0x41, 0x00, 0xfd, 0x11, 0x41, 0x00, 0xfd, 0x11, // three i32x4.splat(0)
    0xfd, 0x85, 0x02, // f32x4.relaxed_madd
    0x0b,
  );
  try {
    return WebAssembly.validate(probe);
  } catch {
    return false;
  }
}

/** Whether threads can share wasm memory here (SharedArrayBuffer exists and may be used). */
export function sharedMemorySupported(): boolean {
  if (typeof SharedArrayBuffer !== 'function') return false;
  // In a page, SharedArrayBuffer needs cross-origin isolation (COOP/COEP headers).
  const g = globalThis as { crossOriginIsolated?: boolean };
  if (g.crossOriginIsolated === false) return false;
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    return true;
  } catch {
    return false;
  }
}
