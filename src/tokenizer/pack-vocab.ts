/**
 * The vocabulary of a corpus pack: every word of its documents and questions, of the prompt
 * presets and of the rollout's document formatting, plus (for generated packs) the generator's
 * full word list, so that pretraining texts drawn from other worlds have no unknown words.
 */
import type { Pack } from '../corpus/types.ts';
import { FILLER_WORDS, PROMPT_PRESETS } from '../protocol/prompts.ts';
import { formatDocuments, NO_HITS } from '../protocol/splice.ts';
import { Tokenizer, buildVocabulary } from './tokenizer.ts';
import { trainBpe, type BpeTokenizer } from './bpe.ts';

/** Texts whose words every vocabulary needs, whatever the pack. */
export function fixedVocabularyTexts(): string[] {
  const numbered = formatDocuments(Array.from({ length: 10 }, () => ({ title: 't', text: 'x' })), 1);
  // Word counts order the vocabulary (so token ids); `chain` uses only `compact`'s words, and
  // counting its template too would renumber every world pack's tokens (tests/node/multihop.test.ts).
  const presets = Object.values(PROMPT_PRESETS).filter((p) => p.name !== 'chain');
  return [...presets.map((p) => p.template.replace(/\{[a-z]+\}/g, ' ')), FILLER_WORDS.join(' '), numbered, NO_HITS];
}

/**
 * Builds the tokenizer of a pack. `extraWords` (e.g. the pack's words.txt, one word per line)
 * are added once each. `maxWords` caps the vocabulary of large real corpora (rare words become
 * `<unk>`; the fixed texts are always kept).
 */
export function buildPackTokenizer(pack: Pack, opts: { extraWords?: string; maxWords?: number } = {}): Tokenizer {
  const fixed = buildVocabulary(fixedVocabularyTexts());
  const texts = function* () {
    for (const d of pack.documents) yield `${d.title} ${d.text}`;
    for (const q of pack.questions) yield `${q.question} ${q.answers.join(' ')}`;
    if (opts.extraWords) yield opts.extraWords;
  };
  const words = buildVocabulary(texts(), { maxWords: opts.maxWords });
  const seen = new Set(fixed);
  return Tokenizer.fromWords([...fixed, ...words.filter((w) => !seen.has(w))]);
}

/**
 * A BPE tokenizer of `vocabSize` tokens for a real corpus (src/tokenizer/bpe.ts), learnt from its
 * paragraphs, its questions and answers, and the texts every vocabulary needs (prompt presets,
 * document formatting), so the tags' surroundings encode compactly.
 */
export function packBpeTokenizer(pack: Pack, vocabSize = 8000): BpeTokenizer {
  const texts = function* () {
    yield* fixedVocabularyTexts();
    for (const d of pack.documents) yield `${d.title} : ${d.text}`;
    for (const q of pack.questions) yield `${q.question} ${q.answers.join(' ')}`;
  };
  return trainBpe(texts(), { vocabSize });
}
