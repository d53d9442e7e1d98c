/**
 * WebGPU backend parity against the CPU reference, in headless Debian Chromium with
 * SwiftShader's WebGPU (a CPU emulation of a GPU: correct, slow; timings here say nothing
 * about a real GPU). The work runs in the page tests/browser/parity.html; this file drives it
 * through playwright-core and checks what it reports.
 *
 * Tolerance (compare.ts): element i passes when |gpu_i - cpu_i| <= 1e-4 |cpu_i| + 1e-5 max|cpu|
 * (float32 kernels against a reference that accumulates in double), for every kernel and for
 * the whole training step; token ids must be equal. Measured worst ratios of error to
 * allowance are about 0.01 (kernels and gradients), so the tolerance leaves ~100x headroom
 * for other adapters' rounding, while a wrong index, transpose or missing term gives ratios
 * of 1e3 and more.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { chromiumAvailable, launchBrowser, startServer } from '../e2e/harness.ts';
import { createBackend, createBackendWithNote, destroyBackend } from '../../src/backend/select.ts';
import { BufferPool, bucketSize } from '../../src/backend/webgpu/buffer-pool.ts';
import { WebGpuUnavailableError } from '../../src/backend/webgpu/device.ts';
import { grid } from '../../src/backend/webgpu/kernel-spec.ts';
import { ropeTable } from '../../src/backend/webgpu/kernels/rope.ts';
import { compare, KERNEL_TOL, type Diff } from './compare.ts';
import type { CaseReport, ParityApi } from './parity.ts';

describe('compare (the parity criterion itself)', () => {
  it('passes float32 rounding and fails a 0.1% error', () => {
    const cpu = Float32Array.of(1, -2, 0);
    // 1.0001 vs 1: error 1e-4, allowance 1e-4 * 1 + 1e-5 * 2 = 1.2e-4: ratio ~0.83.
    const near = compare('x', Float32Array.of(1.0001, -2, 0), cpu, KERNEL_TOL);
    expect(near.ok).toBe(true);
    expect(near.ratio).toBeCloseTo(1e-4 / 1.2e-4, 2);
    const off = compare('x', Float32Array.of(1.001, -2, 0), cpu, KERNEL_TOL);
    expect(off.ok).toBe(false);
    expect(off.worst).toBe(0);
    // A zero reference element still gets the absolute allowance 1e-5 * 2.
    expect(compare('x', Float32Array.of(1, -2, 1.9e-5), cpu, KERNEL_TOL).ok).toBe(true);
    expect(compare('x', Float32Array.of(1, -2, 2.1e-5), cpu, KERNEL_TOL).ok).toBe(false);
    expect(compare('ids', Int32Array.of(3, 4), Int32Array.of(3, 5), KERNEL_TOL).ok).toBe(false);
  });
});

describe('webgpu helpers that need no GPU', () => {
  it('rounds buffer sizes up to quarter-power-of-two buckets of at least 256 bytes', () => {
    expect([0, 256, 257, 1000, 1025, 3000, 4096].map(bucketSize)).toEqual([256, 256, 320, 1024, 1280, 3072, 4096]);
    expect(() => bucketSize(-1)).toThrow(/invalid size -1/);
  });

  it('reuses released buffers, but never hands an upload one that unsubmitted commands use', () => {
    let created = 0;
    const device = { createBuffer: ({ size }: { size: number }) => ({ size, id: created++, destroy() {} }) } as unknown as GPUDevice;
    const pool = new BufferPool(device, 0x80, 1 << 20, 'test');
    const a = pool.acquire(1000);
    a.lastUse = 7; // bound by a command of generation 7
    pool.release(a);
    expect(pool.acquire(900, 7)).not.toBe(a); // an upload during generation 7 gets a fresh buffer
    expect(pool.acquire(900)).toBe(a); // a kernel output may take it (commands run in order)
    expect(pool.stats()).toMatchObject({ created: 2, reused: 1, bytesOwned: 2048 });
    expect(() => pool.acquire(2 << 20)).toThrow(/exceeds this device's maxBufferSize/);
  });

  it('spreads more than 65535 workgroups over a second grid dimension', () => {
    expect(grid(0)).toEqual([1, 1]);
    expect(grid(65535)).toEqual([65535, 1]);
    expect(grid(65536)).toEqual([32768, 2]);
  });

  it('builds the RoPE cos/sin table as the CPU reference computes angles', () => {
    const t = ropeTable(4, 100, 3); // D = 4: inverse frequencies 1 and 100^(-1/2) = 0.1
    expect(t.length).toBe(2 + 3 * 2 * 2);
    expect(Array.from(t.slice(0, 6))).toEqual([1, Math.fround(0.1), 1, 0, 1, 0]);
    const expected = [0.5403023, 0.841471, 0.9950042, 0.0998334, -0.4161468, 0.9092974]; // p = 1, 2
    expected.forEach((x, i) => expect(t[6 + i]).toBeCloseTo(x, 6));
  });

  it('in Node (no navigator.gpu): auto gives the CPU path with a reason, webgpu by name throws', async () => {
    const { backend, note } = await createBackendWithNote('auto', { threads: 1 });
    expect(backend.name).toBe('wasm');
    expect(note).toMatch(/^WebGPU is not available.*; running on the wasm backend$/);
    destroyBackend(backend);
    await expect(createBackend('webgpu')).rejects.toBeInstanceOf(WebGpuUnavailableError);
  });
});

const run = chromiumAvailable();

describe.runIf(run)('WebGPU backend against the CPU backend (Chromium, SwiftShader)', () => {
  let server: ViteDevServer;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  const call = <K extends keyof ParityApi>(name: K, ...args: Parameters<ParityApi[K]>) =>
    page.evaluate(([n, a]) => (window as unknown as { parity: Record<string, (...x: unknown[]) => unknown> }).parity[n]!(...a), [name, args] as const) as
      ReturnType<ParityApi[K]>;

  /** Every failing comparison of a report, as readable lines. */
  const failures = (reports: CaseReport[]) => reports.flatMap((r) => [
    ...(r.error ? [`${r.name}: threw ${r.error}`] : []),
    ...r.diffs.filter((d) => !d.ok).map((d: Diff) => `${r.name} / ${d.output}: ratio ${d.ratio.toPrecision(3)}, max |err| ${d.maxAbsErr.toPrecision(3)} at ${d.worst} (scale ${d.maxRef.toPrecision(3)})`),
  ]);

  beforeAll(async () => {
    let url: string;
    ({ server, url } = await startServer());
    browser = await launchBrowser();
    page = await browser.newPage();
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    // WebGPU validation and WGSL compile errors arrive as console warnings or errors.
    page.on('console', (m) => { if (m.type() === 'error' || (m.type() === 'warning' && /WGSL|Invalid|WebGPU/i.test(m.text()))) problems.push(`console ${m.type()}: ${m.text()}`); });
    await page.goto(`${url}tests/browser/parity.html`);
    await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 60_000 });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('gets a device with the adapter\'s own limits', async () => {
    const info = await call('device');
    console.log(`adapter: ${info.vendor} ${info.architecture} (fallback/software: ${info.isFallbackAdapter}), limits ${JSON.stringify(info.limits)}`);
    expect(info.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 2 ** 20);
    expect(info.limits.maxComputeWorkgroupStorageSize).toBeGreaterThanOrEqual(16384);
  });

  it('every kernel, forward and backward, matches on awkward shapes', async () => {
    const reports = await call('kernels', '');
    expect(reports.length).toBeGreaterThanOrEqual(18);
    for (const r of reports) expect(r.diffs.length, `${r.name} compared nothing`).toBeGreaterThan(0);
    expect(failures(reports)).toEqual([]);
  });

  it('one full training step: log-probs, loss, every parameter gradient, the clipped AdamW update', async () => {
    const reports = await call('trainingStep');
    expect(reports).toHaveLength(2);
    for (const r of reports) {
      expect(r.diffs.filter((d) => d.output.startsWith('grad model.')).length).toBeGreaterThanOrEqual(19);
      expect(r.diffs.find((d) => d.output === 'clipFraction')?.maxRef, 'some ratios are clipped').toBeGreaterThan(0);
    }
    expect(failures(reports)).toEqual([]);
  });

  it('an imported model shape (GQA, head_dim != C/H, biases, llama3 RoPE): training step and greedy decoding', async () => {
    const reports = await call('importedModel');
    expect(reports).toHaveLength(2);
    expect(reports[0]!.diffs.filter((d) => d.output.endsWith('_proj.bias')).length).toBeGreaterThanOrEqual(2 * 4 * 2);
    expect(failures(reports)).toEqual([]);
  });

  it('KV-cache decoding draws the same token ids (greedy, and sampled from the same uniforms)', async () => {
    const runs = await call('generation');
    for (const r of runs) {
      expect(r.gpuIds, `temperature ${r.temperature}, top-p ${r.topP}`).toEqual(r.cpuIds);
      expect(r.diffs.filter((d) => !d.ok)).toEqual([]);
    }
    // The greedy run is not trivially constant: it emits several distinct tokens.
    expect(new Set(runs[0]!.cpuIds).size).toBeGreaterThan(5);
  });

  it('a warm training step creates no GPU buffers and submits one command buffer', async () => {
    const steps = await call('reuse');
    console.log(`policy update per step: ${JSON.stringify(steps)}`);
    expect(steps[0]!.buffersCreated, 'the first step fills the pool').toBeGreaterThan(0);
    for (const s of steps.slice(2)) {
      expect(s).toMatchObject({ buffersCreated: 0, stagingCreated: 0, pipelinesCompiled: 0, submits: 1 });
      expect(Number.isFinite(s.loss)).toBe(true);
    }
  });

  it('reports device loss through `lost`, backendLost and every later call', async () => {
    const r = await call('deviceLoss');
    expect(r.before).toEqual([1, 2, 3]);
    expect(r.reason).toBe('destroyed');
    for (const msg of [r.readError, r.zerosError, r.selectError]) expect(msg).toMatch(/^WebGPU device lost \(destroyed\): .*last checkpoint/);
  });

  it('selection: auto passes over a software adapter, webgpu can be forced, no WebGPU means a message and the CPU path', async () => {
    const r = await call('selection');
    expect(r.withGpu.auto.backend).toBe('wasm');
    expect(r.withGpu.auto.note).toMatch(/software emulation/);
    expect(r.withGpu.webgpu).toMatchObject({ backend: 'webgpu', note: '' });
    expect(r.withGpu.webgpu.detail).toMatch(/swiftshader \(software emulation on the CPU\); storage binding \d+ MiB/);
    expect(r.withGpu.auto.detail).toBe('1 thread');
    expect(r.withoutGpu!.auto.backend).toBe('wasm');
    expect(r.withoutGpu!.auto.note).toMatch(/^WebGPU is not available in this browser/);
    expect(r.withoutGpu!.webgpu.backend).toBe('wasm');
    expect(r.withoutGpu!.webgpu.note).toMatch(/running on the wasm backend instead$/);
    expect(r.forcedError).toMatch(/^WebGpuUnavailableError: WebGPU is not available/);
  });

  it('logged no page error and no WebGPU validation error', () => {
    expect(problems).toEqual([]);
  });
});
