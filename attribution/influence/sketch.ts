// Sketches of examples' gradients at one checkpoint: serving computes every example's own LoRA gradient
// in batched passes (perExampleGradients), and the projection reduces each to `spec.dims` numbers. The
// same function sketches training rows (at training time, from the run's checkpoints) and inferences
// (a prompt and the model's output), so the two are comparable by a dot product.
import { disposeGradientTensors, perExampleGradientTensors, tf, type Gpt2Model, type LoraAdapter, type Tensor, type TokenExample } from '../../serving/index.ts';
import { SketchSpecError, type Projection } from './projection.ts';

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

/** Sketches with synchronous reads (wasm, cpu, tensorflow); sketchExamplesAsync works on every backend. */
export function sketchExamples(opts: SketchOptions): Sketches {
  const out = emptySketches(opts);
  for (const step of sketchChunks(opts)) {
    try {
      out.fill(step.start, step.tensors.map((t) => t.dataSync()));
    } finally {
      tf.dispose(step.tensors);
    }
  }
  return out.sketches;
}

/** Sketches read back with `data()`: the only way on webgpu, where the device cannot be read synchronously. */
export async function sketchExamplesAsync(opts: SketchOptions): Promise<Sketches> {
  const out = emptySketches(opts);
  for (const step of sketchChunks(opts)) {
    try {
      out.fill(step.start, await Promise.all(step.tensors.map((t) => t.data())));
    } finally {
      tf.dispose(step.tensors);
    }
  }
  return out.sketches;
}

/** Each chunk's gradient pass and projection, on the device: [sketches (Bn, dims), losses (Bn), counts (Bn)]. */
function* sketchChunks(opts: SketchOptions): Generator<{ start: number; tensors: Tensor[] }> {
  const batchSize = opts.batchSize ?? 16;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new SketchSpecError(`batch size must be a positive integer, got ${batchSize}`);
  const N = opts.examples.length;
  for (let start = 0; start < N; start += batchSize) {
    const chunk = opts.examples.slice(start, start + batchSize);
    const g = perExampleGradientTensors({ model: opts.model, adapter: opts.adapter, pairs: chunk, ...(opts.padId === undefined ? {} : { padId: opts.padId }) });
    let sketch: Tensor;
    try {
      sketch = opts.projection.projectTensors(new Map(g.modules.map((m) => [m.name, m])), chunk.length);
    } catch (e) {
      disposeGradientTensors(g);
      throw e;
    }
    g.modules.forEach((m) => tf.dispose([m.dA, m.dB]));
    yield { start, tensors: [sketch, g.losses, g.counts] };
    opts.onProgress?.(Math.min(N, start + batchSize), N);
  }
}

function emptySketches(opts: SketchOptions): { sketches: Sketches; fill(start: number, parts: ArrayLike<number>[]): void } {
  const dims = opts.projection.spec.dims;
  const N = opts.examples.length;
  const sketches: Sketches = { values: new Float32Array(N * dims), rows: N, dims, losses: new Float32Array(N), counts: new Int32Array(N) };
  return {
    sketches,
    fill(start, [values, losses, counts]) {
      sketches.values.set(values!, start * dims);
      sketches.losses.set(losses!, start);
      sketches.counts.set(counts!, start);
    },
  };
}
