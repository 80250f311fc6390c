// The corpus's facts: one table of entities and what is true of them. The grammar only ever states a
// fact listed here (or its listed negation), so the corpus never contradicts itself: "mangroves grow in
// salty water" may be said in many ways, but "mangroves survive hard frosts" is never said.
//
// Verb phrases (VPs) are written for a plural subject in the present tense, with a little markup that
// the grammar inflects for the subject it picks (see clause.ts):
//   - the first word is the verb (or a modal such as "can"): "eat sea urchins" → "eats sea urchins";
//   - ^word marks a further verb to inflect the same way: "grow fast and ^die young";
//   - {their} {they} {them} {themselves} become its/it/it/itself for a singular subject;
//   - {plural/singular} picks by the subject's number: "float on {their} {backs/back}".
import type { Noun } from './english.ts';
import { COAST_ENTITIES, COAST_TOPICS } from './facts/coast.ts';
import { EVERYDAY_ENTITIES, EVERYDAY_TOPICS } from './facts/everyday.ts';
import { KITCHEN_ENTITIES, KITCHEN_TOPICS } from './facts/kitchen.ts';

export type Domain = 'coast' | 'kitchen' | 'everyday';

/** How a generic statement names the entity: "sea otters", "sugar", "the Moon". */
export type Generic = 'plural' | 'mass' | 'the';

export interface FactSpec {
  vp: string;
  /** A question this fact answers, e.g. "What {do} {x} eat?" ({do} {be} {have} agree with {x}). */
  q?: string;
  /** Why the fact holds: a clause that can follow "because" (markup allowed). */
  why?: string;
  /** Something one can watch it do, so a story may say "we watched two herons <vp>". */
  seen?: boolean;
  /** True only of the group, so never said of "a heron" ("gather in large flocks"). */
  group?: boolean;
}

export interface Entity {
  id: string;
  domain: Domain;
  topic: string;
  noun: Noun;
  generic: Generic;
  /** What it is: "a <kind> that <vp>". */
  kind: Noun;
  /** The kind takes "the": "Cream is the fatty part of milk". */
  definiteKind: boolean;
  kindThat?: string;
  facts: FactSpec[];
  /** VPs that are false of it, said only as negations ("Mangroves do not survive hard frosts"). */
  not: string[];
  /** Story places where it can be met (see lexicon.ts PLACES). */
  places: string[];
}

export interface Topic {
  id: string;
  domain: Domain;
  title: string;
  /** Opening sentences for a piece on the topic, each true in general. */
  intros: string[];
}

/** Compact input form used by the data files. */
export interface EntityInput {
  id: string;
  topic: string;
  noun: Noun;
  generic?: Generic;
  kind: Noun;
  definiteKind?: boolean;
  that?: string;
  facts: (string | FactSpec)[];
  not?: string[];
  places?: string[];
}

/** A fact given as a string: a leading "*" marks it `seen`, a leading "+" marks it `group`. */
function factOf(f: string | FactSpec): FactSpec {
  if (typeof f !== 'string') return f;
  const m = /^([*+]*)(.*)$/.exec(f) as RegExpExecArray;
  const flags = m[1] as string;
  return { vp: m[2] as string, ...(flags.includes('*') ? { seen: true } : {}), ...(flags.includes('+') ? { group: true } : {}) };
}

/** Builds the table rows of one domain. */
export function entities(domain: Domain, inputs: EntityInput[]): Entity[] {
  return inputs.map((e) => ({
    id: e.id,
    domain,
    topic: e.topic,
    noun: e.noun,
    generic: e.generic ?? (e.noun.mass ? 'mass' : 'plural'),
    kind: e.kind,
    definiteKind: e.definiteKind ?? false,
    ...(e.that ? { kindThat: e.that } : {}),
    facts: e.facts.map(factOf),
    not: e.not ?? [],
    places: e.places ?? [],
  }));
}

export const TOPICS: readonly Topic[] = [...COAST_TOPICS, ...KITCHEN_TOPICS, ...EVERYDAY_TOPICS];
export const ENTITIES: readonly Entity[] = [...COAST_ENTITIES, ...KITCHEN_ENTITIES, ...EVERYDAY_ENTITIES];

export const entitiesOfTopic = (topic: string) => ENTITIES.filter((e) => e.topic === topic);
export const entitiesAt = (place: string) => ENTITIES.filter((e) => e.places.includes(place));
export function entity(id: string): Entity {
  const e = ENTITIES.find((x) => x.id === id);
  if (!e) throw new Error(`no entity ${id} in the corpus fact table`);
  return e;
}
