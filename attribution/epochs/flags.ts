// Contributions whose gradient influence on an epoch's inferences was consistently negative: the rows
// pushed the model away from what it answered, the signature of mislabeled or harmful data. Flagging only
// reports it, with the inferences as evidence; slashing stays a curator's or governance's decision.
import type { Address, Hex } from 'viem';
import type { InferenceAttribution } from './modelAttribution.ts';

export interface ContributionFlag {
  contributionId: bigint;
  account: Address;
  /** Inferences in which the contribution had training rows scored. */
  inferences: number;
  /** Of those, how many it influenced negatively. */
  negativeInferences: number;
  meanInfluence: number;
  /** The most negative inferences (up to 5), most negative first. */
  evidence: { requestId: Hex; influence: number }[];
}

export interface FlagOptions {
  /** Fewest inferences before a contribution can be flagged (default 3). */
  minInferences?: number;
  /** Share of its inferences that must be negative (default 0.8). */
  minNegativeShare?: number;
}

/** The flagged contributions of a set of attributed inferences, by contribution id. */
export function flagNegativeContributions(inferences: readonly InferenceAttribution[], opts: FlagOptions = {}): ContributionFlag[] {
  const minInferences = opts.minInferences ?? 3;
  const minShare = opts.minNegativeShare ?? 0.8;
  const seen = new Map<bigint, { account: Address; list: { requestId: Hex; influence: number }[] }>();
  for (const inf of inferences) {
    for (const c of inf.contributions) {
      const s = seen.get(c.contributionId) ?? { account: c.account, list: [] };
      s.list.push({ requestId: inf.requestId, influence: c.influence });
      seen.set(c.contributionId, s);
    }
  }
  const out: ContributionFlag[] = [];
  for (const [contributionId, { account, list }] of seen) {
    const negative = list.filter((x) => x.influence < 0);
    if (list.length < minInferences || negative.length < minShare * list.length) continue;
    out.push({
      contributionId,
      account,
      inferences: list.length,
      negativeInferences: negative.length,
      meanInfluence: list.reduce((s, x) => s + x.influence, 0) / list.length,
      evidence: [...negative].sort((a, b) => a.influence - b.influence).slice(0, 5),
    });
  }
  return out.sort((a, b) => (a.contributionId < b.contributionId ? -1 : a.contributionId > b.contributionId ? 1 : 0));
}
