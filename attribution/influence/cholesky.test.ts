import { describe, expect, it } from 'vitest';
import { createRandom } from '../eval/random.ts';
import { NotPositiveDefiniteError, spdInverse } from './cholesky.ts';

describe('spdInverse', () => {
  it('inverts random symmetric positive-definite matrices (M·M⁻¹ = I)', () => {
    const rnd = createRandom(3);
    for (const n of [1, 2, 5, 17]) {
      // M = AᵀA + 0.1·I
      const A = Array.from({ length: n * n }, () => rnd.next() * 2 - 1);
      const M = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
        let s = i === j ? 0.1 : 0;
        for (let k = 0; k < n; k++) s += A[k * n + i]! * A[k * n + j]!;
        M[i * n + j] = s;
      }
      const inv = spdInverse(M, n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += M[i * n + k]! * inv[k * n + j]!;
        expect(s).toBeCloseTo(i === j ? 1 : 0, 8);
      }
    }
  });

  it('refuses a matrix that is not positive definite, naming the pivot', () => {
    expect(() => spdInverse(Float64Array.from([1, 2, 2, 1]), 2)).toThrow(NotPositiveDefiniteError);
    expect(() => spdInverse(Float64Array.from([1, 2, 2, 1]), 2)).toThrow(/pivot 1/);
    expect(() => spdInverse(new Float64Array(3), 2)).toThrow(RangeError);
  });
});
