/**
 * Special tokens of the vocabulary. Ids 0..11 are fixed in this order in every tokenizer we
 * build, so a checkpoint's special ids never move.
 *
 * The eight tags are those of recipe.md section 2. Each is ONE token here (the paper writes
 * them as plain text split into sub-word pieces; recipe.md section 10 explains the difference).
 */
export const PAD = '<pad>';
export const BOS = '<bos>';
export const EOS = '<eos>';
export const UNK = '<unk>';

export const THINK_OPEN = '<think>';
export const THINK_CLOSE = '</think>';
export const ANSWER_OPEN = '<answer>';
export const ANSWER_CLOSE = '</answer>';
export const QUERY_OPEN = '<|begin_of_query|>';
export const QUERY_CLOSE = '<|end_of_query|>';
export const DOCS_OPEN = '<|begin_of_documents|>';
export const DOCS_CLOSE = '<|end_of_documents|>';

/** The eight tags of recipe.md section 2, in trajectory order. */
export const TAGS = [
  THINK_OPEN,
  QUERY_OPEN,
  QUERY_CLOSE,
  DOCS_OPEN,
  DOCS_CLOSE,
  THINK_CLOSE,
  ANSWER_OPEN,
  ANSWER_CLOSE,
] as const;

/** Every special token, in id order (id = index). */
export const SPECIAL_TOKENS = [PAD, BOS, EOS, UNK, ...TAGS] as const;

export type SpecialToken = (typeof SPECIAL_TOKENS)[number];

/** Fixed ids of the special tokens (index into SPECIAL_TOKENS). */
export const SPECIAL_IDS: Readonly<Record<SpecialToken, number>> = Object.freeze(
  Object.fromEntries(SPECIAL_TOKENS.map((t, i) => [t, i])) as Record<SpecialToken, number>,
);
