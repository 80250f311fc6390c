// The learning-rate schedule: linear warmup from ~0 to the peak, then a half cosine down to a floor.
// Warmup keeps the first AdamW steps (whose second-moment estimate rests on a handful of gradients) small;
// the cosine tail lets the adapter settle instead of ending on a large step. A pure function of the step,
// so a run is repeatable and a resumed run gets the same rates.
import { TrainingError } from './errors.ts';

export interface WarmupCosineOptions {
  /** Rate at the end of warmup. */
  peak: number;
  /** Steps of linear warmup (0: start at the peak). */
  warmupSteps: number;
  /** Total optimizer steps. */
  totalSteps: number;
  /** Rate the cosine ends at. Default 0. */
  floor?: number;
}

/**
 * Rate for the update with 0-based index `step`: (step + 1)/warmup · peak during warmup (so the first
 * update is not wasted at 0), then floor + (peak − floor)·½(1 + cos(π·p)) with p = (step − warmup)/(total − warmup).
 */
export function warmupCosine(opts: WarmupCosineOptions): (step: number) => number {
  const { peak, warmupSteps, totalSteps } = opts;
  const floor = opts.floor ?? 0;
  if (!(peak >= 0)) throw new TrainingError(`peak learning rate must be ≥ 0, got ${peak}`);
  if (!Number.isInteger(totalSteps) || totalSteps < 1) throw new TrainingError(`total steps must be a positive integer, got ${totalSteps}`);
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0 || warmupSteps > totalSteps) {
    throw new TrainingError(`warmup steps must be an integer in [0, ${totalSteps}], got ${warmupSteps}`);
  }
  if (!(floor >= 0 && floor <= peak)) throw new TrainingError(`the floor learning rate must be in [0, peak = ${peak}], got ${floor}`);
  const decaySteps = totalSteps - warmupSteps;
  return (step) => {
    if (step < warmupSteps) return (peak * (step + 1)) / warmupSteps;
    const p = decaySteps === 0 ? 1 : Math.min(1, (step - warmupSteps) / decaySteps);
    return floor + (peak - floor) * 0.5 * (1 + Math.cos(Math.PI * p));
  };
}
