// quantizeWeights(): exact fixed-point proportions of the positive scores, summing to WEIGHT_SCALE.
import { describe, expect, it } from 'vitest';
import { quantizeWeights } from './quantizeWeights.ts';
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
