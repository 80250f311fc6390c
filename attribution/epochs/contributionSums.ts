// An inference's scores summed per contribution (the last step of ModelAttribution.attribute): the row →
// contribution mapping is resolved once per training run into an Int32Array, and each inference's sums go
// into Float64Arrays. A Map keyed by bigint ids with an object per contribution cost as much as scoring
// itself at 100k rows (bench/attribution/README.md: 138 s against 7.8 s for 10k inferences).
import type { Address } from 'viem';
import type { ContributionAttribution } from './modelAttribution.ts';

/** Who owns a training row: its contribution and account, and whether the contribution owns the row. */
export interface RowOwner {
  contributionId: bigint;
  account: Address;
  owned: boolean;
}

export type IndexedSums = (q: number, influence: Float32Array, spanScores: Float32Array, combined: Float32Array) => ContributionAttribution[];

/** The same sums, with the owners resolved once: contribution j (by id order) of row i is at[i], −1 if the row is not owned. */
export function createIndexedSums(owners: readonly RowOwner[]): IndexedSums {
  const n = owners.length;
  const ids = [...new Set(owners.filter((o) => o.owned).map((o) => o.contributionId))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const slot = new Map(ids.map((id, j) => [id, j]));
  const at = Int32Array.from(owners, (o) => (o.owned ? slot.get(o.contributionId)! : -1));
  const account = new Array<Address>(ids.length);
  const rows = new Int32Array(ids.length);
  owners.forEach((o, i) => {
    if (at[i]! < 0) return;
    account[at[i]!] = o.account;
    rows[at[i]!]! += 1;
  });
  const infl = new Float64Array(ids.length);
  const span = new Float64Array(ids.length);
  const score = new Float64Array(ids.length);
  return (q, influence, spanScores, combined) => {
    infl.fill(0);
    span.fill(0);
    score.fill(0);
    const base = q * n;
    for (let i = 0; i < n; i++) {
      const j = at[i]!;
      if (j < 0) continue;
      infl[j]! += influence[base + i]!;
      span[j]! += spanScores[base + i]!;
      score[j]! += combined[base + i]!;
    }
    return ids.map((contributionId, j) => ({ contributionId, account: account[j]!, rows: rows[j]!, influence: infl[j]!, spanTokens: span[j]!, score: score[j]! }));
  };
}
