/**
 * The page's handle on the search worker (`workers/search.worker.ts`).
 *
 * The remote's `search`/`searchMany` satisfy {@link Retriever}, so a rollout can take either
 * this or a `LocalRetriever`. Pass progress callbacks wrapped in `Comlink.proxy`:
 * `await searcher.loadPack('/corpus/world/', proxy((p) => ...))`.
 */
import { releaseProxy, wrap, type Remote } from 'comlink';
import type { Retriever } from './retriever.ts';
import type { SearchWorkerApi } from './worker-api.ts';

const workers = new WeakMap<object, Worker>();

/** Starts a search worker (a module worker bundled by Vite) and returns its comlink remote. */
export function createSearchWorker(): Remote<SearchWorkerApi> {
  const worker = new Worker(new URL('../../workers/search.worker.ts', import.meta.url), { type: 'module' });
  const remote = wrap<SearchWorkerApi>(worker);
  workers.set(remote, worker);
  return remote;
}

/** Ends a worker made by {@link createSearchWorker}; the remote must not be used afterwards. */
export function terminateSearchWorker(remote: Remote<SearchWorkerApi>): void {
  remote[releaseProxy]();
  workers.get(remote)?.terminate();
  workers.delete(remote);
}

/** The remote seen as a {@link Retriever} (a compile-time check that the two APIs agree). */
export function asRetriever(remote: Remote<SearchWorkerApi>): Retriever {
  return remote;
}
