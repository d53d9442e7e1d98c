/**
 * `npm run cli -- search --pack DIR --query TEXT [--k 5] [--json]`
 *
 * Loads and verifies the pack in DIR (src/corpus/pack-loader.ts), builds the one index over
 * all its shards (src/search/search-index.ts) and prints the top k hits: with --json a JSON
 * array `[{id, title, text, score}]`, otherwise a readable ranked list.
 */
import { parseArgs } from 'node:util';
import { fsSource, loadPack } from '../../corpus/pack-loader.ts';
import { SearchIndex, packSearchOptions, type SearchHit } from '../../search/search-index.ts';

const USAGE = 'usage: npm run cli -- search --pack DIR --query TEXT [--k 5] [--json]';

export async function run(argv: string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        pack: { type: 'string' },
        query: { type: 'string' },
        k: { type: 'string', default: '5' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new Error(`search: ${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!values.pack) throw new Error(`search: --pack DIR is required (a directory holding manifest.json)\n${USAGE}`);
  if (values.query === undefined) throw new Error(`search: --query TEXT is required\n${USAGE}`);
  if (!/^[1-9][0-9]*$/.test(values.k)) throw new Error(`search: --k must be a positive integer, got "${values.k}"`);
  const k = Number(values.k);

  const pack = await loadPack(fsSource(values.pack));
  const hits = SearchIndex.fromDocuments(pack.documents, { ...packSearchOptions(pack.manifest), cacheSize: 0 }).search(values.query, k);

  if (values.json) {
    process.stdout.write(`${JSON.stringify(hits)}\n`);
  } else {
    process.stdout.write(formatHits(values.query, hits, pack.documents.length));
  }
}

/** A readable ranked list; texts cut to 200 characters so a screen shows several hits. */
function formatHits(query: string, hits: SearchHit[], documents: number): string {
  const lines = [`query: ${JSON.stringify(query)}  (${hits.length} hit${hits.length === 1 ? '' : 's'} among ${documents} documents)`];
  hits.forEach((h, i) => {
    const text = h.text.length > 200 ? `${h.text.slice(0, 199)}…` : h.text;
    lines.push(`${String(i + 1).padStart(2)}. ${h.title} [${h.id}]  score ${h.score.toFixed(3)}`);
    lines.push(`    ${text}`);
  });
  return `${lines.join('\n')}\n`;
}
