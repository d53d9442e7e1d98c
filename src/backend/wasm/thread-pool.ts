/**
 * A pool of worker threads that run the kernel module's exports over the shared memory, for
 * the synchronous Backend API: the calling thread posts a list of jobs (argument lists for one
 * export), works on the list itself alongside the workers, and blocks (Atomics.wait) until
 * every worker is done. Blocking is allowed in Node's main thread and in web workers (the page
 * trains inside a worker), not in a page's main thread.
 *
 * Jobs are taken from a shared counter (Atomics.add), not assigned per thread: the two cores
 * of our machines were measured to run the same kernel at speeds up to 30% apart, and a
 * static half/half split makes the faster core wait. Callers cut work into a few jobs per
 * thread (see WasmBackend).
 *
 * Workers are created from a small plain-JavaScript source (WORKER_SOURCE below), so they need
 * no TypeScript loader or bundler: `worker_threads` with `eval: true` in Node, a Blob URL in
 * browsers. Each instantiates the same compiled WebAssembly.Module over the same shared
 * WebAssembly.Memory.
 *
 * Shared control (Int32Array): per worker one 128-byte line (workers never share a cache
 * line): [0] round number (written by the caller), [2] finished round (written by the
 * worker), [3] 1 if one of its jobs threw (message in its text area); then a global line:
 * [0] export index or -1 to quit, [1] job count, [2] next job (the shared counter).
 * Arguments travel in a Float64Array (exact for every i32 and f32), MAX_ARGS per job. A worker
 * spins briefly before sleeping because kernels of one training step follow each other within
 * microseconds.
 */

const SLOT_INTS = 32; // 128 bytes of control per worker
const MAX_ARGS = 24;
const MAX_JOBS = 256;
const MSG_BYTES = 512;
const SPIN = 20000; // polls before a worker or the caller sleeps (~20-50 us)

/** The worker's code. It must stay plain JavaScript (it is evaluated as-is). */
const WORKER_SOURCE = `
'use strict';
const isNode = typeof process === 'object' && typeof require === 'function';
const port = isNode ? require('node:worker_threads').parentPort : self;
const onFirstMessage = (fn) => {
  if (isNode) port.once('message', fn); else self.onmessage = (e) => { self.onmessage = null; fn(e.data); };
};
onFirstMessage((init) => {
  const { module, memory, ctrlBuffer, argsBuffer, msgBuffer, index, workers, names, slotInts, maxArgs, msgBytes, spin } = init;
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const fns = names.map((n) => instance.exports[n]);
  const ctrl = new Int32Array(ctrlBuffer);
  const args = new Float64Array(argsBuffer);
  const msg = new Uint8Array(msgBuffer, index * msgBytes, msgBytes);
  const base = index * slotInts, g = workers * slotInts;
  // Round 0 is the initial state: the caller may post round 1 before this worker's next line
  // runs (reading the counter here instead would then skip round 1 and deadlock).
  let seen = 0;
  port.postMessage('ready');
  for (;;) {
    let round = Atomics.load(ctrl, base);
    for (let i = 0; round === seen && i < spin; i++) round = Atomics.load(ctrl, base);
    if (round === seen) { Atomics.wait(ctrl, base, seen); continue; }
    seen = round;
    const fn = Atomics.load(ctrl, g);
    if (fn < 0) break;
    const f = fns[fn], count = Atomics.load(ctrl, g + 1);
    let failed = 0;
    for (let k = Atomics.add(ctrl, g + 2, 1); k < count; k = Atomics.add(ctrl, g + 2, 1)) {
      try {
        f.apply(null, Array.from(args.subarray(k * maxArgs, k * maxArgs + f.length)));
      } catch (e) {
        if (!failed) {
          const text = new TextEncoder().encode(String(e && e.message || e)).subarray(0, msgBytes - 1);
          msg.fill(0); msg.set(text);
        }
        failed = 1;
      }
    }
    Atomics.store(ctrl, base + 3, failed);
    Atomics.store(ctrl, base + 2, round);
    Atomics.notify(ctrl, base + 2);
  }
  if (isNode) process.exit(0); else self.close();
});
`;

interface WorkerHandle {
  postMessage(m: unknown): void;
  terminate(): unknown;
}

/** Threads running the kernel module: the calling thread plus `size - 1` workers. */
export class ThreadPool {
  private round = 0;
  private readonly ctrl: Int32Array;
  private readonly args: Float64Array;
  private readonly msg: Uint8Array;
  private readonly g: number; // index of the global control line
  private closed = false;

  private constructor(
    private readonly workers: WorkerHandle[],
    private readonly fnIndex: Map<string, number>,
    buffers: { ctrl: SharedArrayBuffer; args: SharedArrayBuffer; msg: SharedArrayBuffer },
  ) {
    this.ctrl = new Int32Array(buffers.ctrl);
    this.args = new Float64Array(buffers.args);
    this.msg = new Uint8Array(buffers.msg);
    this.g = workers.length * SLOT_INTS;
  }

  /** Number of threads that run kernels, the caller included. */
  get size(): number {
    return this.workers.length + 1;
  }

  /** Most jobs one `run` takes. */
  static readonly maxJobs = MAX_JOBS;

  /**
   * Starts `threads - 1` workers over `memory` (which must be shared) and waits until each has
   * instantiated the module. Throws if workers cannot be created here.
   */
  static async create(module: WebAssembly.Module, memory: WebAssembly.Memory, names: string[], threads: number): Promise<ThreadPool> {
    const n = threads - 1;
    const buffers = {
      ctrl: new SharedArrayBuffer((n + 1) * SLOT_INTS * 4),
      args: new SharedArrayBuffer(MAX_JOBS * MAX_ARGS * 8),
      msg: new SharedArrayBuffer(Math.max(1, n) * MSG_BYTES),
    };
    const spawn = await workerFactory();
    const workers: WorkerHandle[] = [];
    try {
      await Promise.all(Array.from({ length: n }, (_, index) => new Promise<void>((resolve, reject) => {
        const w = spawn((m) => (m === 'ready' ? resolve() : undefined), reject);
        workers.push(w);
        w.postMessage({
          module, memory, ctrlBuffer: buffers.ctrl, argsBuffer: buffers.args, msgBuffer: buffers.msg, index, workers: n, names,
          slotInts: SLOT_INTS, maxArgs: MAX_ARGS, msgBytes: MSG_BYTES, spin: SPIN,
        });
      })));
    } catch (e) {
      for (const w of workers) w.terminate();
      throw new Error(`wasm backend: could not start worker threads: ${e instanceof Error ? e.message : String(e)}`);
    }
    return new ThreadPool(workers, new Map(names.map((name, i) => [name, i])), buffers);
  }

  /**
   * Runs export `name` once per argument list, on the calling thread (through `local`, the
   * same export of its own instance) and every worker, taking jobs in order from the shared
   * counter; returns when all are done. Throws the first error (the caller's, else a worker's).
   */
  run(name: string, jobs: readonly (readonly number[])[], local: (...args: number[]) => void): void {
    if (this.closed) throw new Error('wasm backend: the thread pool was disposed');
    if (jobs.length > MAX_JOBS) throw new Error(`thread pool: ${jobs.length} jobs exceed ${MAX_JOBS}`);
    const fn = this.fnIndex.get(name);
    if (fn === undefined) throw new Error(`thread pool: no kernel "${name}"`);
    const { ctrl, g } = this;
    jobs.forEach((a, k) => {
      if (a.length > MAX_ARGS) throw new Error(`thread pool: ${a.length} arguments exceed ${MAX_ARGS}`);
      this.args.set(a, k * MAX_ARGS);
    });
    Atomics.store(ctrl, g, fn);
    Atomics.store(ctrl, g + 1, jobs.length);
    Atomics.store(ctrl, g + 2, 0);
    const round = ++this.round;
    for (let w = 0; w < this.workers.length; w++) {
      Atomics.store(ctrl, w * SLOT_INTS, round);
      Atomics.notify(ctrl, w * SLOT_INTS);
    }
    let localError: unknown;
    for (let k = Atomics.add(ctrl, g + 2, 1); k < jobs.length; k = Atomics.add(ctrl, g + 2, 1)) {
      try {
        local(...jobs[k]!);
      } catch (e) {
        localError ??= e;
      }
    }
    let workerError: string | undefined;
    for (let w = 0; w < this.workers.length; w++) {
      const i = w * SLOT_INTS + 2;
      let done = Atomics.load(ctrl, i);
      for (let s = 0; done !== round && s < SPIN; s++) done = Atomics.load(ctrl, i);
      while (done !== round) {
        Atomics.wait(ctrl, i, done);
        done = Atomics.load(ctrl, i);
      }
      if (Atomics.load(ctrl, w * SLOT_INTS + 3) !== 0 && workerError === undefined) {
        const bytes = this.msg.slice(w * MSG_BYTES, (w + 1) * MSG_BYTES);
        const end = bytes.indexOf(0);
        workerError = `wasm worker ${w + 1} failed in ${name}: ${new TextDecoder().decode(bytes.subarray(0, end < 0 ? undefined : end))}`;
      }
    }
    if (localError !== undefined) throw localError;
    if (workerError !== undefined) throw new Error(workerError);
  }

  /** Stops every worker (idempotent). */
  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.ctrl, this.g, -1);
    const round = ++this.round;
    for (let w = 0; w < this.workers.length; w++) {
      Atomics.store(this.ctrl, w * SLOT_INTS, round);
      Atomics.notify(this.ctrl, w * SLOT_INTS);
    }
    for (const w of this.workers) w.terminate();
  }
}

type Spawn = (onMessage: (m: unknown) => void, onError: (e: unknown) => void) => WorkerHandle;

/** Creates workers from WORKER_SOURCE: Node worker_threads, or a Blob-URL Worker in browsers. */
async function workerFactory(): Promise<Spawn> {
  const isNode = typeof process === 'object' && !!process.versions?.node;
  if (isNode) {
    // A computed specifier keeps bundlers from trying to resolve a Node built-in for the page.
    const wt = (await import(/* @vite-ignore */ ['node', 'worker_threads'].join(':'))) as typeof import('node:worker_threads');
    return (onMessage, onError) => {
      const w = new wt.Worker(WORKER_SOURCE, { eval: true });
      w.on('message', (m) => {
        // Idle workers must not keep a CLI process alive, but a starting one must (the caller
        // is awaiting its 'ready').
        if (m === 'ready') w.unref();
        onMessage(m);
      });
      w.on('error', onError);
      return w;
    };
  }
  if (typeof Worker !== 'function' || typeof Blob !== 'function') throw new Error('no Worker in this environment');
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  return (onMessage, onError) => {
    const w = new Worker(url);
    w.onmessage = (e) => onMessage(e.data);
    w.onerror = (e) => onError(e);
    return w;
  };
}

/** Whether this thread may block in Atomics.wait (false in a page's main thread). */
export function canBlock(): boolean {
  if (typeof SharedArrayBuffer !== 'function') return false;
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}
