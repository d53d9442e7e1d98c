/**
 * The name pool of a seed: unique pronounceable pseudo-words, one list per entity kind, shared
 * by every world of that seed (recipe.md section 11: "one pool of single-token names").
 *
 * A name is 2-3 syllables of lowercase ASCII letters, 4-9 characters, so it is one word of the
 * word-level vocabulary and every answer is one token. No name equals a word the generator
 * writes elsewhere, a word of a prompt preset, or a common English word, so a name is never
 * confused with ordinary text.
 */
import { splitWords } from '../protocol/normalize.ts';
import { FILLER_WORDS, PROMPT_PRESETS } from '../protocol/prompts.ts';
import { Rng } from '../util/rng.ts';
import { lexiconWords } from './lexicon.ts';
import { deriveSeed, STREAM } from './seeds.ts';
import { ENTITY_KINDS, type EntityKind } from './types.ts';

const ONSETS = [
  'b', 'c', 'd', 'f', 'g', 'h', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'z',
  'br', 'dr', 'gr', 'kr', 'tr', 'st', 'th', 'sh', 'fl', 'gl', 'pr', 'sk',
] as const;
const VOWELS = ['a', 'e', 'i', 'o', 'u', 'a', 'e', 'o', 'ai', 'ei', 'ou', 'y'] as const;
const CODAS = ['n', 'r', 'l', 's', 'm', 'th', 'nd', 'rk', 'x', 'v'] as const;

/**
 * Common English words a pseudo-word could collide with (function words and short everyday
 * words). Not exhaustive: a rare English-looking name is harmless, a name like "the" is not.
 */
const ENGLISH_WORDS = splitWords(`
  a an the and or but nor not no yes so if then than that this these those there here where when
  what which who whom whose why how all any both each few more most other some such only own same
  too very can will just should now is are was were be been being have has had having do does did
  doing would could might must shall may of at by for with about against between into through
  during before after above below to from up down in out on off over under again further once he
  she it they them his her its their our your my me him we you i one two three four five six
  seven eight nine ten hundred thousand man men woman women child home house land sea river town
  city hill road rose bone cone dome done gone lone none tone zone bare care dare fare hare mare
  rare ware bale dale gale kale male pale sale tale vale came dame fame game lame name same tame
  dine fine line mine nine pine vine wine bore core fore gore lore more pore sore tore wore
  bill fill hill kill mill pill till will ball call fall hall mall tall wall bell cell dell fell
  sell tell well belly billy dolly folly holly jolly lily molly polly sally tally bison bacon
  basin cabin camel canal candy comma coral denim demon devil diner drama fever lemon level lever
  liver lotus manor medal melon metal model motel motor nomad panel petal pilot radar radio razor
  robin rumor salad salon satin shine sofa soda solo tulip tuna venom viral visor vital vocal
  zebra banana tomato potato mango tango cargo hero zero halo polo silo memo menu tofu guru
  baron talon salmon lemonade bandana sonata fiesta siesta gala sauna toga tuba vodka pasta
  pizza tiara mania cobra coma nova sofa mimosa veranda hammer summer winter dinner banner
  manner matter butter letter better setter bitter litter fitter kitten mitten button mutton
  cotton rotten gotten bottom lesson person reason season poison prison bishop parish polish
  relish perish finish famine lumber number timber ember member remember morning evening nothing
  something thing king ring sing wing bring string spring strong song long along among wrong
  darken harden garden warden pardon sharon baker maker taker water paper caper later wafer
  laser maser razor sailor tailor major minor manor tenor donor honor humor tumor rumor
  kidney money honey turkey donkey monkey valley alley galley rally tally volley trolley
  else ever even never also aide alga bourse corny haste hake naive ogle troupe vega colby convo
  able acre area aria arena army aunt auto baby back bake band bank barn base bath bead beam bean
  bear beat beef beer bell belt bend best bike bird bite blue boat body boil bold bolt bond book
  boot born boss both bowl bulk bull burn bush busy cafe cage cake calm camp cane cape card cart
  case cash cast cave chef chin chip city clay clip club coal coat code coin cold comb cook cool
  cope copy cord cork corn cost crew crop cube cure curl cute dark data date dawn dead deal dear
  debt deck deep deer demo deny desk dial dice diet dirt dish disk dive dock doll door dose dove
  down draw drop drum duck dune dust duty each earl earn ease east easy echo edge edit else epic
  exam exit face fact fade fair fake farm fast fate fear feed feel fest file film firm fish five
  flag flat flow foam fold folk food fool foot fork form fort four free frog fuel full fund fuse
  gain gala gate gear gene gift girl give glad glow glue goal goat gold golf good gown grab gray
  grid grip grow gulf guru hair half halo hand hang hard harm hate have head heal heap hear heat
  hero hide high hike hint hire hold hole holy hood hook hope horn hose host hour huge hunt hurt
  idea idle inch iron item jade jail jazz joke jury keen keep kilo kind kiss kite knee knot lace
  lack lady lake lamb lamp lane last late lava lazy lead leaf lean left lend lens less life lift
  like lime limp link lion list live load loaf loan lock loft logo look loop lord lose loss loud
  love luck lump lung mail main make malt many mark mask mass mate maze meal meat meet melt memo
  menu mesh mild milk mind mint miss mist mode mole mood moon moss most moth move much mule muse
  must myth nail navy near neat neck need nest news next nice node noon norm nose note noun nova
  oath obey odds okay olive omen once open oval oven pace pack page paid pain pair palm park part
  pass past path peak pear peel pier pike pile pine pink pipe plan play plot plug plum poem poet
  pole poll pond pony pool poor pope pork port pose post pour pray prey prom pull pump pure push
  quiz race rack raft rage raid rail rain ramp rank rate read real rear reef rent rest rice rich
  ride rift ripe rise risk road roam robe rock role roof room root rope ruby rude ruin rule rush
  safe saga sage sail salt sand save scan seal seat seed seek self sell send ship shoe shop shot
  show shut sick side sigh sign silk site size skin skip slam slip slot slow snow soap sock soft
  soil sole song soon sort soul soup sour spin spot star stay stem step stir stop such suit sung
  sure swan swim tail take talk tank tape task taxi team tear tech tell tend tent term test text
  tide tidy tile time tiny tire toad toil tomb tone tool tour town tree trim trip true tube tune
  turn twin type ugly unit urge used user vase vast veil vein verb vest veto view visa void vote
  wage wait wake walk wand want ward warm warn wash wave weak wear weed week west what whip wide
  wife wild wind wise wish wolf wood wool word work yard yarn year yoga zero zinc zoom
  alpha delta gamma omega sigma theta kappa aroma drama karma koala llama mambo pasta sauna
  tuba villa vista canoe movie house horse mouse noise voice raise rhyme crime prime slime
`);

let reservedCache: Set<string> | undefined;

/** Every word a name must not be: generator words, prompt words and common English words. */
export function reservedWords(): Set<string> {
  if (reservedCache) return reservedCache;
  const words = lexiconWords();
  for (const w of ENGLISH_WORDS) words.add(w);
  for (const w of FILLER_WORDS) words.add(w);
  for (const p of Object.values(PROMPT_PRESETS)) {
    for (const w of splitWords(p.template.replace(/\{[A-Za-z_]+\}/g, ' '))) words.add(w);
  }
  reservedCache = words;
  return words;
}

const SINGLE_ONSETS = ONSETS.filter((o) => o.length === 1);
const MID_CODAS = ['n', 'r', 'l', 's', 'm'] as const;

/**
 * One syllable. A name may begin with a vowel now and then ("Ailen"). Inside a name a coda is
 * one soft consonant and the next onset a single letter, so clusters stay pronounceable
 * (no "rkgr"); the longer codas ("nd", "rk", "th", "x") end a name only.
 */
function syllable(rng: Rng, first: boolean, last: boolean, afterCoda: boolean): string {
  let onset = '';
  if (!(first && rng.next() < 0.15)) onset = rng.pick(afterCoda ? SINGLE_ONSETS : ONSETS);
  const coda = rng.next() < 0.35 ? rng.pick(last ? CODAS : MID_CODAS) : '';
  return onset + rng.pick(VOWELS) + coda;
}

/** A candidate name of 2-3 syllables (may fail the length rules; the caller filters). */
function candidateName(rng: Rng): string {
  const n = rng.next() < 0.6 ? 2 : 3;
  let name = '';
  let lastHadCoda = false;
  for (let i = 0; i < n; i++) {
    const s = syllable(rng, i === 0, i === n - 1, lastHadCoda);
    lastHadCoda = !/[aeiouy]$/.test(s);
    name += s;
  }
  return name;
}

/** Whether a string is a well-formed name: 4-9 lowercase ASCII letters, at least one vowel. */
export function isValidName(name: string): boolean {
  return /^[a-z]{4,9}$/.test(name) && /[aeiouy]/.test(name) && !/(.)\1\1/.test(name);
}

/**
 * Draws the name pool of a seed: `sizes[kind]` unique lowercase names per kind, no name shared
 * between kinds, none reserved ({@link reservedWords}). Deterministic in `seed`.
 * Throws if a size is not a non-negative integer.
 */
export function generateNamePool(seed: number, sizes: Readonly<Record<EntityKind, number>>): Record<EntityKind, string[]> {
  const rng = new Rng(deriveSeed(seed, STREAM.names));
  const reserved = reservedWords();
  const used = new Set<string>();
  const pool = {} as Record<EntityKind, string[]>;
  for (const kind of ENTITY_KINDS) {
    const n = sizes[kind];
    if (!Number.isInteger(n) || n < 0) throw new Error(`generateNamePool: size of "${kind}" must be a non-negative integer, got ${n}`);
    const names: string[] = [];
    let attempts = 0;
    while (names.length < n) {
      if (++attempts > 1000 * (n + 10)) throw new Error(`generateNamePool: could not draw ${n} unique names for "${kind}"`);
      const name = candidateName(rng);
      if (!isValidName(name) || reserved.has(name) || used.has(name)) continue;
      used.add(name);
      names.push(name);
    }
    pool[kind] = names;
  }
  return pool;
}

/** "kovar" -> "Kovar": how a name is written in documents and questions. */
export function displayName(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}
