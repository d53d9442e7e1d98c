/**
 * Search worker: loads a corpus pack and answers queries off the page's main thread.
 * Thin on purpose: the API is built in src/search/worker-api.ts; this file only exposes it
 * through comlink. The page side is src/search/client.ts. A pack is read over fetch, or from
 * browser storage when its name is `stored.<name>` (an imported pack, src/corpus/pack-store.ts).
 */
import { expose } from 'comlink';
import { createSearchWorkerApi } from '../src/search/worker-api.ts';
import { storedPackSource } from '../src/corpus/pack-source.ts';

expose(createSearchWorkerApi(storedPackSource));
