/**
 * Which gold answers occur somewhere in the corpus. A question whose answer text appears in no
 * document cannot be answered by copying from search results (Bamboogle ships no paragraphs, so
 * most of its answers are absent from the sample corpus): the pack keeps such questions, marked
 * `answerInCorpus: false`, and the import report counts them.
 *
 * "Occurs" means: the answer, normalized as the metrics normalize it (recipe.md section 4:
 * lowercase, punctuation to spaces, articles dropped, whitespace collapsed), is a run of whole
 * words of some document's normalized title + text. That is the Cover-EM view: an answer copied
 * from that document would score. Lookup goes through the answer's rarest word, so each answer
 * scans only the documents that hold that word.
 */
import { normalizeAnswer } from '../../protocol/answer-metrics.ts';

export interface AnswerPresence {
  /** Whether any of `answers` occurs in some document (see the file comment). */
  anyPresent(answers: readonly string[]): boolean;
}

/** Builds the lookup over `documents` (title and text). */
export function answerPresence(documents: Iterable<{ title: string; text: string }>): AnswerPresence {
  const padded: string[] = []; // " normalized words " per document
  const postings = new Map<string, number[]>(); // word -> ids of the documents holding it
  for (const d of documents) {
    const norm = normalizeAnswer(`${d.title} ${d.text}`);
    const id = padded.length;
    padded.push(` ${norm} `);
    for (const w of new Set(norm.split(' '))) {
      if (!w) continue;
      const list = postings.get(w);
      if (list) list.push(id);
      else postings.set(w, [id]);
    }
  }
  const present = (answer: string): boolean => {
    const norm = normalizeAnswer(answer);
    if (norm === '') return false;
    let rarest: number[] | undefined;
    for (const w of norm.split(' ')) {
      const list = postings.get(w);
      if (!list) return false; // a word no document has
      if (!rarest || list.length < rarest.length) rarest = list;
    }
    const needle = ` ${norm} `;
    return rarest!.some((id) => padded[id]!.includes(needle));
  };
  return { anyPresent: (answers) => answers.some(present) };
}
