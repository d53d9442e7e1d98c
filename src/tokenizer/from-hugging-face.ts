/** Reads any tokenizer the pipeline knows from a Hugging Face `tokenizer.json`. */
import { BpeTokenizer } from './bpe.ts';
import { ByteLevelBpeTokenizer, isByteLevelBpe, type SpecialIds } from './byte-level.ts';
import type { TextTokenizer } from './text-tokenizer.ts';
import { Tokenizer } from './tokenizer.ts';

/**
 * Reads a Hugging Face `tokenizer.json`: WordLevel or our BPE (special tokens at ids 0..11), or
 * a pretrained model's byte-level BPE (decoder ByteLevel; `special` gives its bos/eos/pad ids,
 * from config.json, where known).
 * @throws Error naming the field when it is none of them, or malformed (see each kind's reader).
 */
export function tokenizerFromHuggingFace(json: unknown, special: SpecialIds = {}): TextTokenizer {
  const type = (json as { model?: { type?: unknown } } | null)?.model?.type;
  if (isByteLevelBpe(json)) return new ByteLevelBpeTokenizer(json as Record<string, unknown>, special);
  if (type === 'BPE') return BpeTokenizer.fromHuggingFace(json);
  if (type === 'WordLevel') return Tokenizer.fromHuggingFace(json);
  if (!json || typeof json !== 'object') throw new Error('tokenizer.json: not a JSON object');
  throw new Error(`tokenizer.json: model.type must be "WordLevel" or "BPE", got ${JSON.stringify(type)}`);
}
