// Question-and-answer documents, always exactly "Question: <q>\nAnswer: <a>" (the form the serving
// layer prompts adapters with): questions from the fact table (what, why, yes/no), the calendar,
// small sums, the sentiment of a support message, and questions about a short passage.
import { daysInMonth, isLeapYear, MONTHS, randomDate, WEEKDAYS, formatDate } from '../calendar.ts';
import { factsFor, fillQuestion, genericSubject, kindClause, negateVp, renderVp, someSubject, yesNoQuestion, type Subject } from '../clause.ts';
import { capitalize, numberWords, sentence } from '../english.ts';
import { ENTITIES, entitiesAt, type Entity, type FactSpec } from '../facts.ts';
import type { Random } from '../random.ts';
import { supportMessage, type Sentiment } from './messages.ts';
import { cast } from './people.ts';
import { clause, pronounSubject, reason } from './statements.ts';
import { placeName } from './story.ts';
import { placeKind } from '../lexicon.ts';

export const qa = (q: string, a: string) => `Question: ${q}\nAnswer: ${a}`;

/** One more true sentence about the same entity, to lengthen some answers. */
function extra(r: Random, e: Entity, s: Subject, not: FactSpec): string {
  const others = factsFor(e, s).filter((f) => f !== not);
  if (!others.length || !r.chance(0.35)) return '';
  return ` ${sentence(clause(pronounSubject(s), r.pick(others).vp, { also: true }))}`;
}

function factQuestion(r: Random): string {
  const e = r.pick(ENTITIES);
  const s = someSubject(r, e);
  const kind = r.weighted([['wh', 4], ['what', 2], ['why', 2], ['yes', 2], ['no', 2]] as const);
  const facts = factsFor(e, s);
  const withQ = facts.filter((f) => f.q);
  const withWhy = facts.filter((f) => f.why);
  if (kind === 'wh' && withQ.length) {
    const f = r.pick(withQ);
    return qa(capitalize(fillQuestion(f.q as string, s)), sentence(clause(s, f.vp)) + extra(r, e, s, f));
  }
  if (kind === 'why' && withWhy.length) {
    const f = r.pick(withWhy);
    const q = `Why ${yesNoQuestion(f.vp, s)}`;
    const a = r.chance(0.5) ? sentence(`${clause(s, f.vp)} because ${reason(f, s)}`) : sentence(`Because ${reason(f, s)}`);
    return qa(q, a);
  }
  if (kind === 'no' && e.not.length) {
    const vp = r.pick(e.not);
    const f = r.pick(facts);
    const a = `No, ${s.text} ${negateVp(vp, s.num)}. ${sentence(clause(pronounSubject(s), f.vp, { also: false }))}`;
    return qa(capitalize(yesNoQuestion(vp, s)), a);
  }
  if (kind === 'yes') {
    const f = r.pick(facts);
    const short = r.chance(0.5);
    const head = f.vp.split(' ')[0] as string;
    const aux = head === 'be' ? renderVp('be', s.num, 'present') : head === 'can' || head === 'cannot' ? head : s.num === 'sg' ? 'does' : 'do';
    const a = short ? `Yes, ${pronounSubject(s).text} ${aux}. ${sentence(clause(s, f.vp))}` : `Yes. ${sentence(clause(s, f.vp))}`;
    return qa(capitalize(yesNoQuestion(f.vp, s)), a);
  }
  // What is it?
  const sub = e.generic === 'plural' ? genericSubject(e, r.chance(0.5) ? 'plural' : 'a') : s;
  const q = `What ${sub.num === 'pl' ? 'are' : 'is'} ${sub.text}?`;
  const f = r.pick(factsFor(e, sub));
  return qa(q, `${sentence(kindClause(e, sub))}${r.chance(0.6) ? ` ${sentence(clause(pronounSubject(sub), f.vp))}` : ''}`);
}

function calendarQuestion(r: Random): string {
  const m = r.between(1, 12);
  const month = MONTHS[m - 1] as string;
  const i = r.int(7);
  return r.pick([
    () => m === 2
      ? qa('How many days are there in February?', 'February has 28 days, or 29 days in a leap year.')
      : qa(`How many days are there in ${month}?`, `${month} has ${daysInMonth(2025, m)} days.`),
    () => qa(`What day comes after ${WEEKDAYS[i]}?`, `${WEEKDAYS[(i + 1) % 7]} comes after ${WEEKDAYS[i]}.`),
    () => qa(`What day comes before ${WEEKDAYS[i]}?`, `${WEEKDAYS[(i + 6) % 7]} comes before ${WEEKDAYS[i]}.`),
    () => qa(`Which month comes after ${month}?`, `${MONTHS[m % 12]} comes after ${month}.`),
    () => qa(`Which month comes before ${month}?`, `${MONTHS[(m + 10) % 12]} comes before ${month}.`),
    () => qa('How many days are there in a week?', 'There are seven days in a week.'),
    () => qa('How many months are there in a year?', 'There are twelve months in a year.'),
    () => {
      const y = r.between(1990, 2040);
      return qa(`Is ${y} a leap year?`, isLeapYear(y) ? `Yes, ${y} is a leap year, so February ${y} has 29 days.` : `No, ${y} is not a leap year, so February ${y} has 28 days.`);
    },
    () => {
      const d = randomDate(r);
      return qa(`What day of the week was ${formatDate(d, 'dayMonth')} ${d.year}?`, `${formatDate(d, 'dayMonth')} ${d.year} was a ${d.weekday}.`);
    },
    () => qa(`Which month is the ${['first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth', 'ninth', 'tenth', 'eleventh', 'twelfth'][m - 1]} month of the year?`, `${month} is the ${['first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth', 'ninth', 'tenth', 'eleventh', 'twelfth'][m - 1]} month of the year.`),
  ])();
}

function sumQuestion(r: Random): string {
  const a = r.between(2, 20);
  const b = r.between(2, 20);
  return r.pick([
    () => qa(`What is ${a} plus ${b}?`, `${a} plus ${b} is ${a + b}.`),
    () => qa(`What is ${Math.max(a, b)} minus ${Math.min(a, b)}?`, `${Math.max(a, b)} minus ${Math.min(a, b)} is ${Math.max(a, b) - Math.min(a, b)}.`),
    () => qa(`What is ${a % 10 + 2} times ${b % 10 + 1}?`, `${a % 10 + 2} times ${b % 10 + 1} is ${(a % 10 + 2) * (b % 10 + 1)}.`),
    () => {
      const price = r.between(2, 9);
      const n = r.between(2, 6);
      return qa(`If one ${r.pick(['notebook', 'loaf of bread', 'bag of apples', 'bus ticket', 'jar of honey'])} costs $${price}, how much do ${numberWords(n)} cost?`, `${capitalize(numberWords(n))} cost $${price * n}, because ${n} times ${price} is ${price * n}.`);
    },
  ])();
}

const SENTIMENT_QUESTIONS = [
  'What is the sentiment of this message? "{m}"',
  'Is this message positive, negative or neutral? "{m}"',
  'Classify the sentiment of the following customer message as positive, negative or neutral: "{m}"',
];

function sentimentQuestion(r: Random): string {
  const label = r.pick(['positive', 'negative', 'neutral'] as const satisfies readonly Sentiment[]);
  const m = supportMessage(r, label);
  const q = r.pick(SENTIMENT_QUESTIONS).replace('{m}', m);
  const why: Record<Sentiment, string> = {
    positive: 'The customer is happy with the service.',
    negative: 'The customer is unhappy and is complaining.',
    neutral: 'The customer is asking a question without showing any strong feeling.',
  };
  return qa(q, r.chance(0.6) ? label : `${capitalize(label)}. ${why[label]}`);
}

/** A short passage followed by a question about it. */
function passageQuestion(r: Random): string {
  const kind = placeKind(r.pick(['rocky shore', 'estuary', 'beach', 'harbour', 'park', 'garden', 'kelp forest', 'mangroves']));
  const e = r.pick(entitiesAt(kind.id).filter((x) => x.facts.some((f) => f.seen)));
  const f = r.pick(e.facts.filter((x) => x.seen));
  const c = cast(r, 0.5);
  const place = placeName(r, kind);
  const day = r.pick(WEEKDAYS);
  const n = r.between(2, 9);
  const passage = `On ${day}, ${c.who} went to ${place}. ${capitalize(c.we)} saw ${numberWords(n)} ${e.noun.pl} ${renderVp(f.vp, 'pl', 'ing')}.`;
  const [q, a] = r.pick([
    [`Where did ${c.hero.name} go on ${day}?`, `${c.hero.name} went to ${place}.`],
    [`On which day did ${c.hero.name} go to ${place}?`, `${c.hero.name} went there on ${day}.`],
    [`How many ${e.noun.pl} did ${c.we === 'they' ? 'they' : c.hero.name} see?`, `${capitalize(c.we === 'they' ? 'they' : c.hero.name)} saw ${numberWords(n)} ${e.noun.pl}.`],
    [`What were the ${e.noun.pl} doing?`, `The ${e.noun.pl} were ${renderVp(f.vp, 'pl', 'ing')}.`],
  ] as const);
  return `${passage}\n${qa(q, a)}`;
}

/** A Q&A document; `passage` documents put a short text before the question. */
export function qaDocument(r: Random): string {
  return r.weighted([
    [factQuestion, 70], [calendarQuestion, 7], [sumQuestion, 4], [sentimentQuestion, 9], [passageQuestion, 10],
  ] as const)(r);
}

