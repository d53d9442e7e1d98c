/**
 * The import worker's API (workers/import.worker.ts wraps it in comlink): files dropped on the
 * page in, a pack stored in browser storage out (src/corpus/pack-store.ts), with progress and
 * the import report. The import itself is importPack, the same as the command line's; the pack
 * is stored only once it is complete, in one transaction, so a failed or refused import stores
 * nothing and an existing pack is replaced only when the learner asked for it.
 */
import { serializePack } from '../pack-serialize.ts';
import { PackStore, type StoredPackSummary } from '../pack-store.ts';
import { importPack, type ImportInput, type ImportProgress, type ImportReport } from './import-pack.ts';

/** What the page asks for. */
export interface PageImportOptions {
  /** Pack name (plain: letters, digits, `.`, `_`, `-`). */
  name: string;
  /** Replace a stored pack of the same name. Default false. */
  overwrite?: boolean;
}

export interface ImportApi {
  /**
   * Imports `files` (questions and optional corpus files) into a stored pack. Pass `onProgress`
   * wrapped in Comlink.proxy. @throws ImportError (a file with nothing usable, no question
   * file, ...) or PackStoreError (a name already stored without overwrite); nothing is stored then.
   */
  importFiles(files: ImportInput[], opts: PageImportOptions, onProgress?: (p: ImportProgress) => void): Promise<{ report: ImportReport; summary: StoredPackSummary }>;
}

/** Builds the API; `openStore` is injectable for tests (fake-indexeddb). */
export function createImportApi(openStore: () => Promise<PackStore> = () => PackStore.open()): ImportApi {
  return {
    async importFiles(files, opts, onProgress) {
      const store = await openStore();
      try {
        // Refuse a taken name before the work, and again (atomically) when saving.
        if (!opts.overwrite && (await store.list()).some((p) => p.name === opts.name)) {
          throw new Error(`import: a pack named ${JSON.stringify(opts.name)} is already stored (choose another name or tick "Replace")`);
        }
        const { spec, report } = await importPack(files, {
          name: opts.name,
          onProgress: onProgress && ((p) => void Promise.resolve(onProgress(p)).catch(() => {})),
        });
        const { files: packFiles, manifest } = serializePack(spec);
        const summary = await store.save(packFiles, manifest, { questions: spec.questions.length, documents: spec.documents.length }, { overwrite: opts.overwrite });
        return { report, summary };
      } finally {
        store.close();
      }
    },
  };
}
