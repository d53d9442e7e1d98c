/**
 * `eval --pack DIR --checkpoint CKPT --split test,ood --mode search,naive,rag [--json]`:
 * greedy evaluation of a checkpoint (src/eval/evaluate.ts). Prints JSON with --json, else
 * Markdown tables: one row per mode, columns per split, then per template, then (with the
 * `search` mode) the diagnosis of issue 15 per template: answer in the documents, the reading
 * ceiling (with the `oracle` mode), Cover-EM, the searches, and what was answered instead.
 */
import { writeFile } from 'node:fs/promises';
import type { Split } from '../../corpus/types.ts';
import { uploadParams } from '../../io/checkpoint.ts';
import { loadModelFolder } from '../../io/checkpoint-fs.ts';
import { Llama } from '../../model/llama.ts';
import { defaultEvalSettings, evaluate, EVAL_MODES, type EvalMode, type EvalResult } from '../../eval/evaluate.ts';
import { intFlag, log, openBackend, openPack, parseFlags, progressBar, required } from '../common.ts';
import { searchUrlRetriever } from '../../search/remote-retriever.ts';
import { getPromptPreset } from '../../protocol/prompts.ts';

const USAGE =
  'npm run cli -- eval --pack DIR --checkpoint CKPT [--split train|test|ood[,..]] [--mode search|naive|rag|oracle[,..]] [--limit N] ' +
  '[--top-k 5] [--max-searches 3] [--prompt-preset NAME (default: the one the checkpoint was trained with)] [--batch 64] [--backend auto|cpu|wasm] [--threads N] [--out FILE] [--records] [--search-url URL] [--json | --quiet]';

const SPLITS: readonly Split[] = ['train', 'test', 'ood'];

export async function run(argv: string[]): Promise<void> {
  const f = parseFlags(argv, {
    pack: { type: 'string' }, checkpoint: { type: 'string' }, split: { type: 'string' }, mode: { type: 'string' }, limit: { type: 'string' },
    'top-k': { type: 'string' }, 'max-searches': { type: 'string' }, batch: { type: 'string' }, backend: { type: 'string' },
    threads: { type: 'string' }, out: { type: 'string' }, records: { type: 'boolean' }, json: { type: 'boolean' }, quiet: { type: 'boolean' },
    'search-url': { type: 'string' }, 'prompt-preset': { type: 'string' },
  }, USAGE);
  const splits = (f.split ?? 'test').split(',') as Split[];
  for (const s of splits) if (!SPLITS.includes(s)) throw new Error(`--split: unknown split "${s}" (known: ${SPLITS.join(', ')})`);
  const modes = (f.mode ?? 'search').split(',') as EvalMode[];
  for (const m of modes) if (!EVAL_MODES.includes(m)) throw new Error(`--mode: unknown mode "${m}" (known: ${EVAL_MODES.join(', ')})`);
  const limit = intFlag(f.limit, 'limit', 0, 0);
  const remote = searchUrlRetriever(f['search-url']); // checked before any loading
  const ckptDir = required(f.checkpoint, 'checkpoint');
  // Our checkpoint, or a Hugging Face model folder (imported with the tags added): its baseline.
  const { checkpoint: ckpt, notes } = await loadModelFolder(ckptDir);
  for (const n of notes) log(`checkpoint: ${n}`);
  const ctx = await openPack(required(f.pack, 'pack'));
  const backend = await openBackend(f.backend, f.threads);
  const retriever = remote ?? ctx.retriever;
  const model = new Llama(backend, ckpt.config, uploadParams(backend, ckpt.weights));
  const stored = (ckpt.state?.settings as { promptPreset?: unknown } | undefined)?.promptPreset;
  const trainedPreset = typeof stored === 'string' ? stored : undefined;
  if (f['prompt-preset'] !== undefined) getPromptPreset(f['prompt-preset']); // refuses an unknown name, listing the known ones
  const documents = new Map(ctx.pack.documents.map((d) => [d.id, d]));
  const results: (Omit<EvalResult, 'records'> & { split: Split; records?: EvalResult['records'] })[] = [];
  for (const split of splits) {
    let qs = ctx.pack.questions.filter((q) => q.split === split);
    if (limit > 0) qs = qs.slice(0, limit);
    if (qs.length === 0) throw new Error(`--split ${split}: the pack has no questions in this split`);
    for (const mode of modes) {
      const s = defaultEvalSettings(mode);
      // The prompt the policy was trained with (an RL checkpoint records it), unless told otherwise.
      s.promptPreset = f['prompt-preset'] ?? trainedPreset ?? s.promptPreset;
      s.topK = intFlag(f['top-k'], 'top-k', s.topK, 1);
      s.maxSearches = intFlag(f['max-searches'], 'max-searches', s.maxSearches, 0);
      s.batchSize = intFlag(f.batch, 'batch', s.batchSize, 1);
      const bar = progressBar(qs.length, `${split}/${mode}`);
      const t0 = performance.now();
      const r = await evaluate(model, ckpt.tokenizer, retriever, qs, s, (d) => bar.update(d), documents);
      bar.stop();
      log(`eval ${split}/${mode}: ${qs.length} questions in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      results.push({ split, mode: r.mode, overall: r.overall, byTemplate: r.byTemplate, byHops: r.byHops, ...(f.records ? { records: r.records } : {}) });
    }
  }
  const payload = { checkpoint: ckptDir, pack: ctx.pack.manifest.name, results };
  if (f.out) await writeFile(f.out, `${JSON.stringify(payload, null, 2)}\n`);
  if (f.json) process.stdout.write(`${JSON.stringify(payload)}\n`);
  else if (!f.quiet) process.stdout.write(markdown(results));
}

const fmt = (x: number) => (Number.isNaN(x) ? '-' : x.toFixed(3));

/** Markdown tables: methods x splits (Cover-EM, F1, EM, format, searches), then per template. */
export function markdown(results: (Omit<EvalResult, 'records'> & { split: Split })[]): string {
  const lines: string[] = [];
  const splits = [...new Set(results.map((r) => r.split))];
  const modes = [...new Set(results.map((r) => r.mode))];
  lines.push(`| method | ${splits.map((s) => `${s} Cover-EM | ${s} F1 | ${s} EM | ${s} format | ${s} searches`).join(' | ')} |`);
  lines.push(`|---|${splits.map(() => '---|---|---|---|---').join('|')}|`);
  for (const m of modes) {
    const cells = splits.map((s) => {
      const r = results.find((x) => x.split === s && x.mode === m)?.overall;
      return r ? `${fmt(r.coverEm)} | ${fmt(r.f1)} | ${fmt(r.em)} | ${fmt(r.formatRate)} | ${fmt(r.searchesPerQuestion)}` : '- | - | - | - | -';
    });
    lines.push(`| ${m} | ${cells.join(' | ')} |`);
  }
  lines.push('', '| split | template | n | ' + modes.map((m) => `${m} Cover-EM`).join(' | ') + ' | ' + modes.map((m) => `${m} searches`).join(' | ') + ' |');
  lines.push(`|---|---|---|${modes.map(() => '---').join('|')}|${modes.map(() => '---').join('|')}|`);
  for (const s of splits) {
    const templates = [...new Set(results.filter((r) => r.split === s).flatMap((r) => Object.keys(r.byTemplate)))].sort();
    for (const t of templates) {
      const per = modes.map((m) => results.find((x) => x.split === s && x.mode === m)?.byTemplate[t]);
      lines.push(`| ${s} | ${t} | ${per.find(Boolean)?.n ?? 0} | ${per.map((p) => (p ? fmt(p.coverEm) : '-')).join(' | ')} | ${per.map((p) => (p ? fmt(p.searchesPerQuestion) : '-')).join(' | ')} |`);
    }
  }
  if (modes.includes('search')) lines.push('', ...diagnosisTable(results));
  return `${lines.join('\n')}\n`;
}

/**
 * Per split and template (then per hop count), for the `search` mode: hops, answer in docs,
 * oracle ceiling (when the `oracle` mode ran), Cover-EM, searches, share with 2+ searches,
 * answer in the first / last search's documents, bridge named by a later query, and for the
 * questions whose documents held the answer but whose answer was wrong: how many, and the share
 * answered with words of the documents / of the question / from nowhere / nothing.
 */
export function diagnosisTable(results: (Omit<EvalResult, 'records'> & { split: Split })[]): string[] {
  const lines = [
    '| split | template | hops | answer in docs | oracle ceiling | Cover-EM | searches | 2+ searches | answer in 1st docs | answer in last docs | bridge queried | missed: n (docs / question / nowhere / empty) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results.filter((x) => x.mode === 'search')) {
    const oracle = results.find((x) => x.split === r.split && x.mode === 'oracle');
    const row = (name: string, m: EvalResult['overall'], o: EvalResult['overall'] | undefined) => {
      const x = m.missedInDocs;
      const share = (k: number) => (x.n === 0 ? '-' : (k / x.n).toFixed(2));
      lines.push(`| ${r.split} | ${name} | ${m.hops.toFixed(2).replace(/\.00$/, '')} | ${fmt(m.answerInDocs)} | ${o ? fmt(o.coverEm) : '-'} | ${fmt(m.coverEm)} | ` +
        `${fmt(m.searchesPerQuestion)} | ${fmt(m.multiSearch)} | ${fmt(m.answerInFirstDocs)} | ${fmt(m.answerInLastDocs)} | ${fmt(m.bridgeQueried)} | ` +
        `${x.n}: ${share(x.documents)} / ${share(x.question)} / ${share(x.nowhere)} / ${share(x.empty)} |`);
    };
    for (const [t, m] of Object.entries(r.byTemplate)) row(t, m, oracle?.byTemplate[t]);
    for (const [h, m] of Object.entries(r.byHops)) row(`all ${h}-hop`, m, oracle?.byHops[h]);
    row('overall', r.overall, oracle?.overall);
  }
  return lines;
}
