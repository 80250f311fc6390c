import { describe, expect, it } from 'vitest';
import { tf } from '../../serving/index.ts';
import { formatMatMul, runMatMulBenchmark } from './matmul.ts';

describe('runMatMulBenchmark()', () => {
  it('times the wasm kernel and the wrapper on each shape, and leaves the wrapper installed', async () => {
    const results = await runMatMulBenchmark({
      rounds: 1,
      roundMs: 1,
      shapes: [
        { what: 'plain', a: [8, 4], b: [4, 6] },
        { what: 'transposed', a: [4, 8], b: [6, 4], transposeA: true, transposeB: true },
      ],
    });
    expect(results.map((r) => [r.what, r.shape])).toEqual([
      ['plain', '[8,4]·[4,6]'],
      ['transposed', '[4,8]ᵀ·[6,4]ᵀ'],
    ]);
    for (const r of results) {
      expect(r.originalMs).toBeGreaterThan(0);
      expect(r.wrapperMs).toBeGreaterThan(0);
      expect(r.speedup).toBeCloseTo(r.originalMs / r.wrapperMs, 10);
      expect(r.originalGflops).toBeCloseTo((2 * 8 * 6 * 4) / r.originalMs / 1e6, 10);
    }
    expect(tf.getBackend()).toBe('wasm');
    expect(tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc.toString()).toMatch(/swapLast/);
    expect(formatMatMul(results).split('\n')).toHaveLength(4);
  });
});
