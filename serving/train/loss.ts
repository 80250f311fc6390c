// Masked next-token cross-entropy, the one loss that training, evaluation and per-example gradients share.
// log-softmax subtracts each row's max before exponentiating, so large logits cannot overflow. The
// target log-probabilities are picked with a one-hot product, not a gather: the gather's gradient needs
// UnsortedSegmentSum, which the wasm backend does not have. The one-hot is as large as the logits
// (B, T, V), which the forward pass holds anyway.
import { tf, type Tensor1D, type Tensor2D, type Tensor3D } from '../tf.ts';

type Scalar = tf.Scalar;

export interface MaskedLoss {
  /** Mean negative log-likelihood over every masked token of the batch (0 if none is masked). */
  loss: Scalar;
  /** (B): each example's mean over its own masked tokens (0 for an example with none). */
  perExample: Tensor1D;
  /** (B): how many tokens of each example count. */
  counts: Tensor1D;
}

/** logits (B, T, V), targets (B, T) int32, mask (B, T) of 0/1. */
export function maskedCrossEntropy(logits: Tensor3D, targets: Tensor2D, mask: Tensor2D): MaskedLoss {
  const [B, T, V] = logits.shape;
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits); // (B, T, V)
    // oneHot's dtype argument is ignored by the wasm backend (it writes int32 bits into a float32 tensor), so cast instead.
    const picked = tf.cast(tf.oneHot(tf.cast(targets, 'int32'), V), 'float32'); // (B, T, V)
    const nll = tf.neg(tf.sum(tf.mul(logp, picked), -1)); // (B, T)
    const m = tf.cast(mask, 'float32');
    const masked = tf.mul(nll, m);
    const counts = tf.sum(m, 1) as Tensor1D; // (B)
    const sums = tf.sum(masked, 1); // (B)
    const perExample = tf.div(sums, tf.maximum(counts, 1)) as Tensor1D;
    const loss = tf.div(tf.sum(sums), tf.maximum(tf.sum(counts), 1)) as Scalar;
    return { loss, perExample, counts };
  });
}
