import { describe, expect, it } from 'vitest';
import { auc, bootstrapMean, pearson, ranks, spearman } from './metrics.ts';

describe('evaluation statistics', () => {
  it('ranks share their average on ties', () => {
    expect(Array.from(ranks([10, 30, 20, 30]))).toEqual([1, 3.5, 2, 3.5]);
  });

  it('spearman is 1 for any increasing relation, −1 for decreasing, and uses ranks', () => {
    expect(spearman([1, 2, 3, 4], [1, 8, 27, 64])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    // Textbook example: d² = 0+1+1+4+0... compare with 1 − 6Σd²/(n(n²−1)) for distinct ranks.
    const x = [3, 1, 4, 5, 9, 2];
    const y = [2, 7, 1, 8, 6, 3];
    const rx = ranks(x);
    const ry = ranks(y);
    let d2 = 0;
    for (let i = 0; i < 6; i++) d2 += (rx[i]! - ry[i]!) ** 2;
    expect(spearman(x, y)).toBeCloseTo(1 - (6 * d2) / (6 * 35), 12);
    expect(pearson([1, 1, 1], [1, 2, 3])).toBe(0);
  });

  it('AUC counts pairs ordered right, ties as half', () => {
    expect(auc([0.9, 0.8, 0.1, 0.2], [true, true, false, false])).toBe(1);
    expect(auc([0.1, 0.2, 0.9, 0.8], [true, true, false, false])).toBe(0);
    expect(auc([0.5, 0.5], [true, false])).toBe(0.5);
    expect(auc([3, 1, 2, 4], [true, false, true, false])).toBeCloseTo(0.5, 12);
    expect(() => auc([1, 2], [true, true])).toThrow(/positives and negatives/);
  });

  it('bootstrap interval brackets the mean and is reproducible', () => {
    const v = Array.from({ length: 50 }, (_, i) => Math.sin(i) * 0.3 + 0.4);
    const a = bootstrapMean(v, { seed: 1 });
    expect(a.low).toBeLessThan(a.mean);
    expect(a.high).toBeGreaterThan(a.mean);
    expect(a.high - a.low).toBeLessThan(0.3);
    expect(bootstrapMean(v, { seed: 1 })).toEqual(a);
  });
});
