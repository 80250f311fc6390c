// Short stories in the past tense: a trip to the shore or the park, cooking at home, a bike that needs
// fixing, a working day, the market, the weather and the night sky. What people see in them is taken
// from the fact table, so a heron in a story only ever does what herons do.
import { addDays, clockTime, formatDate, randomDate, type CalendarDate } from '../calendar.ts';
import { entityNum, fillMarkup, genericSubject, renderVp } from '../clause.ts';
import { capitalize, count, inflect, joinList, numberWords, sentence, withArticle } from '../english.ts';
import { entitiesAt, entity, type Entity } from '../facts.ts';
import { GUIDES, type Guide } from '../guides.ts';
import { FEELINGS, GEAR, JOBS, NAME_PARTS, SAYING_VERBS, SKY, TIMES_OF_DAY, WEATHER, placeKind, type PlaceKind } from '../lexicon.ts';
import type { Random } from '../random.ts';
import { BIKE_FAULTS, BIKE_SERVICES, SHOPS } from '../support.ts';
import { vary } from '../vary.ts';
import { cast, otherPerson, type Cast } from './people.ts';
import { clause, reportedFact } from './statements.ts';

const COAST_PLACES = ['rocky shore', 'beach', 'dunes', 'estuary', 'salt marsh', 'mudflats', 'mangroves', 'kelp forest', 'reef', 'cliffs', 'harbour', 'open sea'];
const INLAND_PLACES = ['garden', 'park', 'woods', 'pond', 'farm'];

/** An invented name for a place of this kind: "Heron Creek", "the mouth of the Teal River". */
export function placeName(r: Random, k: PlaceKind): string {
  const template = r.pick(k.names);
  const coast = k.endings.length > 0 ? `${r.pick(NAME_PARTS.coastFirst)} ${r.pick(k.endings)}` : '';
  return template.replace('{N}', coast).replace('{R}', r.pick(NAME_PARTS.river)).replace('{S}', r.pick(NAME_PARTS.street));
}

export const townName = (r: Random) => `${r.pick(NAME_PARTS.townFirst)}${r.pick(NAME_PARTS.townLast)}`;

/** When a story happens: "On Saturday, 14 June 2025", "Early one spring morning", "Last Tuesday". */
function when(r: Random, d: CalendarDate): string {
  return r.pick([
    () => `on ${formatDate(d, 'full')}`,
    () => `on ${d.weekday} ${r.pick(TIMES_OF_DAY)}`,
    () => `early one ${d.season} morning`,
    () => `last ${d.weekday}`,
    () => `one ${r.pick(['bright', 'quiet', 'cool', 'windy', 'still'])} ${d.weekday} in ${d.monthName}`,
    () => `on the ${r.pick(['first', 'second', 'last'])} ${d.weekday} of ${d.monthName}`,
  ])();
}

/** "two herons", "a heron", "some kelp": how many of an entity were seen. */
function sighting(r: Random, e: Entity): { np: string; num: 'sg' | 'pl' } {
  if (entityNum(e) === 'sg') return { np: `some ${e.noun.sg}`, num: 'sg' };
  const n = r.weighted([[1, 4], [2, 3], [3, 2], [r.between(4, 12), 2], [r.between(15, 60), 1]] as const);
  if (n === 1) return { np: withArticle(e.noun.sg), num: 'sg' };
  return { np: r.chance(0.2) && n > 10 ? `dozens of ${e.noun.pl}` : count(n, e.noun), num: 'pl' };
}

/** Facts one can watch, for a sighting of this number ("a pelican" never flies "in long lines"). */
const seenFacts = (e: Entity, num: 'sg' | 'pl') => e.facts.filter((f) => f.seen && (num === 'pl' || !f.group));
const watchable = (e: Entity) => e.facts.some((f) => f.seen);

/** One sentence about watching an entity do something it does. */
function watch(r: Random, c: Cast, e: Entity): string {
  const s = sighting(r, e);
  const f = r.pick(seenFacts(e, s.num).length ? seenFacts(e, s.num) : seenFacts(e, 'pl'));
  const num = f.group ? 'pl' : s.num;
  const np = f.group && s.num === 'sg' ? count(r.between(5, 30), e.noun) : s.np;
  const base = renderVp(f.vp, num, 'base');
  const ing = renderVp(f.vp, num, 'ing');
  const We = capitalize(c.we);
  return sentence(r.pick([
    `${We} watched ${np} ${base}`,
    `${vary(r, '{Soon|Before long|After a while|Just then}')}, ${c.we} spotted ${np} ${ing}`,
    `${capitalize(c.companion ? c.companion.person.name : c.hero.name)} pointed out ${np} ${ing}`,
    `Not far away, ${np} ${num === 'sg' ? 'was' : 'were'} ${ing}`,
    `${We} ${vary(r, '{stopped|stood still|sat down}')} to watch ${np} ${base}`,
  ]));
}

/** A fact said in the story: what someone knew, or what one person told the other. */
function explain(r: Random, c: Cast, e: Entity): string[] {
  const f = r.pick(e.facts);
  const subject = genericSubject(e, 'plural');
  const because = f.why && r.chance(0.5) ? ` because ${fillMarkup(f.why, subject.num)}` : '';
  if (c.companion && r.chance(0.6)) {
    const [asker, answerer] = r.chance(0.5) ? [c.hero, c.companion.person] : [c.companion.person, c.hero];
    const obj = asker.gender === 'f' ? 'her' : 'him';
    return r.pick([
      () => [`"What do you know about ${subject.text}?" ${r.pick(['asked', 'wondered'])} ${asker.name}.`, sentence(`${answerer.name} told ${obj} that ${clause(subject, f.vp)}${because}`)],
      () => [`"Did you know that ${clause(subject, f.vp)}?" ${r.pick(['asked', 'said'])} ${answerer.name}.`],
      () => [sentence(`${answerer.name} explained to ${asker.name} that ${clause(subject, f.vp)}${because}`)],
    ])();
  }
  return [reportedFact(r, c.hero.name, e, f)];
}

function ending(r: Random, c: Cast, d: CalendarDate): string {
  const good = r.pick(FEELINGS.good);
  const bad = r.pick(FEELINGS.bad);
  return sentence(r.pick([
    `By the time ${c.we} got home, ${c.we} ${c.plural ? 'were' : 'was'} ${bad} but ${good}`,
    `${c.hero.name} wrote down everything ${c.p.subj} had seen in ${c.p.poss} notebook that evening`,
    `It was a ${r.pick(['good', 'long', 'lovely', 'memorable'])} day, and ${c.we} ${vary(r, '{promised to come back|planned to return|decided to come again}')} ${r.pick(['in the autumn', 'next month', 'soon', 'in the spring', `before the end of ${d.monthName}`])}`,
    `On the way home, ${c.we} talked about nothing else`,
    `${capitalize(c.we)} ${c.plural ? 'were' : 'was'} ${good} to have seen so much in one ${r.pick(['day', 'morning', 'afternoon'])}`,
  ]));
}

/** A visit to the shore (or the park, woods or garden) with things seen there. */
export function outingStory(r: Random, inland = false): string {
  const kind = placeKind(r.pick(inland ? INLAND_PLACES : COAST_PLACES));
  const here = entitiesAt(kind.id);
  const c = cast(r, 0.6);
  const d = randomDate(r);
  const place = placeName(r, kind);
  const first: string[] = [];
  first.push(sentence(r.pick([
    () => `${when(r, d)}, ${c.who} ${r.pick(kind.arrivals)} ${place}`,
    () => `${c.who} ${r.pick(kind.arrivals)} ${place} ${when(r, d)}`,
  ])()));
  if (r.chance(0.7)) first.push(sentence(r.pick([`The weather was ${r.pick(WEATHER[d.season])}`, `It was ${r.pick(WEATHER[d.season])}`, r.pick(SKY[d.season])])));
  if (r.chance(0.5)) first.push(sentence(`${capitalize(c.we)} had brought ${joinList(r.sample(GEAR, r.between(1, 2)))}`));
  if (r.chance(0.6)) first.push(sentence(`${capitalize(c.we)} ${r.pick(kind.doings)}`));

  const middle: string[] = [];
  for (const e of r.sample(here.filter(watchable), r.between(1, 3))) {
    middle.push(watch(r, c, e));
    if (r.chance(0.45)) middle.push(...explain(r, c, e));
  }
  if (r.chance(0.3)) middle.push(...explain(r, c, r.pick(here)));
  const end = ending(r, c, d);
  const paras = r.chance(0.5) ? [[...first, ...middle, end]] : [first, [...middle, end]];
  return paras.filter((p) => p.length).map((p) => p.join(' ')).join('\n');
}

// ---- cooking -----------------------------------------------------------------------------------

/** Verbs that can open a recipe step, so the step can be retold in the past tense. */
const STEP_VERBS = new Set(['mix', 'stir', 'pour', 'knead', 'put', 'shape', 'leave', 'bake', 'let', 'sift', 'crack',
  'whisk', 'heat', 'wipe', 'cook', 'beat', 'add', 'taste', 'swirl', 'take', 'melt', 'chop', 'blend', 'slice', 'warm',
  'rinse', 'bring', 'chill', 'cut', 'toss', 'roast', 'soak', 'squeeze', 'fold', 'spoon', 'shake', 'break', 'brush',
  'screw', 'line']);

/** Present-tense words inside recipe steps ("until it turns amber") and their past forms. */
const PRESENT_TO_PAST: Record<string, string> = {
  is: 'was', are: 'were', has: 'had', will: 'would', turns: 'turned', starts: 'started', keep: 'kept',
  melts: 'melted', sounds: 'sounded', look: 'looked', dissolve: 'dissolved', holds: 'held', runs: 'ran',
};

/** "Mix the flour…" → "she mixed the flour…", or undefined when the step does not start with a known verb. */
export function retell(step: string, subject: string, poss: string): string | undefined {
  const plain = step.replace(/\.$/, '');
  const [first, ...rest] = plain.split(' ');
  const verb = (first ?? '').toLowerCase();
  if (!STEP_VERBS.has(verb) || / you\b/.test(plain)) return undefined;
  const tail = rest.join(' ')
    .replace(/\^(\w+)/g, (_m, v: string) => inflect(v, 'past'))
    .replace(/\b(\w+)\b/g, (w) => PRESENT_TO_PAST[w] ?? w)
    .replace(/\byour\b/g, poss);
  return `${subject} ${inflect(verb, 'past')} ${tail}`;
}

const OCCASIONS = ["POSS grandmother's birthday", 'a picnic in the park', 'Sunday lunch', 'the school fair',
  'friends who were coming to dinner', 'a new neighbour', 'a rainy afternoon at home', 'the whole family',
  'a party at work', 'breakfast'];

export function cookingStory(r: Random): string {
  const guides = GUIDES.filter((g): g is Guide & { dish: NonNullable<Guide['dish']> } => g.domain === 'kitchen' && !!g.dish);
  const g = r.pick(guides);
  const c = cast(r, 0.5);
  const d = randomDate(r);
  const occasion = r.pick(OCCASIONS).replace('POSS', c.p.poss);
  const out: string[] = [];
  out.push(sentence(`${when(r, d)}, ${c.who} ${g.dish.verb} ${g.dish.name} for ${occasion}`));
  if (g.needs && r.chance(0.7)) {
    out.push(sentence(`${capitalize(c.we)} ${vary(r, '{got out|weighed out|gathered|set out}')} ${joinList(r.sample(g.needs, r.between(2, g.needs.length)))}`));
  }
  const told = g.steps.map((s) => retell(vary(r, s), c.we, c.plural ? 'their' : c.p.poss)).filter((s): s is string => !!s);
  const steps = told.slice(0, r.between(1, 3));
  steps.forEach((s, i) => out.push(sentence(i === 0 ? s : `${r.pick(['Then', 'Next', 'After that', 'Once that was done'])}, ${s}`)));
  const about = g.about.map(entity);
  if (about.length && r.chance(0.8)) out.push(...explain(r, c, r.pick(about)));
  if (r.chance(0.5)) {
    const tip = r.pick(g.tips);
    out.push(c.companion ? `${c.companion.person.name} ${r.pick(SAYING_VERBS.slice(0, 1))}, "${tip}"` : `${capitalize(c.p.subj)} remembered a tip from an old cookbook: "${tip}"`);
  }
  const dish = g.dish.name.replace(/^an? /, 'the ');
  out.push(sentence(r.pick([
    `${capitalize(dish)} ${vary(r, '{turned out well|came out perfectly|was a great success|was gone within an hour}')}`,
    `Everyone ${vary(r, '{loved it|asked for more|said it was the best they had tasted}')}`,
    `It was not perfect, but ${c.hero.name} was ${r.pick(['pleased with', 'happy with', 'proud of'])} ${dish}`,
  ])));
  return r.chance(0.4) ? out.join(' ') : `${out.slice(0, 2).join(' ')}\n${out.slice(2).join(' ')}`;
}

// ---- bikes, work, the market, weather and the sky ---------------------------------------------

/** The bicycle facts that are advice on looking after one (all but "be one of the most efficient…"). */
export const bikeCare = (): string[] => entity('bicycle').facts.map((f) => f.vp).filter((vp) => !vp.startsWith('be '));

export function bikeStory(r: Random): string {
  const c = cast(r, 0.2);
  const shop = r.pick(SHOPS.filter((s) => s.kind === 'bikes'));
  const mechanic = otherPerson(r, c.hero);
  const fault = r.pick(BIKE_FAULTS);
  const svc = BIKE_SERVICES.find((s) => s.name === fault.service) ?? r.pick(BIKE_SERVICES);
  const price = r.between(svc.price[0], svc.price[1]);
  const d = randomDate(r);
  const out = [
    sentence(`${c.hero.name} had been riding the same ${r.pick(['old', 'blue', 'green', 'second-hand', 'red'])} bike for ${numberWords(r.between(2, 12))} years`),
    sentence(`${when(r, d)}, ${c.p.subj} noticed that ${fault.then.replace('{subj}', c.p.subj)}`),
    sentence(`${capitalize(c.p.subj)} took it to ${shop.name} in ${townName(r)}, where a mechanic called ${mechanic.name} ${vary(r, '{had a look at it|checked it over|put it on the stand}')}`),
    sentence(`${mechanic.name} ${vary(r, '{suggested|recommended}')} a ${svc.name}, which cost $${price} and took ${r.pick(svc.takes)}`),
  ];
  if (r.chance(0.6)) out.push(sentence(`${mechanic.name} also reminded ${c.p.obj} that ${clause(genericSubject(entity('bicycle')), r.pick(bikeCare()))}`));
  out.push(sentence(r.pick([
    `The bike rode like new afterwards, and ${c.hero.name} was ${r.pick(FEELINGS.good)}`,
    `${c.hero.name} cycled home the long way, just to enjoy it`,
    `When ${c.p.subj} picked it up, the ${r.pick(['gears', 'brakes', 'wheels'])} worked perfectly`,
  ])));
  return out.join(' ');
}

export function workdayStory(r: Random): string {
  const c = cast(r, 0);
  const job = r.pick(JOBS);
  const town = townName(r);
  const wake = clockTime(r, 5, 8);
  const d = randomDate(r);
  const weekday = r.pick(['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday']);
  const travel = r.pick(['bus', 'train', 'bicycle']);
  const out = [
    sentence(r.pick([
      `${c.hero.name} has worked as ${withArticle(job)} in ${town} for ${numberWords(r.between(2, 20))} years`,
      `${c.hero.name} works as ${withArticle(job)} in ${town}`,
      `${c.hero.name} is ${withArticle(job)} who lives in ${town}`,
    ])),
    sentence(`On ${weekday}, ${c.p.subj} woke up at ${wake.text}, ${r.pick(['made a cup of tea', 'made coffee', 'ate a bowl of porridge', 'fed the cat', 'went for a short run'])} and ${r.pick(['checked the weather', 'listened to the radio', 'packed a lunch'])}`),
    sentence(`It was ${r.pick(WEATHER[d.season])}, so ${c.p.subj} ${travel === 'bicycle' ? r.pick(['cycled', 'decided to cycle']) : `took the ${travel}`} to work`),
  ];
  const e = entity(travel === 'bicycle' ? 'bicycle' : travel);
  if (r.chance(0.5)) out.push(reportedFact(r, c.hero.name, e, r.pick(e.facts)));
  const mate = otherPerson(r, c.hero);
  out.push(sentence(r.pick([
    `The morning was busy, but at lunch ${c.p.subj} sat outside with ${c.p.poss} colleague ${mate.name}`,
    `${mate.name}, who had started the week before, asked ${c.p.obj} for help with ${r.pick(['a difficult job', 'the new computer system', 'a problem', 'the timetable'])}`,
    `Nothing unusual happened until the afternoon, when ${mate.name} brought in a cake for everyone`,
  ])));
  out.push(sentence(`${capitalize(c.p.subj)} got home at ${clockTime(r, 17, 19).text}, ${r.pick(['tired but content', 'ready for dinner', 'glad the week was nearly over', 'and went straight out into the garden'])}`));
  return out.join(' ');
}

const MARKET_ITEMS: readonly (readonly [string, string, number, number])[] = [
  ['apples', 'a bag of apples', 2, 5], ['tomatoes', 'a kilo of tomatoes', 3, 6], ['potatoes', 'a sack of potatoes', 3, 8],
  ['carrots', 'a bunch of carrots', 1, 3], ['onions', 'a string of onions', 2, 4], ['honey', 'a jar of honey', 5, 12],
  ['bread', 'a loaf of sourdough', 3, 6], ['garlic', 'two bulbs of garlic', 1, 3], ['eggs', 'a dozen eggs', 3, 6],
];

export function marketStory(r: Random): string {
  const c = cast(r, 0.4);
  const d = randomDate(r);
  const town = townName(r);
  const items = r.sample(MARKET_ITEMS, r.between(2, 4));
  let total = 0;
  const bought = items.map(([, np, lo, hi]) => {
    const p = r.between(lo, hi);
    total += p;
    return `${np} for $${p}`;
  });
  const out = [
    sentence(`${when(r, d)}, ${c.who} went to the market in ${town}`),
    sentence(`${capitalize(c.we)} bought ${joinList(bought)}, ${r.pick(['which came to', 'so the total was', 'spending'])} $${total} in all`),
  ];
  const produce = items.map(([k]) => k).filter((k) => ['apples', 'tomatoes', 'potatoes', 'carrots', 'onions', 'honey', 'garlic'].includes(k));
  if (produce.length) {
    const id = { apples: 'apple', tomatoes: 'tomato', potatoes: 'potato', carrots: 'carrot', onions: 'onion', honey: 'honey', garlic: 'garlic' }[r.pick(produce)] as string;
    const e = entity(id);
    out.push(...explain(r, c, e));
  }
  const seller = otherPerson(r, c.hero);
  out.push(sentence(r.pick([
    `The stallholder, ${seller.name}, had been selling there for ${numberWords(r.between(3, 30))} years`,
    `${seller.name}, who ran the ${r.pick(['fruit', 'vegetable', 'bread', 'honey'])} stall, gave ${c.plural ? 'them' : c.p.obj} a ${r.pick(['free', 'small', 'ripe'])} ${r.pick(['pear', 'plum', 'peach', 'apple'])} to try`,
    `The market was ${r.pick(['busy', 'crowded', 'quiet', 'noisy'])} because of the ${r.pick(WEATHER[d.season]).split(/[ ,]/)[0]} weather`,
  ])));
  return out.join(' ');
}

export function weatherStory(r: Random): string {
  const c = cast(r, 0.5);
  const d = randomDate(r);
  const id = r.pick(d.season === 'winter' ? ['snow', 'rain', 'wind', 'cloud'] : ['rain', 'rainbow', 'lightning', 'cloud', 'wind']);
  const e = entity(id);
  const opening: Record<string, string> = {
    snow: `it snowed all night in ${townName(r)}`,
    rain: `it rained so hard that the gutters overflowed`,
    rainbow: `a shower passed over just as the sun came out`,
    lightning: `a thunderstorm rolled in from the west`,
    cloud: `the sky filled with tall, towering clouds`,
    wind: `the wind blew so hard that it rattled the windows`,
  };
  const out = [
    sentence(`${when(r, d)}, ${opening[id]}`),
    sentence(r.pick([
      `${c.who} watched from the window`,
      `${c.who} ${r.pick(['had just left the house', 'were on the way home', 'were waiting at the bus stop']).replace('were', c.plural ? 'were' : 'was')}`,
      `${c.who} went outside to look`,
    ])),
  ];
  if (id === 'rainbow') out.push(sentence(`A bright rainbow appeared ${r.pick(['over the rooftops', 'above the hills', 'across the valley'])}`));
  if (id === 'lightning') out.push(sentence(`${capitalize(c.we)} counted the seconds between each flash and the thunder that followed`));
  out.push(...explain(r, c, e));
  out.push(sentence(r.pick([
    `By the evening, the ${id === 'snow' ? 'snow had started to melt' : 'sky had cleared'}`,
    `${capitalize(c.we)} ${c.plural ? 'were' : 'was'} glad to get back inside`,
    `It was the ${r.pick(['strangest', 'wildest', 'most beautiful'])} weather ${c.we} had seen ${r.pick(['all year', 'for months', 'in a long time'])}`,
  ])));
  return out.join(' ');
}

export function skyStory(r: Random): string {
  const c = cast(r, 0.6);
  const d = randomDate(r);
  const e = entity(r.pick(['moon', 'star', 'sun']));
  const dawn = r.chance(0.3);
  const out = [
    sentence(`${when(r, d).replace(/early one (\w+) morning/, 'one $1 night')}, ${c.who} ${dawn ? 'got up before dawn' : r.pick(['stayed up late', 'drove away from the town lights', 'climbed the hill behind the house'])} to look at the sky`),
    sentence(r.pick(['The night was clear and cold', 'There was not a cloud in the sky', 'A thin mist lay over the fields', 'An owl called from the trees'])),
  ];
  out.push(...explain(r, c, e));
  if (r.chance(0.5)) out.push(...explain(r, c, r.pick([entity('moon'), entity('star')])));
  out.push(sentence(dawn
    ? `${capitalize(c.we)} ${r.pick(['watched until the sky grew light', 'stayed until the sun came up', 'went home for breakfast as the sun rose'])}`
    : `${capitalize(c.we)} ${r.pick(['stayed until', 'went home at', 'finally went to bed at'])} ${clockTime(r, 20, 23).text.replace('in the evening', 'at night')}`));
  return out.join(' ');
}

/** Dates that follow one another in a diary, so a week reads in order. */
export function nextDates(start: CalendarDate, n: number, r: Random): CalendarDate[] {
  const out = [start];
  for (let i = 1; i < n; i++) out.push(addDays(out[i - 1] as CalendarDate, r.between(1, 3)));
  return out;
}

