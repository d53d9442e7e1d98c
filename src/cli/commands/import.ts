/**
 * `npm run cli -- import --questions FILE... [--corpus FILE...] --out DIR [--shards N] [--name NAME] ...`
 *
 * Imports question sets (HotpotQA, 2WikiMultiHopQA, MuSiQue, Bamboogle, FlashRAG, R1-Searcher
 * files, Search-R1's verl parquet; formats detected per file, src/corpus/import/detect.ts) and a
 * corpus (JSON Lines, R1-Searcher's TSV) into a pack
 * (issue 7, parts 1-3), written atomically by src/corpus/pack-writer.ts: an error, Ctrl-C or a
 * refused file stores nothing, and an existing pack is replaced only with --overwrite.
 * Prints the import report (questions, documents, shards, every rejected line with its reason);
 * `--json` prints it as JSON, `--report FILE` writes it (all rejected lines included).
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { importPack, where, type ImportInput, type ImportReport } from '../../corpus/import/import-pack.ts';
import { REJECT_REASONS } from '../../corpus/import/types.ts';
import { PACK_FOLDER, writePack } from '../../corpus/pack-writer.ts';
import { checkOutputFolder } from '../../util/output-folder.ts';
import type { Split } from '../../corpus/types.ts';
import { log, progressBar } from '../common.ts';

const USAGE =
  'npm run cli -- import --questions FILE... [--corpus FILE...] --out DIR [--shards N] [--name NAME] [--description TEXT] ' +
  '[--source TEXT] [--license TEXT] [--test-fraction 0.3] [--seed 1] [--split DATASET=train|test|ood|hash]... ' +
  '[--max-line-bytes N] [--report FILE] [--overwrite] [--json]';

/** Rejected lines printed in the human-readable report (all of them are in --json / --report). */
const SHOWN_REJECTIONS = 50;

const OPTIONS = {
  questions: { type: 'string', multiple: true }, corpus: { type: 'string', multiple: true }, out: { type: 'string' },
  shards: { type: 'string' }, name: { type: 'string' }, description: { type: 'string' }, source: { type: 'string' },
  license: { type: 'string' }, 'test-fraction': { type: 'string' }, seed: { type: 'string' }, split: { type: 'string', multiple: true },
  'max-line-bytes': { type: 'string' }, report: { type: 'string' }, overwrite: { type: 'boolean' }, json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Flags, with the files after `--questions a b c` / `--corpus x y` collected into their lists. */
function parseImportFlags(argv: string[]) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: true, tokens: true });
  } catch (e) {
    throw new Error(`import: ${(e as Error).message}\nusage: ${USAGE}`);
  }
  const questions: string[] = [];
  const corpus: string[] = [];
  let list: string[] | null = null;
  for (const t of parsed.tokens) {
    if (t.kind === 'option') {
      list = t.name === 'questions' ? questions : t.name === 'corpus' ? corpus : null;
      if (list && t.value !== undefined) list.push(t.value);
    } else if (t.kind === 'positional') {
      if (!list) throw new Error(`import: unexpected argument "${t.value}" (files follow --questions or --corpus)\nusage: ${USAGE}`);
      list.push(t.value);
    }
  }
  return { values: parsed.values, questions, corpus };
}

function numberFlag(v: string | undefined, flag: string, check: (n: number) => boolean, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !check(n)) throw new Error(`import: --${flag} must be ${what}, got "${v}"`);
  return n;
}

/** `--split musique=test` -> { musique: 'test' }. */
function parseSplits(items: readonly string[] | undefined): Record<string, Split | 'hash'> {
  const out: Record<string, Split | 'hash'> = {};
  for (const item of items ?? []) {
    const m = item.match(/^([a-z0-9_-]+)=(train|test|ood|hash)$/);
    if (!m) throw new Error(`import: --split must be DATASET=train|test|ood|hash (e.g. musique=test), got "${item}"`);
    out[m[1]!] = m[2] as Split | 'hash';
  }
  return out;
}

async function readInput(name: string, role: ImportInput['role']): Promise<ImportInput> {
  try {
    return { name, bytes: new Uint8Array(await readFile(name)), role };
  } catch (e) {
    throw new Error(`import: --${role} ${name}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

export async function run(argv: string[]): Promise<void> {
  const { values: f, questions, corpus } = parseImportFlags(argv);
  if (f.help) {
    process.stdout.write(`usage: ${USAGE}\n`);
    return;
  }
  if (questions.length === 0) throw new Error(`import: --questions FILE is required (one or more question files)\nusage: ${USAGE}`);
  if (!f.out) throw new Error(`import: --out DIR is required (the pack folder to create)\nusage: ${USAGE}`);
  const out = f.out;
  const shards = numberFlag(f.shards, 'shards', (n) => Number.isSafeInteger(n) && n >= 1, 'a positive integer');
  const testFraction = numberFlag(f['test-fraction'], 'test-fraction', (n) => n >= 0 && n <= 1, 'a number in [0, 1]');
  const seed = numberFlag(f.seed, 'seed', Number.isSafeInteger, 'an integer');
  const maxLineBytes = numberFlag(f['max-line-bytes'], 'max-line-bytes', (n) => Number.isSafeInteger(n) && n >= 1, 'a positive integer');
  const splits = parseSplits(f.split);
  const name = f.name ?? basename(resolve(out));
  // Refuse before any work (a folder that is not a pack, inputs inside it); writePack checks again when it writes.
  try {
    await checkOutputFolder(out, PACK_FOLDER, { overwrite: f.overwrite, inputs: [...questions, ...corpus, ...(f.report ? [f.report] : [])] });
  } catch (e) {
    throw new Error(`import: ${(e as Error).message}`);
  }
  if (f.report && !f.overwrite && (await stat(f.report).then(() => true, () => false))) {
    throw new Error(`import: --report ${f.report} already exists (nothing was written; use --overwrite to replace it)`);
  }

  const t0 = performance.now();
  const inputs = [
    ...(await Promise.all(corpus.map((c) => readInput(c, 'corpus')))),
    ...(await Promise.all(questions.map((q) => readInput(q, 'questions')))),
  ];
  // Ctrl-C aborts the import; nothing has been written before writePack, which is atomic.
  const abort = new AbortController();
  const onSigint = () => abort.abort(new Error('import interrupted (SIGINT): nothing was stored'));
  process.once('SIGINT', onSigint);
  const mb = inputs.reduce((n, i) => n + i.bytes.byteLength, 0) / 2 ** 20;
  log(`import: reading ${inputs.length} files (${mb.toFixed(1)} MiB) into ${out}; Ctrl-C stops without storing anything`);
  const bar = progressBar(inputs.reduce((s, i) => s + i.bytes.byteLength, 0), 'import');
  let report: ImportReport;
  try {
    const result = await importPack(inputs, {
      name, description: f.description, source: f.source, license: f.license, shards, testFraction, seed, splits, maxLineBytes,
      signal: abort.signal,
      onProgress: (p) => bar.update(p.phase === 'read' ? p.done : p.total, { info: p.phase === 'read' ? (p.file ?? '') : `matching ${p.done}/${p.total} questions` }),
    });
    report = result.report;
    await writePack(out, result.spec, { overwrite: f.overwrite });
  } finally {
    bar.stop();
    process.removeListener('SIGINT', onSigint);
  }
  const seconds = (performance.now() - t0) / 1000;
  if (f.report) await writeFile(f.report, `${JSON.stringify({ out, seconds, ...report }, null, 2)}\n`);
  if (f.json) process.stdout.write(`${JSON.stringify({ out, seconds, ...report })}\n`);
  else process.stdout.write(formatReport(report, out, seconds));
  if (report.rejected.total > 0 && !f.json) log(`import: ${report.rejected.total} records rejected (see the report)`);
}

/** The human-readable import report. */
export function formatReport(r: ImportReport, out: string, seconds: number): string {
  const lines = [
    `import: pack "${r.name}" written to ${out} in ${seconds.toFixed(1)} s`,
    `  questions ${r.questions} (train ${r.splits.train}, test ${r.splits.test}, ood ${r.splits.ood}), documents ${r.documents} (from ${r.documentsFrom}), shards ${r.shards}`,
    '  files:',
    ...r.files.map((x) => `    ${x.file}  ${x.role} ${x.format}${x.dataset ? ` -> ${x.dataset}` : ''}: ${x.records} records, ${x.accepted} accepted, ${x.rejected} rejected`),
    '  | dataset | questions | train | test | ood | with supporting ids | answer not in corpus |',
    '  |---|---|---|---|---|---|---|',
    ...Object.entries(r.datasets).map(([d, s]) => `  | ${d} | ${s.questions} | ${s.train} | ${s.test} | ${s.ood} | ${s.withSupportingIds} | ${s.answerNotInCorpus} |`),
    `  split rule: ${r.splitRule}`,
    `  answer not in corpus: ${r.answerNotInCorpus} questions (kept, marked answerInCorpus: false); supporting paragraphs matching no document: ${r.unmatchedSupporting}`,
    `  rejected: ${r.rejected.total}${r.rejected.total ? ` (${REJECT_REASONS.filter((x) => r.rejected.byReason[x] > 0).map((x) => `${x} ${r.rejected.byReason[x]}`).join(', ')})` : ''}`,
    ...r.rejected.records.slice(0, SHOWN_REJECTIONS).map((x) => `    ${where(x)}`),
  ];
  if (r.rejected.total > SHOWN_REJECTIONS) lines.push(`    ... and ${r.rejected.total - SHOWN_REJECTIONS} more (--json or --report FILE lists every one)`);
  return `${lines.join('\n')}\n`;
}
