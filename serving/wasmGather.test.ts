import { describe, expect, it } from 'vitest';
import { useTensorBackend } from './backend.ts';
import { tf } from './tf.ts';

// The in-place GatherV2 must give the cpu backend's values for every layout: an embedding lookup (2-D
// ids), other axes, batch dimensions, int32 tables, repeated indices, empty index lists.
const CASES: { shape: number[]; indices: number[]; indicesShape: number[]; axis: number; batchDims?: number; dtype?: 'int32' }[] = [
  { shape: [50, 8], indices: [3, 7, 7, 0, 49, 12], indicesShape: [2, 3], axis: 0 }, // embedding lookup
  { shape: [50, 8], indices: [5], indicesShape: [1], axis: 0 },
  { shape: [4, 6, 5], indices: [5, 0, 2], indicesShape: [3], axis: 1 },
  { shape: [4, 6, 5], indices: [4, 4, 1, 0], indicesShape: [2, 2], axis: 2 },
  { shape: [3, 6, 5], indices: [1, 2, 0, 5, 3, 3], indicesShape: [3, 2], axis: 1, batchDims: 1 },
  { shape: [9, 4], indices: [8, 1], indicesShape: [2], axis: 0, dtype: 'int32' },
  { shape: [9, 4], indices: [], indicesShape: [0], axis: 0 },
];

const seeded = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 1000 + i * 12.9898) * 2);
const size = (s: number[]) => s.reduce((x, y) => x * y, 1);

describe('wasm gather kernel', () => {
  it('gathers what the cpu backend gathers, and frees nothing else', async () => {
    const run = () =>
      CASES.map((c, i) => {
        const x = c.dtype === 'int32' ? tf.tensor(Int32Array.from(seeded(size(c.shape), i), (v) => Math.round(v * 100)), c.shape, 'int32') : tf.tensor(seeded(size(c.shape), i), c.shape);
        const ids = tf.tensor(c.indices, c.indicesShape, 'int32');
        const y = tf.gather(x, ids, c.axis, c.batchDims ?? 0);
        const got = { shape: y.shape, data: Array.from(y.dataSync()) };
        tf.dispose([x, ids, y]);
        return got;
      });
    await useTensorBackend('cpu');
    const expected = run();
    await useTensorBackend('wasm');
    expect(tf.getKernel('GatherV2', 'wasm')?.kernelFunc.toString()).toMatch(/gatherInPlace/);
    const before = tf.memory().numTensors;
    const got = run();
    expect(tf.memory().numTensors).toBe(before);
    expect(got).toEqual(expected);
  });

  it('refuses an index outside the table, as the backend did', async () => {
    await useTensorBackend('wasm');
    const x = tf.tensor2d(seeded(12, 1), [4, 3]);
    const ids = tf.tensor1d([1, 4], 'int32');
    expect(() => tf.gather(x, ids)).toThrow(/index value 4 is not in \[0, 3\]/);
    tf.dispose([x, ids]);
  });
});
