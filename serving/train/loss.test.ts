import { beforeAll, describe, expect, it } from 'vitest';
import { useTensorBackend } from '../backend.ts';
import { tf, type Tensor2D, type Tensor3D } from '../tf.ts';
import { maskedCrossEntropy } from './loss.ts';

/** −log softmax(row)[target] in float64. */
const nll = (row: number[], target: number) => {
  const max = Math.max(...row);
  const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
  return lse - row[target]!;
};

describe('maskedCrossEntropy', () => {
  beforeAll(async () => {
    await useTensorBackend('wasm');
  });

  it('averages over masked tokens only, per batch and per example', () => {
    const logits = [
      [[1, 2, 0.5, -1], [0, 0, 3, 1], [2, -2, 1, 0]],
      [[0.1, 0.2, 0.3, 0.4], [5, 1, 1, 1], [-1, 4, 0, 2]],
    ];
    const targets = [[1, 2, 0], [3, 0, 3]];
    const mask = [[1, 0, 1], [0, 0, 0]];
    const l = maskedCrossEntropy(tf.tensor3d(logits) as Tensor3D, tf.tensor2d(targets, undefined, 'int32') as Tensor2D, tf.tensor2d(mask) as Tensor2D);
    const e0 = (nll(logits[0]![0]!, 1) + nll(logits[0]![2]!, 0)) / 2;
    expect(l.loss.dataSync()[0]).toBeCloseTo(e0, 5);
    const per = l.perExample.dataSync();
    expect(per[0]).toBeCloseTo(e0, 5);
    expect(per[1]).toBe(0); // no masked token: 0, not NaN
    expect(Array.from(l.counts.dataSync())).toEqual([2, 0]);
  });

  it('weights the batch loss by tokens, not by examples', () => {
    const logits = [[[0, 1], [1, 0]], [[2, 0], [0, 0]]];
    const targets = [[0, 0], [1, 1]];
    const mask = [[1, 1], [1, 0]];
    const l = maskedCrossEntropy(tf.tensor3d(logits) as Tensor3D, tf.tensor2d(targets, undefined, 'int32') as Tensor2D, tf.tensor2d(mask) as Tensor2D);
    const want = (nll([0, 1], 0) + nll([1, 0], 0) + nll([2, 0], 1)) / 3;
    expect(l.loss.dataSync()[0]).toBeCloseTo(want, 5);
  });

  it('is stable for huge logits', () => {
    const l = maskedCrossEntropy(
      tf.tensor3d([[[1000, 0, -1000], [1000, 0, -1000]]]) as Tensor3D,
      tf.tensor2d([[0, 1]], undefined, 'int32') as Tensor2D,
      tf.tensor2d([[1, 1]]) as Tensor2D,
    );
    expect(Array.from(l.perExample.dataSync())).toEqual([500]);
    expect(l.loss.dataSync()[0]).toBe(500);
  });

  it('its gradient is softmax − onehot on masked tokens and 0 elsewhere', () => {
    const logits = tf.tensor3d([[[1, 2, 3], [0, 0, 0]]]) as Tensor3D;
    const g = tf.grad((x: tf.Tensor) => maskedCrossEntropy(x as Tensor3D, tf.tensor2d([[2, 1]], undefined, 'int32') as Tensor2D, tf.tensor2d([[1, 0]]) as Tensor2D).loss)(logits);
    const z = Math.exp(1) + Math.exp(2) + Math.exp(3);
    const want = [Math.exp(1) / z, Math.exp(2) / z, Math.exp(3) / z - 1, 0, 0, 0];
    Array.from(g.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 6));
  });
});
