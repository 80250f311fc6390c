import { describe, expect, it } from 'vitest';
import { createIndexedSums, sumsAsWritten } from './contributionSums.ts';
import type { RowOwner } from './epochWorkload.ts';

describe('per-contribution sums', () => {
  it('the indexed version gives the job’s sums exactly, skipping rows a contribution does not own', () => {
    const account = (a: number) => `0x${a.toString(16).padStart(40, '0')}` as const;
    // Rows of contributions 3, 1, 2 interleaved; row 4 is a copy (not owned).
    const owners: RowOwner[] = [3n, 1n, 3n, 2n, 1n, 2n].map((c, i) => ({ contributionId: c, account: account(Number(c) * 10), owned: i !== 4 }));
    const n = owners.length;
    const m = 2;
    const influence = Float32Array.from({ length: m * n }, (_, i) => Math.sin(i + 1) * 3);
    const spans = Float32Array.from({ length: m * n }, (_, i) => (i % 3 === 0 ? 4 : 0));
    const combined = Float32Array.from({ length: m * n }, (_, i) => Math.cos(i) / 7);
    const indexed = createIndexedSums(owners);
    for (let q = 0; q < m; q++) {
      const want = sumsAsWritten(q, n, owners, influence, spans, combined);
      expect(want.map((c) => [c.contributionId, c.rows])).toEqual([[1n, 1], [2n, 2], [3n, 2]]);
      expect(want[1]!.influence).toBe(influence[q * n + 3]! + influence[q * n + 5]!);
      expect(indexed(q, influence, spans, combined)).toEqual(want);
    }
  });
});
