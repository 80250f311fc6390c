import { describe, expect, it } from 'vitest';
import { useTensorBackend } from './backend.ts';
import { tf } from './tf.ts';

// The in-place Slice and SplitV must give the cpu backend's values for every layout: contiguous runs,
// strided ones, whole and partial axes, sizes of −1, int32, empty slices.
const SLICES: { shape: number[]; begin: number[]; size: number[]; dtype?: 'int32' }[] = [
  { shape: [10], begin: [3], size: [4] },
  { shape: [6, 7], begin: [2, 0], size: [3, -1] }, // whole rows: one run
  { shape: [6, 7], begin: [1, 2], size: [4, 3] }, // strided
  { shape: [5, 3, 8, 4], begin: [1, 0, 0, 0], size: [3, -1, -1, -1] }, // rows of a KV cache
  { shape: [5, 3, 8, 4], begin: [1, 0, 5, 0], size: [3, -1, -1, -1] }, // rows, trimmed positions
  { shape: [5, 3, 8, 4], begin: [0, 1, 2, 1], size: [5, 2, 3, 2] },
  { shape: [2, 3, 4, 5, 6], begin: [1, 0, 1, 0, 0], size: [1, 3, 2, -1, -1] },
  { shape: [4, 9], begin: [1, 2], size: [2, 5], dtype: 'int32' },
  { shape: [4, 9], begin: [1, 2], size: [0, 5] },
];
const SPLITS: { shape: number[]; sizes: number[] | number; axis: number }[] = [
  { shape: [6, 12], sizes: 3, axis: 1 }, // fused q/k/v
  { shape: [4, 5, 6], sizes: [1, 3, 2], axis: 2 },
  { shape: [4, 5, 6], sizes: [3, 1], axis: 0 },
];

const seeded = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 1000 + i * 12.9898) * 2);
const size = (s: number[]) => s.reduce((x, y) => x * y, 1);

describe('wasm slice kernels', () => {
  it('slice and split compute what the cpu backend computes, and free nothing else', async () => {
    const run = () => {
      const out: { shape: number[]; data: number[] }[] = [];
      SLICES.forEach((c, i) => {
        const x = c.dtype === 'int32' ? tf.tensor(Int32Array.from(seeded(size(c.shape), i), (v) => Math.round(v * 100)), c.shape, 'int32') : tf.tensor(seeded(size(c.shape), i), c.shape);
        const y = tf.slice(x, c.begin, c.size);
        out.push({ shape: y.shape, data: Array.from(y.dataSync()) });
        tf.dispose([x, y]);
      });
      SPLITS.forEach((c, i) => {
        const x = tf.tensor(seeded(size(c.shape), 40 + i), c.shape);
        const parts = tf.split(x, c.sizes, c.axis);
        for (const p of parts) out.push({ shape: p.shape, data: Array.from(p.dataSync()) });
        tf.dispose([x, ...parts]);
      });
      return out;
    };
    await useTensorBackend('cpu');
    const expected = run();
    await useTensorBackend('wasm');
    expect(tf.getKernel('Slice', 'wasm')?.kernelFunc.toString()).toMatch(/sliceInPlace/);
    expect(tf.getKernel('SplitV', 'wasm')?.kernelFunc.toString()).toMatch(/sliceInPlace/);
    const before = tf.memory().numTensors;
    const got = run();
    expect(tf.memory().numTensors).toBe(before);
    expect(got).toEqual(expected);
  });
});
