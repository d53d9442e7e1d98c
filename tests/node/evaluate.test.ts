/**
 * Evaluation modes on the world pack with a tiny random model: `naive` never searches, `rag`
 * puts exactly the top-k documents for the question in the prompt, `search` runs the rollout,
 * and the same checkpoint gives the same numbers twice.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { openPack, packTokenizer, type PackContext } from '../../src/cli/common.ts';
import { defaultEvalSettings, evaluate } from '../../src/eval/evaluate.ts';
import { kreimponLlama } from './helpers/scripted-llama.ts';
import type { Tokenizer } from '../../src/tokenizer/tokenizer.ts';
import { formatDocuments } from '../../src/protocol/splice.ts';
import * as T from '../../src/protocol/tags.ts';

let ctx: PackContext;
let tok: Tokenizer;

beforeAll(async () => {
  ctx = await openPack('public/corpus/world');
  tok = await packTokenizer(ctx);
});

const model = () => kreimponLlama(tok);

describe('evaluation modes', () => {
  it('naive never searches (a query ends the answer)', async () => {
    const qs = ctx.pack.questions.filter((q) => q.split === 'test').slice(0, 3);
    const r = await evaluate(model(), tok, ctx.retriever, qs, { ...defaultEvalSettings('naive'), maxNewTokens: 10 });
    expect(r.overall.searchesPerQuestion).toBe(0);
    expect(r.records.every((x) => x.finishReason === 'search-limit' && x.searches.length === 0)).toBe(true);
    expect(r.overall.coverEm).toBe(0);
  });

  it('rag places exactly the top-k documents for the question text in the prompt', async () => {
    const m = model();
    const qs = ctx.pack.questions.filter((q) => q.split === 'test').slice(0, 2);
    const r = await evaluate(m, tok, ctx.retriever, qs, { ...defaultEvalSettings('rag'), topK: 4, maxNewTokens: 6 });
    for (const [i, q] of qs.entries()) {
      const prompt = tok.decode(m.prompts[i]!);
      const hits = await ctx.retriever.search(q.question, 4);
      expect(prompt).toContain(`${T.DOCS_OPEN} ${formatDocuments(hits, 40)} ${T.DOCS_CLOSE}`);
      expect(prompt).not.toContain(formatDocuments((await ctx.retriever.search(q.question, 5)).slice(4), 40));
    }
    expect(r.overall.searchesPerQuestion).toBe(0);
  });

  it('rag drops the lowest-ranked documents when the top-k would leave no room for the answer', async () => {
    const q = ctx.pack.questions.filter((x) => x.split === 'test')[0]!;
    const hits = await ctx.retriever.search(q.question, 5);
    const m = model();
    await evaluate(m, tok, ctx.retriever, [q], { ...defaultEvalSettings('rag'), topK: 5, maxNewTokens: 6 });
    const withFive = tok.decode(m.prompts[0]!);
    // A budget that holds the prompt with 3 documents and the 6 answer tokens, not 4 documents.
    const withThree = withFive.replace(formatDocuments(hits, 40), formatDocuments(hits.slice(0, 3), 40));
    const budget = [tok.bosId, ...tok.encode(withThree)].length + 6;
    const cut = model();
    await evaluate(cut, tok, ctx.retriever, [q], { ...defaultEvalSettings('rag'), topK: 5, maxNewTokens: 6, maxLength: budget });
    expect(m.prompts[0]!.length + 6).toBeGreaterThan(budget);
    expect(tok.decode(cut.prompts[0]!)).toBe(withThree);
  });

  it('search mode runs the rollout, scores it, and is deterministic', async () => {
    const q = ctx.pack.questions.find((x) => x.question === 'Where was Kreimpon born?')!;
    const qs = [q, ...ctx.pack.questions.filter((x) => x.split === 'test').slice(0, 3)];
    const s = { ...defaultEvalSettings('search'), maxNewTokens: 10 };
    const a = await evaluate(model(), tok, ctx.retriever, qs, s);
    const b2 = await evaluate(model(), tok, ctx.retriever, qs, s);
    expect(a.records[0]!.prediction).toBe('shorhy');
    expect(a.records[0]!.coverEm).toBe(true);
    expect(a.records[0]!.searches[0]!.ids[0]).toBe(q.supportingIds[0]);
    expect(a.overall.searchesPerQuestion).toBe(1);
    expect(a.overall.supportRecall).toBe(0.25);
    expect(a.byTemplate.birthplace!.n).toBeGreaterThanOrEqual(1);
    expect(b2).toEqual(a);
  });
});
