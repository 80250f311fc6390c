// Personal writing: letters and emails between friends, diary entries, and notices from a town.
import { addDays, clockTime, formatDate, randomDate } from '../calendar.ts';
import { entityNum, renderVp } from '../clause.ts';
import { capitalize, count, numberWords, sentence, withArticle } from '../english.ts';
import { entitiesAt, type Entity, type FactSpec } from '../facts.ts';
import { GUIDES } from '../guides.ts';
import { FEELINGS, PEOPLE, placeKind, WEATHER } from '../lexicon.ts';
import type { Random } from '../random.ts';
import { vary } from '../vary.ts';
import { otherPerson } from './people.ts';
import { clause } from './statements.ts';
import { placeName, townName } from './story.ts';
import { genericSubject } from '../clause.ts';

/** "we saw three herons wading…", in the first person; the entity must have a fact one can watch. */
function weSaw(r: Random, e: Entity): { text: string; fact: FactSpec } {
  const n = entityNum(e) === 'sg' ? 0 : r.between(1, 6);
  const num = n === 1 || n === 0 ? 'sg' : 'pl';
  const f = r.pick(e.facts.filter((x) => x.seen && (num === 'pl' || !x.group)));
  const np = n === 0 ? `some ${e.noun.sg}` : n === 1 ? withArticle(e.noun.sg) : count(n, e.noun);
  return { text: `we saw ${np} ${renderVp(f.vp, num, 'ing')}`, fact: f };
}

const watchable = (es: Entity[]) => es.filter((e) => e.facts.some((f) => f.seen && !f.group));

export function letter(r: Random): string {
  const from = r.pick(PEOPLE);
  const to = otherPerson(r, from);
  const kind = placeKind(r.pick(['rocky shore', 'beach', 'estuary', 'harbour', 'cliffs', 'park', 'garden', 'salt marsh', 'reef']));
  const d = randomDate(r);
  const e = r.pick(watchable(entitiesAt(kind.id)));
  const saw = weSaw(r, e);
  const body: string[] = [];
  body.push(sentence(vary(r, `{Thank you for your {letter|message|postcard}|It was lovely to hear from you|Sorry it has taken me so long to write}`)));
  body.push(sentence(`Last ${d.weekday} we went to ${placeName(r, kind)}, and ${saw.text}`));
  const others = e.facts.filter((f) => f !== saw.fact);
  if (others.length && r.chance(0.6)) body.push(`Did you know that ${clause(genericSubject(e), r.pick(others).vp)}? ${sentence(`I ${vary(r, '{had no idea|only found out this week|read it in a book from the library}')}`)}`);
  if (r.chance(0.5)) {
    const g = r.pick(GUIDES.filter((x) => x.dish));
    body.push(sentence(`On ${r.pick(['Sunday', 'Saturday', 'Friday'])} I ${g.dish!.verb} ${g.dish!.name} for the first time, and it ${vary(r, '{went better than I expected|was a bit of a disaster|turned out well}')}`));
  }
  body.push(sentence(`The weather here has been ${r.pick(WEATHER[d.season])}`));
  body.push(sentence(vary(r, `{I hope you are well|Write soon and tell me your news|Give my love to everyone|Let me know when you can visit}`)));
  const greet = r.pick([`Dear ${to.name},`, `Hi ${to.name},`, `Hello ${to.name},`]);
  const sign = r.pick(['Love,', 'Best wishes,', 'All the best,', 'See you soon,', 'Warm wishes,']);
  return [greet, body.join(' '), `${sign}\n${from.name}`].join('\n');
}

export function diary(r: Random): string {
  const kind = placeKind(r.pick(['rocky shore', 'beach', 'estuary', 'garden', 'park', 'pond', 'woods', 'harbour']));
  const here = watchable(entitiesAt(kind.id));
  const place = placeName(r, kind);
  let d = randomDate(r);
  const entries: string[] = [];
  for (let i = r.between(2, 4); i > 0; i--) {
    const e = r.pick(here);
    const parts = [
      `${formatDate(d, 'weekdayDayMonth')}.`,
      sentence(vary(r, `{Went to|Walked down to|Spent the {morning|afternoon} at|Cycled to}`) + ` ${r.chance(0.7) ? place : placeName(r, kind)}`),
      sentence(capitalize(weSaw(r, e).text.replace(/^we saw/, 'Saw'))),
    ];
    if (r.chance(0.5)) parts.push(sentence(`Weather ${r.pick(WEATHER[d.season])}`));
    if (r.chance(0.4)) parts.push(sentence(`Felt ${r.pick([...FEELINGS.good, ...FEELINGS.bad])}`));
    entries.push(parts.join(' '));
    d = addDays(d, r.between(1, 4));
  }
  return entries.join('\n');
}

export function notice(r: Random): string {
  const town = townName(r);
  const d = randomDate(r);
  const t = clockTime(r, 9, 17);
  const early = clockTime(r, 7, 10);
  return r.pick([
    () => `${town} Library\nThe library will be closed on ${formatDate(d, 'full')} for repairs to the roof. Books due back that day can be returned the next day without a fine. We are sorry for any trouble this causes.`,
    () => `Free bike repair session\nBring your bike to the community hall in ${town} on ${formatDate(d, 'weekdayDayMonth')} from ${t.text}. Volunteers will help you ${r.pick(['fix a puncture', 'adjust your brakes', 'oil your chain', 'set your saddle height'])}. Everyone is welcome, and there is no charge.`,
    () => `Beach clean\nJoin us at ${placeName(r, placeKind('beach'))} on ${formatDate(d, 'weekdayDayMonth')} at ${t.text} to clear litter from the shore. Gloves and bags will be provided. Please wear sturdy shoes and check the tide times before you come.`,
    () => `Bird walk on the estuary\nA guided walk around ${placeName(r, placeKind('estuary'))} will start at ${t.text} on ${formatDate(d, 'weekdayDayMonth')}. Bring binoculars if you have them. The walk takes about ${numberWords(r.between(2, 3))} hours.`,
    () => `Baking class\nLearn to ${r.pick(['bake bread', 'make pastry', 'make soda bread', 'bake a lemon cake'])} at the ${town} community kitchen every ${d.weekday} at ${t.text}. Places cost $${r.between(10, 30)} and all ingredients are included.`,
    () => `${town} Market\nThe ${d.season} market is back on ${formatDate(d, 'weekdayDayMonth')}, with ${numberWords(r.between(12, 40))} stalls selling fruit, vegetables, bread, honey and plants. Doors open at ${early.text}.`,
  ])();
}
