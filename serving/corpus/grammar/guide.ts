// How-to documents from guides.ts: a title, what you need, the steps (numbered, or told as prose),
// and a tip, sometimes with the science that explains a step.
import { capitalize, joinList, sentence } from '../english.ts';
import { entity } from '../facts.ts';
import { GUIDES } from '../guides.ts';
import type { Random } from '../random.ts';
import { vary } from '../vary.ts';
import { factSentence } from './statements.ts';

export function guideDocument(r: Random): string {
  const g = r.pick(GUIDES);
  const lines: string[] = [r.pick(g.titles)];
  if (g.needs) {
    const label = g.domain === 'kitchen' ? r.pick(['Ingredients:', 'You will need:']) : r.pick(['You will need:', 'What you need:']);
    lines.push(r.chance(0.5) ? `${label} ${joinList(g.needs)}.` : [label, ...g.needs.map((n) => `- ${n}`)].join('\n'));
  }
  const steps = g.steps.map((s) => vary(r, s).replace(/\^/g, ''));
  const style = r.pick(['numbered', 'step', 'prose'] as const);
  if (style === 'numbered') lines.push(steps.map((s, i) => `${i + 1}. ${s}`).join('\n'));
  else if (style === 'step') lines.push(steps.map((s, i) => `Step ${i + 1}: ${s}`).join('\n'));
  else {
    const linked = steps.map((s, i) => {
      if (i === 0) return `${r.pick(['First', 'To begin', 'Start like this'])}: ${s[0]!.toLowerCase()}${s.slice(1)}`;
      if (i === steps.length - 1) return `${r.pick(['Finally', 'Last of all', 'To finish'])}, ${s[0]!.toLowerCase()}${s.slice(1)}`;
      return r.chance(0.5) ? `${r.pick(['Then', 'Next', 'After that'])}, ${s[0]!.toLowerCase()}${s.slice(1)}` : s;
    });
    lines.push(linked.join(' '));
  }
  if (r.chance(0.7)) lines.push(`${r.pick(['Tip:', 'A tip:', 'Good to know:', 'Note:'])} ${r.pick(g.tips)}`);
  if (g.about.length && r.chance(0.5)) {
    const e = entity(r.pick(g.about));
    lines.push(`${r.pick(['Why it works:', 'The science:', 'Behind the steps:'])} ${factSentence(r, e, r.pick(e.facts))}`);
  }
  return lines.map((l) => capitalize(l)).join('\n');
}

export const guideTitle = (r: Random) => sentence(r.pick(GUIDES).titles[0] as string);
