import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { run as runRewardCli } from '../../src/cli/commands/reward.ts';
import {
  checkFormat,
  countTags,
  documentBlocks,
  retrievalCount,
  stripDocumentBlocks,
} from '../../src/protocol/format.ts';
import {
  computeReward,
  DEFAULT_REWARD_SETTINGS,
  resolveRewardSettings,
  splitDocumentBlock,
  stage1Reward,
  stage2Reward,
} from '../../src/rl/rewards.ts';

// Completions as the rollout writes them: tags spelled out, documents spliced in.
const DOCS_HIT = '<|begin_of_documents|> (1) kovar : kovar was born in ulm . (2) ulm : ulm is a city . <|end_of_documents|>';
const DOCS_HIT_2 = '<|begin_of_documents|> (1) ulm : ulm lies in germany . <|end_of_documents|>';
const DOCS_NONE = '<|begin_of_documents|> None <|end_of_documents|>';
const search = (query: string, docs: string) => ` <|begin_of_query|> ${query} <|end_of_query|> ${docs}`;
const finish = (answer: string) => ` so </think> <answer> ${answer} </answer>`;

/** Well-formed, one search that found the answer. */
const WELL = ' find kovar' + search('kovar born', DOCS_HIT) + finish('ulm');
/** Well-formed, two searches. */
const WELL_TWO = ' first kovar' + search('kovar born', DOCS_HIT) + ' then ulm' + search('ulm country', DOCS_HIT_2) + finish('germany');

describe('countTags and retrievalCount', () => {
  it('counts each of the eight tags', () => {
    expect(countTags(WELL_TWO)).toEqual({
      thinkOpen: 0, thinkClose: 1, answerOpen: 1, answerClose: 1,
      queryOpen: 2, queryClose: 2, docsOpen: 2, docsClose: 2,
    });
  });

  it('counts completed searches only', () => {
    expect(retrievalCount(WELL_TWO)).toBe(2);
    expect(retrievalCount(finish('ulm'))).toBe(0);
    // A no-hit block still completes a search.
    expect(retrievalCount(search('x', DOCS_NONE))).toBe(1);
    // Query cut off before its documents; documents never closed; documents without a query.
    expect(retrievalCount(' <|begin_of_query|> kovar <|end_of_query|>')).toBe(0);
    expect(retrievalCount(' <|begin_of_query|> kovar <|end_of_query|> <|begin_of_documents|> (1) kovar')).toBe(0);
    expect(retrievalCount(' <|begin_of_documents|> made up <|end_of_documents|>')).toBe(0);
    expect(retrievalCount(WELL + search('again', ''))).toBe(1);
  });
});

describe('document blocks', () => {
  it('strips closed blocks, an unclosed block to the end, and keeps words apart', () => {
    expect(stripDocumentBlocks('a <|begin_of_documents|> x <|end_of_documents|> b')).toBe('a   b');
    expect(stripDocumentBlocks('a <|begin_of_documents|> x Assistant')).toBe('a  ');
    expect(stripDocumentBlocks('a <|end_of_documents|> b')).toBe('a <|end_of_documents|> b');
    expect(stripDocumentBlocks('assist<|begin_of_documents|>x<|end_of_documents|>ant')).toBe('assist ant');
  });

  it('lists block contents, unclosed last block included', () => {
    expect(documentBlocks(WELL_TWO + ' <|begin_of_documents|> (1) cut')).toEqual([
      '(1) kovar : kovar was born in ulm . (2) ulm : ulm is a city .',
      '(1) ulm : ulm lies in germany .',
      '(1) cut',
    ]);
  });

  it('splits a block into documents at the markers (1), (2), ... in sequence', () => {
    expect(splitDocumentBlock('(1) kovar : born (1990) in ulm (2) ulm : a city')).toEqual([
      'kovar : born (1990) in ulm',
      'ulm : a city',
    ]);
    expect(splitDocumentBlock(' ( 1 ) a ( 2 ) b ( 3 ) c ')).toEqual(['a', 'b', 'c']);
    expect(splitDocumentBlock('None')).toEqual([]);
    expect(splitDocumentBlock('none')).toEqual([]);
    expect(splitDocumentBlock('')).toEqual([]);
    expect(splitDocumentBlock('free text (1) here')).toEqual(['free text (1) here']);
  });
});

describe('checkFormat: the seven rules of recipe.md section 5', () => {
  it('passes well-formed completions with one and two searches, and with none', () => {
    expect(checkFormat(WELL)).toEqual({ ok: true, violations: [] });
    expect(checkFormat(WELL_TWO)).toEqual({ ok: true, violations: [] });
    expect(checkFormat(' kovar lives in ulm' + finish('ulm'))).toEqual({ ok: true, violations: [] });
    // A no-hit block is fine (recipe.md section 10).
    expect(checkFormat(search('x', DOCS_NONE) + finish('ulm')).ok).toBe(true);
  });

  const before = (text: string) => WELL.replace(' so </think>', `${text} so </think>`);
  // Each case breaks exactly one rule; [completion, pattern of its only violation].
  const cases: [string, string, RegExp][] = [
    ['1: a query left open', before(' <|begin_of_query|> again'),
      /^search tags unbalanced: 2 <\|begin_of_query\|>, 1 <\|end_of_query\|>, 1 <\|begin_of_documents\|>, 1 <\|end_of_documents\|>$/],
    ['1: documents written without a query', before(' <|begin_of_documents|> made up <|end_of_documents|>'), /^search tags unbalanced/],
    ['2: Assistant', before(' Assistant: hello'), /^"Assistant" written outside the documents/],
    ['2: assistant', before(' the assistant says'), /^"assistant" written outside the documents/],
    ['3: <think> again', before(' <think>'), /^<think> occurs 1 time \(the prompt already opened it\)$/],
    ['3: no </think>', WELL.replace(' </think>', ''), /^<\/think> occurs 0 times \(needs exactly 1\)$/],
    ['3: two </think>', before(' </think>'), /^<\/think> occurs 2 times/],
    ['4: no <answer>', WELL.replace('<answer>', ''), /^<answer> occurs 0 times/],
    ['4: no </answer>', WELL.replace('</answer>', ''), /^<\/answer> occurs 0 times/],
    ['4: reversed', WELL.replace('<answer> ulm </answer>', '</answer> ulm <answer>'), /^<\/answer> comes before <answer>$/],
    ['5: a search inside the answer', WELL.replace(' ulm </answer>', search('ulm', DOCS_NONE) + ' </answer>'),
      /^the answer contains a search/],
    ['6: eleven words', WELL.replace(' ulm </answer>', ' a b c d e f g h i j k </answer>'), /^the answer has 11 words \(at most 10\)$/],
    ['7: CJK outside', before(' 乌尔姆'), /^CJK character "乌" written outside the documents$/],
  ];
  it.each(cases)('rule %s', (_name, completion, pattern) => {
    const r = checkFormat(completion);
    expect(r.ok).toBe(false);
    expect(r.violations).toHaveLength(1);
    expect(r.violations[0]).toMatch(pattern);
  });

  it('reports both counts when two answers are written (rule 4)', () => {
    const r = checkFormat(WELL + ' <answer> ulm </answer>');
    expect(r.violations).toEqual(['<answer> occurs 2 times (needs exactly 1)', '</answer> occurs 2 times (needs exactly 1)']);
  });

  it('allows ten answer words', () => {
    expect(checkFormat(WELL.replace(' ulm </answer>', ' a b c d e f g h i j </answer>')).ok).toBe(true);
  });

  it("allows 'Assistant' and CJK inside a document block, not outside", () => {
    const docs = '<|begin_of_documents|> (1) Assistant : 乌尔姆 is ulm <|end_of_documents|>';
    const inside = ' find' + search('kovar', docs) + finish('ulm');
    expect(checkFormat(inside)).toEqual({ ok: true, violations: [] });
    const outside = inside.replace(' so </think>', ' Assistant: 乌 so </think>');
    expect(checkFormat(outside).violations).toEqual([
      '"Assistant" written outside the documents (a new turn)',
      'CJK character "乌" written outside the documents',
    ]);
  });

  it('treats an unclosed document block as running to the end', () => {
    const r = checkFormat(WELL.replace('<|end_of_documents|>', '') + ' Assistant');
    expect(r.violations).toEqual([
      'search tags unbalanced: 1 <|begin_of_query|>, 1 <|end_of_query|>, 1 <|begin_of_documents|>, 0 <|end_of_documents|>',
    ]);
  });
});

describe('rewards (recipe.md section 6)', () => {
  const gold = { answers: ['ulm'] };
  // [name, completion, stage 1, stage 1 with answerBonus, stage 2 (penalty -2), stage 2 (penalty -1)]
  const table: [string, string, number, number, number, number][] = [
    ['search, right answer', WELL, 1, 2, 1, 1],
    ['no search, right answer', ' kovar lives in ulm' + finish('ulm'), 0.5, 1.5, 1, 1],
    ['search, wrong answer', ' find kovar' + search('kovar', DOCS_HIT) + finish('berlin'), 1, 0, 0, 0],
    // "city of ulm" vs "ulm": p 1/3, r 1, F1 0.5; Cover-EM right.
    ['search, partial answer', ' find kovar' + search('kovar', DOCS_HIT) + finish('the city of ulm'), 1, 2, 0.5, 0.5],
    ['search, right answer, two </think>', WELL.replace(' so', ' </think> so'), 0.5, 1.5, -1, 0],
    ['search, no answer tags', WELL.replace('<answer> ulm </answer>', 'ulm'), 0.5, -0.5, -2, -1],
    ['query cut off, nothing else', ' <|begin_of_query|> kovar <|end_of_query|>', 0, -1, -2, -1],
    ['no-hit search, right answer', ' find kovar' + search('kovar', DOCS_NONE) + finish('ulm'), 1, 2, 1, 1],
  ];

  it.each(table)('%s', (_name, completion, s1, s1Bonus, s2, s2Llama) => {
    expect(stage1Reward(completion, gold).reward).toBeCloseTo(s1, 12);
    expect(stage1Reward(completion, gold, { answerBonus: true }).reward).toBeCloseTo(s1Bonus, 12);
    expect(stage2Reward(completion, gold).reward).toBeCloseTo(s2, 12);
    expect(stage2Reward(completion, gold, { formatPenalty: -1 }).reward).toBeCloseTo(s2Llama, 12);
    for (const stage of [1, 2] as const) {
      const { reward, parts } = computeReward(stage, completion, gold);
      expect(reward).toBe(parts.retrieval + parts.format + parts.answer + parts.penalty);
    }
  });

  it('reports the parts of a reward', () => {
    const partial = ' find kovar' + search('kovar', DOCS_HIT) + finish('the city of ulm');
    expect(stage2Reward(partial, gold).parts).toEqual({
      retrieval: 0, format: 0, answer: 0.5, penalty: 0,
      f1: 0.5, em: false, coverEm: true, prediction: 'the city of ulm',
      formatOk: true, violations: [], retrievals: 1, docsFound: true, answerInDocs: true,
    });
    const broken = stage1Reward(WELL.replace(' so', ' </think> so'), gold).parts;
    expect(broken).toMatchObject({ retrieval: 0.5, format: 0, answer: 0, penalty: 0, f1: 1, em: true, formatOk: false });
    expect(broken.violations).toEqual(['</think> occurs 2 times (needs exactly 1)']);
    // Stage 2 with the answer tags missing: F1 0 although "ulm" is written.
    const noTags = stage2Reward(WELL.replace('<answer> ulm </answer>', 'ulm'), gold).parts;
    expect(noTags).toMatchObject({ f1: 0, em: false, coverEm: false, prediction: '', answer: 0, penalty: -2 });
    // Even against a gold that normalizes to "" (which an empty closed answer matches).
    expect(stage2Reward(WELL.replace('<answer> ulm </answer>', 'ulm'), { answers: ['the'] }).parts).toMatchObject({ em: false, coverEm: false });
    expect(stage2Reward(WELL.replace(' ulm </answer>', ' </answer>'), { answers: ['the'] }).parts).toMatchObject({ em: true, coverEm: true });
  });

  it("pays Stage 1's retrieval part only for documents found with retrievalReward 'found'", () => {
    const noHit = ' find kovar' + search('kovar', DOCS_NONE) + finish('ulm');
    expect(stage1Reward(noHit, gold, { retrievalReward: 'any' }).reward).toBe(1);
    expect(stage1Reward(noHit, gold, { retrievalReward: 'found' }).reward).toBe(0.5);
    expect(stage1Reward(WELL, gold, { retrievalReward: 'found' }).reward).toBe(1);
    // retrievedDocs, when given, decide over what the completion shows.
    const found = { answers: ['ulm'], retrievedDocs: [['kovar : kovar was born in ulm .']] };
    expect(stage1Reward(noHit, found, { retrievalReward: 'found' }).reward).toBe(1);
    expect(stage1Reward(WELL, { answers: ['ulm'], retrievedDocs: [[]] }, { retrievalReward: 'found' }).reward).toBe(0.5);
    // No search at all: nothing to pay, found or not.
    expect(stage1Reward(' kovar lives in ulm' + finish('ulm'), found, { retrievalReward: 'found' }).parts.retrieval).toBe(0);
  });

  it("pays Stage 1's format part only with its retrieval part under formatNeedsSearch", () => {
    const needs = { formatNeedsSearch: true };
    // The shortcut a base that rarely searches finds: well-formed, no search.
    const noSearch = ' kovar lives in ulm' + finish('ulm');
    expect(stage1Reward(noSearch, gold).parts).toMatchObject({ retrieval: 0, format: 0.5 });
    expect(stage1Reward(noSearch, gold, needs).parts).toMatchObject({ retrieval: 0, format: 0, formatOk: true });
    expect(stage1Reward(WELL, gold, needs).reward).toBe(1);
    // A search without the retrieval part (nothing found under 'found') loses the format part too.
    const noHit = ' find kovar' + search('kovar', DOCS_NONE) + finish('ulm');
    expect(stage1Reward(noHit, gold, { ...needs, retrievalReward: 'found' }).reward).toBe(0);
    expect(stage1Reward(noHit, gold, { retrievalReward: 'found' }).reward).toBe(0.5);
    // A malformed search keeps its retrieval part.
    expect(stage1Reward(WELL.replace(' so', ' </think> so'), gold, needs).parts).toMatchObject({ retrieval: 0.5, format: 0 });
    // Stage 2 ignores it.
    expect(stage2Reward(noSearch, gold, needs).reward).toBe(1);
  });

  it('measures docsFound and answerInDocs', () => {
    const noHit = ' find kovar' + search('kovar', DOCS_NONE) + finish('ulm');
    expect(stage2Reward(noHit, gold).parts).toMatchObject({ docsFound: false, answerInDocs: false });
    expect(stage2Reward(WELL, { answers: ['berlin'] }).parts).toMatchObject({ docsFound: true, answerInDocs: false });
    expect(stage2Reward(WELL, { answers: ['berlin', 'ulm is a city'] }).parts.answerInDocs).toBe(true);
    // Document numbering is not text: gold "2" is not found in "(1) ... (2) ...".
    expect(stage2Reward(WELL, { answers: ['2'] }).parts.answerInDocs).toBe(false);
    const docs = { answers: ['ulm'], retrievedDocs: [['berlin is big'], []] };
    expect(stage2Reward(WELL, docs).parts).toMatchObject({ docsFound: true, answerInDocs: false });
  });

  it('penalizes a wrong answer read nowhere, with ungroundedPenalty only', () => {
    const q = { answers: ['ulm'], question: 'Where was Kovar born?' };
    const answer = (a: string, docs = DOCS_HIT) => ' find kovar' + search('kovar', docs) + finish(a);
    const s2 = (c: string) => stage2Reward(c, q, { ungroundedPenalty: -0.5 });
    // Wrong and in no document nor the question: F1 0, penalty -0.5.
    expect(s2(answer('berlin')).reward).toBe(-0.5);
    expect(s2(answer('berlin')).parts).toMatchObject({ answer: 0, penalty: -0.5, f1: 0 });
    // One word read, one not: still nowhere as a whole.
    expect(s2(answer('kovar berlin')).reward).toBe(-0.5);
    // Wrong but read: from the documents ("kovar", a document's title), from the question ("where").
    expect(s2(answer('kovar')).reward).toBe(0);
    expect(s2(answer('where')).reward).toBe(0);
    // A right answer is never penalized, even when no document holds it.
    expect(s2(answer('ulm', DOCS_NONE)).reward).toBe(1);
    // Partly right (F1 > 0) is not penalized either.
    expect(s2(answer('ulm berlin', DOCS_NONE)).reward).toBeCloseTo(2 / 3, 12);
    // No answer: the format penalty only.
    expect(s2(answer('ulm').replace('<answer> ulm </answer>', '')).reward).toBe(-2);
    // Both penalties add up on a malformed guess.
    expect(s2(answer('berlin').replace(' so', ' </think> so')).reward).toBe(-2.5);
    // Off by default (the paper's reward), and in Stage 1.
    expect(stage2Reward(answer('berlin'), q).reward).toBe(0);
    expect(stage1Reward(answer('berlin'), q, { ungroundedPenalty: -0.5 }).parts.penalty).toBe(0);
    // The documents the rollout passes are what counts, not the completion's blocks.
    expect(stage2Reward(answer('berlin'), { ...q, retrievedDocs: [['kovar went to berlin']] }, { ungroundedPenalty: -0.5 }).reward).toBe(0);
  });

  it('takes the best gold answer', () => {
    const c = ' find' + search('kovar', DOCS_HIT) + finish('ulm donau');
    expect(stage2Reward(c, { answers: ['ulm', 'Ulm an der Donau'] }).reward).toBeCloseTo(0.8, 12);
  });

  it('validates settings, samples and the stage, naming what was wrong', () => {
    expect(resolveRewardSettings()).toEqual(DEFAULT_REWARD_SETTINGS);
    expect(DEFAULT_REWARD_SETTINGS).toEqual({ retrievalReward: 'any', answerBonus: false, formatNeedsSearch: false, formatPenalty: -2, ungroundedPenalty: 0 });
    expect(() => stage2Reward(WELL, gold, { ungroundedPenalty: 0.5 })).toThrow(/ungroundedPenalty must be a finite number <= 0, got 0.5/);
    expect(() => stage2Reward(WELL, gold, { ungroundedPenalty: -Infinity })).toThrow(/ungroundedPenalty/);
    expect(() => stage1Reward(WELL, gold, { formatNeedsSearch: 'yes' as unknown as boolean })).toThrow(/formatNeedsSearch/);
    expect(() => stage2Reward(WELL, gold, { formatPenalty: 1 })).toThrow(/formatPenalty must be a finite number <= 0, got 1/);
    expect(() => stage2Reward(WELL, gold, { formatPenalty: NaN })).toThrow(/formatPenalty/);
    expect(() => stage1Reward(WELL, gold, { retrievalReward: 'some' as unknown as 'any' })).toThrow(/retrievalReward must be one of 'any', 'found', 'relevant'/);
    expect(() => stage1Reward(WELL, gold, { answerBonus: 1 as unknown as boolean })).toThrow(/answerBonus/);
    expect(() => stage1Reward(WELL, gold, { formatPenality: -1 } as object)).toThrow(/unknown reward setting "formatPenality"/);
    expect(() => stage2Reward(WELL, { answers: [] })).toThrow(/answers must be a non-empty array/);
    expect(() => stage2Reward(WELL, { answers: ['ulm'], retrievedDocs: [['a', 3 as unknown as string]] })).toThrow(/retrievedDocs\[0\]\[1\]/);
    expect(() => computeReward(3 as unknown as 1, WELL, gold)).toThrow(/stage must be 1 or 2, got 3/);
  });
});

describe('reward CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'reward-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, lines: string[]) => {
    const path = join(dir, name);
    writeFileSync(path, lines.join('\n') + '\n');
    return path;
  };
  const line = (completion: string, answers: unknown[], extra: object = {}) => JSON.stringify({ completion, answers, ...extra });

  /** Runs the command in-process and returns what it printed (and the error, if any). */
  async function runCaptured(argv: string[]): Promise<{ out: string; error?: Error }> {
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    try {
      await runRewardCli(argv);
      return { out };
    } catch (e) {
      return { out, error: e as Error };
    } finally {
      spy.mockRestore();
    }
  }

  const good = file('good.jsonl', [
    line(WELL, ['ulm']),
    '',
    line(WELL.replace(' so', ' </think> so'), ['Ulm'], { question: 'ignored' }),
    line(' find' + search('kovar', DOCS_NONE) + finish('yes'), [true]),
  ]);

  it('prints one JSON line per input line (stage 2, penalty -1)', async () => {
    const { out, error } = await runCaptured(['--stage', '2', '--input', good, '--format-penalty', '-1']);
    expect(error).toBeUndefined();
    expect(out.trimEnd().split('\n').map((l) => JSON.parse(l))).toEqual([
      { reward: 1, f1: 1, em: true, coverEm: true, formatOk: true, retrievals: 1 },
      { reward: 0, f1: 1, em: true, coverEm: true, formatOk: false, retrievals: 1 },
      { reward: 1, f1: 1, em: true, coverEm: true, formatOk: true, retrievals: 1 },
    ]);
  });

  it('applies --ungrounded-penalty in stage 2 only', async () => {
    const guesses = file('guesses.jsonl', [
      line(' find' + search('kovar', DOCS_HIT) + finish('berlin'), ['ulm'], { question: 'Where was Kovar born?' }),
      line(' find' + search('kovar', DOCS_HIT) + finish('kovar'), ['ulm'], { question: 'Where was Kovar born?' }),
    ]);
    const { out, error } = await runCaptured(['--stage', '2', '--input', guesses, '--ungrounded-penalty', '-0.25']);
    expect(error).toBeUndefined();
    expect(out.trimEnd().split('\n').map((l) => JSON.parse(l).reward)).toEqual([-0.25, 0]);
    expect((await runCaptured(['--stage', '1', '--input', guesses, '--ungrounded-penalty', '-0.25'])).error?.message).toMatch(/--ungrounded-penalty applies to --stage 2 only/);
    expect((await runCaptured(['--stage', '2', '--input', guesses, '--ungrounded-penalty', '0.5'])).error?.message).toMatch(/ungroundedPenalty must be a finite number <= 0/);
  });

  it("applies --retrieval-reward found in stage 1", async () => {
    const { out } = await runCaptured(['--stage', '1', '--input', good, '--retrieval-reward', 'found', '--json']);
    expect(out.trimEnd().split('\n').map((l) => JSON.parse(l).reward)).toEqual([1, 0.5, 0.5]);
  });

  it('stops at a bad line with its number, leaving earlier lines whole', async () => {
    const bad = file('bad.jsonl', [line(WELL, ['ulm']), JSON.stringify({ completion: WELL }), line(WELL, ['ulm'])]);
    const { out, error } = await runCaptured(['--stage', '2', '--input', bad]);
    expect(error?.message).toMatch(/line 2: "answers" must be a non-empty array of strings/);
    expect(out).toBe('{"reward":1,"f1":1,"em":true,"coverEm":true,"formatOk":true,"retrievals":1}\n');
    const notJson = file('notjson.jsonl', [line(WELL, ['ulm']), '', '{"completion": ']);
    expect((await runCaptured(['--stage', '2', '--input', notJson])).error?.message).toMatch(/line 3: not valid JSON/);
  });

  it('refuses bad flags with a clear message', async () => {
    const err = async (argv: string[]) => (await runCaptured(argv)).error?.message;
    expect(await err(['--stage', '3', '--input', good])).toMatch(/--stage must be 1 or 2, got "3"/);
    expect(await err(['--input', good])).toMatch(/--stage must be 1 or 2, got nothing/);
    expect(await err(['--stage', '2'])).toMatch(/--input FILE is required/);
    expect(await err(['--stage', '2', '--input', good, '--format-penalty', '2'])).toMatch(/formatPenalty must be a finite number <= 0/);
    expect(await err(['--stage', '2', '--input', good, '--format-penalty', 'abc'])).toMatch(/--format-penalty must be a number/);
    expect(await err(['--stage', '1', '--input', good, '--retrieval-reward', 'some'])).toMatch(/retrievalReward must be one of 'any', 'found', 'relevant'/);
    expect(await err(['--stage', '2', '--input', good, '--retrieval-reward', 'found'])).toMatch(/applies to --stage 1 only/);
    expect(await err(['--stage', '2', '--input', join(dir, 'missing.jsonl')])).toMatch(/cannot read --input/);
  });

  it('exits 1 through the dispatcher on a bad line', () => {
    const bad = file('bad-spawn.jsonl', [line(WELL, ['ulm']), '[1, 2]']);
    const root = resolve(import.meta.dirname, '../..');
    const r = spawnSync('npx', ['tsx', 'src/cli/main.ts', 'reward', '--stage', '1', '--input', bad], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('{"reward":1,"f1":1,"em":true,"coverEm":true,"formatOk":true,"retrievals":1}\n');
    expect(r.stderr).toMatch(/error: reward: .*bad-spawn\.jsonl line 2: not a JSON object/);
  });
});
