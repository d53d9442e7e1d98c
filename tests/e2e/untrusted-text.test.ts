/**
 * Corpus text and model output are shown as text, never as HTML: a document holding
 * `<img src=x onerror=alert(1)>` and `<script>` (from a fixture pack served by the test), and a
 * model whose output is `<script>` tokens (a fixture checkpoint imported through the page,
 * which also shows that a bad checkpoint is refused with a precise error and changes nothing).
 * Had any of it become markup, an element would exist, `x` would be fetched (a failed request)
 * or a dialog would open.
 */
import { describe, expect, it } from 'vitest';
import { chromiumAvailable, useServerAndBrowser } from './harness.ts';
import { htmlPackPlugin, IMG_PAYLOAD, SCRIPT_PAYLOAD, scriptModelZip } from './fixtures.ts';
import { deepText, openStep, shot, waitApp, watchedPage } from './page-helpers.ts';

const run = chromiumAvailable();

describe.runIf(run)('untrusted text', () => {
  const env = useServerAndBrowser([htmlPackPlugin('html-pack')]);

  it('shows HTML in documents, questions and model output as text', async () => {
    const w = await watchedPage(env.browser);
    const { page } = w;
    await page.goto(`${env.url}?pack=html-pack&maxNewTokens=8`);
    await waitApp(page, 'data-state', 'ready');

    // A document with HTML, found through the search box.
    const corpus = page.locator('r1s-step-corpus');
    await corpus.getByLabel('Query').fill('Mallory diary');
    await corpus.getByRole('button', { name: 'Search', exact: true }).click();
    const results = corpus.getByRole('list', { name: 'Search results' });
    await results.waitFor();
    const shown = await results.textContent();
    expect(shown).toContain(IMG_PAYLOAD);
    expect(shown).toContain(SCRIPT_PAYLOAD);
    expect(shown).toContain('Diary <b>bold</b>');
    // Questions holding HTML, in the question browser.
    await corpus.getByRole('combobox', { name: 'Question split' }).selectOption('');
    expect(await corpus.getByRole('table', { name: 'Questions' }).textContent()).toContain(`Who wrote ${SCRIPT_PAYLOAD}?`);
    await corpus.getByRole('button', { name: 'Supporting documents of t3' }).click();
    await expect.poll(() => corpus.locator('.support').textContent()).toContain(IMG_PAYLOAD);
    await shot(page, 'untrusted-corpus');

    // A bad import, dropped on the drop zone, is refused with the reason, and the base stays.
    await openStep(page, /Export/);
    const ex = page.locator('r1s-step-export');
    const dataTransfer = await page.evaluateHandle(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['not a zip at all'], 'bad.zip', { type: 'application/zip' }));
      return dt;
    });
    await ex.getByRole('region', { name: 'Drop a checkpoint folder or zip here' }).dispatchEvent('drop', { dataTransfer });
    await expect.poll(() => ex.getByRole('alert').first().textContent()).toContain('the file is not a zip archive (it starts with bytes 6e 6f 74 20');
    const zipInput = ex.getByLabel('Choose a checkpoint zip');
    const before = await page.locator('r1s-app footer').textContent();
    // The fixture model: its greedy output is <script> tokens.
    await zipInput.setInputFiles({ name: 'script-model.zip', mimeType: 'application/zip', buffer: Buffer.from(await scriptModelZip()) });
    await expect.poll(() => ex.locator('.ok-box').first().textContent(), { timeout: 30_000 }).toContain('it is now the base model');
    expect(await page.locator('r1s-app footer').textContent()).not.toBe(before);

    // Its output, on a typed question that holds HTML too.
    await openStep(page, /Base model/);
    const base = page.locator('r1s-step-base');
    const picker = base.locator('r1s-question-picker').first();
    await picker.getByRole('radio', { name: 'type your own' }).check();
    await picker.getByRole('textbox', { name: 'Your question' }).fill(`${SCRIPT_PAYLOAD} ${IMG_PAYLOAD} who wrote it?`);
    await base.getByRole('button', { name: 'Greedy answer' }).click();
    const card = base.locator('r1s-sample-card').first();
    await card.waitFor({ timeout: 60_000 });
    const text = await deepText(card);
    expect(text).toContain('<script> <script> <script>');
    expect(text).toContain(`Q: ${SCRIPT_PAYLOAD} ${IMG_PAYLOAD} who wrote it?`);
    // Step through it in the live mode: the token itself is shown as text.
    const live = base.locator('r1s-live');
    await live.getByRole('radio', { name: 'type your own' }).check();
    await live.getByRole('textbox', { name: 'Your question' }).fill(SCRIPT_PAYLOAD);
    await live.getByRole('button', { name: 'Start live rollout' }).click();
    await live.getByRole('button', { name: 'Next token', exact: true }).click();
    await expect.poll(() => live.getAttribute('data-tokens')).toBe('1');
    expect(await deepText(live.locator('r1s-token-detail'))).toContain('<script>');
    await shot(page, 'untrusted-model-output');

    // No markup came out of any of it: no such element anywhere in the page, open shadow roots included.
    const elements = await page.evaluate(() => {
      const found: string[] = [];
      const walk = (root: ParentNode) => {
        for (const el of Array.from(root.querySelectorAll('*'))) {
          const fromData = el.tagName === 'IMG' || (el.tagName === 'SCRIPT' && !(el as HTMLScriptElement).src)
            || (el.tagName === 'B' && el.textContent === 'bold') || (el.tagName === 'I' && el.textContent === 'kept');
          if (fromData) found.push(el.tagName);
          if (el.shadowRoot) walk(el.shadowRoot);
        }
      };
      walk(document);
      return found;
    });
    expect(elements).toEqual([]);
    expect(w.dialogs).toEqual([]);
    expect(w.errors).toEqual([]);
    await w.context.close();
  }, 300_000);
});
