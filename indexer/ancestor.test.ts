import { describe, expect, it } from 'vitest';
import { findCommonAncestor, type AncestorSearch } from './ancestor.ts';

/**
 * Indexed blocks at `heights`; the chain agrees with them below `fork` and has other hashes from
 * `fork` on. Counts the chain lookups.
 */
function scenario(heights: number[], fork: number): AncestorSearch & { lookups: number } {
  const hash = (h: number, side: string) => `0x${side}${h}`;
  const s = {
    lookups: 0,
    async indexedBlockAtOrBelow(height: number, above: number) {
      const h = heights.filter((x) => x <= height && x > above).at(-1);
      return h === undefined ? undefined : { height: h, hash: hash(h, 'a') };
    },
    async chainHash(height: number) {
      s.lookups++;
      return hash(height, height < fork ? 'a' : 'b');
    },
  };
  return s;
}

describe('findCommonAncestor()', () => {
  it('finds the highest indexed block the chain still has', async () => {
    const heights = [3, 4, 9, 10, 11, 20, 35, 36, 50];
    expect(await findCommonAncestor(scenario(heights, 36), 50)).toEqual({ height: 35, hash: '0xa35' });
    expect(await findCommonAncestor(scenario(heights, 12), 50)).toEqual({ height: 11, hash: '0xa11' });
    expect(await findCommonAncestor(scenario(heights, 50), 50)).toEqual({ height: 36, hash: '0xa36' });
    expect(await findCommonAncestor(scenario(heights, 4), 50)).toEqual({ height: 3, hash: '0xa3' });
  });

  it('returns undefined when no indexed block is left on the chain, or none was indexed', async () => {
    expect(await findCommonAncestor(scenario([3, 4, 9], 2), 9)).toBeUndefined();
    expect(await findCommonAncestor(scenario([], 0), 100)).toBeUndefined();
  });

  it('agrees with a linear scan on every fork point, with a logarithmic number of chain lookups', async () => {
    const heights = Array.from({ length: 2000 }, (_, i) => i * 3 + (i % 2));
    const top = heights.at(-1)! + 1;
    let worst = 0;
    for (let fork = 0; fork <= top; fork += 37) {
      const s = scenario(heights, fork);
      const linear = heights.filter((h) => h < fork).at(-1);
      expect(await findCommonAncestor(s, top)).toEqual(linear === undefined ? undefined : { height: linear, hash: `0xa${linear}` });
      worst = Math.max(worst, s.lookups);
    }
    expect(worst).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(top)) + 2);
  });
});
