/**
 * Corpus packs imported in the browser (issue 7, part 2): IndexedDB through `idb`, beside the
 * packs the site serves under public/corpus/. A stored pack is addressed in the page's URL as
 * `pack=stored.<name>` and read through {@link PackStore.source}, a PackSource like fetchSource,
 * so the loader checks its SHA-256 hashes exactly as it does for served packs.
 *
 * Two object stores:
 *   packs  name -> StoredPackSummary
 *   files  [pack, file] -> bytes (every file serializePack wrote: shards, questions, manifest)
 * A save is ONE transaction: an import that fails half-way stores nothing, and a failed
 * overwrite leaves the previous pack as it was. An existing name is refused unless overwrite.
 */
import { wrap, type DBSchema, type IDBPDatabase } from 'idb';
import type { PackFileContent } from './pack-serialize.ts';
import type { PackSource } from './pack-loader.ts';
import type { PackManifest } from './types.ts';

/** The URL's `pack` value of a stored pack: this prefix, then its name. */
export const STORED_PACK_PREFIX = 'stored.';

/** A stored pack in the list. */
export interface StoredPackSummary {
  name: string;
  description: string;
  source: string;
  license: string;
  questions: number;
  documents: number;
  shards: number;
  /** Bytes of all its files. */
  bytes: number;
  /** Milliseconds since the epoch. */
  createdAt: number;
  files: string[];
}

export class PackStoreError extends Error {
  constructor(message: string) {
    super(`pack-store: ${message}`);
    this.name = 'PackStoreError';
  }
}

interface FileRecord {
  pack: string;
  file: string;
  bytes: Uint8Array;
}

interface PackDb extends DBSchema {
  packs: { key: string; value: StoredPackSummary };
  files: { key: [string, string]; value: FileRecord; indexes: { byPack: string } };
}

const STORES = ['packs', 'files'] as const;

export class PackStore {
  private constructor(private readonly db: IDBPDatabase<PackDb>) {}

  /**
   * Opens (and on first use creates) the database. `indexedDB` defaults to the global one
   * (fake-indexeddb in Node tests). @throws PackStoreError when IndexedDB is unavailable.
   */
  static async open(opts: { dbName?: string; indexedDB?: IDBFactory } = {}): Promise<PackStore> {
    const factory = opts.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
    if (!factory) throw new PackStoreError('IndexedDB is not available in this environment, imported packs cannot be stored');
    const request = factory.open(opts.dbName ?? 'r1s-packs', 1);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains('packs')) db.createObjectStore('packs', { keyPath: 'name' });
      if (!db.objectStoreNames.contains('files')) db.createObjectStore('files', { keyPath: ['pack', 'file'] }).createIndex('byPack', 'pack');
    };
    return new PackStore((await wrap(request)) as unknown as IDBPDatabase<PackDb>);
  }

  /**
   * Stores a serialized pack (serializePack's files and manifest) under the manifest's name, in
   * one transaction. @throws PackStoreError for a name that is not plain, a pack without its
   * manifest, or an existing name without `overwrite` (nothing is written then).
   */
  async save(files: readonly PackFileContent[], manifest: PackManifest, counts: { questions: number; documents: number }, opts: { overwrite?: boolean } = {}): Promise<StoredPackSummary> {
    const name = manifest.name;
    if (!/^[a-z0-9][a-z0-9._-]*$/i.test(name)) throw new PackStoreError(`pack name ${JSON.stringify(name)} must be a plain name (letters, digits, ".", "_", "-")`);
    if (!files.some((f) => f.file === 'manifest.json')) throw new PackStoreError(`pack ${name} has no manifest.json`);
    const encoder = new TextEncoder();
    const records = files.map((f): FileRecord => ({ pack: name, file: f.file, bytes: typeof f.content === 'string' ? encoder.encode(f.content) : f.content.slice() }));
    const summary: StoredPackSummary = {
      name, description: manifest.description, source: manifest.source, license: manifest.license,
      questions: counts.questions, documents: counts.documents, shards: manifest.shards.length,
      bytes: records.reduce((a, r) => a + r.bytes.byteLength, 0), createdAt: Date.now(), files: records.map((r) => r.file),
    };
    const tx = this.db.transaction(STORES, 'readwrite');
    try {
      if ((await tx.objectStore('packs').get(name)) && !opts.overwrite) {
        throw new PackStoreError(`a pack named ${JSON.stringify(name)} is already stored (nothing was written; choose another name or overwrite it)`);
      }
      const store = tx.objectStore('files');
      for (const key of await store.index('byPack').getAllKeys(name)) await store.delete(key);
      for (const r of records) await store.put(r);
      await tx.objectStore('packs').put(summary);
      await tx.done;
    } catch (e) {
      try { tx.abort(); } catch { /* already finished */ }
      await tx.done.catch(() => {});
      throw e;
    }
    return summary;
  }

  /** Every stored pack, newest first. */
  async list(): Promise<StoredPackSummary[]> {
    return (await this.db.getAll('packs')).sort((a, b) => b.createdAt - a.createdAt || (a.name < b.name ? -1 : 1));
  }

  /** Deletes a pack and its files in one transaction. @throws PackStoreError for an unknown name. */
  async delete(name: string): Promise<void> {
    const tx = this.db.transaction(STORES, 'readwrite');
    if (!(await tx.objectStore('packs').get(name))) {
      await tx.done;
      throw new PackStoreError(`no stored pack ${JSON.stringify(name)}`);
    }
    const store = tx.objectStore('files');
    for (const key of await store.index('byPack').getAllKeys(name)) await store.delete(key);
    await tx.objectStore('packs').delete(name);
    await tx.done;
  }

  /** A PackSource over a stored pack; a missing file is an error naming it. */
  source(name: string): PackSource {
    return {
      location: `browser storage (${STORED_PACK_PREFIX}${name})`,
      readFile: async (file) => {
        const r = await this.db.get('files', [name, file]);
        if (!r) throw new PackStoreError(`stored pack ${JSON.stringify(name)} has no file ${JSON.stringify(file)}`);
        return r.bytes;
      },
    };
  }

  close(): void {
    this.db.close();
  }
}

/** The stored pack's name when `pack` (the URL value) names one, else null. */
export function storedPackName(pack: string): string | null {
  return pack.startsWith(STORED_PACK_PREFIX) ? pack.slice(STORED_PACK_PREFIX.length) : null;
}
