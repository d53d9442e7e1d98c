/**
 * The pieces issue 15 added to make a second search and reading learnable, and to diagnose them:
 * the `chain` prompt's skeleton, Stage 1's `relevant` retrieval reward, the search trace of a
 * completion, the search diagnosis, balanced hop sampling and the `oracle` evaluation mode.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { openPack, packTokenizer, type PackContext } from '../../src/cli/common.ts';
import { defaultEvalSettings, evaluate } from '../../src/eval/evaluate.ts';
import { answerSource, bridgeIdsOf, diagnoseSearches, summarizeSearches } from '../../src/rl/search-diagnostics.ts';
import { retrievalCount, searchTurns } from '../../src/protocol/format.ts';
import { contentWords, getPromptPreset, renderPrompt } from '../../src/protocol/prompts.ts';
import { followsLead, queriesRelevant, stage1Reward } from '../../src/rl/rewards.ts';
import { pickBalanced } from '../../src/rl/question-sampler.ts';
import type { Question } from '../../src/corpus/types.ts';
import type { Tokenizer } from '../../src/tokenizer/tokenizer.ts';
import * as T from '../../src/protocol/tags.ts';
import { Rng } from '../../src/util/rng.ts';
import { kreimponLlama } from './helpers/scripted-llama.ts';

const Q = (q: string) => `${T.QUERY_OPEN} ${q} ${T.QUERY_CLOSE}`;
const D = (d: string) => `${T.DOCS_OPEN} ${d} ${T.DOCS_CLOSE}`;
const END = (a: string) => `${T.THINK_CLOSE} ${T.ANSWER_OPEN} ${a} ${T.ANSWER_CLOSE}`;

describe('the chain prompt', () => {
  const names = ['brel', 'skoda', 'mip', 'tarnu', '1894'];
  const render = (seed: number) => renderPrompt(getPromptPreset('chain'), 'Where was the author of Kovar born?', new Rng(seed), { answerWords: names });

  it('shows one to three searches; a later query and the answer copy the name of the documents before them', () => {
    const counts = new Set<number>();
    for (let seed = 1; seed <= 60; seed++) {
      const text = render(seed);
      const skeleton = text.slice(text.indexOf(T.THINK_OPEN), text.lastIndexOf(T.THINK_OPEN));
      const turns = searchTurns(skeleton);
      counts.add(turns.length);
      expect(turns.length).toBe(retrievalCount(skeleton));
      expect(turns[0]!.query).toBe('kovar'); // the only content word of the question
      turns.forEach((t, k) => {
        const name = t.documents.split(' ').find((w) => names.includes(w));
        expect(name, text).toBeDefined();
        if (k + 1 < turns.length) {
          expect(turns[k + 1]!.query).toBe(name);
          expect(name).not.toMatch(/^\d+$/); // a query never holds a year
        } else {
          expect(skeleton + text.slice(text.lastIndexOf(T.THINK_OPEN))).toContain(`${T.ANSWER_OPEN} ${name} ${T.ANSWER_CLOSE}`);
        }
      });
    }
    expect([...counts].sort()).toEqual([1, 2, 3]);
  });

  it("uses only the compact preset's words (so world vocabularies keep their token ids)", () => {
    const words = (t: string) => new Set(t.replace(/\{[a-z]+\}/g, ' ').split(/\s+/).filter(Boolean));
    const compact = words(getPromptPreset('compact').template);
    for (const w of words(getPromptPreset('chain').template)) expect(compact.has(w), w).toBe(true);
  });

  it('is the same for the same seed, and leaves the compact preset as it was', () => {
    expect(render(7)).toBe(render(7));
    // The compact rendering every earlier run used (query, documents, answer drawn in this order).
    expect(renderPrompt(getPromptPreset('compact'), 'Where was Kreimpon born?', new Rng(1), { answerWords: ['brel'] })).toBe(
      'question : Where was Kreimpon born? answer the question . search if needed , in this format : <think> <|begin_of_query|> kreimpon ' +
        '<|end_of_query|> <|begin_of_documents|> evidence documents key value <|end_of_documents|> </think> <answer> brel </answer> . <think>',
    );
  });
});

describe("Stage 1's relevant retrieval reward", () => {
  const question = 'Where was the author of Kovar born?';
  const sample = (docs: string[][]) => ({ answers: ['tarnu'], question, retrievedDocs: docs });

  it('pays a query that names the question, not a constant one that also finds documents', () => {
    const good = `${Q('kovar')} ${D('( 1 ) kovar : kovar was written by brel .')} ${END('brel')}`;
    const constant = `${Q('to')} ${D('( 1 ) gopu : people who worked for gopu went to tarnu .')} ${END('brel')}`;
    const name = `${Q('skoda')} ${D('( 1 ) skoda : skoda was born in tarnu .')} ${END('tarnu')}`;
    expect(stage1Reward(good, sample([['kovar: kovar was written by brel .']]), { retrievalReward: 'relevant' }).parts.retrieval).toBe(0.5);
    expect(stage1Reward(constant, sample([['gopu: people who worked for gopu went to tarnu .']]), { retrievalReward: 'relevant' }).parts.retrieval).toBe(0);
    expect(stage1Reward(name, sample([['skoda: skoda was born in tarnu .']]), { retrievalReward: 'relevant' }).parts.retrieval).toBe(0);
    // The same constant query is paid under 'found' (the collapse issue 15 measured).
    expect(stage1Reward(constant, sample([['gopu: people who worked for gopu went to tarnu .']]), { retrievalReward: 'found' }).parts.retrieval).toBe(0.5);
  });

  it('lets a later query take a name from the documents already retrieved, and nothing else', () => {
    const chained = `${Q('kovar')} ${D('( 1 ) kovar : kovar was written by brel .')} ${Q('brel')} ${D('( 1 ) brel : brel was born in tarnu .')} ${END('tarnu')}`;
    expect(queriesRelevant(chained, question)).toBe(true);
    expect(queriesRelevant(chained, question, [['kovar: kovar was written by brel .'], ['brel: brel was born in tarnu .']])).toBe(true);
    const jump = `${Q('kovar')} ${D('( 1 ) kovar : kovar was written by brel .')} ${Q('mip')} ${D('( 1 ) mip : mip was born in tarnu .')} ${END('tarnu')}`;
    expect(queriesRelevant(jump, question)).toBe(false);
    expect(queriesRelevant(`${END('tarnu')}`, question)).toBe(false); // no search at all
  });

  it("'follow-up' pays half for an on-topic first search and half for a later query naming a lead of the documents", () => {
    const k = `${Q('kovar')} ${D('( 1 ) kovar : kovar was written by brel .')}`;
    const docs = (...ds: string[]) => ds.map((d) => [d]);
    const paid = (c: string, d: string[][]) => stage1Reward(c, sample(d), { retrievalReward: 'follow-up', formatNeedsSearch: true });
    const kovar = 'kovar: kovar was written by brel .', brel = 'brel: brel was born in tarnu .';
    // One on-topic search: half; a follow-up naming "brel" (read in the documents): all.
    expect(paid(`${k} ${END('brel')}`, docs(kovar)).parts.retrieval).toBe(0.25);
    expect(paid(`${k} ${Q('brel')} ${D('( 1 ) brel : brel was born in tarnu .')} ${END('tarnu')}`, docs(kovar, brel)).parts.retrieval).toBe(0.5);
    // Repeating the question's name, a name from nowhere, or a follow-up that found nothing: no second half, and no loss.
    expect(paid(`${k} ${Q('kovar')} ${D('( 1 ) kovar : kovar was written by brel .')} ${END('brel')}`, docs(kovar, kovar)).parts.retrieval).toBe(0.25);
    expect(paid(`${k} ${Q('mip')} ${D('( 1 ) mip : mip was born in tarnu .')} ${END('tarnu')}`, docs(kovar, 'mip: mip was born in tarnu .')).parts.retrieval).toBe(0.25);
    expect(paid(`${k} ${Q('brel')} ${D('none')} ${END('tarnu')}`, [[kovar], []]).parts.retrieval).toBe(0.25);
    // An off-topic first query earns nothing, follow-up or not (a constant query cannot pay).
    const off = paid(`${Q('skoda')} ${D('( 1 ) skoda : skoda knew brel .')} ${Q('brel')} ${D('( 1 ) brel : brel was born in tarnu .')} ${END('tarnu')}`, docs('skoda: skoda knew brel .', brel));
    expect(off.parts.retrieval).toBe(0);
    expect(off.reward).toBe(0);
    expect(paid(`${k} ${Q('brel')} ${D('( 1 ) brel : brel was born in tarnu .')} ${END('tarnu')}`, docs(kovar, brel)).reward).toBe(1);
    // Without the sample's documents, the completion's blocks are read.
    expect(followsLead(`${k} ${Q('brel')} ${D('( 1 ) brel : brel was born in tarnu .')} ${END('tarnu')}`, question)).toBe(true);
    expect(followsLead(`${k} ${Q('brel')} ${D('none')} ${END('tarnu')}`, question)).toBe(false);
    expect(() => stage1Reward(`${k} ${END('a')}`, { answers: ['a'] }, { retrievalReward: 'follow-up' })).toThrow(/question/);
  });

  it('needs the question', () => {
    expect(() => stage1Reward(`${Q('kovar')} ${D('x')} ${END('a')}`, { answers: ['a'] }, { retrievalReward: 'relevant' })).toThrow(/question/);
    expect(contentWords('Where was the author of Kovar born?')).toEqual(['kovar']);
  });
});

describe('search diagnosis', () => {
  it('counts searches, the answer in the first and last documents, and a bridge in a later query', () => {
    const trace = [
      { query: 'kovar', documents: ['kovar: kovar was written by brel .'] },
      { query: 'brel writer', documents: ['brel: brel was born in tarnu .'] },
    ];
    expect(diagnoseSearches(trace, ['tarnu'], ['Brel'])).toEqual({ searches: 2, answerInFirstDocs: false, answerInLastDocs: true, bridgeQueried: true });
    expect(diagnoseSearches(trace.slice(0, 1), ['tarnu'], ['Brel'])).toEqual({ searches: 1, answerInFirstDocs: false, answerInLastDocs: false, bridgeQueried: false });
    // "brelo" is another word: no bridge.
    expect(diagnoseSearches([trace[0]!, { query: 'brelo', documents: [] }], ['tarnu'], ['brel']).bridgeQueried).toBe(false);
    expect(diagnoseSearches([], ['tarnu']).bridgeQueried).toBeNull();
    // A 3-hop chain has two bridges: a later query naming the second one (the employer) counts.
    const hop3 = [trace[0]!, { query: 'teska', documents: ['teska: teska is based in koupe .'] }];
    expect(diagnoseSearches(hop3, ['koupe'], ['brel', 'teska']).bridgeQueried).toBe(true);
    expect(diagnoseSearches(hop3, ['koupe'], ['brel']).bridgeQueried).toBe(false);
    expect(bridgeIdsOf({ hops: 3, supportingIds: ['d1', 'd2', 'd3'] })).toEqual(['d2', 'd3']);
    expect(bridgeIdsOf({ hops: 2, supportingIds: ['d1', 'd2'] })).toEqual(['d2']);
    expect(bridgeIdsOf({ hops: 1, supportingIds: ['d1'] })).toEqual([]);
    expect(bridgeIdsOf({ hops: 2 })).toEqual([]);
    const s = summarizeSearches([diagnoseSearches(trace, ['tarnu'], ['brel']), diagnoseSearches(trace.slice(0, 1), ['tarnu'])]);
    expect(s).toEqual({ n: 2, searches: 1.5, multiSearch: 0.5, answerInFirstDocs: 0, answerInLastDocs: 0.5, bridgeQueried: 1 });
  });

  it('tells where a wrong answer came from', () => {
    expect(answerSource('Brel', 'kovar: kovar was written by brel .', 'who wrote kovar?')).toBe('documents');
    expect(answerSource('kovar', 'brel: brel was born in tarnu .', 'who wrote kovar?')).toBe('question');
    expect(answerSource('1853', 'daszo was born in 1894', 'when was daszo born?')).toBe('nowhere');
    expect(answerSource('', 'x', 'y')).toBe('empty');
  });
});

describe('balanced hop sampling', () => {
  const qs = Array.from({ length: 100 }, (_, i) => ({ id: `q${i}`, hops: i < 80 ? 1 : i < 95 ? 2 : 3 }) as Question);

  it('draws the hop counts in equal numbers, distinct within each', () => {
    const picked = pickBalanced(qs, [1, 2], 8, new Rng(1));
    expect(picked.filter((q) => q.hops === 1)).toHaveLength(4);
    expect(picked.filter((q) => q.hops === 2)).toHaveLength(4);
    expect(new Set(picked.map((q) => q.id)).size).toBe(8);
    const three = pickBalanced(qs, [1, 2, 3], 8, new Rng(2)).map((q) => q.hops);
    for (const h of [1, 2, 3]) expect(three.filter((x) => x === h).length).toBeGreaterThanOrEqual(2);
    expect(() => pickBalanced(qs, [4], 8, new Rng(1))).toThrow(/no question has 4 hops/);
  });
});

describe('oracle evaluation', () => {
  let ctx: PackContext;
  let tok: Tokenizer;
  beforeAll(async () => {
    ctx = await openPack('public/corpus/world');
    tok = await packTokenizer(ctx);
  });

  it("splices each question's supporting documents whatever the query, and finds the answer there", async () => {
    const model = kreimponLlama(tok);
    const qs = ctx.pack.questions.filter((q) => q.split === 'test' && q.hops === 1).slice(0, 4);
    const documents = new Map(ctx.pack.documents.map((d) => [d.id, d]));
    const s = { ...defaultEvalSettings('oracle'), maxNewTokens: 10, maxSearches: 1 };
    const oracle = await evaluate(model, tok, ctx.retriever, qs, s, undefined, documents);
    qs.forEach((q, i) => expect(oracle.records[i]!.searches[0]!.ids).toEqual(q.supportingIds));
    expect(oracle.overall.answerInDocs).toBe(1);
    // The search mode with the same policy finds Kreimpon's document instead.
    const search = await evaluate(model, tok, ctx.retriever, qs, { ...s, mode: 'search' }, undefined, documents);
    expect(search.records[0]!.searches[0]!.ids).not.toEqual(qs[0]!.supportingIds);
    // "shorhy" is in none of the oracle documents: every miss is an answer from nowhere.
    expect(oracle.overall.missedInDocs).toEqual({ n: 4, empty: 0, documents: 0, question: 0, nowhere: 4 });
    await expect(evaluate(model, tok, ctx.retriever, qs, s)).rejects.toThrow(/oracle mode needs/);
  });
});
