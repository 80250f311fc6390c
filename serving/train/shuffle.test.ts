import { describe, expect, it } from 'vitest';
import { mixSeed, seededPermutation, seededRandom } from './shuffle.ts';

describe('shuffle', () => {
  it('is a permutation fixed by its seed', () => {
    const p = seededPermutation(10, 42);
    expect([...p].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(seededPermutation(10, 42)).toEqual(p);
    expect(seededPermutation(10, 43)).not.toEqual(p);
    const r = seededRandom(7);
    const xs = [r(), r(), r()];
    const again = seededRandom(7);
    expect([again(), again(), again()]).toEqual(xs);
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
  });

  it('mixes seeds so that streams differ, including seeds beyond 2³²', () => {
    expect(mixSeed(1, 2)).not.toBe(mixSeed(2, 1));
    expect(mixSeed(1, 2, 0)).not.toBe(mixSeed(1, 2, 1));
    expect(mixSeed(5)).not.toBe(mixSeed(5 + 2 ** 32));
    expect(mixSeed(3, 4)).toBe(mixSeed(3, 4));
  });
});
