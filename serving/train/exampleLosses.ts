// Each example's own loss under a model and an adapter, computed a batch at a time with no gradients:
// the held-out eval loss during training and each training example's final loss for its record.
// Examples are batched in the order given (sorting by length would waste less padding, but the result
// must not depend on how the caller happened to order them, and with right padding it does not).
import type { Gpt2Model, LinearHook } from '../gpt2.ts';
import { forward } from '../gpt2.ts';
import { tf, type Tensor2D } from '../tf.ts';
import { padBatch } from './batch.ts';
import { TrainingError } from './errors.ts';
import type { TokenExample } from './format.ts';
import { maskedCrossEntropy } from './loss.ts';

export interface ExampleLosses {
  /** Per example, its mean loss over its masked tokens. */
  losses: Float32Array;
  /** Per example, how many tokens carry loss. */
  counts: Int32Array;
  /** Mean over every masked token of every example (token-weighted, as the training loss is). */
  mean: number;
}

export function exampleLosses(model: Gpt2Model, hook: LinearHook | undefined, examples: readonly TokenExample[], batchSize: number, padId = 0): ExampleLosses {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new TrainingError(`batch size must be a positive integer, got ${batchSize}`);
  const losses = new Float32Array(examples.length);
  const counts = new Int32Array(examples.length);
  let total = 0;
  let tokens = 0;
  for (let start = 0; start < examples.length; start += batchSize) {
    const chunk = examples.slice(start, start + batchSize);
    const batch = padBatch(chunk, padId);
    const [per, cnt] = tf.tidy(() => {
      const { logits } = forward(model, batch.inputs, { hook });
      const targets = tf.tensor2d(batch.targets, [chunk.length, batch.length], 'int32') as Tensor2D;
      const mask = tf.tensor2d(batch.mask, [chunk.length, batch.length], 'float32') as Tensor2D;
      const l = maskedCrossEntropy(logits, targets, mask);
      return [l.perExample.dataSync(), l.counts.dataSync()];
    });
    for (let i = 0; i < chunk.length; i++) {
      losses[start + i] = per[i]!;
      counts[start + i] = cnt[i]!;
      total += per[i]! * cnt[i]!;
      tokens += cnt[i]!;
    }
  }
  return { losses, counts, mean: tokens ? total / tokens : 0 };
}
