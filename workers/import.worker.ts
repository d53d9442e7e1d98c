/**
 * Import worker: turns dataset files dropped on the page into a corpus pack stored in browser
 * storage, off the page's main thread. Thin on purpose: the API is src/corpus/import/import-api.ts.
 */
import { expose } from 'comlink';
import { createImportApi } from '../src/corpus/import/import-api.ts';

expose(createImportApi());
