import { describe, expect, it } from 'vitest';
import { useTensorBackend } from './backend.ts';
import { tf } from './tf.ts';

// The wrapper must give the cpu backend's numbers for every case it changes (transposes, batched and
// broadcast products) and for those it passes through (plain products, a large output among them).
const CASES: { a: number[]; b: number[]; ta: boolean; tb: boolean }[] = [
  { a: [300, 20], b: [20, 700], ta: false, tb: false }, // a large output (300·700), passed through
  { a: [20, 300], b: [20, 700], ta: true, tb: false },
  { a: [300, 20], b: [700, 20], ta: false, tb: true },
  { a: [20, 300], b: [700, 20], ta: true, tb: true },
  { a: [1, 300, 20], b: [1, 20, 700], ta: false, tb: false },
  { a: [3, 2, 17, 5], b: [3, 2, 9, 5], ta: false, tb: true }, // attention-shaped
  { a: [4, 6, 9], b: [4, 6, 11], ta: true, tb: false },
  { a: [7, 5], b: [5, 3], ta: false, tb: false },
];

const seeded = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 1000 + i * 12.9898) * 2);

describe('wasm matmul wrapper', () => {
  it('computes what the cpu backend computes, transposed, plain and batched', async () => {
    const size = (s: number[]) => s.reduce((x, y) => x * y, 1);
    const run = () => CASES.map((c, i) => {
      const out = tf.matMul(tf.tensor(seeded(size(c.a), i), c.a), tf.tensor(seeded(size(c.b), i + 50), c.b), c.ta, c.tb);
      return { shape: out.shape, data: out.dataSync().slice() };
    });
    await useTensorBackend('cpu');
    const expected = run();
    await useTensorBackend('wasm');
    expect(tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc.toString()).toMatch(/swapLast/);
    const before = tf.memory().numDataBuffers;
    const got = run();
    got.forEach((g, i) => {
      expect(g.shape).toEqual(expected[i]!.shape);
      let worst = 0;
      for (let j = 0; j < g.data.length; j++) worst = Math.max(worst, Math.abs(g.data[j]! - expected[i]!.data[j]!));
      expect(worst).toBeLessThan(1e-3);
    });
    // 2 inputs + 1 output per case remain (not disposed in run()), and nothing else: the temporaries are freed.
    expect(tf.memory().numDataBuffers - before).toBe(3 * CASES.length);
  });
});
