/**
 * Saved runs over IndexedDB (fake-indexeddb in Node): save, list, load, rename, delete; a save
 * that fails half-way leaves the previous save intact; a save that cannot fit is refused with
 * the sizes; persistent storage is asked for once.
 */
import 'fake-indexeddb/auto';
import { IDBFactory, IDBObjectStore } from 'fake-indexeddb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RunStore, StorageFullError, type RunSave, type StorageLike } from '../../src/io/run-store.ts';

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

function run(step: number, seed = step): RunSave {
  return {
    name: `stage 1 run`,
    files: new Map([['config.json', bytes(50, seed)], ['model.safetensors', bytes(4000, seed + 1)], ['trainer_state.json', bytes(30, seed + 2)]]),
    metrics: Array.from({ length: step }, (_, i) => ({ step: i + 1, reward: i / 10 })),
    rollouts: [{ completion: `<think> step ${step}`, reward: 0.5 }],
    settings: { lr: 3e-4 },
    stage: 1,
    step,
  };
}

const open = (storage: StorageLike | null = null) => RunStore.open({ indexedDB: new IDBFactory(), storage });

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('run store', () => {
  it('saves, lists newest first, and loads a run exactly', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = await open();
    vi.setSystemTime(1_000);
    await store.saveRun('a', run(3));
    vi.setSystemTime(2_000);
    const view = new Uint8Array(100).fill(9).subarray(10, 20); // a view: only its 10 bytes are stored
    const b = await store.saveRun('b', { ...run(5), name: '  second  ', files: new Map([['x.bin', view]]) });
    expect(b).toEqual({ id: 'b', name: 'second', stage: 1, step: 5, createdAt: 2_000, updatedAt: 2_000, bytes: 10 + JSON.stringify([run(5).metrics, run(5).rollouts, run(5).settings]).length, fileNames: ['x.bin'] });
    expect((await store.listRuns()).map((r) => r.id)).toEqual(['b', 'a']);
    const a = await store.loadRun('a');
    expect([...a.files.keys()]).toEqual(['config.json', 'model.safetensors', 'trainer_state.json']);
    for (const [k, v] of run(3).files) expect(a.files.get(k)).toEqual(v);
    expect(a.metrics).toEqual(run(3).metrics);
    expect(a.rollouts).toEqual(run(3).rollouts);
    expect(a.settings).toEqual({ lr: 3e-4 });
    expect(a.summary).toMatchObject({ step: 3, bytes: 4080 + JSON.stringify([run(3).metrics, run(3).rollouts, run(3).settings]).length });
    expect((await store.loadRun('b')).files.get('x.bin')!.buffer.byteLength).toBe(10);
    await expect(store.loadRun('zz')).rejects.toThrow('run-store: no saved run "zz"');
    store.close();
  });

  it('replaces a run only with overwrite, dropping files the new save lacks and keeping createdAt', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = await open();
    vi.setSystemTime(1_000);
    await store.saveRun('r', run(3));
    vi.setSystemTime(5_000);
    await expect(store.saveRun('r', run(6))).rejects.toThrow('run-store: run "r" already exists (nothing was written; save with overwrite to replace it)');
    expect((await store.loadRun('r')).summary.step).toBe(3);
    const next = run(6);
    (next.files as Map<string, Uint8Array>).delete('trainer_state.json');
    const s = await store.saveRun('r', next, { overwrite: true });
    expect(s).toMatchObject({ step: 6, createdAt: 1_000, updatedAt: 5_000, fileNames: ['config.json', 'model.safetensors'] });
    const loaded = await store.loadRun('r');
    expect([...loaded.files.keys()]).toEqual(['config.json', 'model.safetensors']);
    expect(loaded.files.get('model.safetensors')).toEqual(bytes(4000, 7));
    expect(loaded.metrics).toHaveLength(6);
    store.close();
  });

  it('renames and deletes, refusing unknown ids and empty names', async () => {
    const store = await open();
    await store.saveRun('a', run(1));
    await store.saveRun('b', run(2));
    expect(await store.renameRun('a', 'my first run')).toMatchObject({ id: 'a', name: 'my first run', step: 1 });
    expect((await store.listRuns()).find((r) => r.id === 'a')!.name).toBe('my first run');
    await expect(store.renameRun('a', '   ')).rejects.toThrow('run-store: run name must be 1-200 characters, got "   "');
    await expect(store.renameRun('nope', 'x')).rejects.toThrow('run-store: no saved run "nope" to rename');
    await store.deleteRun('a');
    expect((await store.listRuns()).map((r) => r.id)).toEqual(['b']);
    await expect(store.loadRun('a')).rejects.toThrow('no saved run "a"');
    await expect(store.deleteRun('a')).rejects.toThrow('run-store: no saved run "a" to delete');
    expect((await store.loadRun('b')).files.get('model.safetensors')).toEqual(bytes(4000, 3)); // the other run is untouched
    await expect(store.saveRun('bad id!', run(1))).rejects.toThrow(/run id must be 1-128 letters/);
    store.close();
  });

  it('leaves the previous save intact when a save fails half-way', async () => {
    const store = await open();
    await store.saveRun('r', run(3));
    // The third file write of the next save fails (as a full disk or a crash would).
    const realPut = IDBObjectStore.prototype.put;
    let puts = 0;
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
      if (this.name === 'files' && ++puts === 3) throw new DOMException('simulated write failure', 'QuotaExceededError');
      return realPut.apply(this, args);
    });
    await expect(store.saveRun('r', run(8, 100), { overwrite: true })).rejects.toThrow('simulated write failure');
    expect(puts).toBe(3);
    vi.restoreAllMocks();
    const kept = await store.loadRun('r');
    expect(kept.summary.step).toBe(3);
    for (const [k, v] of run(3).files) expect(kept.files.get(k)).toEqual(v); // old files back, none of the new
    expect(kept.metrics).toEqual(run(3).metrics);
    expect((await store.listRuns()).map((r) => [r.id, r.step])).toEqual([['r', 3]]);
    store.close();
  });

  it('refuses a save that does not fit, with the sizes, and asks for persistence once', async () => {
    let persistCalls = 0;
    const storage: StorageLike = {
      estimate: async () => ({ quota: 3_000_000, usage: 2_000_000 }),
      persisted: async () => false,
      persist: async () => { persistCalls++; return true; },
    };
    const store = await open(storage);
    const big: RunSave = { ...run(0), files: new Map([['model.safetensors', new Uint8Array(2_000_000)]]) };
    const err = await store.saveRun('big', big).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageFullError);
    expect((err as Error).message).toBe('run-store: storage full: needs 2.0 MB, 1.0 MB free (delete old runs or export them first)');
    expect((err as StorageFullError).needed).toBe(2_000_000 + '[[],[{"completion":"<think> step 0","reward":0.5}],{"lr":0.0003}]'.length);
    expect(await store.listRuns()).toEqual([]);
    expect(persistCalls).toBe(0); // refused before asking

    // 0.9 MB fits; replacing it with 1.5 MB only grows by 0.6 MB, which also fits.
    await store.saveRun('r', { ...big, files: new Map([['model.safetensors', new Uint8Array(900_000)]]) });
    await store.saveRun('r', { ...big, files: new Map([['model.safetensors', new Uint8Array(1_500_000)]]) }, { overwrite: true });
    expect(persistCalls).toBe(1);
    expect(store.persisted).toBe(true);
    store.close();
  });

  it('uses navigator.storage by default', async () => {
    vi.stubGlobal('navigator', { storage: { estimate: async () => ({ quota: 1000, usage: 990 }) } });
    const store = await RunStore.open({ indexedDB: new IDBFactory() });
    await expect(store.saveRun('x', run(1))).rejects.toThrow(/^run-store: storage full: needs 0\.004\d MB, 0\.000010 MB free/);
    store.close();
  });
});
