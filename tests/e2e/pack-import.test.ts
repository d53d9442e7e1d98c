/**
 * Bring your own data in the page: dataset files picked in the Corpus step are imported in a
 * worker into a pack stored in the browser (report with the rejected line), the page reopens on
 * that pack (`pack=stored.<name>` in the link) and its search engine answers from it; the same
 * name again is refused, and the stored pack survives a reload.
 */
import { describe, expect, it } from 'vitest';
import { chromiumAvailable, useServerAndBrowser } from './harness.ts';
import { shot, waitApp, watchedPage } from './page-helpers.ts';

const run = chromiumAvailable();
const jsonl = (rows: unknown[]) => Buffer.from(rows.map((r) => JSON.stringify(r)).join('\n'));
const FILES = [
  {
    name: 'hotpotqa_mini.jsonl', mimeType: 'application/json', buffer: jsonl([
      { id: 'q1', question: 'Where was Ann Lomi born?', answers: ['Kovar'], contexts: [], supporting_titles: ['Ann Lomi'] },
      { id: 'q2', question: 'Which river runs through the birthplace of Ann Lomi?', answers: ['Lenn'], type: 'bridge', contexts: [], supporting_titles: ['Ann Lomi', 'Kovar'] },
      'not an object',
    ]),
  },
  {
    name: 'corpus_paragraphs.jsonl', mimeType: 'application/json', buffer: jsonl([
      { id: 'd1', title: 'Kovar', text: 'Kovar is a town on the river Lenn.' },
      { id: 'd2', title: 'Ann Lomi', text: 'Ann Lomi was born in Kovar in 1901.' },
      { id: 'd3', title: 'Lenn', text: 'The Lenn flows north.' },
    ]),
  },
];

describe.runIf(run)('importing a dataset in the page', () => {
  const env = useServerAndBrowser();

  it('imports files into a stored pack, reopens the page on it, and refuses the same name again', async () => {
    const w = await watchedPage(env.browser);
    const { page } = w;
    await page.goto(env.url);
    await waitApp(page, 'data-state', 'ready');
    const imp = page.locator('r1s-pack-import');
    await imp.getByLabel('Choose dataset files').setInputFiles(FILES);
    const files = imp.getByRole('table', { name: 'Files to import' });
    await expect.poll(() => files.locator('tbody tr').count()).toBe(2);
    expect(await imp.getByLabel('What corpus_paragraphs.jsonl holds').inputValue()).toBe('corpus');
    expect(await imp.getByLabel('What hotpotqa_mini.jsonl holds').inputValue()).toBe('questions');
    await imp.getByLabel('Pack name').fill('mine');
    await imp.getByRole('button', { name: 'Import', exact: true }).click();
    const report = imp.getByRole('region', { name: 'Import report' });
    await expect.poll(async () => (await report.textContent() ?? '').replace(/\s+/g, ' '), { timeout: 60_000 }).toMatch(/Imported mine: 2 questions \(train \d, test \d, ood \d\), 3 documents in 1 shard; 1 line rejected/);
    const rejected = imp.getByRole('table', { name: 'Rejected lines' }).locator('tbody tr');
    expect(await rejected.count()).toBe(1);
    expect(await rejected.first().textContent()).toMatch(/hotpotqa_mini\.jsonl\s*3\s*not-an-object/);
    await shot(page, 'import-report');

    // Use it: the page reopens on the stored pack, and the search engine answers from it.
    await imp.getByRole('button', { name: 'Use pack mine' }).click();
    await page.waitForURL(/pack=stored\.mine/);
    await waitApp(page, 'data-state', 'ready');
    const corpus = page.locator('r1s-step-corpus');
    expect(await corpus.locator('#shards-h').textContent()).toContain('mine');
    expect(await corpus.getByRole('table', { name: 'Shards' }).locator('tbody tr').first().textContent()).toContain('loaded, hash verified');
    await corpus.getByLabel('Query').fill('Ann Lomi born');
    await corpus.getByRole('button', { name: 'Search', exact: true }).click();
    await expect.poll(() => corpus.getByRole('list', { name: 'Search results' }).locator('li').first().textContent()).toContain('Ann Lomi was born in Kovar');

    // The same name again: refused with a message, the stored pack is still there.
    const imp2 = page.locator('r1s-pack-import');
    await imp2.getByLabel('Choose dataset files').setInputFiles(FILES);
    await imp2.getByLabel('Pack name').fill('mine');
    await imp2.getByRole('button', { name: 'Import', exact: true }).click();
    await expect.poll(() => imp2.getByRole('alert').textContent(), { timeout: 60_000 }).toMatch(/a pack named "mine" is already stored/);
    expect(await imp2.getByRole('table', { name: 'Packs stored in this browser' }).locator('tbody tr').count()).toBe(1);
    expect(w.errors).toEqual([]);
    await w.context.close();
  }, 240_000);
});
