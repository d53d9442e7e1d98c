/**
 * Imported packs in browser storage (fake-indexeddb in Node): the page's import API turns dataset
 * files into a stored pack that the pack loader reads back with every hash verified; a name
 * already stored is refused unless overwrite, and a refused or failed import stores nothing and
 * leaves the stored pack untouched; delete removes the pack and its files.
 */
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { createImportApi } from '../../src/corpus/import/import-api.ts';
import { PackStore, storedPackName } from '../../src/corpus/pack-store.ts';
import { loadPack } from '../../src/corpus/pack-loader.ts';

const enc = new TextEncoder();
const jsonl = (rows: unknown[]) => enc.encode(rows.map((r) => JSON.stringify(r)).join('\n'));

const corpus = jsonl([
  { id: 'd1', title: 'Kovar', text: 'Kovar is a town on the river Lenn.' },
  { id: 'd2', title: 'Ann Lomi', text: 'Ann Lomi was born in Kovar in 1901.' },
  { id: 'd3', title: 'Lenn', text: 'The Lenn flows north.' },
]);
const questions = (answer: string) => jsonl([
  { id: 'q1', question: 'Where was Ann Lomi born?', answers: [answer], contexts: [{ title: 'Ann Lomi', text: 'Ann Lomi was born in Kovar in 1901.' }], supporting_titles: ['Ann Lomi'] },
  { id: 'q2', question: 'Which river runs through the birthplace of Ann Lomi?', answers: ['Lenn'], type: 'bridge', contexts: [], supporting_titles: ['Ann Lomi', 'Kovar'] },
  'not an object',
]);

describe('imported packs in browser storage', () => {
  it('import, read back verified, refuse a taken name, overwrite, delete; nothing partial is stored', async () => {
    const indexedDB = new IDBFactory();
    const open = () => PackStore.open({ indexedDB });
    const api = createImportApi(open);
    const progress: string[] = [];
    const { report, summary } = await api.importFiles([
      { name: 'hotpotqa_dev.jsonl', bytes: questions('Kovar'), role: 'questions' },
      { name: 'corpus.jsonl', bytes: corpus, role: 'corpus' },
    ], { name: 'mine' }, (p) => progress.push(p.phase));
    expect(report).toMatchObject({ name: 'mine', questions: 2, documents: 3, shards: 1 });
    expect(report.rejected.total).toBe(1);
    expect(report.rejected.records[0]).toMatchObject({ file: 'hotpotqa_dev.jsonl', line: 3 });
    expect(progress).toContain('read');
    expect(summary).toMatchObject({ name: 'mine', questions: 2, documents: 3, shards: 1 });

    // Read back through the loader: every SHA-256 in the manifest is checked.
    const store = await open();
    const pack = await loadPack(store.source('mine'));
    expect(pack.documents.map((d) => d.id)).toEqual(['d1', 'd2', 'd3']);
    expect(pack.questions.map((q) => q.answers[0])).toEqual(['Kovar', 'Lenn']);
    await expect(store.source('mine').readFile('shard-009.jsonl')).rejects.toThrow(/stored pack "mine" has no file "shard-009.jsonl"/);

    // The same name again: refused, and the stored pack is unchanged.
    await expect(api.importFiles([{ name: 'hotpotqa_dev.jsonl', bytes: questions('Lenn'), role: 'questions' }, { name: 'corpus.jsonl', bytes: corpus, role: 'corpus' }], { name: 'mine' }))
      .rejects.toThrow(/a pack named "mine" is already stored/);
    // A file with nothing usable: refused as a whole, nothing stored under the new name.
    await expect(api.importFiles([{ name: 'bad.jsonl', bytes: enc.encode('{"x": 1}\n[]\n'), role: 'questions' }], { name: 'other' })).rejects.toThrow(/bad\.jsonl/);
    expect((await store.list()).map((p) => p.name)).toEqual(['mine']);
    expect((await loadPack(store.source('mine'))).questions[0]!.answers).toEqual(['Kovar']);
    // The store itself refuses a taken name inside its transaction (a second tab could have taken it).
    const files = [{ file: 'manifest.json', content: '{}' }];
    const manifest = { ...pack.manifest };
    await expect(store.save(files, manifest, { questions: 0, documents: 0 })).rejects.toThrow(/already stored \(nothing was written/);
    await expect(store.save(files, { ...manifest, name: '../x' }, { questions: 0, documents: 0 })).rejects.toThrow(/must be a plain name/);

    // With overwrite: replaced.
    await api.importFiles([{ name: 'hotpotqa_dev.jsonl', bytes: questions('Lenn'), role: 'questions' }, { name: 'corpus.jsonl', bytes: corpus, role: 'corpus' }], { name: 'mine', overwrite: true });
    expect((await loadPack(store.source('mine'))).questions[0]!.answers).toEqual(['Lenn']);

    await store.delete('mine');
    expect(await store.list()).toEqual([]);
    await expect(store.source('mine').readFile('manifest.json')).rejects.toThrow(/has no file "manifest.json"/);
    await expect(store.delete('mine')).rejects.toThrow(/no stored pack "mine"/);
    store.close();
  });

  it('names a stored pack in the URL as stored.<name>', () => {
    expect(storedPackName('stored.mine')).toBe('mine');
    expect(storedPackName('world')).toBeNull();
  });
});
