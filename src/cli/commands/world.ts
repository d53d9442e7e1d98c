/**
 * `npm run cli -- world --seed N --out DIR [--shards 4] [--no-bridge-backlinks] [--overwrite] [--json]`
 *
 * Generates the "world" corpus pack (src/world/pack.ts) and writes it with the pack writer.
 * `--no-bridge-backlinks` leaves out of each document the entities that point at it along a
 * chain's relations (src/world/documents.ts, DocumentStyle), so every hop needs its own search.
 * The committed default pack is `world --seed 1 --out public/corpus/world`; running the command
 * again reproduces it byte for byte. Prints a summary: documents, questions per split and
 * template, bytes written.
 */
import { parseArgs } from 'node:util';
import { PACK_FOLDER, PackExistsError, writePack } from '../../corpus/pack-writer.ts';
import { checkOutputFolder } from '../../util/output-folder.ts';
import { buildWorldPack } from '../../world/pack.ts';

const USAGE = 'usage: npm run cli -- world --seed N --out DIR [--shards 4] [--no-bridge-backlinks] [--overwrite] [--json]';

/** Parses a flag as an integer in [min, max]; throws naming the flag. */
function intFlag(name: string, value: string | undefined, min: number, max: number): number {
  if (value === undefined) throw new Error(`world: --${name} is required\n${USAGE}`);
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < min || n > max) {
    throw new Error(`world: --${name} must be an integer in [${min}, ${max}], got "${value}"`);
  }
  return n;
}

/** Runs `world` with the flags after the command name; throws a clear Error on bad flags or an existing pack. */
export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      seed: { type: 'string' },
      out: { type: 'string' },
      shards: { type: 'string', default: '4' },
      overwrite: { type: 'boolean', default: false },
      'no-bridge-backlinks': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const seed = intFlag('seed', values.seed, 0, 0xffffffff);
  if (!values.out) throw new Error(`world: --out is required\n${USAGE}`);
  // Refuse a folder that may not be replaced before generating anything.
  if (values.overwrite) await checkOutputFolder(values.out, PACK_FOLDER, { overwrite: true });
  const spec = buildWorldPack(seed, intFlag('shards', values.shards, 1, 1_000_000), { bridgeBacklinks: !values['no-bridge-backlinks'] });
  const manifest = await writePack(values.out, spec, { overwrite: values.overwrite }).catch((e: unknown) => {
    if (e instanceof PackExistsError) throw new Error(`world: "${e.dir}" is not empty; pass --overwrite to replace it`);
    throw e;
  });

  const bySplit: Record<string, number> = {};
  const byTemplate: Record<string, Record<string, number>> = {};
  for (const q of spec.questions) {
    bySplit[q.split] = (bySplit[q.split] ?? 0) + 1;
    const t = (byTemplate[q.split] ??= {});
    t[q.template] = (t[q.template] ?? 0) + 1;
  }
  const vocabulary = (spec.generator?.vocabulary ?? {}) as { bytes?: number };
  const bytes =
    manifest.shards.reduce((s, f) => s + f.bytes, 0) + manifest.questions.bytes + (vocabulary.bytes ?? 0);
  const summary = {
    out: values.out,
    seed,
    documents: spec.documents.length,
    shards: manifest.shards.length,
    questions: { total: spec.questions.length, bySplit, byTemplate },
    bytes,
  };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return;
  }
  const lines = [
    `wrote pack "${manifest.name}" (seed ${seed}) to ${values.out}: ${summary.documents} documents in ${summary.shards} shards, ${bytes} bytes (+ manifest)`,
    `questions: ${summary.questions.total} (${Object.entries(bySplit).map(([k, v]) => `${k} ${v}`).join(', ')})`,
  ];
  for (const [split, templates] of Object.entries(byTemplate)) {
    lines.push(`  ${split}: ${Object.entries(templates).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}
