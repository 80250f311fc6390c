import { describe, expect, it } from 'vitest';
import { adapterSpread, makeWorkload, powerLawCdf, rankOf, WorkloadError, type WorkloadSpec } from './workload.ts';

const spec = (over: Partial<WorkloadSpec> = {}): WorkloadSpec => ({
  requests: 2000,
  rate: 40,
  adapters: 100,
  alpha: 1,
  promptTokens: [8, 24],
  newTokens: [16, 32],
  vocabulary: 2048,
  seed: 7,
  ...over,
});

describe('the power law', () => {
  it('gives rank i probability i^-alpha over the sum', () => {
    // alpha 1, 3 ranks: 1, 1/2, 1/3 of 11/6 → 6/11, 3/11, 2/11.
    expect([...powerLawCdf(3, 1)].map((p) => +p.toFixed(12))).toEqual([+(6 / 11).toFixed(12), +(9 / 11).toFixed(12), 1]);
    // alpha 0 is uniform.
    expect([...powerLawCdf(4, 0)]).toEqual([0.25, 0.5, 0.75, 1]);
    expect([0, 0.545, 0.546, 0.8181, 0.82, 0.9999].map((u) => rankOf(powerLawCdf(3, 1), u))).toEqual([1, 1, 2, 2, 3, 3]);
  });

  it('refuses what it cannot draw from', () => {
    expect(() => powerLawCdf(0, 1)).toThrow(WorkloadError);
    expect(() => powerLawCdf(3, -1)).toThrow('alpha must be a finite number ≥ 0, got -1');
    expect(() => makeWorkload(spec({ rate: 0 }))).toThrow('the arrival rate must be positive');
    expect(() => makeWorkload(spec({ newTokens: [5, 4] }))).toThrow('newTokens must be a range');
  });
});

describe('makeWorkload()', () => {
  it('is the same trace for every adapter count and alpha; only the adapters differ', () => {
    const a = makeWorkload(spec());
    const b = makeWorkload(spec({ adapters: 1000, alpha: 0.3 }));
    const strip = (w: typeof a) => w.map(({ adapter: _, ...rest }) => rest);
    expect(strip(b)).toEqual(strip(a));
    expect(makeWorkload(spec())).toEqual(a);
    expect(makeWorkload(spec({ adapters: 1 })).every((r) => r.adapter === 'a0')).toBe(true);
  });

  it('draws Poisson arrivals, lengths in range, and a skew that follows alpha', () => {
    const w = makeWorkload(spec());
    expect(w[0]!.at).toBe(0);
    const gaps = w.slice(1).map((r, i) => r.at - w[i]!.at);
    expect(gaps.every((g) => g >= 0)).toBe(true);
    const meanGap = gaps.reduce((x, y) => x + y, 0) / gaps.length;
    expect(Math.abs(meanGap - 25) / 25).toBeLessThan(0.1); // 1000 / 40 ms
    expect(w.every((r) => r.prompt.length >= 8 && r.prompt.length <= 24 && r.maxTokens >= 16 && r.maxTokens <= 32)).toBe(true);
    expect(w.every((r) => r.prompt.every((t) => Number.isInteger(t) && t >= 0 && t < 2048))).toBe(true);
    // alpha 1 over 100 adapters: rank 1 gets 1/H(100) ≈ 19% of requests; alpha 0.3: ≈ 3.7%.
    const zipf = adapterSpread(w);
    const flat = adapterSpread(makeWorkload(spec({ alpha: 0.3 })));
    expect(Math.abs(zipf.topShare - 0.193)).toBeLessThan(0.03);
    expect(Math.abs(flat.topShare - 0.037)).toBeLessThan(0.015);
    expect(flat.distinct).toBe(100);
  });

  it('puts every request at 0 for an infinite rate (a closed batch)', () => {
    expect(makeWorkload(spec({ rate: Infinity, requests: 5 })).map((r) => r.at)).toEqual([0, 0, 0, 0, 0]);
  });
});
