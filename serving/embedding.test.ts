import { describe, expect, it } from 'vitest';
import { useTensorBackend } from './backend.ts';
import { embeddingLookup } from './embedding.ts';
import { tf } from './tf.ts';

describe('embeddingLookup', () => {
  it('looks up rows like gather, and its gradient scatter-adds repeated ids, on wasm', async () => {
    await useTensorBackend('wasm');
    const table = tf.variable(tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [4, 2]));
    const ids = tf.tensor2d([[0, 3, 3], [1, 0, 3]], [2, 3], 'int32');
    const w = tf.tensor3d([1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6], [2, 3, 2]);
    expect(Array.from(embeddingLookup(table, ids).dataSync())).toEqual([1, 2, 7, 8, 7, 8, 3, 4, 1, 2, 7, 8]);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(embeddingLookup(table, ids), w)) as tf.Scalar, [table]);
    // row 0 ← positions 0 and 4 (weights 1 and 5), row 1 ← position 3 (4), row 2 ← none, row 3 ← 1, 2, 5 (2 + 3 + 6)
    expect(Array.from(grads[table.name]!.dataSync())).toEqual([6, 6, 4, 4, 0, 0, 11, 11]);
  });
});
