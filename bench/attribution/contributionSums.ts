// An inference's scores summed per contribution, the last step of the epoch job's attribute()
// (attribution/epochs/modelAttribution.ts), in two versions measured side by side:
// - `sumsAsWritten`: the job's earlier loop, kept here as the baseline (a Map keyed by contribution id, an object per contribution, per inference);
// - `createIndexedSums` (attribution/epochs/contributionSums.ts, what the job now uses): the same sums with the row → contribution mapping resolved once per training
//   run (an Int32Array) and the per-inference accumulators in Float64Arrays. It adds the same numbers in
//   the same order, so its results are identical, bit for bit.
import type { ContributionAttribution } from '../../attribution/index.ts';
export { createIndexedSums, type IndexedSums } from '../../attribution/index.ts';
import type { RowOwner } from './epochWorkload.ts';

/** modelAttribution.ts's per-contribution sums for inference q (scores are m × n, row-major). */
export function sumsAsWritten(q: number, n: number, owners: readonly RowOwner[], influence: Float32Array, spanScores: Float32Array, combined: Float32Array): ContributionAttribution[] {
  const byContribution = new Map<bigint, ContributionAttribution>();
  for (let i = 0; i < n; i++) {
    const owner = owners[i]!;
    if (!owner.owned) continue;
    const c = byContribution.get(owner.contributionId) ?? { contributionId: owner.contributionId, account: owner.account, rows: 0, influence: 0, spanTokens: 0, score: 0 };
    c.rows += 1;
    c.influence += influence[q * n + i]!;
    c.spanTokens += spanScores[q * n + i]!;
    c.score += combined[q * n + i]!;
    byContribution.set(owner.contributionId, c);
  }
  return [...byContribution.values()].sort((a, b) => (a.contributionId < b.contributionId ? -1 : a.contributionId > b.contributionId ? 1 : 0));
}
