// quantizeWeights(): exact fixed-point proportions of the positive scores, summing to WEIGHT_SCALE.
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_ENTRIES_PER_INFERENCE, quantizeWeights } from './quantizeWeights.ts';
import { WEIGHT_SCALE } from './scoreFile.ts';
import { addressOf, seeded } from './testing/random.ts';

const A = addressOf('a');
const B = addressOf('b');

describe('quantizeWeights()', () => {
  it('keeps the positive scores only, in proportion, summing to WEIGHT_SCALE exactly', () => {
    expect(
      quantizeWeights([
        { contributionId: 5n, account: A, score: 3 },
        { contributionId: 2n, account: B, score: 1 },
        { contributionId: 9n, account: B, score: -4 },
        { contributionId: 1n, account: A, score: 0 },
      ]),
    ).toEqual([
      { contributionId: 2n, account: B, weight: 250000000000000000n },
      { contributionId: 5n, account: A, weight: 750000000000000000n },
    ]);
    expect(quantizeWeights([{ contributionId: 1n, account: A, score: -1 }])).toEqual([]);
    expect(quantizeWeights([])).toEqual([]);
  });

  it('rounds thirds by largest remainder with ties to the lower contribution id', () => {
    const w = quantizeWeights([3n, 1n, 2n].map((c) => ({ contributionId: c, account: A, score: 0.1 })));
    expect(w.map((x) => [x.contributionId, x.weight])).toEqual([
      [1n, 333333333333333334n],
      [2n, 333333333333333333n],
      [3n, 333333333333333333n],
    ]);
  });

  it('is exact across extreme magnitudes (subnormal, huge), and a score too small for one unit is left out', () => {
    const w = quantizeWeights([
      { contributionId: 1n, account: A, score: Number.MAX_VALUE },
      { contributionId: 2n, account: B, score: 5e-324 },
    ]);
    expect(w).toEqual([{ contributionId: 1n, account: A, weight: WEIGHT_SCALE }]);
    const tiny = quantizeWeights([
      { contributionId: 1n, account: A, score: 5e-324 },
      { contributionId: 2n, account: B, score: 1e-323 },
    ]);
    // 1e-323 is two units of the smallest subnormal: exactly 1/3 and 2/3.
    expect(tiny.map((x) => x.weight)).toEqual([333333333333333333n, 666666666666666667n]);
  });

  it('refuses a score that is not finite and a contribution scored twice', () => {
    expect(() => quantizeWeights([{ contributionId: 1n, account: A, score: Number.NaN }])).toThrow('score file: contribution 1 has score NaN, not a finite number');
    expect(() => quantizeWeights([{ contributionId: 1n, account: A, score: Infinity }])).toThrow('has score Infinity');
    expect(() =>
      quantizeWeights([
        { contributionId: 1n, account: A, score: 1 },
        { contributionId: 1n, account: A, score: 2 },
      ]),
    ).toThrow('score file: contribution 1 is scored twice for one inference');
  });

  it('over 300 seeded score lists: sums to WEIGHT_SCALE, each weight within one unit of the exact proportion', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const r = seeded(seed);
      const scores = Array.from({ length: 1 + r.int(10) }, (_, i) => ({ contributionId: BigInt(i), account: A, score: (r.int(2001) - 500) * 10 ** (r.int(7) - 3) }));
      const w = quantizeWeights(scores);
      const positive = scores.filter((s) => s.score > 0);
      if (positive.length === 0) {
        expect(w).toEqual([]);
        continue;
      }
      expect(w.reduce((s, x) => s + x.weight, 0n), `seed ${seed}`).toBe(WEIGHT_SCALE);
      const sum = positive.reduce((s, x) => s + x.score, 0);
      for (const x of w) {
        const exact = (positive.find((p) => p.contributionId === x.contributionId)!.score / sum) * 1e18;
        expect(Math.abs(Number(x.weight) - exact), `seed ${seed}`).toBeLessThan(1 + exact * 1e-12);
      }
    }
  });
});

describe('quantizeWeights() with a cap per inference', () => {
  it('keeps the maxEntries largest positive scores (ties: lower contributionId), renormalised to WEIGHT_SCALE', () => {
    const scores = [
      { contributionId: 1n, account: A, score: 1 },
      { contributionId: 2n, account: B, score: 4 },
      { contributionId: 3n, account: A, score: 2 },
      { contributionId: 4n, account: B, score: 2 },
      { contributionId: 5n, account: A, score: -9 },
    ];
    expect(quantizeWeights(scores, { maxEntries: 2 })).toEqual([
      { contributionId: 2n, account: B, weight: 666666666666666667n },
      { contributionId: 3n, account: A, weight: 333333333333333333n },
    ]);
    expect(quantizeWeights(scores, { maxEntries: 1 })).toEqual([{ contributionId: 2n, account: B, weight: WEIGHT_SCALE }]);
    expect(quantizeWeights(scores, { maxEntries: 4 })).toEqual(quantizeWeights(scores, { maxEntries: Infinity }));
    expect(() => quantizeWeights(scores, { maxEntries: 0 })).toThrow('score file: maxEntries must be a positive integer or Infinity, got 0');
    expect(() => quantizeWeights(scores, { maxEntries: 2.5 })).toThrow('got 2.5');
  });

  it('caps at DEFAULT_MAX_ENTRIES_PER_INFERENCE (64) unless told otherwise', () => {
    const scores = Array.from({ length: 500 }, (_, i) => ({ contributionId: BigInt(i), account: A, score: 1 + (i % 100) }));
    const w = quantizeWeights(scores);
    expect(DEFAULT_MAX_ENTRIES_PER_INFERENCE).toBe(64);
    expect(w).toHaveLength(64);
    // The 64 largest: the five rows scoring 100 (ids 99, 199, …), then 99s, … down to the lowest ids of the cut score.
    const expected = [...scores].sort((a, b) => b.score - a.score || Number(a.contributionId - b.contributionId)).slice(0, 64).map((s) => s.contributionId).sort((a, b) => Number(a - b));
    expect(w.map((x) => x.contributionId)).toEqual(expected);
    expect(w.reduce((s, x) => s + x.weight, 0n)).toBe(WEIGHT_SCALE);
    expect(quantizeWeights(scores, { maxEntries: Infinity })).toHaveLength(500);
  });

  it('over 300 seeded lists: at most maxEntries weights, the largest scores, summing to WEIGHT_SCALE exactly, within one unit of the capped proportion', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const r = seeded(seed);
      const maxEntries = 1 + r.int(12);
      const scores = Array.from({ length: 1 + r.int(40) }, (_, i) => ({ contributionId: BigInt(i * 3 + r.int(3)), account: A, score: (r.int(2001) - 500) * 10 ** (r.int(7) - 3) }));
      const w = quantizeWeights(scores, { maxEntries });
      const kept = scores
        .filter((s) => s.score > 0)
        .sort((a, b) => b.score - a.score || Number(a.contributionId - b.contributionId))
        .slice(0, maxEntries);
      if (kept.length === 0) {
        expect(w).toEqual([]);
        continue;
      }
      expect(w.length, `seed ${seed}`).toBeLessThanOrEqual(maxEntries);
      expect(w.reduce((s, x) => s + x.weight, 0n), `seed ${seed}`).toBe(WEIGHT_SCALE);
      const keptIds = new Set(kept.map((k) => k.contributionId));
      expect(w.every((x) => keptIds.has(x.contributionId)), `seed ${seed}`).toBe(true);
      const sum = kept.reduce((s, x) => s + x.score, 0);
      for (const x of w) {
        const exact = (kept.find((p) => p.contributionId === x.contributionId)!.score / sum) * 1e18;
        expect(Math.abs(Number(x.weight) - exact), `seed ${seed}`).toBeLessThan(1 + exact * 1e-12);
      }
    }
  });
});
