/**
 * Shared harness of the browser tests: a Vite dev server on a free loopback port and Debian's
 * Chromium driven by playwright-core (never a downloaded browser). The flags give Chromium a
 * real, software WebGPU adapter (SwiftShader) and keep it off the network.
 */
import { existsSync } from 'node:fs';
import { createServer, type PluginOption, type ViteDevServer } from 'vite';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_FLAGS = [
  '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader',
  '--use-angle=swiftshader', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--disable-quic',
];

/**
 * Whether browser tests can run here. In CI a missing Chromium is an error (the CI script
 * installs it); on a developer machine without it the browser tests are skipped with a message.
 */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI) throw new Error(`browser tests: ${CHROMIUM} is missing (CI must install Debian's chromium)`);
  console.warn(`browser tests skipped: ${CHROMIUM} not found (apt-get install -y chromium)`);
  return false;
}

/**
 * Starts the Vite dev server on a free loopback port. `plugins` add test-only routes (e.g. a
 * fixture corpus pack).
 *
 * The workers' dependencies are listed as optimizer entries: Vite's scan starts from
 * index.html and does not follow `new Worker(new URL(...))`, so on a cold cache it would find
 * minisearch and protobufjs only when a worker first loads them, re-optimize, and reload the
 * page in the middle of a test.
 */
export async function startServer(plugins: PluginOption[] = []): Promise<{ server: ViteDevServer; url: string }> {
  const server = await createServer({
    configFile: 'vite.config.ts', plugins, optimizeDeps: { entries: ['index.html', 'tests/browser/*.html', 'workers/*.worker.ts'] },
    server: { port: 0, host: '127.0.0.1', strictPort: false, hmr: false }, logLevel: 'error', clearScreen: false,
  });
  await server.listen();
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('vite: the dev server has no local URL');
  return { server, url };
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, headless: true });
}
