/**
 * The pack leaves the page for the papers' trainers (issues 17 and 20): in the Corpus step,
 * "Download for Search-R1 (zip)" and "Download for R1-Searcher (zip)" give the files
 * `export-pack` writes (parquet read back with hyparquet), an imported MuSiQue question shows
 * its decomposition hop by hop in the question browser, and the exported parquet imports back in
 * the page.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { unzipFiles } from '../../src/io/zip.ts';
import { chromiumAvailable, useServerAndBrowser } from './harness.ts';
import { waitApp, watchedPage } from './page-helpers.ts';

const run = chromiumAvailable();
const jsonl = (rows: unknown[]) => Buffer.from(rows.map((r) => JSON.stringify(r)).join('\n'));
const MUSIQUE = {
  id: '2hop__13548_13529', question: 'When did the player Messi was compared to join Barcelona?', answer: 'June 1982', answer_aliases: ['1982'], answerable: true,
  paragraphs: [
    { idx: 0, title: 'Copa del Rey', paragraph_text: 'Messi\'s goal was compared to one by Diego Maradona.', is_supporting: true },
    { idx: 1, title: 'Diego Maradona', paragraph_text: 'Barcelona signed Maradona in June 1982.', is_supporting: true },
  ],
  question_decomposition: [
    { id: 13548, question: 'To whom was Messi\'s goal compared?', answer: 'Diego Maradona', paragraph_support_idx: 0 },
    { id: 13529, question: 'When did #1 join Barcelona?', answer: 'June 1982', paragraph_support_idx: 1 },
  ],
};

describe.runIf(run)('exporting the pack for the trainers in the page', () => {
  const env = useServerAndBrowser();

  it('downloads both trainers\' zips and shows an imported decomposition', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'r1s-e2e-export-'));
    const w = await watchedPage(env.browser);
    const { page } = w;
    try {
      await page.goto(env.url);
      await waitApp(page, 'data-state', 'ready');
      const ex = page.locator('r1s-pack-export');
      const save = async (button: string) => {
        const download = page.waitForEvent('download');
        await ex.getByRole('button', { name: button }).click();
        const d = await download;
        const path = join(dir, d.suggestedFilename());
        await d.saveAs(path);
        return unzipFiles(new Uint8Array(await readFile(path)));
      };
      const sr1 = await save('Download for Search-R1 (verl) (zip)');
      expect([...sr1.keys()]).toEqual(['train.parquet', 'test.parquet', 'corpus.jsonl', 'README.md']);
      const train = sr1.get('train.parquet')!;
      const rows = await parquetReadObjects({ file: train.buffer.slice(train.byteOffset, train.byteOffset + train.byteLength) as ArrayBuffer });
      expect(rows).toHaveLength(5012);
      expect(rows[0]).toMatchObject({ id: 'q00000', data_source: 'nq', reward_model: { ground_truth: { target: ['Shorhy'] }, style: 'rule' } });
      expect(new TextDecoder().decode(sr1.get('README.md'))).toContain('npm run cli -- serve-search --pack public/corpus/world --port 8000');

      // Import a MuSiQue question and a training file, use the pack: the decomposition shows, and R1-Searcher's files come out.
      const imp = page.locator('r1s-pack-import');
      await imp.getByLabel('Choose dataset files').setInputFiles([
        { name: 'musique_dev.jsonl', mimeType: 'application/json', buffer: jsonl([MUSIQUE]) },
        { name: 'stage_1.jsonl', mimeType: 'application/json', buffer: jsonl([{ idx: 1, question: 'Who signed Maradona in 1982?', answer: 'Barcelona' }]) },
      ]);
      await imp.getByLabel('Pack name').fill('mus');
      await imp.getByRole('button', { name: 'Import', exact: true }).click();
      await imp.getByRole('button', { name: 'Use pack mus' }).click({ timeout: 60_000 });
      await page.waitForURL(/pack=stored\.mus/);
      await waitApp(page, 'data-state', 'ready');
      const corpus = page.locator('r1s-step-corpus');
      await corpus.getByLabel('Question split').selectOption('ood');
      const steps = corpus.getByRole('list', { name: 'Decomposition of musique:2hop__13548_13529' }).locator('li');
      await expect.poll(() => steps.count()).toBe(2);
      expect(await steps.nth(1).textContent()).toMatch(/When did #1 join Barcelona\? → June 1982 \(p[0-9a-f]{12}\)/);
      const r1s = await save('Download for R1-Searcher (OpenRLHF) (zip)');
      expect([...r1s.keys()]).toEqual(['data/training_set/stage_1.jsonl', 'data/training_set/stage_2.jsonl', 'data/eval_set/mus_ood.jsonl', 'corpus.tsv', 'README.md']);
      const ood = JSON.parse(new TextDecoder().decode(r1s.get('data/eval_set/mus_ood.jsonl')).trim()) as Record<string, unknown>;
      expect(ood).toMatchObject({ idx: 1, question: MUSIQUE.question, answer: 'June 1982', answer_aliases: ['1982'], gen_text_store: '', split: 'ood' });

      // Search-R1's parquet back in through the page's import worker (hyparquet's browser build).
      const back = await save('Download for Search-R1 (verl) (zip)');
      const imp2 = page.locator('r1s-pack-import');
      await imp2.getByLabel('Choose dataset files').setInputFiles(['train.parquet', 'test.parquet', 'corpus.jsonl'].map((name) => ({ name, mimeType: 'application/octet-stream', buffer: Buffer.from(back.get(name)!) })));
      await imp2.getByLabel('Pack name').fill('mus2');
      await imp2.getByRole('button', { name: 'Import', exact: true }).click();
      const report = imp2.getByRole('region', { name: 'Import report' });
      await expect.poll(async () => (await report.textContent() ?? '').replace(/\s+/g, ' '), { timeout: 60_000 }).toMatch(/Imported mus2: 2 questions \(train 1, test 0, ood 1\), 2 documents in 1 shard/);
      expect(w.errors).toEqual([]);
    } finally {
      await w.context.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
