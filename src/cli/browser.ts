/**
 * Headless Chromium for the command line and the browser tests: a Vite dev server on a free
 * loopback port and Debian's Chromium driven by playwright-core (never a downloaded browser).
 * The flags give Chromium a WebGPU adapter (SwiftShader, a CPU emulation, where the machine has
 * no GPU for it) and keep it off the network.
 */
import { createServer, type PluginOption, type ViteDevServer } from 'vite';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_FLAGS = [
  '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader',
  '--use-angle=swiftshader', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--disable-quic',
];

/**
 * Starts the Vite dev server on a free loopback port. `plugins` add routes (e.g. a test's
 * fixture corpus pack).
 *
 * The workers' dependencies are listed as optimizer entries: Vite's scan starts from the HTML
 * pages and does not follow `new Worker(new URL(...))`, so on a cold cache it would find
 * minisearch and protobufjs only when a worker first loads them, re-optimize, and reload the
 * page in the middle of a run.
 * @throws Error when the server has no local URL.
 */
export async function startServer(plugins: PluginOption[] = []): Promise<{ server: ViteDevServer; url: string }> {
  const server = await createServer({
    configFile: 'vite.config.ts', plugins, optimizeDeps: { entries: ['index.html', 'bench.html', 'tests/browser/*.html', 'workers/*.worker.ts'] },
    server: { port: 0, host: '127.0.0.1', strictPort: false, hmr: false }, logLevel: 'error', clearScreen: false,
  });
  await server.listen();
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('vite: the dev server has no local URL');
  return { server, url };
}

/**
 * Chromium's command line: CHROMIUM_FLAGS, where a flag of `extraFlags` replaces the default of the
 * same name (so `--use-vulkan=native --use-webgpu-adapter=default` turn SwiftShader off for a
 * real GPU), then the other extra flags.
 */
export function chromiumArgs(extraFlags: string[] = []): string[] {
  const name = (f: string) => f.split('=')[0]!;
  const replaced = new Set(extraFlags.map(name));
  return [...CHROMIUM_FLAGS.filter((f) => !replaced.has(name(f))), ...extraFlags];
}

/** Launches Debian's Chromium headless with chromiumArgs(extraFlags). */
export async function launchBrowser(extraFlags: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: chromiumArgs(extraFlags), headless: true });
}
