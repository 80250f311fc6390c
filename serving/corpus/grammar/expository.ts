// Expository writing: a piece on a topic (an opening line, then a paragraph per entity), and lists of
// facts ("Five things to know about sea otters").
import { genericSubject, kindClause } from '../clause.ts';
import { capitalize, numberWords, sentence } from '../english.ts';
import { entitiesOfTopic, ENTITIES, TOPICS } from '../facts.ts';
import type { Random } from '../random.ts';
import { vary } from '../vary.ts';
import { clause, describeEntity, factSentence, reason } from './statements.ts';

/** An article on one topic: maybe a title, an opening sentence, then one paragraph per entity. */
export function topicArticle(r: Random): string {
  const topic = r.pick(TOPICS);
  const ents = r.sample(entitiesOfTopic(topic.id), r.weighted([[1, 3], [2, 4], [3, 2]] as const));
  const paras = ents.map((e) => describeEntity(r, e, r.between(2, 5)));
  if (r.chance(0.6)) (paras[0] as string[]).unshift(r.pick(topic.intros));
  const lines = paras.map((p) => p.join(' '));
  if (r.chance(0.4)) lines.unshift(topic.title);
  return lines.join('\n');
}

/** A numbered or bulleted list of facts about one entity. */
export function factList(r: Random): string {
  const e = r.pick(ENTITIES);
  const facts = r.sample(e.facts, r.between(3, e.facts.length));
  const plural = genericSubject(e, 'plural');
  const name = plural.text;
  const title = r.pick([
    `${capitalize(numberWords(facts.length))} facts about ${name}`,
    `${capitalize(numberWords(facts.length))} things to know about ${name}`,
    `What you should know about ${name}`,
    `${capitalize(name)}: the facts`,
  ]);
  const bullet = r.pick(['number', 'dash', 'star'] as const);
  const items = facts.map((f, i) => {
    const text = f.why && r.chance(0.3) ? sentence(`${clause(plural, f.vp)} because ${reason(f, plural)}`) : sentence(clause(plural, f.vp));
    return bullet === 'number' ? `${i + 1}. ${text}` : bullet === 'dash' ? `- ${text}` : `* ${text}`;
  });
  const lead = r.chance(0.5) ? [sentence(kindClause(e, plural))] : [];
  return [title, ...lead, ...items].join('\n');
}

/** A short paragraph of facts drawn from several entities of one domain, linked by connectives. */
export function miscellany(r: Random): string {
  const domain = r.pick(['coast', 'kitchen', 'everyday'] as const);
  const pool = ENTITIES.filter((e) => e.domain === domain);
  const picks = r.sample(pool, r.between(3, 5));
  const out = picks.map((e, i) => {
    const s = factSentence(r, e, r.pick(e.facts));
    if (i === 0) return s;
    const link = vary(r, '{Also,|Besides that,|What is more,|On top of that,||||}');
    return link ? `${link} ${s[0]!.toLowerCase()}${s.slice(1)}` : s;
  });
  const opener = vary(r, `{Here are a few things worth knowing.|Some facts are stranger than they first appear.|A few facts from ${domain === 'kitchen' ? 'the kitchen' : domain === 'coast' ? 'the coast' : 'everyday life'}.}`);
  return [r.chance(0.5) ? opener : '', ...out].filter(Boolean).join(' ');
}
