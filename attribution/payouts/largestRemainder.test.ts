// largestRemainder(): exact sums, floor-or-ceiling shares, ties by key, and independence from input order.
import { describe, expect, it } from 'vitest';
import { compareAddresses, largestRemainder } from './largestRemainder.ts';
import { seeded } from './testing/random.ts';

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

describe('largestRemainder()', () => {
  it('gives the leftover units to the largest remainders, equal remainders to the key that sorts first', () => {
    // 10 split 1:1:1 → 3.33 each: one extra unit, to "a".
    expect(largestRemainder(10n, [{ key: 'c', weight: 1n }, { key: 'a', weight: 1n }, { key: 'b', weight: 1n }], byString)).toEqual([3n, 4n, 3n]);
    // 7 split 1:2 → 2.33 / 4.67: the extra unit goes to the larger remainder, whatever the keys.
    expect(largestRemainder(7n, [{ key: 'a', weight: 1n }, { key: 'b', weight: 2n }], byString)).toEqual([2n, 5n]);
    expect(largestRemainder(0n, [{ key: 'a', weight: 0n }], byString)).toEqual([0n]);
    expect(largestRemainder(5n, [{ key: 'a', weight: 0n }, { key: 'b', weight: 3n }], byString)).toEqual([0n, 5n]);
  });

  it('refuses a negative total or weight and a total with nothing to give it to', () => {
    expect(() => largestRemainder(-1n, [{ key: 'a', weight: 1n }], byString)).toThrow('largestRemainder: total must not be negative, got -1');
    expect(() => largestRemainder(1n, [{ key: 'a', weight: -2n }], byString)).toThrow('largestRemainder: weight of a must not be negative, got -2');
    expect(() => largestRemainder(3n, [{ key: 'a', weight: 0n }], byString)).toThrow('largestRemainder: cannot split 3 among parts whose weights sum to 0');
    expect(() => largestRemainder(3n, [], byString)).toThrow('cannot split 3');
  });

  it('over 500 seeded cases: sums exactly, each share is the floor or ceiling of the exact one, the units go to the largest remainders, and order does not matter', () => {
    for (let seed = 1; seed <= 500; seed++) {
      const r = seeded(seed);
      const n = 1 + r.int(12);
      const total = r.big(r.bool() ? 100n : 10n ** 24n);
      // Few distinct weights, so equal remainders are common.
      const parts = Array.from({ length: n }, (_, i) => ({ key: `0x${(i * 7919 + seed).toString(16).padStart(40, '0')}`, weight: r.bool(0.2) ? 0n : 1n + r.big(r.bool() ? 3n : 10n ** 20n) }));
      if (parts.every((p) => p.weight === 0n)) parts[0]!.weight = 1n;
      const W = parts.reduce((s, p) => s + p.weight, 0n);
      const shares = largestRemainder(total, parts, compareAddresses);
      expect(shares.reduce((s, x) => s + x, 0n), `seed ${seed}`).toBe(total);
      shares.forEach((s, i) => {
        const floor = (total * parts[i]!.weight) / W;
        expect(s === floor || s === floor + 1n, `seed ${seed} part ${i}`).toBe(true);
        if (parts[i]!.weight === 0n) expect(s).toBe(0n);
      });
      // Whoever got an extra unit had a larger remainder than whoever did not, or an equal one and a lower key.
      const rem = parts.map((p) => (total * p.weight) % W);
      const extra = shares.map((s, i) => s > (total * parts[i]!.weight) / W);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          if (!extra[i] || extra[j] || rem[j] === 0n) continue;
          const ok = rem[i]! > rem[j]! || (rem[i] === rem[j] && compareAddresses(parts[i]!.key, parts[j]!.key) < 0);
          expect(ok, `seed ${seed}: part ${i} got the unit over part ${j}`).toBe(true);
        }
      }
      // Shuffled input, same shares per key.
      const order = parts.map((_, i) => i).sort(() => (r.bool() ? 1 : -1));
      const again = largestRemainder(total, order.map((i) => parts[i]!), compareAddresses);
      order.forEach((i, j) => expect(again[j], `seed ${seed}`).toBe(shares[i]));
    }
  });

  it('compareAddresses() orders by numeric value, whatever the case', () => {
    expect(compareAddresses('0x00000000000000000000000000000000000000aB', '0x00000000000000000000000000000000000000ac')).toBe(-1);
    expect(compareAddresses('0xAB00000000000000000000000000000000000000', '0xab00000000000000000000000000000000000000')).toBe(0);
  });
});
