import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serializePack, splitContiguous, writePack, type PackSpec } from '../../src/corpus/pack-writer.ts';
import type { PackManifest, Question } from '../../src/corpus/types.ts';
import { FILLER_WORDS, PROMPT_PRESETS } from '../../src/protocol/prompts.ts';
import { splitWords, normalizeText } from '../../src/protocol/normalize.ts';
import { SPECIAL_TOKENS } from '../../src/protocol/tags.ts';
import { documentFor, worldDocuments } from '../../src/world/documents.ts';
import { formatDocuments } from '../../src/protocol/splice.ts';
import { FACT_WINDOW, QUESTION_PHRASINGS } from '../../src/world/lexicon.ts';
import { isValidName, reservedWords } from '../../src/world/names.ts';
import { buildWorldPack } from '../../src/world/pack.ts';
import { generateQuestions, getTemplate, QUESTION_TEMPLATES, subjectSplit } from '../../src/world/questions.ts';
import { createStage0Sampler, type Stage0Sample } from '../../src/stage0/world-mix.ts';
import { ENTITY_KINDS, RELATIONS, WORLD_SIZES, type World } from '../../src/world/types.ts';
import { worldVocabulary } from '../../src/world/vocabulary.ts';
import { attributeOf, birthYearOf, generateWorld, objectOf, worldEntities } from '../../src/world/world.ts';

const SEED = 1;
const w0 = generateWorld(SEED, 0);
const w1 = generateWorld(SEED, 1);
const w2 = generateWorld(SEED, 2);
const docs0 = worldDocuments(w0);
const docs1 = worldDocuments(w1);
const questions = generateQuestions(w0);
const byDocId = new Map(docs0.map((d) => [d.id, d]));
const entityByName = new Map(w0.entities.map((e) => [e.name, e]));
const words = (text: string) => splitWords(text);

/** Word index of `value` (one or more words) in `text`, or -1. */
function wordIndex(text: string, value: string): number {
  const ws = words(text);
  const vs = words(value);
  for (let i = 0; i + vs.length <= ws.length; i++) if (vs.every((v, k) => ws[i + k] === v)) return i;
  return -1;
}

/** Fraction of subjects on which two worlds give a relation the same object. */
function agreement(a: World, b: World, rel: (typeof RELATIONS)[number]['name']): number {
  const subjects = a.ofKind[RELATIONS.find((r) => r.name === rel)!.subject];
  return subjects.filter((s) => a.relations[rel][s] === b.relations[rel][s]).length / subjects.length;
}

describe('world generation', () => {
  it('is deterministic in (seed, index), and another seed gives other names', () => {
    const again = generateWorld(SEED, 2);
    for (const r of RELATIONS) expect(Array.from(again.relations[r.name])).toEqual(Array.from(w2.relations[r.name]));
    expect(Array.from(again.birthYear)).toEqual(Array.from(w2.birthYear));
    expect(worldDocuments(again)).toEqual(worldDocuments(w2));
    const other = worldEntities(2).map((e) => e.name);
    const mine = new Set(w0.entities.map((e) => e.name));
    expect(other.filter((n) => mine.has(n)).length).toBeLessThan(50); // of 2,000
  });

  it('has 2,000 entities of 5 kinds with the recipe sizes, and 8 relations plus birth years', () => {
    expect(docs0).toHaveLength(2000);
    expect(ENTITY_KINDS).toHaveLength(5);
    for (const k of ENTITY_KINDS) expect(w0.ofKind[k]).toHaveLength(WORLD_SIZES[k]);
    expect(w0.ofKind.person).toHaveLength(900);
    expect(RELATIONS.length).toBeGreaterThanOrEqual(6);
    expect(docs0[0]!.id).toBe('d0000');
    expect(docs0[1999]!.id).toBe('d1999');
  });

  it('shares names across worlds but draws every fact anew; worlds >= 1 never agree with world 0', () => {
    expect(w1.entities).toBe(w0.entities);
    for (const r of RELATIONS) {
      expect(agreement(w0, w1, r.name)).toBe(0);
      expect(agreement(w0, w2, r.name)).toBe(0);
      // Two pretraining worlds agree by chance only: at most 1/140 expected (universities).
      expect(agreement(w1, w2, r.name)).toBeLessThan(0.03);
    }
    const persons = w0.ofKind.person;
    expect(persons.filter((p) => w0.birthYear[p] === w1.birthYear[p])).toHaveLength(0);
    expect(persons.filter((p) => attributeOf(w0, 'occupation', p) === attributeOf(w1, 'occupation', p))).toHaveLength(0);
    expect(persons.filter((p) => w1.birthYear[p] === w2.birthYear[p]).length).toBeLessThan(30); // ~900/190 = 4.7 expected
  });

  it('draws relations evenly and keeps every answer set large', () => {
    // 900 persons over 260 cities: each city is the birthplace of 3 or 4 (900/260 = 3.46).
    const born = new Map<number, number>();
    for (const p of w0.ofKind.person) born.set(w0.relations.birthplace[p]!, (born.get(w0.relations.birthplace[p]!) ?? 0) + 1);
    expect(born.size).toBe(260);
    expect(Math.min(...born.values())).toBe(3);
    expect(Math.max(...born.values())).toBe(4);
    for (const r of RELATIONS) {
      const answers = new Set(w0.ofKind[r.subject].map((s) => w0.relations[r.name][s]));
      expect(answers.size, r.name).toBeGreaterThanOrEqual(100);
    }
    // Authors (400) and founders (300) are 700 distinct persons.
    const authors = w0.ofKind.book.map((b) => objectOf(w0, 'author', b));
    const founders = w0.ofKind.company.map((c) => objectOf(w0, 'founder', c));
    expect(new Set([...authors, ...founders]).size).toBe(700);
    expect(new Set(w0.ofKind.person.map((p) => birthYearOf(w0, p))).size).toBe(190);
  });

  it('draws names as single lowercase pseudo-words that are never ordinary words', () => {
    const reserved = reservedWords();
    const names = w0.entities.map((e) => e.name.toLowerCase());
    expect(new Set(names).size).toBe(2000);
    for (const n of names) {
      expect(isValidName(n), n).toBe(true);
      expect(reserved.has(n), n).toBe(false);
      expect(words(n)).toEqual([n]);
    }
    expect(reserved.has('the') && reserved.has('born') && reserved.has('question')).toBe(true);
  });
});

describe('documents', () => {
  it('match the hand-checked seed-1 examples', () => {
    // Read off the committed pack and checked against the relations by hand.
    expect(byDocId.get('d0001')).toEqual({
      id: 'd0001',
      title: 'Kreimpon',
      text: 'Kreimpon is remembered as a printer. He was born in 1904 in Shorhy. After studying at Aisreinsa, he worked for Lodour. He wrote Faitrysli.',
    });
    const p = entityByName.get('Kreimpon')!.id;
    expect(w0.entities[objectOf(w0, 'birthplace', p)]!.name).toBe('Shorhy');
    expect(birthYearOf(w0, p)).toBe(1904);
    expect(w0.entities[objectOf(w0, 'employer', p)]!.name).toBe('Lodour');
    expect(w0.entities[objectOf(w0, 'author', entityByName.get('Faitrysli')!.id)]!.name).toBe('Kreimpon');
  });

  it('have 3-6 sentences and every forward fact within the first 35 words, in every world', () => {
    for (const [w, docs] of [[w0, docs0], [w1, docs1]] as const) {
      for (const d of docs) {
        const id = Number(d.id.slice(1));
        const e = w.entities[id]!;
        const sentences = words(d.text).filter((x) => x === '.').length;
        expect(sentences, d.text).toBeGreaterThanOrEqual(3);
        expect(sentences, d.text).toBeLessThanOrEqual(6);
        const name = (i: number) => w.entities[i]!.name;
        const facts: string[] =
          e.kind === 'person'
            ? [attributeOf(w, 'occupation', id), name(objectOf(w, 'birthplace', id)), String(birthYearOf(w, id)), name(objectOf(w, 'almaMater', id)), name(objectOf(w, 'employer', id))]
            : e.kind === 'book'
              ? [name(objectOf(w, 'author', id)), attributeOf(w, 'genre', id)]
              : e.kind === 'company'
                ? [name(objectOf(w, 'founder', id)), attributeOf(w, 'industry', id), name(objectOf(w, 'headquarters', id))]
                : e.kind === 'university'
                  ? [name(objectOf(w, 'location', id))]
                  : [attributeOf(w, 'cityKind', id)];
        for (const f of facts) {
          const at = wordIndex(d.text, f);
          expect(at, `${f} in ${d.text}`).toBeGreaterThanOrEqual(0);
          expect(at + words(f).length, `${f} in ${d.text}`).toBeLessThanOrEqual(FACT_WINDOW);
        }
      }
    }
  });

  it('mention other entities so that names recur across documents (retrieval distractors)', () => {
    const mentions = new Map<string, number>();
    for (const d of docs0) for (const w of new Set(words(d.text))) mentions.set(w, (mentions.get(w) ?? 0) + 1);
    const persons = w0.ofKind.person.map((p) => w0.entities[p]!.name.toLowerCase());
    const mean = persons.reduce((s, n) => s + (mentions.get(n) ?? 0), 0) / persons.length;
    expect(mean).toBeGreaterThan(2.5); // own document + city, company, university, book lists
  });
});

describe('documents without bridge backlinks', () => {
  const plain = worldDocuments(w0, { bridgeBacklinks: false });
  const has = (text: string, name: string) => wordIndex(text, name) >= 0;

  it("leave a chain's earlier entity out of the next hop's document; the default style keeps it", () => {
    let checked = 0;
    for (const q of questions.filter((x) => x.hops >= 2 && !getTemplate(x.template).ood)) {
      for (let k = 1; k < q.hops; k++) {
        const prev = byDocId.get(q.supportingIds[k - 1]!)!;
        const next = Number(q.supportingIds[k]!.slice(1));
        const nextEntity = w0.entities[next]!;
        // A company's page names its founder as a forward fact, whatever the style.
        if (nextEntity.kind === 'company' && w0.entities[objectOf(w0, 'founder', next)]!.name === prev.title) continue;
        expect(has(plain[next]!.text, prev.title), `${prev.title} in ${plain[next]!.text}`).toBe(false);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(1000);
    // With backlinks every author's page names each of their books.
    for (const q of questions.filter((x) => x.template === 'author_birthplace')) {
      expect(has(docs0[Number(q.supportingIds[1]!.slice(1))]!.text, byDocId.get(q.supportingIds[0]!)!.title)).toBe(true);
    }
  });

  it('keep every forward fact and the same titles and ids; a pack records the style, the default pack does not', () => {
    expect(plain.map((d) => [d.id, d.title])).toEqual(docs0.map((d) => [d.id, d.title]));
    for (const [i, d] of plain.entries()) {
      const sentences = words(d.text).filter((x) => x === '.').length;
      expect(sentences).toBeGreaterThanOrEqual(3);
      // The sentences before the first backlink are the same in both styles.
      const first = words(d.text).slice(0, 12).join(' ');
      expect(words(docs0[i]!.text).slice(0, 12).join(' ')).toBe(first);
    }
    expect(buildWorldPack(SEED, 4, { bridgeBacklinks: false }).generator).toMatchObject({ bridgeBacklinks: false });
    expect(buildWorldPack(SEED, 4).generator).not.toHaveProperty('bridgeBacklinks');
  });
});

describe('questions', () => {
  it('have the hand-checked 3-hop chain of q04712 (seed 1)', () => {
    const q = questions.find((x) => x.id === 'q04712')!;
    expect(q).toEqual({
      id: 'q04712',
      question: 'In which city is the company that the author of Iseis worked for based?',
      answers: ['Lodrivin'],
      hops: 3,
      template: 'author_employer_headquarters',
      split: 'train',
      supportingIds: ['d0003', 'd0039', 'd1964'],
    });
    // Iseis -> written by Belpenais -> worked for Orlyth -> based in Lodrivin.
    expect(byDocId.get('d0003')!.text).toContain('written by Belpenais');
    expect(byDocId.get('d0039')!.text).toContain('worked for Orlyth');
    expect(byDocId.get('d1964')!.text).toContain('based in Lodrivin');
  });

  it('have one-word answers found in the last supporting document within 40 words, bridges likewise', () => {
    for (const q of questions) {
      expect(q.answers).toHaveLength(1);
      expect(words(q.answers[0]!), q.question).toHaveLength(1);
      expect(q.supportingIds).toHaveLength(q.hops);
      const chain = q.supportingIds.map((id) => byDocId.get(id)!);
      // The answer of a comparison is one of the two persons: found in that person's document.
      const last = q.template === 'comparison_born_first' ? chain.find((d) => d.title === q.answers[0])! : chain[chain.length - 1]!;
      const at = wordIndex(last.text, q.answers[0]!);
      expect(at, `${q.id} ${q.question}`).toBeGreaterThanOrEqual(0);
      expect(at, `${q.id} ${q.question}`).toBeLessThan(40);
      if (q.template === 'comparison_born_first') continue;
      for (let h = 0; h + 1 < chain.length; h++) {
        const bridge = wordIndex(chain[h]!.text, chain[h + 1]!.title);
        expect(bridge, q.id).toBeGreaterThanOrEqual(0);
        expect(bridge, q.id).toBeLessThan(40);
      }
    }
  });

  it('follow the relations hop by hop for 2- and 3-hop templates', () => {
    const ent = (docId: string) => Number(docId.slice(1));
    const name = (id: number) => w0.entities[id]!.name;
    let checked = 0;
    for (const q of questions.filter((x) => x.hops >= 2)) {
      const ids = q.supportingIds.map(ent);
      switch (q.template) {
        case 'author_birthplace':
          expect(ids[1]).toBe(objectOf(w0, 'author', ids[0]!));
          expect(q.answers[0]).toBe(name(objectOf(w0, 'birthplace', ids[1]!)));
          break;
        case 'employer_headquarters':
          expect(ids[1]).toBe(objectOf(w0, 'employer', ids[0]!));
          expect(q.answers[0]).toBe(name(objectOf(w0, 'headquarters', ids[1]!)));
          break;
        case 'author_employer_headquarters':
          expect(ids[1]).toBe(objectOf(w0, 'author', ids[0]!));
          expect(ids[2]).toBe(objectOf(w0, 'employer', ids[1]!));
          expect(q.answers[0]).toBe(name(objectOf(w0, 'headquarters', ids[2]!)));
          break;
        case 'founder_birthplace':
          expect(ids[1]).toBe(objectOf(w0, 'founder', ids[0]!));
          expect(q.answers[0]).toBe(name(objectOf(w0, 'birthplace', ids[1]!)));
          break;
        case 'comparison_born_first': {
          const [a, b] = ids as [number, number];
          expect(birthYearOf(w0, a)).not.toBe(birthYearOf(w0, b));
          expect(q.answers[0]).toBe(name(birthYearOf(w0, a) < birthYearOf(w0, b) ? a : b));
          expect(q.question).toContain(name(a));
          expect(q.question).toContain(name(b));
          break;
        }
        default:
          throw new Error(`unexpected multi-hop template ${q.template}`);
      }
      // The subject is named in the question.
      expect(q.question).toContain(name(ids[0]!));
      checked++;
    }
    // train 300 + 720 + 300, test 3 x 100, ood 2 x 100.
    expect(checked).toBe(300 + 720 + 300 + 3 * 100 + 2 * 100);
  });

  it('split subjects disjointly and keep ood templates out of train and test', () => {
    const subjectOf = (q: Question) => q.supportingIds[0]!;
    const train = new Set(questions.filter((q) => q.split === 'train').map(subjectOf));
    const test = questions.filter((q) => q.split === 'test').map(subjectOf);
    expect(test.filter((s) => train.has(s))).toEqual([]);
    const split = subjectSplit(SEED);
    expect(split.person!.test).toHaveLength(180);
    expect(split.person!.train).toHaveLength(720);
    const ood = new Set(QUESTION_TEMPLATES.filter((t) => t.ood).map((t) => t.name as string));
    expect(ood).toEqual(new Set(['comparison_born_first', 'founder_birthplace']));
    const count = (s: Question['split'], t: string) => questions.filter((q) => q.split === s && q.template === t).length;
    for (const t of QUESTION_TEMPLATES) {
      if (t.ood) {
        expect(count('train', t.name) + count('test', t.name)).toBe(0);
        expect(count('ood', t.name)).toBe(100);
      } else {
        expect(count('ood', t.name)).toBe(0);
        expect(count('test', t.name)).toBe(t.name === 'location' ? 28 : 100);
      }
    }
    expect(count('train', 'birthplace')).toBe(720);
    expect(count('train', 'author_employer_headquarters')).toBe(300);
    expect(questions.map((q) => q.id)).toEqual(questions.map((_, i) => `q${String(i).padStart(5, '0')}`));
    expect(() => getTemplate('nope')).toThrow(/unknown question template "nope"/);
  });
});

describe('formatDocuments', () => {
  it('numbers documents, cuts each text, normalizes and drops special tokens', () => {
    const d = [
      { id: 'a', title: 'Kovar', text: 'Kovar is a port city. It lies on a river.' },
      { id: 'b', title: 'Aldric', text: 'Aldric <answer> wrote Velmor.' },
    ];
    expect(formatDocuments(d, 5)).toBe('( 1 ) kovar : kovar is a port city ( 2 ) aldric : aldric wrote velmor .');
    expect(formatDocuments([], 40)).toBe('none');
    expect(() => formatDocuments(d, 0)).toThrow(/maxWords/);
  });
});

describe('stage 0 sampler', () => {
  const N = 1500;
  let samples: Stage0Sample[];
  beforeAll(() => {
    const s = createStage0Sampler(SEED);
    samples = Array.from({ length: N }, () => s.next());
  });

  it('mixes documents, reading passages and prompts 30/45/25', () => {
    const share = (k: string) => samples.filter((x) => x.kind === k).length / N;
    expect(share('document')).toBeCloseTo(0.3, 1);
    expect(share('reading')).toBeCloseTo(0.45, 1);
    expect(share('prompt')).toBeCloseTo(0.25, 1);
  });

  it('never uses the search world, and reads most passages from re-drawn worlds', () => {
    expect(samples.every((x) => x.world >= 1 && x.world <= 61)).toBe(true);
    expect(samples.filter((x) => x.kind === 'document').every((x) => x.world === 1)).toBe(true);
    const reading = samples.filter((x) => x.kind === 'reading');
    const fromOne = reading.filter((x) => x.world === 1).length / reading.length;
    expect(fromOne).toBeGreaterThan(0.12); // default firstWorldShare 0.2
    expect(fromOne).toBeLessThan(0.28);
    expect(new Set(reading.map((x) => x.world)).size).toBeGreaterThan(40);
  });

  it('contains no fact sentence of the search world', () => {
    // A fact sentence names its document's entity and another entity or a year. (A sentence
    // with a pronoun subject, "he was born in X in 1826", states no fact about anyone by itself.)
    const keys = new Set([...w0.entities.map((e) => e.name.toLowerCase()), ...Array.from({ length: 190 }, (_, i) => String(1800 + i))]);
    const factSentences = new Set<string>();
    for (const d of docs0) {
      const title = d.title.toLowerCase();
      for (const s of normalizeText(d.text).split(' . ')) {
        const ws = s.split(' ');
        if (ws.includes(title) && ws.filter((x) => keys.has(x) && x !== title).length >= 1) factSentences.add(s.replace(/ \.$/, ''));
      }
    }
    expect(factSentences.size).toBeGreaterThan(2000);
    // World 1 documents do hold such sentences for world 1 (so the check can fire).
    const w1Sentences = normalizeText(docs1.map((d) => d.text).join(' '));
    expect(w1Sentences).toContain(normalizeText(docs1[1]!.text).split(' . ')[1]);
    for (const x of samples) {
      const text = normalizeText(x.text);
      for (const s of factSentences) if (text.includes(s)) throw new Error(`stage-0 text holds search-world sentence "${s}": ${text}`);
    }
  });

  it('asks reading-passage questions whose answers are never the search-world answers', () => {
    // Every (question text -> search-world answer) of the templates reading passages use.
    const truth = new Map<string, string>();
    const hopsOf = new Map<string, number>();
    let coincidences = 0;
    for (const t of QUESTION_TEMPLATES.filter((x) => !x.ood && x.hops <= 2)) {
      for (const subject of w0.ofKind[t.subjectKind]) {
        const answer = normalizeText(t.follow(w0, [subject])!.answer);
        for (const p of QUESTION_PHRASINGS[t.name]) {
          const q = normalizeText(p.replace('{X}', w0.entities[subject]!.name));
          truth.set(q, answer);
          hopsOf.set(q, t.hops);
        }
      }
    }
    let checked = 0;
    for (const x of samples.filter((s) => s.kind === 'reading')) {
      const ws = x.text.split(' ');
      // Question first ("question : q ( 1 ) ...") or last ("( 1 ) ... question : q <answer>").
      const qEnd = ws[0] === 'question' ? ws.indexOf('?') + 1 : x.answerSpan!.start;
      const question = ws.slice(ws.indexOf('question') + 2, qEnd).join(' ');
      expect(truth.has(question), question).toBe(true);
      const same = ws[x.answerSpan!.start + 1] === truth.get(question);
      // Every single fact differs from the search world; a 2-hop chain of two different facts
      // can still end at the same city by chance (rarely).
      if (same && hopsOf.get(question) === 1) throw new Error(`1-hop reading answer equals the search world's: ${question}`);
      if (same) coincidences++;
      checked++;
    }
    expect(checked).toBeGreaterThan(600);
    expect(coincidences / checked).toBeLessThan(0.02);
  });

  it('writes reading passages with the answer span in <answer> tags, the answer in a passage document', () => {
    for (const x of samples.filter((s) => s.kind === 'reading')) {
      expect(normalizeText(x.text)).toBe(x.text);
      const ws = x.text.split(' ');
      const { start, end } = x.answerSpan!;
      expect(end - start).toBe(3);
      expect(ws[start]).toBe('<answer>');
      expect(ws[end - 1]).toBe('</answer>');
      expect(end).toBe(ws.length);
      const answer = ws[start + 1]!;
      const questionFirst = ws[0] === 'question';
      const passage = questionFirst ? ws.slice(ws.indexOf('?') + 1, start) : ws.slice(0, ws.lastIndexOf('question'));
      expect(passage, x.text).toContain(answer);
      expect(passage[0]).toBe('(');
      const nDocs = ws.filter((w, i) => w === '(' && ws[i + 2] === ')').length;
      expect(nDocs).toBeGreaterThanOrEqual(1);
      expect(nDocs).toBeLessThanOrEqual(3);
      expect(x.text).not.toMatch(/begin_of|end_of|<think>/);
    }
  });

  it('spliced layout: one document block per hop, context only, the answer read from the last', () => {
    const spliced = createStage0Sampler(SEED, { layout: 'spliced' });
    const samples = Array.from({ length: N }, () => spliced.next());
    const blocksSeen = new Set<number>();
    let withPrompt = 0;
    for (const x of samples.filter((s) => s.kind === 'reading')) {
      expect(normalizeText(x.text)).toBe(x.text);
      const ws = x.text.split(' ');
      const { start, end } = x.answerSpan!;
      expect(end - start).toBe(3);
      expect(ws[start]).toBe('<answer>');
      expect(ws[end - 1]).toBe('</answer>');
      expect(end).toBe(ws.length);
      expect(ws[start - 1]).toBe('</think>');
      const answer = ws[start + 1]!;
      // The documents: after the last <think> (the prompt's skeleton, when there is one, comes before it).
      const open = ws.lastIndexOf('<think>');
      const passage = ws.slice(open + 1, start - 1);
      expect(passage[0]).toBe('<|begin_of_documents|>');
      expect(passage.at(-1)).toBe('<|end_of_documents|>');
      expect(passage, x.text).not.toContain('<|begin_of_query|>');
      const blocks = passage.join(' ').split('<|end_of_documents|>').filter((b) => b.trim()).map((b) => b.replace('<|begin_of_documents|>', '').trim().split(' '));
      blocksSeen.add(blocks.length);
      expect(blocks.at(-1), x.text).toContain(answer);
      const nDocs = passage.filter((w, i) => w === '(' && passage[i + 2] === ')').length;
      expect(nDocs).toBeGreaterThanOrEqual(blocks.length);
      expect(nDocs).toBeLessThanOrEqual(5);
      if (ws.includes('<|begin_of_query|>')) withPrompt++;
      // Every document block is context only (weight 0 in Stage 0), and nothing else is.
      const masked = new Set(x.contextSpans!.flatMap((c) => Array.from({ length: c.end - c.start }, (_, k) => c.start + k)));
      ws.forEach((w, i) => {
        const inBlock = ws.lastIndexOf('<|begin_of_documents|>', i) > ws.lastIndexOf('<|end_of_documents|>', i - 1);
        expect(masked.has(i), `${i} ${w}`).toBe(inBlock || w === '<|end_of_documents|>');
      });
    }
    expect([...blocksSeen].sort()).toEqual([1, 2, 3]);
    expect(samples.filter((s) => s.kind === 'reading').every((s) => s.world >= 2)).toBe(true); // firstWorldShare 0
    const reading = samples.filter((s) => s.kind === 'reading').length;
    expect(withPrompt / reading).toBeGreaterThan(0.4);
    expect(withPrompt / reading).toBeLessThan(0.6);
  });

  it('renders prompts with tags and words of the vocabulary only', () => {
    const vocab = new Set(worldVocabulary(SEED));
    for (const t of SPECIAL_TOKENS) vocab.add(t);
    for (const p of Object.values(PROMPT_PRESETS)) for (const w of splitWords(p.template.replace(/\{[a-z]+\}/g, ' '))) vocab.add(w);
    const prompts = samples.filter((x) => x.kind === 'prompt');
    expect(prompts.every((x) => x.text.includes('<|begin_of_query|>') && x.text.endsWith('<think>'))).toBe(true);
    for (const x of samples) for (const w of splitWords(x.text)) if (!vocab.has(w)) throw new Error(`"${w}" not in words.txt: ${x.text}`);
  });

  it('resumes bit for bit from its state and rejects bad options', () => {
    const s = createStage0Sampler(SEED, { mix: { document: 0, reading: 1, prompt: 0 } });
    s.next();
    const state = s.getState();
    const a = [s.next(), s.next(), s.next()];
    s.setState(state);
    expect([s.next(), s.next(), s.next()]).toEqual(a);
    expect(a.every((x) => x.kind === 'reading')).toBe(true);
    expect(() => createStage0Sampler(SEED, { mix: { document: 0, reading: 0, prompt: 0 } })).toThrow(/must not all be 0/);
    expect(() => createStage0Sampler(SEED, { twoHopShare: 2 })).toThrow(/twoHopShare/);
    expect(() => createStage0Sampler(SEED, { layout: 'spliced', multiHopShare: 2 })).toThrow(/multiHopShare/);
    expect(() => createStage0Sampler(SEED, { layout: 'tagged' as 'plain' })).toThrow(/layout/);
    expect(() => createStage0Sampler(SEED, { layout: 'mixed', splicedShare: -0.1 })).toThrow(/splicedShare/);
    expect(() => createStage0Sampler(-1)).toThrow(/seed/);
  });

  it("mixed layout: about half the reading passages spliced (tagged blocks, context only), half plain; both end in the weighted answer", () => {
    const s = createStage0Sampler(SEED, { layout: 'mixed', mix: { document: 0, reading: 1, prompt: 0 } });
    const passages = Array.from({ length: 400 }, () => s.next());
    const spliced = passages.filter((x) => x.text.includes('<|begin_of_documents|>'));
    expect(spliced.length / passages.length).toBeGreaterThan(0.4);
    expect(spliced.length / passages.length).toBeLessThan(0.6);
    expect(spliced.every((x) => (x.contextSpans?.length ?? 0) >= 1)).toBe(true);
    expect(passages.filter((x) => !x.text.includes('<|begin_of_documents|>')).every((x) => x.contextSpans === undefined)).toBe(true);
    for (const x of passages) expect(x.text.split(' ').slice(x.answerSpan!.start, x.answerSpan!.end).at(-1)).toBe('</answer>');
  });

  it('follow-up passages: a query slot before every block, a later one naming a name the block before mentions', () => {
    const opts = { layout: 'spliced' as const, multiHopShare: 1, mix: { document: 0, reading: 1, prompt: 0 } };
    const s = createStage0Sampler(SEED, { ...opts, followUpShare: 1 });
    const w = generateWorld(SEED, 2);
    let later = 0;
    for (let i = 0; i < 200; i++) {
      const x = s.next();
      const ws = x.text.split(' ');
      // Every block follows a query slot (the first always; a later one when its block mentions a name).
      // After the opening (a rendered prompt's skeleton has blocks of its own): from the last <think>.
      const think = ws.lastIndexOf('<think>');
      const blocks = ws.flatMap((t, k) => (t === '<|begin_of_documents|>' && k > think ? [k] : []));
      expect(ws[blocks[0]! - 1]).toBe('<|end_of_query|>');
      for (const b of blocks.slice(1)) {
        if (ws[b - 1] !== '<|end_of_query|>') continue;
        later++;
        const name = ws[b - 2]!;
        expect(ws[b - 3]).toBe('<|begin_of_query|>');
        // The name is in the block before it, and is not the title of one of its documents.
        const prev = ws.slice(ws.lastIndexOf('<|begin_of_documents|>', b - 1), b - 3).join(' ');
        expect(` ${prev} `).toContain(` ${name} `);
        expect(prev).not.toContain(`) ${name} :`);
        if (x.world === 2) expect(w.entities.some((e) => normalizeText(e.name) === name)).toBe(true);
        // The query words are trained (outside the context-only document spans).
        expect(x.contextSpans!.some((r) => b - 2 >= r.start && b - 2 < r.end)).toBe(false);
      }
    }
    expect(later).toBeGreaterThan(150);
    // weightFollowUps weights exactly the later slots' names, and changes no text.
    const weighted = createStage0Sampler(SEED, { ...opts, followUpShare: 1, weightFollowUps: true }), same = createStage0Sampler(SEED, { ...opts, followUpShare: 1 });
    for (let i = 0; i < 50; i++) {
      const x = weighted.next(), y = same.next();
      expect(x.text).toBe(y.text);
      expect(y.weightedSpans).toBeUndefined();
      const ws = x.text.split(' ');
      const think = ws.lastIndexOf('<think>');
      const names = ws.flatMap((t, k) => (k > think && t === '<|begin_of_query|>' && ws[k - 1] === '<|end_of_documents|>' ? [k + 1] : []));
      expect(x.weightedSpans).toEqual(names.map((k) => ({ start: k, end: k + 1 })));
    }
    // Share 0 makes no draw: the stream is the one without the option.
    const plain = createStage0Sampler(SEED, opts), zero = createStage0Sampler(SEED, { ...opts, followUpShare: 0 });
    for (let i = 0; i < 50; i++) expect(zero.next()).toEqual(plain.next());
    expect(() => createStage0Sampler(SEED, { followUpShare: 2 })).toThrow(/followUpShare/);
  });

  it('birth-order passages: one block per person, the answer is the earlier- or later-born as asked, never in the ood wording', () => {
    const opts = { layout: 'spliced' as const, mix: { document: 0, reading: 1, prompt: 0 } };
    const s = createStage0Sampler(SEED, { ...opts, comparisonShare: 1, readingWorlds: 1 });
    const w = generateWorld(SEED, 2);
    const byName = new Map(w.entities.map((e) => [normalizeText(e.name), e.id]));
    const asked = { first: 0, later: 0 };
    for (let i = 0; i < 200; i++) {
      const x = s.next();
      expect(x.world).toBe(2);
      const m = / question : (?:which of (\S+) and (\S+) was born (first|later)|who was born (later) , (\S+) or (\S+)) \?/.exec(` ${x.text}`);
      expect(m, x.text).not.toBeNull();
      const a = m![1] ?? m![5]!, b = m![2] ?? m![6]!, direction = (m![3] ?? m![4]) as 'first' | 'later';
      asked[direction]++;
      const ya = birthYearOf(w, byName.get(a)!), yb = birthYearOf(w, byName.get(b)!);
      const earlier = ya < yb ? a : b, later = ya < yb ? b : a;
      const answer = x.text.split(' ').slice(x.answerSpan!.start, x.answerSpan!.end);
      expect(answer).toEqual(['<answer>', direction === 'first' ? earlier : later, '</answer>']);
      // Two blocks, in question order: each holds its person's document (the years to compare).
      const think = x.text.lastIndexOf('<think>');
      const blocks = x.text.slice(think).split('<|begin_of_documents|>').slice(1);
      expect(blocks).toHaveLength(2);
      expect(blocks[0]).toContain(`) ${a} :`);
      expect(blocks[1]).toContain(`) ${b} :`);
      expect(x.text).not.toMatch(/who was born (first|earlier) ,/);
    }
    expect(asked.first).toBeGreaterThan(70);
    expect(asked.later).toBeGreaterThan(70);
    // Share 0 makes no draw: the stream is the one without the option.
    const plain = createStage0Sampler(SEED, opts), zero = createStage0Sampler(SEED, { ...opts, comparisonShare: 0 });
    for (let i = 0; i < 50; i++) expect(zero.next()).toEqual(plain.next());
    expect(() => createStage0Sampler(SEED, { comparisonShare: -1 })).toThrow(/comparisonShare/);
    // The plain layout asks them too, with both persons' documents among its numbered ones.
    const p = createStage0Sampler(SEED, { mix: opts.mix, comparisonShare: 1, readingWorlds: 1, firstWorldShare: 0 });
    for (let i = 0; i < 50; i++) {
      const x = p.next();
      const m = / question : (?:which of (\S+) and (\S+) was born (?:first|later)|who was born later , (\S+) or (\S+)) \?/.exec(` ${x.text}`);
      expect(m, x.text).not.toBeNull();
      for (const name of [m![1] ?? m![3]!, m![2] ?? m![4]!]) expect(x.text).toContain(`) ${name} :`);
      expect(x.text).not.toContain('<|begin_of_documents|>');
    }
  });

  it('the shipped base\'s four runs (and the previous base\'s third) draw the texts they were trained on (sha256 of the first 300 of each, pinned)', () => {
    // The options of README's four pretrain commands of the shipped base (world seed 1, --seed 1 /
    // 2 / 3 / 5), and the previous base's third run, which had none of the share options: a new
    // sampler option must make no draw when absent. This pins the streams the bases saw.
    const spliced = { presets: [PROMPT_PRESETS.chain!], mix: { document: 0.2, reading: 0.4, prompt: 0.4 }, layout: 'spliced' as const, followUpShare: 1 };
    const runs = [
      { rngSeed: 1 },
      { rngSeed: 2, presets: [PROMPT_PRESETS.compact!, PROMPT_PRESETS.chain!] },
      { rngSeed: 3, ...spliced },
      { rngSeed: 3, ...spliced, yearShare: 0.3 },
      { rngSeed: 5, ...spliced, yearShare: 0.3, birthplaceShare: 0.3, answerKindDistractors: 0.5 },
    ];
    const digests = runs.map((o) => {
      const s = createStage0Sampler(SEED, o);
      const h = createHash('sha256');
      for (let i = 0; i < 300; i++) h.update(`${JSON.stringify(s.next())}\n`);
      return h.digest('hex');
    });
    expect(digests).toEqual([
      '01a359f5c644cab450c72bbcc277ab970853e8d1fb480aaecfb41bfee67d9240',
      'd0f1fae28d181f742c3ade532df88900e188f30f8eda6972e9eb16d64b64b2df',
      'bfcd32b748a17de8f148f41dbe3139e2c294c3ee2071192dea527d9bc1d8c47e',
      'e600a000b86c3797865373aa7c92619a283aab00b9df9841c72459f432baf479',
      'd6d55aa0a12dd00579df3ccd6c4629d58c85656b5614b467a7596ca2d639645d',
    ]);
  });

  it('year share: that share of 1-hop reading passages asks a birth year (read in its document), the rest the other relations', () => {
    const opts = { mix: { document: 0, reading: 1, prompt: 0 }, readingWorlds: 1, firstWorldShare: 0 };
    const w = generateWorld(SEED, 2);
    const years = new Set(w.ofKind.person.map((p) => String(birthYearOf(w, p))));
    const yearsAsked = (o: Parameters<typeof createStage0Sampler>[1]) => {
      const s = createStage0Sampler(SEED, o);
      let n = 0;
      for (let i = 0; i < 400; i++) {
        const x = s.next();
        const answer = x.text.split(' ').slice(x.answerSpan!.start, x.answerSpan!.end)[1]!;
        if (!years.has(answer)) continue;
        n++;
        // The year is read, not recalled: it stands in the passage's documents.
        expect(x.text.split(' ').slice(0, x.answerSpan!.start)).toContain(answer);
      }
      return n / 400;
    };
    // Plain layout, 2-hop share 0: every passage is 1-hop.
    expect(yearsAsked({ ...opts, twoHopShare: 0, yearShare: 1 })).toBe(1);
    expect(yearsAsked({ ...opts, twoHopShare: 0, yearShare: 0 })).toBe(0);
    const half = yearsAsked({ ...opts, twoHopShare: 0, yearShare: 0.5 });
    expect(half).toBeGreaterThan(0.42);
    expect(half).toBeLessThan(0.58);
    // Without the option: 1 in 8 (the eight 1-hop templates, evenly).
    const even = yearsAsked({ ...opts, twoHopShare: 0 });
    expect(even).toBeGreaterThan(0.08);
    expect(even).toBeLessThan(0.18);
    // Spliced layout: only the 1-hop passages (65% by default) are affected.
    const spliced = yearsAsked({ ...opts, layout: 'spliced', yearShare: 1 });
    expect(spliced).toBeGreaterThan(0.57);
    expect(spliced).toBeLessThan(0.73);
    expect(() => createStage0Sampler(SEED, { yearShare: 1.5 })).toThrow(/yearShare/);
  });

  it('birthplace share: beside the year share, that share of 1-hop reading passages asks a birthplace', () => {
    const opts = { mix: { document: 0, reading: 1, prompt: 0 }, readingWorlds: 1, firstWorldShare: 0, twoHopShare: 0 };
    const w = generateWorld(SEED, 2);
    const years = new Set(w.ofKind.person.map((p) => String(birthYearOf(w, p))));
    const birthplaceQuestion = /question : (where was|in which city was|what is the birthplace of) /;
    const shares = (o: Parameters<typeof createStage0Sampler>[1]) => {
      const s = createStage0Sampler(SEED, o);
      let y = 0, b = 0;
      for (let i = 0; i < 400; i++) {
        const x = s.next();
        const answer = x.text.split(' ').slice(x.answerSpan!.start, x.answerSpan!.end)[1]!;
        if (years.has(answer)) y++;
        if (birthplaceQuestion.test(x.text)) {
          b++;
          // The asked person's birthplace is the answer, read in the passage's documents.
          const asked = x.text.match(birthplaceQuestion)!;
          const name = x.text.slice(asked.index! + asked[0].length).split(' ')[0]!;
          const person = w.ofKind.person.find((p) => normalizeText(w.entities[p]!.name) === name)!;
          expect(answer).toBe(normalizeText(w.entities[objectOf(w, 'birthplace', person)]!.name));
          expect(x.text.split(' ').slice(0, x.answerSpan!.start)).toContain(answer);
        }
      }
      return { years: y / 400, birthplaces: b / 400 };
    };
    expect(shares({ ...opts, birthplaceShare: 1 })).toEqual({ years: 0, birthplaces: 1 });
    const both = shares({ ...opts, yearShare: 0.25, birthplaceShare: 0.25 });
    for (const v of [both.years, both.birthplaces]) {
      expect(v).toBeGreaterThan(0.19);
      expect(v).toBeLessThan(0.31);
    }
    // Without the year share, years stay among the others (1 in 7 of the rest).
    const alone = shares({ ...opts, birthplaceShare: 0.3 });
    expect(alone.birthplaces).toBeGreaterThan(0.24);
    expect(alone.birthplaces).toBeLessThan(0.36);
    expect(alone.years).toBeGreaterThan(0.05);
    expect(alone.years).toBeLessThan(0.16);
    expect(() => createStage0Sampler(SEED, { birthplaceShare: -0.1 })).toThrow(/birthplaceShare/);
    expect(() => createStage0Sampler(SEED, { yearShare: 0.6, birthplaceShare: 0.6 })).toThrow(/yearShare \+ birthplaceShare must be at most 1/);
  });

  it('employer share: beside the year and birthplace shares, that share of 1-hop reading passages asks an employer', () => {
    const opts = { mix: { document: 0, reading: 1, prompt: 0 }, readingWorlds: 1, firstWorldShare: 0, twoHopShare: 0 };
    const w = generateWorld(SEED, 2);
    const employerQuestion = /question : (which company did|for which company did|who employed) (\S+)/;
    const share = (o: Parameters<typeof createStage0Sampler>[1]) => {
      const s = createStage0Sampler(SEED, o);
      let n = 0;
      for (let i = 0; i < 400; i++) {
        const x = s.next();
        const asked = x.text.match(employerQuestion);
        if (!asked) continue;
        n++;
        // The asked person's employer (of the passage's world) is the answer, and a document holds it.
        const answer = x.text.split(' ').slice(x.answerSpan!.start, x.answerSpan!.end)[1]!;
        const person = w.ofKind.person.find((p) => normalizeText(w.entities[p]!.name) === asked[2])!;
        expect(answer).toBe(normalizeText(w.entities[objectOf(w, 'employer', person)]!.name));
        expect(x.text.split(' ').slice(0, x.answerSpan!.start)).toContain(answer);
      }
      return n / 400;
    };
    expect(share({ ...opts, employerShare: 1 })).toBe(1);
    expect(share({ ...opts, employerShare: 0 })).toBe(0);
    const three = share({ ...opts, yearShare: 0.25, birthplaceShare: 0.25, employerShare: 0.2 });
    expect(three).toBeGreaterThan(0.14);
    expect(three).toBeLessThan(0.26);
    // Without it, the employer is one of the six templates that split the rest (0.5 / 6).
    const rest = share({ ...opts, yearShare: 0.25, birthplaceShare: 0.25 });
    expect(rest).toBeGreaterThan(0.04);
    expect(rest).toBeLessThan(0.13);
    expect(() => createStage0Sampler(SEED, { employerShare: 2 })).toThrow(/employerShare/);
    expect(() => createStage0Sampler(SEED, { yearShare: 0.4, birthplaceShare: 0.4, employerShare: 0.4 })).toThrow(/yearShare \+ birthplaceShare \+ employerShare must be at most 1/);
  });

  it('backlink-free share: that share of reading passages has documents without the bridge backlinks; 0 keeps the stream', () => {
    // The backlink sentences of lexicon.ts (personWrote, personFounded, companyEmployees), normalized.
    // (A book's page may say "X wrote the novel B", a company's "X founded C , a ... company":
    // forward facts; a person's backlink sentence ends at the name.)
    const backlink = /\b(wrote \S+ \.|is the author of|founded \S+ \.|was the founder of|its employees have included|people who worked for \S+ include|among its staff were)/;
    for (const layout of ['plain', 'spliced'] as const) {
      const opts = { mix: { document: 0, reading: 1, prompt: 0 }, layout };
      const withBacklinks = (o: Parameters<typeof createStage0Sampler>[1]) => {
        const s = createStage0Sampler(SEED, o);
        let n = 0;
        for (let i = 0; i < 200; i++) {
          const x = s.next();
          // Only the documents: the question (which may ask "who founded X?") and the answer are left out.
          const words = x.text.split(' ');
          const docs = x.contextSpans ? x.contextSpans.map((c) => words.slice(c.start, c.end).join(' ')).join(' ') : x.text.replace(/question : [^?]*\?/, '').split('<answer>')[0]!;
          if (backlink.test(docs)) n++;
        }
        return n;
      };
      expect(withBacklinks({ ...opts })).toBeGreaterThan(40);
      expect(withBacklinks({ ...opts, backlinkFreeShare: 1 })).toBe(0);
      const half = withBacklinks({ ...opts, backlinkFreeShare: 0.5 });
      expect(half).toBeGreaterThan(withBacklinks({ ...opts }) * 0.3);
      expect(half).toBeLessThan(withBacklinks({ ...opts }) * 0.7);
      const a = createStage0Sampler(SEED, opts), b = createStage0Sampler(SEED, { ...opts, backlinkFreeShare: 0 });
      for (let i = 0; i < 50; i++) expect(b.next()).toEqual(a.next());
    }
    expect(() => createStage0Sampler(SEED, { backlinkFreeShare: 1.5 })).toThrow(/backlinkFreeShare/);
  });

  it('answer-kind distractors: pages of other entities of the answer kind beside the supporting ones; 0 keeps the stream', () => {
    const kinds = new Map(worldEntities(SEED).map((e) => [normalizeText(e.name), e.kind] as const));
    const opts = { mix: { document: 0, reading: 1, prompt: 0 }, readingWorlds: 1, firstWorldShare: 0, birthplaceShare: 1, multiHopShare: 0, twoHopShare: 0 };
    /** Pages of cities other than the answer, per passage (every question asks a birthplace). */
    const otherCities = (o: Parameters<typeof createStage0Sampler>[1]) => {
      const s = createStage0Sampler(SEED, o);
      let n = 0;
      for (let i = 0; i < 300; i++) {
        const x = s.next();
        const answer = x.text.split(' ').slice(x.answerSpan!.start, x.answerSpan!.end)[1]!;
        for (const m of x.text.matchAll(/\( \d+ \) (\S+) :/g)) if (kinds.get(m[1]!) === 'city' && m[1] !== answer) n++;
      }
      return n / 300;
    };
    for (const layout of ['plain', 'spliced'] as const) {
      const none = otherCities({ ...opts, layout }), all = otherCities({ ...opts, layout, answerKindDistractors: 1 });
      // Without the option a birthplace passage's random distractors are persons (the supporting page's kind).
      expect(none, layout).toBe(0);
      expect(all, layout).toBeGreaterThan(0.3);
    }
    const texts = (o: Parameters<typeof createStage0Sampler>[1]) => { const s = createStage0Sampler(SEED, o); return Array.from({ length: 200 }, () => s.next()); };
    expect(texts({ layout: 'spliced', answerKindDistractors: 0 })).toEqual(texts({ layout: 'spliced' }));
    expect(() => createStage0Sampler(SEED, { answerKindDistractors: 2 })).toThrow(/answerKindDistractors/);
  });

  it('draws one of several prompt presets per rendering; one preset alone keeps the stream bit for bit', () => {
    const texts = (opts: Parameters<typeof createStage0Sampler>[1]) => {
      const s = createStage0Sampler(SEED, opts);
      return Array.from({ length: 300 }, () => s.next());
    };
    // One preset in `presets` makes no draw: the shipped base's texts are unchanged.
    expect(texts({ presets: [PROMPT_PRESETS.compact!] })).toEqual(samples.slice(0, 300));
    // compact and chain: both renderings occur among the prompts (chain repeats the question last).
    const prompts = texts({ presets: [PROMPT_PRESETS.compact!, PROMPT_PRESETS.chain!] }).filter((x) => x.kind === 'prompt');
    const chain = prompts.filter((x) => x.text.split('question :').length === 3).length;
    expect(chain).toBeGreaterThan(prompts.length * 0.3);
    expect(chain).toBeLessThan(prompts.length * 0.7);
    expect(() => createStage0Sampler(SEED, { presets: [] })).toThrow(/at least one preset/);
    expect(() => createStage0Sampler(SEED, { preset: PROMPT_PRESETS.compact!, presets: [PROMPT_PRESETS.chain!] })).toThrow(/not both/);
  });
});

describe('vocabulary', () => {
  it('lists every word of documents and questions, sorted and unique', () => {
    const vocab = worldVocabulary(SEED);
    expect([...vocab].sort()).toEqual(vocab);
    expect(new Set(vocab).size).toBe(vocab.length);
    const set = new Set(vocab);
    for (const d of [...docs0, ...docs1, ...worldDocuments(w2)]) for (const w of words(`${d.title} ${d.text}`)) expect(set.has(w), w).toBe(true);
    for (const q of questions) for (const w of words(`${q.question} ${q.answers.join(' ')}`)) expect(set.has(w), w).toBe(true);
    for (const w of FILLER_WORDS) expect(set.has(w)).toBe(true);
    expect(set.has('1873') && set.has('1') && set.has('none') && set.has('question')).toBe(true);
    expect(set.has('<answer>')).toBe(false);
    // 2,000 names + 190 years + the fixed words.
    expect(vocab.length).toBeGreaterThan(2190);
    expect(vocab.length).toBeLessThan(2700);
  });
});

describe('pack writer', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'r1s-world-test-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const tiny = (n: number, shards: number): PackSpec => ({
    name: 'tiny',
    description: 'test pack',
    source: 'tests',
    license: 'MIT',
    documents: Array.from({ length: n }, (_, i) => ({ text: `text ${i}`, title: `T${i}`, id: `d${i}` })),
    questions: [{ id: 'q0', question: 'Where?', answers: ['T1'], hops: 1, template: 'x', split: 'train', supportingIds: ['d1'] }],
    shards,
    extraFiles: [{ file: 'words.txt', content: 'a\nb\n' }],
  });

  it('writes contiguous shards, keys in order, and a manifest whose hashes match the files', async () => {
    const out = join(dir, 'p1');
    const manifest = await writePack(out, tiny(10, 3));
    expect(manifest.shards.map((s) => s.documents)).toEqual([4, 3, 3]);
    expect(splitContiguous([1, 2, 3, 4, 5], 2)).toEqual([[1, 2, 3], [4, 5]]);
    const onDisk = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as PackManifest;
    expect(onDisk).toEqual(manifest);
    expect(await readFile(join(out, 'manifest.json'), 'utf8')).toBe(`${JSON.stringify(manifest, null, 2)}\n`);
    for (const f of [...manifest.shards, manifest.questions]) {
      const bytes = await readFile(join(out, f.file));
      expect(bytes.byteLength).toBe(f.bytes);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(f.sha256);
    }
    expect(await readFile(join(out, 'shard-000.jsonl'), 'utf8')).toBe(
      '{"id":"d0","title":"T0","text":"text 0"}\n{"id":"d1","title":"T1","text":"text 1"}\n' +
        '{"id":"d2","title":"T2","text":"text 2"}\n{"id":"d3","title":"T3","text":"text 3"}\n',
    );
    expect((await readdir(out)).sort()).toEqual(['manifest.json', 'questions.jsonl', 'shard-000.jsonl', 'shard-001.jsonl', 'shard-002.jsonl', 'words.txt']);
  });

  it('refuses a non-empty directory unless overwrite, and leaves nothing partial on failure', async () => {
    const out = join(dir, 'p2');
    await mkdir(out);
    await writeFile(join(out, 'keep.txt'), 'mine');
    await expect(writePack(out, tiny(4, 2))).rejects.toThrow(new RegExp(`refusing to overwrite non-empty directory "${out}"`));
    expect(await readdir(out)).toEqual(['keep.txt']);
    await expect(writePack(out, tiny(4, 5), { overwrite: true })).rejects.toThrow(/shard count must be an integer in \[1, 4\]/);
    await expect(writePack(out, { ...tiny(4, 2), extraFiles: [{ file: '../x', content: '' }] }, { overwrite: true })).rejects.toThrow(/bad extra file name/);
    expect(await readdir(out)).toEqual(['keep.txt']);
    // overwrite replaces only a pack folder: the user's keep.txt is not a pack (issue 18, item 2).
    await expect(writePack(out, tiny(4, 2), { overwrite: true })).rejects.toThrow(/is not a pack folder: it has no manifest.json \(it holds "keep.txt"\)/);
    expect(await readdir(out)).toEqual(['keep.txt']);
    await rm(join(out, 'keep.txt'));
    await writePack(out, tiny(4, 3));
    await writePack(out, tiny(4, 2), { overwrite: true });
    expect(await readdir(out)).not.toContain('shard-002.jsonl');
    expect((await readdir(dir)).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('reproduces the committed pack public/corpus/world byte for byte', async () => {
    const { files } = serializePack(buildWorldPack(SEED, 4));
    const committed = join(import.meta.dirname, '../../public/corpus/world');
    expect((await readdir(committed)).sort()).toEqual(files.map((f) => f.file).sort());
    for (const f of files) {
      const bytes = await readFile(join(committed, f.file));
      expect(bytes.equals(Buffer.from(f.content as string, 'utf8')), f.file).toBe(true);
    }
    const manifest = JSON.parse(await readFile(join(committed, 'manifest.json'), 'utf8')) as PackManifest;
    const vocab = manifest.generator!.vocabulary as { file: string; sha256: string };
    expect(createHash('sha256').update(await readFile(join(committed, vocab.file))).digest('hex')).toBe(vocab.sha256);
    // Another seed gives another pack.
    const other = serializePack(buildWorldPack(2, 4)).files.find((f) => f.file === 'shard-000.jsonl')!;
    expect(other.content).not.toBe(files.find((f) => f.file === 'shard-000.jsonl')!.content);
  });
});

describe('documentFor', () => {
  it('is the same text however often and in whatever order it is generated', () => {
    expect(documentFor(w1, 7)).toEqual(docs1[7]);
    expect(() => documentFor(w1, 2000)).toThrow(/no entity 2000/);
  });
});
