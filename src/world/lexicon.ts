/**
 * Every fixed word the world generator writes: attribute value lists, the phrasings of document
 * sentences and questions, and the literals of the reading-passage format.
 *
 * Kept as data in one place for two reasons: the name pool must avoid every one of these words
 * (a name must never be mistaken for an ordinary word), and the pack's `words.txt` must list every
 * word the generator can ever emit (the tokenizer's vocabulary is built from it).
 *
 * Template slots are written `{slot}`; the filler functions live in documents.ts and questions.ts.
 */
import { splitWords } from '../protocol/normalize.ts';

/** Person occupations (attribute `occupation`). */
export const OCCUPATIONS = [
  'chemist', 'painter', 'engineer', 'farmer', 'poet', 'lawyer', 'teacher', 'sailor', 'architect', 'merchant',
  'physician', 'banker', 'composer', 'historian', 'surveyor', 'botanist', 'printer', 'weaver', 'astronomer',
  'journalist',
] as const;

/** Book genres (attribute `genre`). */
export const GENRES = [
  'novel', 'memoir', 'treatise', 'chronicle', 'atlas', 'play', 'poem', 'biography', 'history', 'travelogue',
  'handbook', 'essay',
] as const;

/** Company industries, used as an adjective before "company" (attribute `industry`). */
export const INDUSTRIES = [
  'shipping', 'mining', 'textile', 'railway', 'publishing', 'brewing', 'insurance', 'steel', 'banking', 'timber',
  'chemical', 'printing', 'tobacco', 'glass', 'trading', 'engineering',
] as const;

/** What sort of place a city is (attribute `cityKind`). */
export const CITY_KINDS = [
  'port city', 'river town', 'market town', 'mountain town', 'coastal city', 'mining town', 'lake town',
  'border town', 'old capital', 'garden city', 'fortress town', 'industrial city',
] as const;

/** Value lists of the word-valued attributes, by attribute name. */
export const ATTRIBUTE_VALUES = {
  occupation: OCCUPATIONS,
  genre: GENRES,
  industry: INDUSTRIES,
  cityKind: CITY_KINDS,
} as const;

/**
 * Document sentence phrasings, by sentence role. Slots: `{Name}` the subject's name; `{Subj}` /
 * `{subj}` the name or a pronoun (capitalized / not); `{His}` / `{his}` the possessive pronoun;
 * `{a_occ}`, `{a_genre}`, `{a_industry}`, `{a_kind}` a value with its article; `{genre}`;
 * `{city}`, `{year}`, `{univ}`, `{company}`, `{book}`, `{author}`, `{founder}` related names;
 * `{list}` one to three names ("A", "A and B", "A, B and C").
 *
 * The forward-fact phrasings are short on purpose: every fact a question asks about must sit in
 * the first {@link FACT_WINDOW} words of its document (documents are cut to 40 words in a rollout).
 */
export const DOCUMENT_PHRASINGS = {
  personIntro: [
    '{Name} was {a_occ}.',
    '{Name} was {a_occ} by profession.',
    '{Name} is remembered as {a_occ}.',
    '{Name} worked as {a_occ}.',
  ],
  personBirth: [
    '{Subj} was born in {city} in {year}.',
    '{Subj} was born in {year} in {city}.',
    '{His} birthplace was {city}, where {subj} was born in {year}.',
    'In {year}, {subj} was born in {city}.',
  ],
  personIntroBirth: [
    '{Name} was {a_occ} born in {city} in {year}.',
    '{Name}, born in {city} in {year}, was {a_occ}.',
    'Born in {city} in {year}, {Name} became {a_occ}.',
  ],
  personStudy: [
    '{Subj} studied at {univ}.',
    '{Subj} was educated at {univ}.',
    '{Subj} attended {univ}.',
    '{Subj} was a student at {univ}.',
  ],
  personWork: [
    '{Subj} worked for {company}.',
    '{Subj} was employed by {company}.',
    'Later {subj} worked for {company}.',
    '{Subj} spent {his} career at {company}.',
  ],
  personStudyWork: [
    'After studying at {univ}, {subj} worked for {company}.',
    '{Subj} studied at {univ} and later worked for {company}.',
    '{Subj} attended {univ} and then joined {company}.',
  ],
  personWrote: ['{Subj} wrote {book}.', '{Subj} is the author of {book}.', '{Subj} also wrote {book}.'],
  personFounded: ['{Subj} founded {company}.', '{Subj} was the founder of {company}.', 'In later life {subj} founded {company}.'],
  personFiller: [
    '{Subj} travelled widely.',
    '{Subj} kept a detailed diary.',
    '{His} letters are still read today.',
    '{Subj} married late in life.',
    '{Subj} spent {his} last years in the countryside.',
    '{Subj} was known for {his} patience.',
  ],
  bookAuthorGenre: ['{Name} is {a_genre} by {author}.', '{Name} is {a_genre} written by {author}.', '{author} wrote the {genre} {Name}.'],
  bookAuthor: ['{Name} was written by {author}.', '{Name} is a work by {author}.'],
  bookGenre: ['It is {a_genre}.', 'The book is {a_genre}.'],
  bookPublished: ['It was first published in {city}.', 'Its first edition was printed in {city}.', '{Name} first appeared in {city}.'],
  bookFiller: [
    'It is still widely read.',
    'It has been translated into several languages.',
    'Critics praised its style.',
    'It is often taught in schools.',
    'Some readers found it difficult.',
    'It sold well in its first year.',
  ],
  companyFounderIndustry: ['{Name} is {a_industry} company founded by {founder}.', '{founder} founded {Name}, {a_industry} company.'],
  companyFounder: ['{Name} was founded by {founder}.', '{Name} was started by {founder}.'],
  companyIndustry: ['It is {a_industry} company.', 'The firm is {a_industry} business.'],
  companyHeadquarters: [
    'It is based in {city}.',
    'Its headquarters are in {city}.',
    '{Name} has its headquarters in {city}.',
    'The company is based in {city}.',
  ],
  companyEmployees: ['Its employees have included {list}.', 'People who worked for {Name} include {list}.', 'Among its staff were {list}.'],
  companyFiller: [
    'It grew quickly in its early years.',
    'It later opened offices abroad.',
    'It was once the largest firm of its kind.',
    'It survived several hard years.',
    'Its products were sold in many countries.',
  ],
  universityLocation: [
    '{Name} is a university in {city}.',
    '{Name} is a university located in {city}.',
    '{Name} is a university based in {city}.',
    'The university {Name} stands in {city}.',
  ],
  universityAlumni: ['Its students have included {list}.', 'Notable alumni include {list}.', 'Former students include {list}.'],
  universityFiller: [
    'It is known for its library.',
    'It has a large medical school.',
    'Its gardens are open to visitors.',
    'It admits students from many countries.',
    'Its oldest building has a famous tower.',
  ],
  cityIntro: ['{Name} is {a_kind}.', '{Name} is {a_kind} with a long history.'],
  cityBorn: ['People born in {Name} include {list}.', 'It is the birthplace of {list}.', 'Natives of {Name} include {list}.'],
  cityCompanies: ['Companies based in {Name} include {list}.', 'Firms based here include {list}.'],
  cityUniversities: ['Universities in {Name} include {list}.', 'Its universities include {list}.'],
  cityFiller: [
    'It lies on a wide river.',
    'Its old town is well preserved.',
    'It holds a large market every week.',
    'It is known for its bridges.',
    'Its winters are long and cold.',
    'It has grown steadily.',
  ],
} as const satisfies Record<string, readonly string[]>;

/** Role names of {@link DOCUMENT_PHRASINGS}. */
export type PhrasingRole = keyof typeof DOCUMENT_PHRASINGS;

/**
 * Question phrasings by template name. Slots: `{X}` the subject; `{A}`, `{B}` the two persons
 * of a comparison. 2-3 paraphrases each.
 */
export const QUESTION_PHRASINGS = {
  birthplace: ['Where was {X} born?', 'In which city was {X} born?', 'What is the birthplace of {X}?'],
  birth_year: ['In which year was {X} born?', 'When was {X} born?'],
  employer: ['Which company did {X} work for?', 'Who employed {X}?', 'For which company did {X} work?'],
  alma_mater: ['Where did {X} study?', 'Which university did {X} attend?'],
  author: ['Who wrote {X}?', 'Who is the author of {X}?'],
  founder: ['Who founded {X}?', 'Who was the founder of {X}?'],
  headquarters: ['In which city is {X} based?', 'Where is {X} based?', 'Where are the headquarters of {X}?'],
  location: ['In which city is {X} located?', 'Where is the university {X}?'],
  author_birthplace: ['Where was the author of {X} born?', 'In which city was the author of {X} born?'],
  employer_headquarters: [
    'In which city is the company that {X} worked for based?',
    'Where is the company that employed {X} based?',
  ],
  author_employer_headquarters: [
    'In which city is the company that the author of {X} worked for based?',
    'Where is the company that employed the author of {X} based?',
  ],
  comparison_born_first: ['Who was born first, {A} or {B}?', 'Who was born earlier, {A} or {B}?'],
  founder_birthplace: ['Where was the founder of {X} born?', 'In which city was the founder of {X} born?'],
} as const satisfies Record<string, readonly string[]>;

/** Name of a question template. */
export type TemplateName = keyof typeof QUESTION_PHRASINGS;

/**
 * Birth-order questions that only Stage-0 reading passages ask (issue 15): the base learns to
 * compare two birth years read in documents, in both directions, while the held-out template's
 * own wordings (`comparison_born_first` above) stay out of Stage 0 and every comparison stays
 * out of RL. Every word is already one of the question phrasings' words, so the vocabulary is
 * unchanged.
 */
export const STAGE0_BIRTH_ORDER_PHRASINGS = {
  first: ['Which of {A} and {B} was born first?'],
  later: ['Who was born later, {A} or {B}?', 'Which of {A} and {B} was born later?'],
} as const satisfies Record<string, readonly string[]>;

/** Pronoun forms written into person documents. */
export const PRONOUNS = {
  female: { Subj: 'She', subj: 'she', His: 'Her', his: 'her' },
  male: { Subj: 'He', subj: 'he', His: 'His', his: 'his' },
} as const;

/** Words of the document-splice and reading-passage formats (src/protocol/splice.ts, src/stage0/world-mix.ts). */
export const FORMAT_LITERALS = ['(', ')', ':', 'question', 'none', 'and', ','] as const;

/**
 * Every forward fact of a document (the entity's own relations and attributes, the facts that
 * questions ask about) lies within its first FACT_WINDOW normalized words, so that cutting a
 * document to 40 words in a rollout (recipe.md section 11) never cuts an answer away.
 */
export const FACT_WINDOW = 35;

/** `a` or `an` before a word (our value lists hold no silent-h or "you"-sounding words). */
export function withArticle(phrase: string): string {
  return /^[aeiou]/i.test(phrase) ? `an ${phrase}` : `a ${phrase}`;
}

/**
 * Every normalized word the fixed text of the generator can produce: template literals, value
 * lists, articles, pronouns and format literals. Excludes names, years and document numbers.
 */
export function lexiconWords(): Set<string> {
  const words = new Set<string>();
  const add = (text: string) => {
    for (const w of splitWords(text.replace(/\{[A-Za-z_]+\}/g, ' '))) words.add(w);
  };
  for (const list of Object.values(DOCUMENT_PHRASINGS)) for (const t of list) add(t);
  for (const list of Object.values(QUESTION_PHRASINGS)) for (const t of list) add(t);
  for (const list of Object.values(STAGE0_BIRTH_ORDER_PHRASINGS)) for (const t of list) add(t);
  for (const list of Object.values(ATTRIBUTE_VALUES)) for (const v of list) add(v);
  for (const forms of Object.values(PRONOUNS)) for (const w of Object.values(forms)) add(w);
  add('a an');
  for (const w of FORMAT_LITERALS) add(w);
  return words;
}
