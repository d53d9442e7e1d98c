/**
 * Stage 0 on a real (imported) pack: the sampler's three kinds, the test/ood evidence kept out,
 * the answer span on `<answer> A </answer>`; and encodeSample with a BPE tokenizer, where a word
 * may be several tokens: every token of an answer word gets the answer weight, and the word-level
 * tokenizer gives exactly the one-token-per-word encoding.
 */
import { describe, expect, it } from 'vitest';
import type { Pack, Question } from '../../src/corpus/types.ts';
import { createPackStage0Sampler } from '../../src/stage0/pack-mix.ts';
import { answerSpanOf, documentSpansOf, followUpQuerySpansOf } from '../../src/protocol/splice.ts';
import { defaultPretrainSettings, encodeSample, Pretrainer } from '../../src/stage0/pretrain.ts';
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.ts';
import { presetConfig } from '../../src/model/config.ts';
import { Llama, packSequences } from '../../src/model/llama.ts';
import { AdamW, learningRate } from '../../src/model/optimizer.ts';
import { initParams, zerosLike } from '../../src/model/params.ts';
import { trainBpe } from '../../src/tokenizer/bpe.ts';
import { Tokenizer } from '../../src/tokenizer/tokenizer.ts';
import { normalizeText } from '../../src/protocol/normalize.ts';

const q = (id: string, split: Question['split'], supportingIds: string[], question: string, answer: string): Question =>
  ({ id, question, answers: [answer], hops: 2, template: 'hotpotqa/bridge', split, supportingIds });

const PACK: Pack = {
  manifest: { name: 'mini' } as Pack['manifest'],
  documents: [
    { id: 'd1', title: 'Ann Lomi', text: 'Ann Lomi was born in Kovar in 1901.' },
    { id: 'd2', title: 'Kovar', text: 'Kovar is a town on the river Lenn.' },
    { id: 'd3', title: 'Lenn', text: 'The Lenn flows north into the sea.' },
    { id: 'd4', title: 'Bo Reyes', text: 'Bo Reyes was born in Maraville.' },
  ],
  questions: [
    q('q1', 'train', ['d1'], 'Where was Ann Lomi born?', 'Kovar'),
    q('q2', 'train', ['d1', 'd2'], 'Which river runs through the birthplace of Ann Lomi?', 'Lenn'),
    q('q3', 'test', ['d4'], 'Where was Bo Reyes born?', 'Maraville'),
  ],
};

describe('Stage 0 on an imported pack', () => {
  it('draws documents (never test/ood evidence), reading passages with their answer span, and prompts', () => {
    const s = createPackStage0Sampler(PACK, { rngSeed: 3 });
    const samples = Array.from({ length: 300 }, () => s.next());
    const kinds = new Set(samples.map((x) => x.kind));
    expect(kinds).toEqual(new Set(['document', 'reading', 'prompt']));
    for (const x of samples) {
      expect(x.text).not.toMatch(/Bo Reyes|Maraville/i); // q3 is a test question: its evidence and its text stay out
      if (x.kind === 'reading') {
        const words = x.text.split(' ');
        expect(words.slice(x.answerSpan!.start, x.answerSpan!.end)).toEqual(x.text.includes('which river') ? ['<answer>', 'lenn', '</answer>'] : ['<answer>', 'kovar', '</answer>']);
        expect(x.text).toContain('ann lomi was born in kovar'); // both train questions are supported by d1
      }
      if (x.kind === 'prompt') expect(x.text).toMatch(/<\|begin_of_query\|>/);
    }
    const again = createPackStage0Sampler(PACK, { rngSeed: 3 });
    expect(Array.from({ length: 300 }, () => again.next())).toEqual(samples);
    expect(() => createPackStage0Sampler({ ...PACK, questions: PACK.questions.map((x) => ({ ...x, split: 'test' as const })) }, { rngSeed: 1 }))
      .toThrow(/no train question with a supporting paragraph|every paragraph/);
  });

  it('encodeSample weights every token of an answer word; word-level keeps one token per word', () => {
    const text = 'question : where was ann lomi born ? <answer> kovarville </answer>';
    const words = normalizeText(text).split(' ');
    const span = { start: words.indexOf('<answer>'), end: words.indexOf('</answer>') + 1 };
    const bpe = trainBpe(['ann lomi was born in kovar . the town of kovar lies on the lenn . where was ann born ?'], { vocabSize: 60 });
    const e = encodeSample(bpe, { kind: 'reading', text, answerSpan: span }, 256, 5);
    expect(e.ids).toEqual([bpe.bosId, ...bpe.encode(text), bpe.eosId]);
    const answerTokens = bpe.encodeWords(['<answer>', 'kovarville', '</answer>']).flat();
    expect(answerTokens.length).toBeGreaterThan(3); // "kovarville" is several subwords
    const weighted = e.ids.filter((_, i) => e.weights[i] === 5);
    expect(weighted).toEqual(answerTokens);
    expect(e.weights.filter((w) => w !== 1 && w !== 5)).toEqual([]);

    const word = Tokenizer.fromWords(words);
    const w = encodeSample(word, { kind: 'reading', text, answerSpan: span }, 256, 5);
    expect(w.ids).toEqual([word.bosId, ...word.encode(text), word.eosId]);
    expect(w.weights).toEqual([1, ...words.map((_, i) => (i >= span.start && i < span.end ? 5 : 1)), 1]);
    // Spliced documents are context only: weight 0 from <|begin_of_documents|> through <|end_of_documents|>.
    const passage = 'question : where was ann lomi born ? <think> <|begin_of_documents|> ( 1 ) ann lomi : born in kovar <|end_of_documents|> </think> <answer> kovar </answer>';
    const pw = passage.split(' ');
    const vocab = Tokenizer.fromWords(pw);
    const spans = documentSpansOf(passage);
    expect(spans).toEqual([{ start: pw.indexOf('<|begin_of_documents|>'), end: pw.indexOf('<|end_of_documents|>') + 1 }]);
    const c = encodeSample(vocab, { kind: 'reading', text: passage, answerSpan: answerSpanOf(passage), contextSpans: spans }, 256, 5);
    expect(c.weights).toEqual([1, ...pw.map((_, i) => (i >= spans[0]!.start && i < spans[0]!.end ? 0 : i >= pw.length - 3 ? 5 : 1)), 1]);
    // A prompt ends open (no <eos>); a long text is cut to maxLength.
    expect(encodeSample(word, { kind: 'prompt', text }, 4, 5).ids).toEqual([word.bosId, ...word.encode(text).slice(0, 3)]);
  });

  it('follow-up queries: only the words of a query right after a document block past the last <think>, weighted like the answer', () => {
    const passage = 'format : <think> <|begin_of_query|> x <|end_of_query|> <|begin_of_documents|> d <|end_of_documents|> <|begin_of_query|> y <|end_of_query|> </think>'
      + ' question : who ? <think> <|begin_of_query|> ann lomi <|end_of_query|> <|begin_of_documents|> ( 1 ) ann lomi : wrote bo <|end_of_documents|>'
      + ' <|begin_of_query|> bo <|end_of_query|> <|begin_of_documents|> ( 1 ) bo : in kovar <|end_of_documents|> </think> <answer> kovar </answer>';
    const pw = passage.split(' ');
    const spans = followUpQuerySpansOf(passage);
    const bo = pw.findIndex((w, k) => w === 'bo' && pw[k - 1] === '<|begin_of_query|>');
    expect(spans).toEqual([{ start: bo, end: bo + 1 }]); // not the skeleton's "y", not the first query
    expect(followUpQuerySpansOf('question : q <think> <|begin_of_query|> a <|end_of_query|> </think>')).toEqual([]);
    const vocab = Tokenizer.fromWords(pw);
    const c = encodeSample(vocab, { kind: 'reading', text: passage, answerSpan: answerSpanOf(passage), contextSpans: documentSpansOf(passage), weightedSpans: spans }, 256, 5);
    expect(c.weights[1 + bo]).toBe(5);
    expect(c.weights.filter((w) => w === 5)).toHaveLength(4); // bo, <answer> kovar </answer>
  });
});

describe('Stage 0 step: context rows are not scored', () => {
  it('a step on spliced passages (weight-0 document rows left out of the head) gives the weights of a step scoring every row', async () => {
    const b = new CpuBackend();
    const passages = [
      'question : where was ann lomi born ? <think> <|begin_of_query|> ann lomi <|end_of_query|> <|begin_of_documents|> ( 1 ) ann lomi : born in kovar in 1901 <|end_of_documents|> </think> <answer> kovar </answer>',
      'question : when was bo reyes born ? <think> <|begin_of_query|> bo reyes <|end_of_query|> <|begin_of_documents|> ( 1 ) bo reyes : born in mara in 1877 ( 2 ) ann lomi : born in kovar <|end_of_documents|> </think> <answer> 1877 </answer>',
      'ann lomi was born in kovar . bo reyes was born in mara .',
    ];
    const vocab = Tokenizer.fromWords([...new Set(passages.join(' ').split(' '))]);
    const samples = passages.map((text, i) => i < 2 ? { kind: 'reading', text, answerSpan: answerSpanOf(text), contextSpans: documentSpansOf(text) } : { kind: 'document', text });
    const config = { ...presetConfig('nano', vocab.size), hiddenSize: 16, intermediateSize: 24, numLayers: 2, numHeads: 2 };
    // microBatchTokens 64: the three texts go in two forward/backward passes.
    const settings = { ...defaultPretrainSettings(), steps: 1, batchSize: 3, warmup: 0, microBatchTokens: 64 };
    let k = 0;
    const pre = new Pretrainer(b, config, initParams(b, config, 5), vocab, { next: () => samples[k++ % 3]! }, settings);
    await pre.runStep();
    // The reference scores every row, the context rows with weight 0 (the loss and gradient
    // they add are exact zeros), then takes the same AdamW step.
    const params = initParams(b, config, 5), grads = zerosLike(b, config), model = new Llama(b, config, params);
    const seqs = samples.map((s) => encodeSample(vocab, s, settings.maxLength, settings.answerWeight));
    expect(seqs.slice(0, 2).every((q) => q.weights.includes(0))).toBe(true);
    const total = seqs.reduce((a, q) => a + q.weights.slice(1).reduce((x, y) => x + y, 0), 0);
    const loss = b.zeros([1]);
    for (const micro of [seqs.slice(0, 1), seqs.slice(1)]) {
      const batch = packSequences(micro.map((q) => q.ids), () => true);
      const w = Float32Array.from(micro.flatMap((q) => q.weights.slice(1).map((x) => x / total)));
      const st = model.forward(batch), dLp = b.zeros([w.length]);
      b.nllLoss(st.logProbs, b.fromArray(w, [w.length]), loss, dLp);
      model.backward(st, dLp, grads);
    }
    const lr = learningRate(settings.optimizer.lr, 0, { warmup: 0, total: 1, minRatio: settings.lrMinRatio });
    await new AdamW(b, config, settings.optimizer).updateIfFinite(params, grads, lr, loss);
    for (const [name, t] of params) expect(Array.from(b.view(pre.model.params.get(name)!)), name).toEqual(Array.from(b.view(t)));
  });
});
