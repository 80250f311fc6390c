// Sketches of examples' gradients at one checkpoint: serving computes every example's own LoRA gradient
// in batched passes (perExampleGradients), and the projection reduces each to `spec.dims` numbers. The
// same function sketches training rows (at training time, from the run's checkpoints) and inferences
// (a prompt and the model's output), so the two are comparable by a dot product.
import { perExampleGradients, type Gpt2Model, type LoraAdapter, type TokenExample } from '../../serving/index.ts';
import type { Projection } from './projection.ts';

export interface SketchOptions {
  model: Gpt2Model;
  /** The checkpoint at which the gradients are taken. */
  adapter: LoraAdapter;
  projection: Projection;
  examples: readonly TokenExample[];
  /** Examples per gradient pass; their gradients are projected a chunk at a time to bound memory. Default 16. */
  batchSize?: number;
  padId?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface Sketches {
  /** Examples × dims, row-major. */
  values: Float32Array;
  rows: number;
  dims: number;
  /** Each example's mean loss over its target tokens at this checkpoint. */
  losses: Float32Array;
  /** Each example's target token count (loss × count = −log-probability of the target). */
  counts: Int32Array;
}

export function sketchExamples(opts: SketchOptions): Sketches {
  const { projection, examples } = opts;
  const batchSize = opts.batchSize ?? 16;
  const dims = projection.spec.dims;
  const N = examples.length;
  const values = new Float32Array(N * dims);
  const losses = new Float32Array(N);
  const counts = new Int32Array(N);
  for (let start = 0; start < N; start += batchSize) {
    const chunk = examples.slice(start, start + batchSize);
    const grads = perExampleGradients({ model: opts.model, adapter: opts.adapter, pairs: chunk, batchSize, ...(opts.padId === undefined ? {} : { padId: opts.padId }) });
    values.set(projection.project(grads), start * dims);
    losses.set(grads.losses, start);
    counts.set(grads.counts, start);
    opts.onProgress?.(Math.min(N, start + batchSize), N);
  }
  return { values, rows: N, dims, losses, counts };
}
