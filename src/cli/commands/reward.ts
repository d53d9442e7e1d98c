/**
 * `npm run cli -- reward --stage 1|2 --input FILE [--format-penalty -2] [--ungrounded-penalty 0]
 *   [--retrieval-reward relevant|follow-up|found|any] [--answer-bonus]`
 *
 * Scores completions with the RL rewards of recipe.md section 6, headless. FILE is JSON Lines,
 * one `{"completion": string, "answers": [string], "retrievedDocs"?: [[string]], "question"?: string}`
 * per line (`question` is needed by `--retrieval-reward relevant` and `follow-up`, and read by
 * `--ungrounded-penalty`: an answer copied from the question is not a guess)
 * (completion = the text generated after the prompt, tags written out; other keys are
 * ignored; blank lines are skipped). For each line one JSON line is printed:
 * `{"reward", "f1", "em", "coverEm", "formatOk", "retrievals"}`. Output is JSON Lines with or
 * without `--json`.
 *
 * A bad line stops the command with an error naming its line number (exit 1); the lines
 * before it have been printed whole, nothing of the bad one.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { computeReward, resolveRewardSettings, type RewardSettings, type RewardStage } from '../../rl/rewards.ts';

const USAGE =
  'usage: npm run cli -- reward --stage 1|2 --input FILE [--format-penalty -2] [--ungrounded-penalty 0] ' +
  '[--retrieval-reward relevant|follow-up|found|any] [--answer-bonus] [--json]\n' +
  'FILE: JSON Lines of {"completion": string, "answers": [string]}; prints one JSON line per input line.\n';

/** Flags whose value may be a negative number. */
const NUMERIC_FLAGS = new Set(['--format-penalty', '--ungrounded-penalty']);

/**
 * node:util parseArgs refuses `--format-penalty -2` (a value starting with a dash is taken
 * for a flag); rewrite it as `--format-penalty=-2`.
 */
function joinNegativeValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    if (NUMERIC_FLAGS.has(a) && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else {
      out.push(a);
    }
  }
  return out;
}

/** One parsed input line. */
interface RewardLine {
  completion: string;
  answers: string[];
  retrievedDocs?: string[][];
  question?: string;
}

/** Parses and type-checks one input line; throws a message without the line number. */
function parseLine(text: string): RewardLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`not valid JSON (${(e as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
  const o = value as Record<string, unknown>;
  if (typeof o.completion !== 'string') throw new Error('"completion" must be a string');
  if (!Array.isArray(o.answers) || o.answers.length === 0) throw new Error('"answers" must be a non-empty array of strings');
  // JSON booleans (some datasets store yes/no questions that way) become Python's True/False,
  // which answer normalization maps to yes/no (recipe.md section 4).
  const answers = o.answers.map((a, i) => {
    if (typeof a === 'boolean') return a ? 'True' : 'False';
    if (typeof a !== 'string') throw new Error(`"answers"[${i}] must be a string`);
    return a;
  });
  const line: RewardLine = { completion: o.completion, answers };
  if (o.retrievedDocs !== undefined) line.retrievedDocs = o.retrievedDocs as string[][]; // checked by the reward
  if (o.question !== undefined) line.question = o.question as string; // checked by the reward
  return line;
}

/** Entry point: see the file comment. Throws Error with a clear message on bad input. */
export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: joinNegativeValues(argv),
    options: {
      stage: { type: 'string' },
      input: { type: 'string' },
      'format-penalty': { type: 'string' },
      'ungrounded-penalty': { type: 'string' },
      'retrieval-reward': { type: 'string' },
      'answer-bonus': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (values.stage !== '1' && values.stage !== '2') {
    throw new Error(`reward: --stage must be 1 or 2, got ${values.stage === undefined ? 'nothing' : JSON.stringify(values.stage)}`);
  }
  const stage: RewardStage = values.stage === '1' ? 1 : 2;
  if (values.input === undefined) throw new Error('reward: --input FILE is required (JSON Lines of {"completion", "answers"})');

  const settings: Partial<RewardSettings> = {};
  for (const [flag, key] of [['format-penalty', 'formatPenalty'], ['ungrounded-penalty', 'ungroundedPenalty']] as const) {
    const raw = values[flag];
    if (raw === undefined) continue;
    if (stage !== 2) throw new Error(`reward: --${flag} applies to --stage 2 only`);
    const penalty = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(penalty)) throw new Error(`reward: --${flag} must be a number, got ${JSON.stringify(raw)}`);
    settings[key] = penalty;
  }
  if (values['retrieval-reward'] !== undefined) {
    if (stage !== 1) throw new Error('reward: --retrieval-reward applies to --stage 1 only');
    settings.retrievalReward = values['retrieval-reward'] as RewardSettings['retrievalReward'];
  }
  if (values['answer-bonus']) {
    if (stage !== 1) throw new Error('reward: --answer-bonus applies to --stage 1 only');
    settings.answerBonus = true;
  }
  try {
    resolveRewardSettings(settings);
  } catch (e) {
    throw new Error(`reward: ${(e as Error).message}`);
  }

  let text: string;
  try {
    text = readFileSync(values.input, 'utf8');
  } catch (e) {
    throw new Error(`reward: cannot read --input ${values.input}: ${(e as Error).message}`);
  }
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() === '') continue;
    let out: string;
    try {
      const line = parseLine(lines[i]!);
      const { reward, parts } = computeReward(stage, line.completion, line, settings);
      out = JSON.stringify({
        reward,
        f1: parts.f1,
        em: parts.em,
        coverEm: parts.coverEm,
        formatOk: parts.formatOk,
        retrievals: parts.retrievals,
      });
    } catch (e) {
      throw new Error(`reward: ${values.input} line ${i + 1}: ${(e as Error).message}`);
    }
    // Written only once complete, so a bad line leaves no partial output behind.
    process.stdout.write(`${out}\n`);
  }
}
