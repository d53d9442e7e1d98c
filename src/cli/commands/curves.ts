/**
 * `curves --run CKPT [--every 10] [--json]`: the training curves of a run folder
 * (its metrics.jsonl) as a Markdown table, one row every N steps, each row the mean over the
 * N steps it closes. Runs whose metrics carry `byHops` get the paper's figure as extra columns:
 * searches per rollout for each hop count (mean over the steps of the row that drew it).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StepMetrics } from '../../rl/trainer.ts';
import { intFlag, parseFlags, required } from '../common.ts';

const USAGE = 'npm run cli -- curves --run CKPT [--every 10] [--json]';

const COLUMNS: [keyof StepMetrics, string][] = [
  ['reward', 'reward'], ['retrievalRate', 'retrieval'], ['formatRate', 'format'], ['f1', 'F1'], ['coverEm', 'Cover-EM'],
  ['answerInDocs', 'answer in docs'], ['firstQueryOnTopic', 'query on topic'], ['searchesPerRollout', 'searches'], ['groupsWithSpread', 'groups w/ spread'],
  ['responseLength', 'length'], ['kl', 'KL'], ['seconds', 's/step'],
];

export async function run(argv: string[]): Promise<void> {
  const f = parseFlags(argv, { run: { type: 'string' }, every: { type: 'string' }, json: { type: 'boolean' } }, USAGE);
  const dir = required(f.run, 'run');
  const every = intFlag(f.every, 'every', 10, 1);
  let text: string;
  try {
    text = await readFile(join(dir, 'metrics.jsonl'), 'utf8');
  } catch {
    throw new Error(`curves: ${join(dir, 'metrics.jsonl')} not found`);
  }
  const rows = text.split('\n').filter(Boolean).map((l, i) => {
    try {
      return JSON.parse(l) as StepMetrics;
    } catch {
      throw new Error(`curves: metrics.jsonl line ${i + 1} is not JSON`);
    }
  });
  const hopCounts = [...new Set(rows.flatMap((m) => Object.keys(m.byHops ?? {})))].sort();
  const out: Record<string, number>[] = [];
  for (let end = every; end <= rows.length + every - 1; end += every) {
    const chunk = rows.slice(end - every, Math.min(end, rows.length));
    if (chunk.length === 0) break;
    const row: Record<string, number> = { step: chunk.at(-1)!.step };
    for (const [k] of COLUMNS) {
      const vals = chunk.map((m) => m[k] as number).filter((v) => typeof v === 'number' && Number.isFinite(v));
      row[k] = vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : NaN;
    }
    for (const h of hopCounts) {
      const vals = chunk.map((m) => m.byHops?.[h]?.searches).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
      row[`searches${h}`] = vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : NaN;
    }
    out.push(row);
  }
  if (f.json) {
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return;
  }
  const fmt = (x: number) => (Number.isNaN(x) ? '-' : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(3));
  const columns: [string, string][] = [...COLUMNS, ...hopCounts.map((h): [string, string] => [`searches${h}`, `searches ${h}-hop`])];
  const lines = [`| step | ${columns.map(([, l]) => l).join(' | ')} |`, `|---|${columns.map(() => '---').join('|')}|`];
  for (const r of out) lines.push(`| ${r.step} | ${columns.map(([k]) => fmt(r[k]!)).join(' | ')} |`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
