// The people in stories and letters: a main character, maybe a companion, and the pronouns for both.
import { PEOPLE, RELATIONS, pronouns, type Person } from '../lexicon.ts';
import type { Random } from '../random.ts';

export interface Cast {
  hero: Person;
  /** she/he, her/him, her/his, herself/himself. */
  p: ReturnType<typeof pronouns>;
  companion?: { person: Person; relation: string };
  /** "Maya" or "Maya and her brother Omar". */
  who: string;
  /** The subject for the group from now on: "they" with a companion, else "she"/"he". */
  we: string;
  /** Whether the group is plural. */
  plural: boolean;
}

/** Two different people; the second one, when there is one, has a relation to the first. */
export function cast(r: Random, withCompanion: number): Cast {
  const hero = r.pick(PEOPLE);
  const p = pronouns(hero.gender);
  if (!r.chance(withCompanion)) return { hero, p, who: hero.name, we: p.subj, plural: false };
  let other = r.pick(PEOPLE);
  while (other.name === hero.name) other = r.pick(PEOPLE);
  const relation = r.pick(RELATIONS[other.gender]);
  return {
    hero, p, companion: { person: other, relation },
    who: r.chance(0.5) ? `${hero.name} and ${p.poss} ${relation} ${other.name}` : `${hero.name} and ${other.name}`,
    we: 'they', plural: true,
  };
}

/** Someone other than the people given. */
export function otherPerson(r: Random, ...not: Person[]): Person {
  let x = r.pick(PEOPLE);
  while (not.some((n) => n.name === x.name)) x = r.pick(PEOPLE);
  return x;
}
