// English morphology for the corpus grammar: plurals, verb forms, articles, number words and lists.
// Small and rule-based; the irregular words the lexicon uses are listed here.

/** Grammatical number of a subject: mass nouns ("sugar", "sand") take the singular. */
export type Num = 'sg' | 'pl';

export interface Noun {
  sg: string;
  pl: string;
  /** Uncountable: no plural, no "a"; a generic mention is the bare singular ("Salt draws water out"). */
  mass: boolean;
}

const IRREGULAR_PLURALS: Record<string, string> = {
  child: 'children', person: 'people', man: 'men', woman: 'women', foot: 'feet', tooth: 'teeth',
  mouse: 'mice', goose: 'geese', fish: 'fish', sheep: 'sheep', deer: 'deer', leaf: 'leaves',
  loaf: 'loaves', knife: 'knives', shelf: 'shelves', half: 'halves', wolf: 'wolves', life: 'lives',
  calf: 'calves', wife: 'wives', thief: 'thieves', potato: 'potatoes', tomato: 'tomatoes',
  volcano: 'volcanoes', hero: 'heroes', echo: 'echoes', cactus: 'cacti', series: 'series',
  species: 'species', crisis: 'crises', analysis: 'analyses', larva: 'larvae', alga: 'algae',
};

/** The plural of a noun or noun phrase (the last word is inflected: "sea otter" → "sea otters"). */
export function pluralize(phrase: string): string {
  // "pool of seawater" → "pools of seawater": the head comes before "of".
  const of = phrase.indexOf(' of ');
  if (of > 0) return pluralize(phrase.slice(0, of)) + phrase.slice(of);
  const m = /^(.*?)(\S+)$/.exec(phrase);
  if (!m) return phrase;
  const [, head = '', word = ''] = m;
  const lower = word.toLowerCase();
  if (IRREGULAR_PLURALS[lower]) return head + IRREGULAR_PLURALS[lower];
  if (/(s|sh|ch|x|z)$/.test(lower)) return `${head}${word}es`;
  if (/[^aeiou]y$/.test(lower)) return `${head}${word.slice(0, -1)}ies`;
  return `${head}${word}s`;
}

/** A count noun; the plural is derived unless given. */
export function noun(sg: string, pl?: string): Noun {
  return { sg, pl: pl ?? pluralize(sg), mass: false };
}

/** An uncountable noun ("flour", "salty water"). */
export function mass(sg: string): Noun {
  return { sg, pl: sg, mass: true };
}

export const numOf = (n: Noun): Num => (n.mass ? 'sg' : 'pl');

// ---- verbs -------------------------------------------------------------------------------------

/** Past and past participle of irregular verbs. */
const IRREGULAR_VERBS: Record<string, readonly [string, string]> = {
  be: ['was', 'been'], have: ['had', 'had'], do: ['did', 'done'], go: ['went', 'gone'],
  eat: ['ate', 'eaten'], grow: ['grew', 'grown'], fly: ['flew', 'flown'], swim: ['swam', 'swum'],
  dive: ['dove', 'dived'], catch: ['caught', 'caught'], build: ['built', 'built'], make: ['made', 'made'],
  take: ['took', 'taken'], hold: ['held', 'held'], keep: ['kept', 'kept'], lay: ['laid', 'laid'],
  feed: ['fed', 'fed'], find: ['found', 'found'], sink: ['sank', 'sunk'], rise: ['rose', 'risen'],
  freeze: ['froze', 'frozen'], spread: ['spread', 'spread'], split: ['split', 'split'], set: ['set', 'set'],
  stick: ['stuck', 'stuck'], sting: ['stung', 'stung'], bite: ['bit', 'bitten'], hide: ['hid', 'hidden'],
  run: ['ran', 'run'], fall: ['fell', 'fallen'], break: ['broke', 'broken'], stand: ['stood', 'stood'],
  sleep: ['slept', 'slept'], leave: ['left', 'left'], lose: ['lost', 'lost'], become: ['became', 'become'],
  give: ['gave', 'given'], bring: ['brought', 'brought'], buy: ['bought', 'bought'], think: ['thought', 'thought'],
  see: ['saw', 'seen'], say: ['said', 'said'], tell: ['told', 'told'], get: ['got', 'got'], come: ['came', 'come'],
  know: ['knew', 'known'], write: ['wrote', 'written'], read: ['read', 'read'], ride: ['rode', 'ridden'],
  drive: ['drove', 'driven'], sit: ['sat', 'sat'], meet: ['met', 'met'], send: ['sent', 'sent'],
  spend: ['spent', 'spent'], pay: ['paid', 'paid'], put: ['put', 'put'], cut: ['cut', 'cut'],
  let: ['let', 'let'], shut: ['shut', 'shut'], hit: ['hit', 'hit'], cost: ['cost', 'cost'],
  burst: ['burst', 'burst'], beat: ['beat', 'beaten'], blow: ['blew', 'blown'], draw: ['drew', 'drawn'],
  throw: ['threw', 'thrown'], wear: ['wore', 'worn'], tear: ['tore', 'torn'], shake: ['shook', 'shaken'],
  wake: ['woke', 'woken'], sell: ['sold', 'sold'], feel: ['felt', 'felt'], lead: ['led', 'led'],
  light: ['lit', 'lit'], mean: ['meant', 'meant'], hear: ['heard', 'heard'], begin: ['began', 'begun'],
  drink: ['drank', 'drunk'], sing: ['sang', 'sung'], ring: ['rang', 'rung'], shine: ['shone', 'shone'],
  seek: ['sought', 'sought'], teach: ['taught', 'taught'], fight: ['fought', 'fought'], swing: ['swung', 'swung'],
  dig: ['dug', 'dug'], hang: ['hung', 'hung'], win: ['won', 'won'], forget: ['forgot', 'forgotten'],
  understand: ['understood', 'understood'], bend: ['bent', 'bent'], lend: ['lent', 'lent'],
  fit: ['fit', 'fit'], shed: ['shed', 'shed'], bleed: ['bled', 'bled'], breed: ['bred', 'bred'],
  deal: ['dealt', 'dealt'], undergo: ['underwent', 'undergone'], overcome: ['overcame', 'overcome'],
  withstand: ['withstood', 'withstood'], strike: ['struck', 'struck'], slide: ['slid', 'slid'],
  weave: ['wove', 'woven'], choose: ['chose', 'chosen'], speak: ['spoke', 'spoken'], steal: ['stole', 'stolen'],
};

/** Verbs whose final consonant doubles before -ed and -ing. */
const DOUBLING = new Set([
  'stop', 'drop', 'plan', 'shop', 'grab', 'trim', 'chop', 'skip', 'hop', 'wrap', 'slip', 'pat', 'rub',
  'stir', 'dip', 'trap', 'snap', 'tap', 'nod', 'jog', 'hug', 'admit', 'prefer', 'refer', 'occur', 'ship',
  'spot', 'knit', 'zip', 'whip', 'beg', 'plug', 'clip', 'swim', 'run', 'sit', 'get', 'put', 'cut', 'let',
  'set', 'hit', 'begin', 'win', 'dig', 'shut', 'split', 'forget', 'fit', 'swap', 'step', 'stab', 'scrub',
  'strip', 'flap', 'drip', 'grip', 'sip', 'pop', 'mop', 'sob', 'rob', 'nap', 'tip', 'patrol', 'control',
  'regret', 'commit', 'equip', 'trek', 'skim', 'dim', 'chat', 'fret', 'pin', 'spin', 'bob', 'dab', 'jam',
]);

const MODALS: Record<string, string> = {
  can: 'could', cannot: 'could not', will: 'would', must: 'had to', should: 'should', may: 'might',
  might: 'might', could: 'could', would: 'would',
};
export const isModal = (w: string) => w in MODALS;

export type VerbForm = 'base' | 'present' | 'past' | 'ing' | 'pp';

function thirdPerson(v: string): string {
  if (v === 'be') return 'is';
  if (v === 'have') return 'has';
  if (v === 'do') return 'does';
  if (v === 'go') return 'goes';
  if (/(s|sh|ch|x|z|o)$/.test(v)) return `${v}es`;
  if (/[^aeiou]y$/.test(v)) return `${v.slice(0, -1)}ies`;
  return `${v}s`;
}

function regularPast(v: string): string {
  if (DOUBLING.has(v)) return `${v}${v.slice(-1)}ed`;
  if (v.endsWith('e')) return `${v}d`;
  if (/[^aeiou]y$/.test(v)) return `${v.slice(0, -1)}ied`;
  if (v.endsWith('c')) return `${v}ked`;
  return `${v}ed`;
}

function presentParticiple(v: string): string {
  if (v === 'be') return 'being';
  if (v.endsWith('ie')) return `${v.slice(0, -2)}ying`;
  if (DOUBLING.has(v)) return `${v}${v.slice(-1)}ing`;
  if (/[^aeiouy]e$/.test(v) || v.endsWith('ue')) return `${v.slice(0, -1)}ing`;
  if (v.endsWith('c')) return `${v}king`;
  return `${v}ing`;
}

/**
 * One form of a verb (its lemma): present agrees with the subject's number; modals do not inflect.
 * `inflect('have', 'present', 'sg')` → "has"; `inflect('be', 'past', 'pl')` → "were".
 */
export function inflect(lemma: string, form: VerbForm, num: Num = 'pl'): string {
  if (isModal(lemma)) {
    if (form === 'past') return MODALS[lemma] as string;
    return lemma;
  }
  switch (form) {
    case 'base':
      return lemma;
    case 'present':
      if (lemma === 'be') return num === 'sg' ? 'is' : 'are';
      return num === 'sg' ? thirdPerson(lemma) : lemma;
    case 'past':
      if (lemma === 'be') return num === 'sg' ? 'was' : 'were';
      return IRREGULAR_VERBS[lemma]?.[0] ?? regularPast(lemma);
    case 'pp':
      return IRREGULAR_VERBS[lemma]?.[1] ?? regularPast(lemma);
    case 'ing':
      return presentParticiple(lemma);
  }
}

// ---- articles ----------------------------------------------------------------------------------

/** Words spelled with a vowel but said with a consonant sound, and the reverse. */
const CONSONANT_SOUND = /^(uni(?![nm])|use|usu|uti|ura|ure|euro|eu|one\b|once|ewe|u-)/;
const VOWEL_SOUND = /^(hour|honest|honour|honor|heir)/;

/** "a" or "an" for the word that follows (by its sound, as far as spelling tells). */
export function articleFor(word: string): 'a' | 'an' {
  const w = word.toLowerCase();
  const digits = /^(\d[\d,]*)/.exec(w);
  if (digits) {
    const lead = (digits[1] as string).split(',')[0] as string;
    // "an 8", "an 80", "an 11", "an 18", "an 11,000"; "a 110", "a 180".
    return lead.startsWith('8') || lead === '11' || lead === '18' ? 'an' : 'a';
  }
  if (VOWEL_SOUND.test(w)) return 'an';
  if (CONSONANT_SOUND.test(w)) return 'a';
  return /^[aeiou]/.test(w) ? 'an' : 'a';
}

/** "a heron", "an egret". */
export const withArticle = (phrase: string) => `${articleFor(phrase)} ${phrase}`;

/**
 * Makes every "a"/"an" agree with the word after it. The grammar writes "a" everywhere and this
 * pass, run once per document, picks the form, so templates never have to know what fills a slot.
 */
export function fixArticles(text: string): string {
  return text.replace(/\b([Aa])n? (["']?)([A-Za-z0-9][\w'-]*)/g, (_m, a: string, quote: string, word: string) => {
    const right = articleFor(word);
    const cased = a === 'A' ? right[0]!.toUpperCase() + right.slice(1) : right;
    return `${cased} ${quote}${word}`;
  });
}

// ---- numbers, lists, sentences -----------------------------------------------------------------

const ONES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven',
  'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];

/** 0–999 in words: 42 → "forty-two", 305 → "three hundred and five". */
export function numberWords(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 999) throw new RangeError(`numberWords covers 0–999, got ${n}`);
  if (n < 20) return ONES[n] as string;
  if (n < 100) return TENS[Math.floor(n / 10)] + (n % 10 ? `-${ONES[n % 10]}` : '');
  const rest = n % 100;
  return `${ONES[Math.floor(n / 100)]} hundred${rest ? ` and ${numberWords(rest)}` : ''}`;
}

/** 1 → "1st", 22 → "22nd". */
export function ordinalSuffix(n: number): string {
  const t = n % 100;
  if (t >= 11 && t <= 13) return `${n}th`;
  return `${n}${['th', 'st', 'nd', 'rd'][n % 10] ?? 'th'}`;
}

const ORDINAL_WORDS = ['zeroth', 'first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth',
  'ninth', 'tenth', 'eleventh', 'twelfth'];
/** 1–12 → "first" … "twelfth". */
export function ordinalWord(n: number): string {
  const w = ORDINAL_WORDS[n];
  if (!w || n === 0) throw new RangeError(`ordinalWord covers 1–12, got ${n}`);
  return w;
}

/** 12345 → "12,345": digit groups by hand, since toLocaleString depends on the machine's locale. */
export function groupDigits(n: number): string {
  const s = String(Math.trunc(Math.abs(n)));
  const out = s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return n < 0 ? `-${out}` : out;
}

/** A count: words up to ten, digits above ("three herons", "24 herons"). */
export function count(n: number, thing: Noun): string {
  const word = n <= 10 ? numberWords(n) : groupDigits(n);
  return `${word} ${n === 1 ? thing.sg : thing.pl}`;
}

/** ["a", "b", "c"] → "a, b and c" (or "or"). */
export function joinList(items: readonly string[], conj: 'and' | 'or' = 'and'): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} ${conj} ${items[items.length - 1]}`;
}

export const capitalize = (s: string) => (s ? s[0]!.toUpperCase() + s.slice(1) : s);

/** Capitalises, and ends with a full stop unless the sentence already ends in punctuation. */
export function sentence(s: string): string {
  const t = capitalize(s.trim());
  return /[.!?]["']?$/.test(t) ? t : `${t}.`;
}
