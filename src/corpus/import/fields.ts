/**
 * Field readers shared by the format modules: each returns a clean value or throws a
 * {@link RecordError} whose reason is the one the import report counts.
 */
import { RecordError, type Paragraph, type RejectReason } from './types.ts';

/** Whitespace as Python's `str.split()` sees it: JavaScript's `\s` less U+FEFF (a zero-width no-break space). */
const SPACE_RUN = /[^\S\ufeff]+/g;

/**
 * Collapses runs of whitespace to one space and trims (the sample files' paragraph form). U+FEFF
 * is kept, as the sample's own collapsing (and its paragraph ids, `doc-id.ts`) kept it.
 */
export function collapseSpace(s: string): string {
  return s.replace(SPACE_RUN, ' ').replace(/^ | $/g, '');
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A short description of a JSON value for messages. */
export function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'string') return v.trim() === '' ? 'an empty string' : `a string`;
  return `a ${typeof v}`;
}

/** The question text of `record[field]`: a non-blank string, whitespace collapsed. */
export function questionText(record: Record<string, unknown>, field: string): string {
  const v = record[field];
  if (typeof v !== 'string' || v.trim() === '') {
    throw new RecordError('missing-question', `field "${field}" must be a non-empty string, got ${describe(v)}`);
  }
  return collapseSpace(v);
}

/**
 * Gold answers from one field or several (`answer` plus `answer_aliases`...): strings or
 * numbers (a year stored as a number), each collapsed; blanks dropped, duplicates dropped.
 * @throws RecordError('missing-answer') when nothing usable is left; ('bad-field') for other types.
 */
export function answerList(record: Record<string, unknown>, fields: readonly string[]): string[] {
  const out: string[] = [];
  for (const field of fields) {
    const v = record[field];
    if (v === undefined || v === null) continue;
    const items = Array.isArray(v) ? v : [v];
    for (const a of items) {
      if (typeof a === 'number' && Number.isFinite(a)) out.push(String(a));
      else if (typeof a === 'boolean') out.push(a ? 'yes' : 'no'); // recipe.md section 4: True -> yes
      else if (typeof a === 'string') out.push(collapseSpace(a));
      else throw new RecordError('bad-field', `field "${field}" must hold answer strings, got ${describe(a)}`);
    }
  }
  const answers = [...new Set(out.filter((a) => a !== ''))];
  if (answers.length === 0) {
    throw new RecordError('missing-answer', `no answer: ${fields.map((f) => `"${f}"`).join(' / ')} ${fields.length > 1 ? 'are' : 'is'} missing or empty`);
  }
  return answers;
}

/** An optional id: string or integer, else undefined; anything else is a bad field. */
export function optionalId(record: Record<string, unknown>, ...fields: string[]): string | undefined {
  for (const field of fields) {
    const v = record[field];
    if (v === undefined || v === null) continue;
    if (typeof v === 'string' && v.trim() !== '') return v.trim();
    if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
    throw new RecordError('bad-field', `field "${field}" must be a non-empty string or an integer, got ${describe(v)}`);
  }
  return undefined;
}

/** An optional string field (type names...); a non-string is a bad field. */
export function optionalString(record: Record<string, unknown>, field: string): string | undefined {
  const v = record[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new RecordError('bad-field', `field "${field}" must be a string, got ${describe(v)}`);
  return v.trim() === '' ? undefined : v.trim();
}

/** An array field (absent -> []); anything else is a bad field. */
export function arrayField(record: Record<string, unknown>, field: string): unknown[] {
  const v = record[field];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new RecordError('bad-field', `field "${field}" must be an array, got ${describe(v)}`);
  return v;
}

/** A document's title and text; an empty text is refused ('empty-text'), an empty title allowed. */
export function paragraph(title: unknown, text: unknown, where: string, reason: RejectReason = 'empty-text'): Paragraph {
  if (typeof title !== 'string') throw new RecordError('bad-field', `${where}: title must be a string, got ${describe(title)}`);
  if (typeof text !== 'string') throw new RecordError('bad-field', `${where}: text must be a string, got ${describe(text)}`);
  const t = collapseSpace(text);
  if (t === '') throw new RecordError(reason, `${where}: text is empty`);
  return { title: collapseSpace(title), text: t };
}
