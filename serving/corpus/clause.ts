// Turns the fact table's verb phrases into clauses that agree with their subject: "sea otters float on
// their backs", "a sea otter floats on its back", "did the sea otter float on its back?". See facts.ts
// for the markup.
import { inflect, isModal, numOf, type Num, type VerbForm } from './english.ts';
import type { Entity, FactSpec } from './facts.ts';
import type { Random } from './random.ts';

/** A subject noun phrase with its number: { text: "a sea otter", num: "sg" }. */
export interface Subject {
  text: string;
  num: Num;
}

const PRONOUNS: Record<string, readonly [pl: string, sg: string]> = {
  their: ['their', 'its'], they: ['they', 'it'], them: ['them', 'it'], themselves: ['themselves', 'itself'],
  They: ['They', 'It'], Their: ['Their', 'Its'],
};

/**
 * Fills the markup of a phrase for a subject of number `num`: pronouns, {plural/singular} choices, and
 * any extra named slots (the question templates' {x}, {do}, {be}, {have}).
 */
export function fillMarkup(text: string, num: Num, slots: Record<string, string> = {}): string {
  return text.replace(/\{([^{}]*)\}/g, (whole, inner: string) => {
    if (inner in slots) return slots[inner] as string;
    const pronoun = PRONOUNS[inner];
    if (pronoun) return num === 'pl' ? pronoun[0] : pronoun[1];
    const slash = inner.indexOf('/');
    if (slash >= 0) return num === 'pl' ? inner.slice(0, slash) : inner.slice(slash + 1);
    throw new Error(`unknown markup ${whole} in "${text}"`);
  });
}

/** The first word of a VP (its verb or modal) and the rest. */
function splitVp(vp: string): [string, string] {
  const i = vp.indexOf(' ');
  return i < 0 ? [vp, ''] : [vp.slice(0, i), vp.slice(i)];
}

/** A VP in one form: present agrees with `num`; ^verbs after the first follow the same form. */
export function renderVp(vp: string, num: Num, form: VerbForm): string {
  const [head, rest] = splitVp(vp);
  // After a modal the other verbs stay bare ("can dive and ^swim" → "can dive and swim").
  const restForm: VerbForm = isModal(head) ? 'base' : form;
  const body = `${inflect(head, form, num)}${rest.replace(/\^(\w+)/g, (_m, v: string) => inflect(v, restForm, num))}`;
  return fillMarkup(body, num);
}

/** The negation: "do not survive hard frosts", "is not a fish", "cannot fly", "did not swim". */
export function negateVp(vp: string, num: Num, tense: 'present' | 'past' = 'present'): string {
  const [head, rest] = splitVp(vp);
  const tail = fillMarkup(rest.replace(/\^(\w+)/g, '$1'), num);
  if (head === 'be') return `${inflect('be', tense, num)} not${tail}`;
  if (head === 'can') return `${tense === 'past' ? 'could not' : 'cannot'}${tail}`;
  if (isModal(head)) return `${inflect(head, tense, num)} not${tail}`;
  const aux = tense === 'past' ? 'did' : num === 'sg' ? 'does' : 'do';
  return `${aux} not ${head}${tail}`;
}

/** A yes/no question about a subject: "Do sea otters eat clams?", "Is sugar sweet?", "Can kelp grow fast?" */
export function yesNoQuestion(vp: string, subject: Subject): string {
  const [head, rest] = splitVp(vp);
  const tail = fillMarkup(rest.replace(/\^(\w+)/g, '$1'), subject.num);
  if (head === 'be') return `${inflect('be', 'present', subject.num)} ${subject.text}${tail}?`;
  if (isModal(head)) return `${head === 'cannot' ? 'can' : head} ${subject.text}${head === 'cannot' ? ' not' : ''}${tail}?`;
  return `${subject.num === 'sg' ? 'does' : 'do'} ${subject.text} ${head}${tail}?`;
}

/** A full-clause rendering of a template question ({x} {do} {be} {have} plus VP markup). */
export function fillQuestion(q: string, subject: Subject): string {
  return fillMarkup(q, subject.num, {
    x: subject.text,
    do: subject.num === 'sg' ? 'does' : 'do',
    be: subject.num === 'sg' ? 'is' : 'are',
    have: subject.num === 'sg' ? 'has' : 'have',
  });
}

// ---- naming an entity ----------------------------------------------------------------------------

/** How a generic statement names an entity; `style` chooses between "sea otters" and "the sea otter". */
export function genericSubject(e: Entity, style: 'plural' | 'a' | 'the' = 'plural'): Subject {
  if (e.generic === 'the') return { text: `the ${e.noun.sg}`, num: 'sg' };
  if (e.generic === 'mass') return { text: e.noun.sg, num: 'sg' };
  if (style === 'plural') return { text: e.noun.pl, num: 'pl' };
  return { text: `${style} ${e.noun.sg}`, num: 'sg' };
}

/** Topics whose members can be named as a kind with "the" ("the sea otter eats…"): living things. */
const LIVING = new Set(['rocky-shore', 'kelp', 'reefs', 'estuaries', 'mangroves', 'seabirds', 'open-sea', 'garden', 'animals']);

/** A generic subject in a random style (plural most often). */
export function someSubject(r: Random, e: Entity): Subject {
  return genericSubject(e, r.weighted([['plural', 6], ['a', 2], ['the', LIVING.has(e.topic) ? 1 : 0]] as const));
}

/** The facts that can be said of this subject: group facts ("gather in large flocks") need a plural. */
export function factsFor(e: Entity, subject: Subject): FactSpec[] {
  return subject.num === 'sg' && e.generic === 'plural' ? e.facts.filter((f) => !f.group) : e.facts;
}

export const pronounOf = (s: Subject) => (s.num === 'pl' ? 'they' : 'it');

/** "Sea otters are marine mammals that live…", "Cream is the fatty part of milk". */
export function kindClause(e: Entity, subject: Subject): string {
  const num = e.kind.mass ? 'sg' : subject.num;
  const kindText = num === 'pl' ? e.kind.pl : e.kind.sg;
  const det = e.definiteKind ? 'the ' : num === 'pl' || e.kind.mass ? '' : 'a ';
  const that = e.kindThat ? ` that ${renderVp(e.kindThat, num, 'present')}` : '';
  return `${subject.text} ${inflect('be', 'present', subject.num)} ${det}${kindText}${that}`;
}

/** The number an entity takes when it is counted in a story ("two herons", "some sand"). */
export const entityNum = (e: Entity): Num => (e.generic === 'plural' ? numOf(e.noun) : 'sg');
