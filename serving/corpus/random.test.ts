import { describe, expect, it } from 'vitest';
import { createRandom, deriveSeed } from './random.ts';

describe('createRandom', () => {
  it('gives the same pinned stream for a seed on every machine', () => {
    const r = createRandom(1);
    expect([r.next(), r.next(), r.next()]).toEqual([0.7879820661619306, 0.9315966202411801, 0.09453149023465812]);
    expect(r.int(100)).toBe(41);
    expect(deriveSeed(1, 0)).toBe(2614078995);
    expect(deriveSeed(1, 1)).toBe(996581530);
    // The high 32 bits of a seed count too.
    expect(deriveSeed(1 + 2 ** 32, 0)).toBe(940876227);
  });

  it('stays in range and covers it', () => {
    const r = createRandom(42);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const x = r.between(3, 7);
      expect(x >= 3 && x <= 7).toBe(true);
      seen.add(x);
      const f = r.next();
      expect(f >= 0 && f < 1).toBe(true);
    }
    expect([...seen].sort()).toEqual([3, 4, 5, 6, 7]);
  });

  it('picks by weight, samples distinct items and shuffles into a permutation', () => {
    const r = createRandom(5);
    let heavy = 0;
    for (let i = 0; i < 4000; i++) if (r.weighted([['a', 3], ['b', 1], ['c', 0]] as const) === 'a') heavy++;
    expect(heavy / 4000).toBeGreaterThan(0.7);
    expect(heavy / 4000).toBeLessThan(0.8);
    const s = r.sample([1, 2, 3, 4, 5, 6], 4);
    expect(new Set(s).size).toBe(4);
    expect(r.shuffle([1, 2, 3, 4, 5]).sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('says what was wrong with a bad argument', () => {
    const r = createRandom(1);
    expect(() => r.int(0)).toThrow('int(n) needs a positive integer n, got 0');
    expect(() => r.pick([])).toThrow('pick() from an empty list');
    expect(() => r.weighted([['a', 0]])).toThrow('weighted() needs a positive total weight');
  });
});
