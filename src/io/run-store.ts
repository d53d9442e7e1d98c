/**
 * Saved runs in the browser: IndexedDB through `idb`, so a reload never loses a run.
 *
 * A run is a checkpoint's files (config.json, model.safetensors, optimizer.safetensors,
 * trainer_state.json with the RNG state, tokenizer.json, ...: src/io/checkpoint.ts) plus what
 * the page shows (metrics so far, the latest rollouts, the settings). Three object stores:
 *   runs   id -> RunSummary                     (small: the run list reads only this)
 *   files  [runId, name] -> bytes, index byRun  (one record per checkpoint file)
 *   extra  runId -> { metrics, rollouts, settings }
 * Every save, rename and delete is ONE transaction over the stores it touches, so a failure
 * (quota, a crash, a closed tab) leaves the previous save exactly as it was. Before writing,
 * the free space is checked with navigator.storage.estimate() and a save that cannot fit is
 * refused with StorageFullError; the first save asks navigator.storage.persist() once so that
 * the browser does not evict runs under storage pressure.
 */
import { wrap, type DBSchema, type IDBPDatabase } from 'idb';

/** A run in the list (what listRuns returns). */
export interface RunSummary {
  id: string;
  name: string;
  /** Training stage of the latest save (0 pretraining, 1 and 2 the RL stages). */
  stage: 0 | 1 | 2;
  /** Steps done in that stage. */
  step: number;
  /** Milliseconds since the epoch. */
  createdAt: number;
  updatedAt: number;
  /** Bytes of the checkpoint files plus the JSON of metrics, rollouts and settings. */
  bytes: number;
  /** Checkpoint file names, in save order. */
  fileNames: string[];
}

/** What saveRun writes. */
export interface RunSave {
  name: string;
  /** Checkpoint files, name -> bytes (encodeCheckpoint's output plus any extra files). */
  files: ReadonlyMap<string, Uint8Array>;
  /** metrics.jsonl as objects, one per step so far. */
  metrics?: unknown[];
  /** The latest rollouts (RolloutRecord[]). */
  rollouts?: unknown;
  settings?: unknown;
  stage: 0 | 1 | 2;
  step: number;
}

/** A loaded run. */
export interface StoredRun {
  summary: RunSummary;
  files: Map<string, Uint8Array>;
  metrics: unknown[];
  rollouts: unknown;
  settings: unknown;
}

/** The part of navigator.storage we use (injectable for tests and for browsers without it). */
export interface StorageLike {
  estimate?: () => Promise<{ quota?: number; usage?: number }>;
  persist?: () => Promise<boolean>;
  persisted?: () => Promise<boolean>;
}

export interface RunStoreOptions {
  /** Database name (default `r1s-runs`). */
  dbName?: string;
  /** IndexedDB factory (default globalThis.indexedDB; fake-indexeddb in Node tests). */
  indexedDB?: IDBFactory;
  /** Storage manager (default navigator.storage; null skips the quota check and persist). */
  storage?: StorageLike | null;
}

export class RunStoreError extends Error {
  constructor(message: string) {
    super(`run-store: ${message}`);
    this.name = 'RunStoreError';
  }
}

/** A save refused because it does not fit: `needed` and `free` in bytes. */
export class StorageFullError extends RunStoreError {
  constructor(readonly needed: number, readonly free: number) {
    super(`storage full: needs ${mb(needed)} MB, ${mb(free)} MB free (delete old runs or export them first)`);
    this.name = 'StorageFullError';
  }
}

/** Megabytes for messages: one decimal, or two significant digits below 0.1 MB. */
const mb = (b: number) => (b < 1e5 ? (b / 1e6).toPrecision(2) : (b / 1e6).toFixed(1));

interface FileRecord {
  runId: string;
  name: string;
  bytes: Uint8Array;
}

interface ExtraRecord {
  runId: string;
  metrics: unknown[];
  rollouts: unknown;
  settings: unknown;
}

interface RunDb extends DBSchema {
  runs: { key: string; value: RunSummary };
  files: { key: [string, string]; value: FileRecord; indexes: { byRun: string } };
  extra: { key: string; value: ExtraRecord };
}

const DB_VERSION = 1;
const STORES = ['runs', 'files', 'extra'] as const;

export class RunStore {
  private persistAsked = false;
  /** Result of navigator.storage.persist() (undefined until the first save asks). */
  persisted: boolean | undefined;

  private constructor(private readonly db: IDBPDatabase<RunDb>, private readonly storage: StorageLike | null) {}

  /** Opens (and on first use creates) the database. @throws RunStoreError when IndexedDB is unavailable. */
  static async open(opts: RunStoreOptions = {}): Promise<RunStore> {
    const factory = opts.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
    if (!factory) throw new RunStoreError('IndexedDB is not available in this environment, runs cannot be saved');
    const request = factory.open(opts.dbName ?? 'r1s-runs', DB_VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains('runs')) db.createObjectStore('runs', { keyPath: 'id' });
      if (!db.objectStoreNames.contains('files')) db.createObjectStore('files', { keyPath: ['runId', 'name'] }).createIndex('byRun', 'runId');
      if (!db.objectStoreNames.contains('extra')) db.createObjectStore('extra', { keyPath: 'runId' });
    };
    const db = (await wrap(request)) as unknown as IDBPDatabase<RunDb>;
    const storage = opts.storage === undefined ? ((globalThis as { navigator?: { storage?: StorageLike } }).navigator?.storage ?? null) : opts.storage;
    return new RunStore(db, storage);
  }

  /**
   * Saves a run under `id` in one transaction. An existing run with that id is replaced only
   * with `overwrite` (the trainer's periodic saves pass it); its old files are removed in the
   * same transaction, so a failed save leaves the previous one intact.
   * @throws StorageFullError when the estimate says it cannot fit; RunStoreError for a bad id,
   *   name, stage or step, or an existing run without `overwrite`.
   */
  async saveRun(id: string, run: RunSave, opts: { overwrite?: boolean } = {}): Promise<RunSummary> {
    checkId(id);
    const name = checkName(run.name);
    if (run.stage !== 0 && run.stage !== 1 && run.stage !== 2) throw new RunStoreError(`stage must be 0, 1 or 2, got ${JSON.stringify(run.stage)}`);
    if (!Number.isInteger(run.step) || run.step < 0) throw new RunStoreError(`step must be a non-negative integer, got ${JSON.stringify(run.step)}`);
    if (run.files.size === 0) throw new RunStoreError(`run ${id} has no files to save`);
    const extra: ExtraRecord = { runId: id, metrics: run.metrics ?? [], rollouts: run.rollouts ?? null, settings: run.settings ?? null };
    let bytes = new TextEncoder().encode(JSON.stringify([extra.metrics, extra.rollouts, extra.settings])).length;
    for (const [, b] of run.files) bytes += b.byteLength;

    const previous = await this.db.get('runs', id);
    if (previous && !opts.overwrite) throw new RunStoreError(`run ${JSON.stringify(id)} already exists (nothing was written; save with overwrite to replace it)`);
    // The old save is deleted in the same transaction, so only the growth needs free space.
    await this.checkQuota(bytes - (previous?.bytes ?? 0));
    await this.askPersist();

    const now = Date.now();
    const summary: RunSummary = { id, name, stage: run.stage, step: run.step, createdAt: previous?.createdAt ?? now, updatedAt: now, bytes, fileNames: [...run.files.keys()] };
    const tx = this.db.transaction(STORES, 'readwrite');
    try {
      const current = await tx.objectStore('runs').get(id); // re-read inside the transaction: no race with another tab
      if (current && !opts.overwrite) throw new RunStoreError(`run ${JSON.stringify(id)} already exists (nothing was written; save with overwrite to replace it)`);
      const files = tx.objectStore('files');
      for (const key of await files.index('byRun').getAllKeys(id)) await files.delete(key);
      for (const [fileName, b] of run.files) {
        // A view into a larger buffer would store the whole buffer: copy just its bytes.
        const own = b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b : b.slice();
        await files.put({ runId: id, name: fileName, bytes: own });
      }
      await tx.objectStore('extra').put(extra);
      await tx.objectStore('runs').put(summary);
      await tx.done;
    } catch (e) {
      abort(tx);
      await tx.done.catch(() => {});
      throw e;
    }
    return summary;
  }

  /** Every saved run, most recently saved first. */
  async listRuns(): Promise<RunSummary[]> {
    return (await this.db.getAll('runs')).sort((a, b) => b.updatedAt - a.updatedAt || (a.id < b.id ? -1 : 1));
  }

  /** A saved run with its files. @throws RunStoreError for an unknown id or a run with missing files. */
  async loadRun(id: string): Promise<StoredRun> {
    const tx = this.db.transaction(STORES, 'readonly');
    const summary = await tx.objectStore('runs').get(id);
    if (!summary) throw new RunStoreError(`no saved run ${JSON.stringify(id)}`);
    const records = await tx.objectStore('files').index('byRun').getAll(id);
    const extra = await tx.objectStore('extra').get(id);
    await tx.done;
    const byName = new Map(records.map((r) => [r.name, r.bytes]));
    const files = new Map<string, Uint8Array>();
    for (const n of summary.fileNames) {
      const b = byName.get(n);
      if (!b) throw new RunStoreError(`run ${JSON.stringify(id)}: file ${n} is missing from storage`);
      files.set(n, b);
    }
    return { summary, files, metrics: extra?.metrics ?? [], rollouts: extra?.rollouts ?? null, settings: extra?.settings ?? null };
  }

  /** Renames a run (its id and files stay). @throws RunStoreError for an unknown id or an empty name. */
  async renameRun(id: string, name: string): Promise<RunSummary> {
    const clean = checkName(name);
    const tx = this.db.transaction('runs', 'readwrite');
    const s = await tx.store.get(id);
    if (!s) {
      abort(tx);
      await tx.done.catch(() => {});
      throw new RunStoreError(`no saved run ${JSON.stringify(id)} to rename`);
    }
    const renamed = { ...s, name: clean };
    await tx.store.put(renamed);
    await tx.done;
    return renamed;
  }

  /** Deletes a run and its files in one transaction. @throws RunStoreError for an unknown id. */
  async deleteRun(id: string): Promise<void> {
    const tx = this.db.transaction(STORES, 'readwrite');
    try {
      if (!(await tx.objectStore('runs').get(id))) throw new RunStoreError(`no saved run ${JSON.stringify(id)} to delete`);
      const files = tx.objectStore('files');
      for (const key of await files.index('byRun').getAllKeys(id)) await files.delete(key);
      await tx.objectStore('extra').delete(id);
      await tx.objectStore('runs').delete(id);
      await tx.done;
    } catch (e) {
      abort(tx);
      await tx.done.catch(() => {});
      throw e;
    }
  }

  close(): void {
    this.db.close();
  }

  /** Refuses a write of `growth` bytes that the storage estimate says will not fit. */
  private async checkQuota(growth: number): Promise<void> {
    if (!this.storage?.estimate || growth <= 0) return;
    const { quota, usage } = await this.storage.estimate();
    if (quota === undefined) return;
    const free = Math.max(0, quota - (usage ?? 0));
    if (growth > free) throw new StorageFullError(growth, free);
  }

  /** Asks once per store for persistent storage (the browser may say no; runs are still saved). */
  private async askPersist(): Promise<void> {
    if (this.persistAsked || !this.storage?.persist) return;
    this.persistAsked = true;
    try {
      this.persisted = (await this.storage.persisted?.()) || (await this.storage.persist());
    } catch {
      this.persisted = false;
    }
  }
}

function abort(tx: { abort(): void }): void {
  try {
    tx.abort();
  } catch {
    // Already finished or aborted by the failing request.
  }
}

function checkId(id: string): void {
  if (typeof id !== 'string' || !/^[\w.-]{1,128}$/.test(id)) throw new RunStoreError(`run id must be 1-128 letters, digits, "_", "-" or ".", got ${JSON.stringify(id)}`);
}

function checkName(name: string): string {
  const n = typeof name === 'string' ? name.trim() : '';
  if (!n || n.length > 200) throw new RunStoreError(`run name must be 1-200 characters, got ${JSON.stringify(name)}`);
  return n;
}
