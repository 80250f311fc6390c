// Token examples of different lengths → one rectangular batch for the model: inputs are each example's
// tokens but the last, targets its tokens but the first, both right-padded to the longest example of the
// batch, and the loss mask is zero on padding. Right padding is safe under causal attention: no real
// position attends to a padded one, so real logits (and gradients) are exactly those of the example alone.
import type { TokenExample } from './format.ts';
import { TrainingError } from './errors.ts';

export interface PaddedBatch {
  /** [B][L] input ids (padding: `padId`). */
  inputs: number[][];
  /** [B][L] next-token ids (padding: `padId`). */
  targets: number[][];
  /** [B][L] 1 where the prediction counts, 0 elsewhere and on padding. */
  mask: number[][];
  /** L: the longest example's length − 1. */
  length: number;
  /** Real (unpadded) input positions of the batch, for throughput. */
  realTokens: number;
}

export function padBatch(examples: readonly TokenExample[], padId = 0): PaddedBatch {
  if (examples.length === 0) throw new TrainingError('a batch needs at least one example');
  let L = 0;
  for (const [i, e] of examples.entries()) {
    if (e.tokens.length < 2) throw new TrainingError(`example ${i} has ${e.tokens.length} token(s); an example needs at least 2`);
    if (e.lossMask.length !== e.tokens.length - 1) {
      throw new TrainingError(`example ${i} has ${e.tokens.length} tokens and a loss mask of ${e.lossMask.length}; the mask needs tokens − 1 entries (one per next-token target)`);
    }
    L = Math.max(L, e.tokens.length - 1);
  }
  const pad = (xs: readonly number[], v: number) => (xs.length === L ? [...xs] : [...xs, ...new Array<number>(L - xs.length).fill(v)]);
  let realTokens = 0;
  const inputs: number[][] = [];
  const targets: number[][] = [];
  const mask: number[][] = [];
  for (const e of examples) {
    realTokens += e.tokens.length - 1;
    inputs.push(pad(e.tokens.slice(0, -1), padId));
    targets.push(pad(e.tokens.slice(1), padId));
    mask.push(pad(e.lossMask, 0));
  }
  return { inputs, targets, mask, length: L, realTokens };
}
