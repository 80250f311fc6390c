import { describe, expect, it } from 'vitest';
import { SpanIndexError } from './errors.ts';
import { suffixArray } from './suffixArray.ts';

/** mulberry32: a seeded generator (fast-check is not installed). */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function compareSuffixes(s: ArrayLike<number>, a: number, b: number): number {
  for (let k = 0; ; k++) {
    if (a + k >= s.length) return b + k >= s.length ? 0 : -1;
    if (b + k >= s.length) return 1;
    if (s[a + k] !== s[b + k]) return s[a + k]! - s[b + k]!;
  }
}

/** The suffix array by definition: every position, sorted by comparing whole suffixes. */
function naiveSuffixArray(s: number[]): number[] {
  return s.map((_, i) => i).sort((a, b) => compareSuffixes(s, a, b));
}

describe('suffixArray', () => {
  it('equals a naive sort of the suffixes on random inputs', () => {
    const random = rng(7);
    for (let trial = 0; trial < 3000; trial++) {
      const n = Math.floor(random() * 90);
      // Tiny alphabets give long repeats, which exercise the recursion; larger ones the bucket tables.
      const alphabet = [1, 2, 3, 5, 40][trial % 5]!;
      const s = Array.from({ length: n }, () => Math.floor(random() * alphabet));
      expect(Array.from(suffixArray(s, alphabet)), `input ${JSON.stringify(s)}`).toEqual(naiveSuffixArray(s));
    }
  });

  it('sorts periodic and constant inputs', () => {
    for (const s of [[], [0], [3, 3, 3, 3, 3, 3, 3], [1, 0, 1, 0, 1, 0, 1, 0, 1], [2, 1, 1, 2, 1, 1, 2, 1, 1, 2], Array.from({ length: 200 }, (_, i) => (i % 7 === 0 ? 1 : 0))]) {
      expect(Array.from(suffixArray(s, 4))).toEqual(naiveSuffixArray(s));
    }
  });

  it('orders a long input: a permutation with every neighbour pair in order', () => {
    const random = rng(11);
    const s = new Int32Array(50_000).map(() => (random() < 0.9 ? 0 : 1 + Math.floor(random() * 3)));
    const sa = suffixArray(s, 4);
    expect(new Set(sa).size).toBe(s.length);
    for (let i = 1; i < sa.length; i++) if (compareSuffixes(s, sa[i - 1]!, sa[i]!) >= 0) expect.fail(`suffixes ${sa[i - 1]} and ${sa[i]} are out of order`);
  });

  it('refuses a symbol outside the alphabet, naming it', () => {
    expect(() => suffixArray([0, 1, 4], 4)).toThrow(SpanIndexError);
    expect(() => suffixArray([0, 1, 4], 4)).toThrow(/symbol 4 at position 2/);
    expect(() => suffixArray([0, -1], 4)).toThrow(/symbol -1 at position 1/);
    expect(() => suffixArray([0], 0)).toThrow(/alphabet of 0 symbols/);
  });
});
