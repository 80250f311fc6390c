// Sentences that state facts from the table, in several shapes: simple, with a pronoun, coordinated,
// with a relative clause, with a reason, as a contrast with what is not true, as something to watch for.
import { factsFor, fillMarkup, genericSubject, kindClause, negateVp, pronounOf, renderVp, someSubject, type Subject } from '../clause.ts';
import { capitalize, inflect, isModal, sentence } from '../english.ts';
import type { Entity, FactSpec } from '../facts.ts';
import type { Random } from '../random.ts';
import { vary } from '../vary.ts';

/** "<subject> <vp>" in the present; with `also`, "they also eat…", "they are also…", "they can also…". */
export function clause(subject: Subject, vp: string, opts: { also?: boolean; form?: 'present' | 'past' } = {}): string {
  const form = opts.form ?? 'present';
  let text = renderVp(vp, subject.num, form);
  if (opts.also) {
    const head = vp.split(' ')[0] as string;
    const sp = text.indexOf(' ');
    text = head === 'be' || isModal(head) ? `${text.slice(0, sp)} also${text.slice(sp)}` : `also ${text}`;
  }
  return `${subject.text} ${text}`;
}

/** The reason clause of a fact, with its pronouns agreeing with the subject. */
export const reason = (f: FactSpec, subject: Subject) => fillMarkup(f.why as string, subject.num);

/** A pronoun subject that refers back to `subject`. */
export const pronounSubject = (subject: Subject): Subject => ({ text: pronounOf(subject), num: subject.num });

/**
 * A paragraph about one entity: an opening that names it, then `n` more facts in varied shapes,
 * referring back with pronouns. Every sentence states a fact from the table or a listed negation.
 */
export function describeEntity(r: Random, e: Entity, n: number): string[] {
  const subject = someSubject(r, e);
  const it = pronounSubject(subject);
  const facts = r.shuffle(factsFor(e, subject));
  const out: string[] = [];

  // Opening: what it is, or a first fact with the full name.
  if (r.chance(0.55)) {
    out.push(sentence(kindClause(e, subject)));
  } else {
    const f = facts.shift() as FactSpec;
    out.push(sentence(r.chance(0.3) && f.why ? `${clause(subject, f.vp)} because ${reason(f, subject)}` : clause(subject, f.vp)));
  }

  let negDone = false;
  // Each special shape at most once a paragraph, so that no paragraph is a string of "Did you know…?"
  const used = new Set<string>();
  const once = (shape: string) => (used.has(shape) ? false : (used.add(shape), true));
  while (out.length < n + 1 && facts.length > 0) {
    const f = facts.shift() as FactSpec;
    const who = r.chance(0.7) ? it : subject;
    let roll = r.next();
    if ((roll >= 0.18 && roll < 0.36 && !f.why) || (roll >= 0.36 && roll < 0.48 && !f.seen)) roll = 0.9;
    const shape = roll < 0.18 ? 'two' : roll < 0.36 ? 'why' : roll < 0.48 ? 'seen' : roll < 0.56 ? 'ask' : roll < 0.64 ? 'curious' : 'plain';
    if (shape !== 'plain' && !once(shape)) roll = 0.9;
    if (roll < 0.18 && facts.length > 0) {
      // Two facts in one sentence.
      const g = facts.shift() as FactSpec;
      out.push(sentence(r.pick([
        () => `${clause(who, f.vp)}, and ${clause(it, g.vp, { also: true })}`,
        () => `${clause(who, f.vp)} and ${renderVp(g.vp, who.num, 'present')}`,
        () => `${capitalize(subject.text)}, which ${renderVp(f.vp, subject.num, 'present')}, ${clause({ ...subject, text: '' }, g.vp).trim()}`,
      ])()));
    } else if (roll < 0.36 && f.why) {
      out.push(sentence(r.chance(0.6)
        ? `${clause(who, f.vp)} because ${reason(f, who)}`
        : `${clause(who, f.vp)}. ${capitalize(vary(r, '{This is because|The reason is that|That is because}'))} ${reason(f, who)}`));
    } else if (roll < 0.48 && f.seen) {
      const base = renderVp(f.vp, subject.num, 'base');
      const ing = renderVp(f.vp, subject.num, 'ing');
      const obj = subject.num === 'pl' ? 'them' : 'it';
      out.push(sentence(r.pick([
        `If you watch ${subject.text} for a while, you may see ${obj} ${base}`,
        `${subject.text} can often be seen ${ing}`,
        `${vary(r, '{Look out for|Watch for|Keep an eye out for}')} ${subject.text} ${ing}`,
      ])));
    } else if (roll < 0.56) {
      out.push(`${vary(r, '{Did you know|Have you ever noticed|Have you heard}')} that ${clause(subject, f.vp)}?`);
    } else if (roll < 0.64) {
      out.push(sentence(`${vary(r, '{One interesting thing|One thing worth knowing|A curious fact}')} about ${subject.text} is that ${clause(it, f.vp)}`));
    } else {
      out.push(sentence(clause(who, f.vp, { also: out.length > 1 && r.chance(0.3) })));
    }
    if (!negDone && e.not.length > 0 && r.chance(0.35)) {
      negDone = true;
      const vp = r.pick(e.not);
      out.push(sentence(r.pick([
        () => `${capitalize(pronounOf(subject))} ${negateVp(vp, subject.num)}`,
        () => `${vary(r, '{However|On the other hand|Even so}')}, ${subject.text} ${negateVp(vp, subject.num)}`,
        () => `${vary(r, '{Contrary to what some people think,|It may be surprising, but}')} ${subject.text} ${negateVp(vp, subject.num)}`,
      ])()));
    }
  }
  return out;
}

/** One fact said on its own, with the full name: "Kelp can grow more than half a metre in a single day." */
export function factSentence(r: Random, e: Entity, f: FactSpec): string {
  const subject = f.group ? genericSubject(e, 'plural') : someSubject(r, e);
  if (f.why && r.chance(0.4)) return sentence(`${clause(subject, f.vp)} because ${reason(f, subject)}`);
  return sentence(clause(subject, f.vp));
}

/** What a person knew or was told: "She knew that herons hunt by standing still in shallow water." */
export function reportedFact(r: Random, who: string, e: Entity, f: FactSpec): string {
  const subject = genericSubject(e, 'plural');
  const verb = vary(r, '{knew|remembered|had read|had once been told|had learned at school}');
  return sentence(`${who} ${verb} that ${clause(subject, f.vp)}`);
}

/** "is", "are", "was"… for use in templates. */
export const be = (s: Subject, form: 'present' | 'past' = 'present') => inflect('be', form, s.num);
