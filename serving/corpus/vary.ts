// Alternations inside fixed phrases: "{Whisk|Beat} the eggs{| well}" picks one branch of each group,
// uniformly; groups nest. This keeps hand-written steps and stock phrases from repeating word for word.
import type { Random } from './random.ts';

/** Expands every {a|b|…} group in `template` (nested groups allowed; an empty branch is allowed). */
export function vary(r: Random, template: string): string {
  let i = 0;
  const parse = (inGroup: boolean): string[] => {
    // Returns the branches of the current group (or one branch at top level), each already expanded.
    const branches: string[] = [];
    let cur = '';
    while (i < template.length) {
      const ch = template[i] as string;
      if (ch === '{') {
        i++;
        cur += r.pick(parse(true));
      } else if (inGroup && ch === '|') {
        i++;
        branches.push(cur);
        cur = '';
      } else if (inGroup && ch === '}') {
        i++;
        branches.push(cur);
        return branches;
      } else {
        cur += ch;
        i++;
      }
    }
    if (inGroup) throw new SyntaxError(`unclosed { in template: ${template}`);
    branches.push(cur);
    return branches;
  };
  return (parse(false)[0] as string).replace(/ {2,}/g, ' ').replace(/ ([,.!?;:])/g, '$1');
}
