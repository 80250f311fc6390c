// What an evaluation run does, with its defaults. The full run is sized to finish on two cores in well
// under 30 minutes; `quick` is the same pipeline on a task small enough for a test.
import { DEFAULT_SPAN_WEIGHT } from '../influence/combine.ts';
import type { EvalTaskOptions } from './task.ts';

export interface EvalTraining {
  rank: number;
  alpha: number;
  targets: string[];
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Checkpoints saved by the attributed run (TracIn, TRAK ensemble). */
  checkpoints: number;
}

export interface EvalConfig {
  task: EvalTaskOptions;
  training: EvalTraining;
  /** Random half-subsets of the training rows retrained for the LDS. */
  subsets: number;
  /** Seeds each subset is trained with; their mean log-probabilities are the ground truth. */
  seedsPerSubset: number;
  /** Seed of the attributed (full) run. */
  fullSeed: number;
  /** Sketch projection: width of each module side, and seed. */
  sketchWidth: number;
  projectionSeed: number;
  /** Weight of span evidence in the combined method (relative, after normalising each signal per query). */
  spanWeight: number;
}

export const EVAL_TRAINING: EvalTraining = { rank: 8, alpha: 16, targets: ['c_attn'], epochs: 8, batchSize: 16, learningRate: 5e-3, checkpoints: 4 };

export function evalConfig(seed: number, opts: { quick?: boolean; subsets?: number } = {}): EvalConfig {
  const quick = opts.quick ?? false;
  return {
    task: quick ? { seed, entities: 6, plantedEntities: 2, rowsPerEntity: 6, plantedRowsPerEntity: 5, contributors: 4, queries: 12 } : { seed },
    training: quick ? { ...EVAL_TRAINING, epochs: 4 } : EVAL_TRAINING,
    subsets: opts.subsets ?? (quick ? 6 : 50),
    seedsPerSubset: 2,
    fullSeed: 0,
    sketchWidth: 32,
    projectionSeed: 1,
    spanWeight: DEFAULT_SPAN_WEIGHT,
  };
}
