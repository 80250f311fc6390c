// Training runs of the evaluation: the attributed run on every row, and the LDS's ground truth, adapters
// retrained on random half-subsets with several seeds. Each run trains a LoRA adapter on the base model
// exactly as the attributed run was trained (same hyperparameters), then measures every query's target
// log-probability under it.
import { adapterHook, disposeLora, exampleLosses, toExample, trainLora, type Gpt2Model, type Tokenizer, type TrainLoraResult } from '../../serving/index.ts';
import type { EvalTraining } from './evalConfig.ts';
import type { EvalTask } from './task.ts';

export interface TrainContext {
  model: Gpt2Model;
  tokenizer: Tokenizer;
  task: EvalTask;
  training: EvalTraining;
}

/** Trains on the given rows (indices into task.rows); the caller disposes the result's adapters. */
export async function trainOn(ctx: TrainContext, rows: readonly number[], seed: number, onStep?: (step: number, learningRate: number) => void): Promise<TrainLoraResult> {
  const { training: h } = ctx;
  return trainLora({
    model: ctx.model,
    tokenizer: ctx.tokenizer,
    examples: rows.map((i) => {
      const r = ctx.task.rows[i]!;
      return { contributionId: r.contributionId, rowIndex: r.rowIndex, rowHash: `0x${i.toString(16)}`, row: r.row };
    }),
    rank: h.rank,
    alpha: h.alpha,
    targets: h.targets,
    epochs: h.epochs,
    batchSize: h.batchSize,
    learningRate: h.learningRate,
    checkpoints: h.checkpoints,
    evalFraction: 0,
    seed,
    ...(onStep ? { onProgress: (p) => onStep(p.step, p.learningRate) } : {}),
  });
}

/** Each query's log-probability of its target (its label and EOS) under the adapter, or the base model without one. */
export function queryLogProbs(ctx: Pick<TrainContext, 'model' | 'tokenizer' | 'task'>, adapter?: TrainLoraResult['adapter']): Float64Array {
  const examples = ctx.task.queries.map((q) => toExample(q.row, ctx.tokenizer, ctx.model.config.nPositions));
  const { losses, counts } = exampleLosses(ctx.model, adapter ? adapterHook(adapter) : undefined, examples, 16, ctx.tokenizer.eosToken);
  return Float64Array.from(losses, (l, i) => -l * counts[i]!);
}

/** Trains on `rows` with `seed` and returns the queries' target log-probabilities under the result. */
export async function retrainAndMeasure(ctx: TrainContext, rows: readonly number[], seed: number): Promise<Float64Array> {
  const result = await trainOn(ctx, rows, seed);
  try {
    return queryLogProbs(ctx, result.adapter);
  } finally {
    disposeRun(result);
  }
}

/** Frees a run's adapter and checkpoints (separate snapshots of the weights). */
export function disposeRun(result: TrainLoraResult): void {
  const seen = new Set([result.adapter, ...result.checkpoints.map((c) => c.adapter)]);
  for (const a of seen) disposeLora(a);
}
