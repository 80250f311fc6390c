// The targets for the chosen method, checked on one evaluation report.
import type { EvalMethod, EvalReport } from './runEval.ts';

/** The method the platform attributes with (chosen by this evaluation on development seeds; README: Attribution). */
export const DEFAULT_EVAL_METHOD: EvalMethod = 'combined';

export const EVAL_BASELINES: readonly EvalMethod[] = ['random', 'same-entity rule', 'span matching'];

export interface TargetCheck {
  name: string;
  value: number;
  goal: string;
  met: boolean;
}

export function checkTargets(report: EvalReport, chosen: EvalMethod = DEFAULT_EVAL_METHOD): TargetCheck[] {
  const by = new Map(report.methods.map((m) => [m.method, m]));
  const c = by.get(chosen);
  if (!c) throw new RangeError(`the report has no method "${chosen}"`);
  const bestBaseline = Math.max(...EVAL_BASELINES.map((b) => by.get(b)?.lds ?? Number.NEGATIVE_INFINITY));
  return [
    { name: `${chosen} LDS`, value: c.lds, goal: '≥ 0.3', met: c.lds >= 0.3 },
    { name: `${chosen} LDS above every baseline`, value: c.lds - bestBaseline, goal: `> 0 (best baseline ${bestBaseline.toFixed(3)})`, met: c.lds > bestBaseline },
    { name: `${chosen} mislabeled AUC`, value: c.auc, goal: '≥ 0.9', met: c.auc >= 0.9 },
    { name: `${chosen} planted-fact recall`, value: c.plantedRecall, goal: '≥ 0.9', met: c.plantedRecall >= 0.9 },
  ];
}
