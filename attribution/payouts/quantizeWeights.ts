// From an inference's floating-point attribution scores to the score file's fixed-point weights: only
// positive scores count (negative influence earns nothing), and the weights are their exact proportions,
// rounded by largest remainder so that they sum to exactly WEIGHT_SCALE. The conversion is exact: every
// finite double is an integer times a power of two, so the proportions are computed on integers and the
// result depends on the scores only, never on the platform's floating-point rounding.
//
// An inference is credited to at most `maxEntries` contributions (default 64): those with the largest
// positive scores (equal scores: the lower contributionId first), their weights renormalised among
// themselves. Without a cap every contribution with any positive score gets a line, which at 10,000
// inferences over 1,000 contributions made a score file of 5 million lines (bench/attribution/README.md)
// for shares mostly below a millionth of a pool. The cap is applied here, before the score file is
// written, so the file records the capped weights and a verifier rebuilds the batch from the file alone.
import type { Address } from 'viem';
import { largestRemainder } from './largestRemainder.ts';
import { ScoreFileError } from './errors.ts';
import { WEIGHT_SCALE } from './scoreFile.ts';

export interface ContributionScore {
  contributionId: bigint;
  account: Address;
  /** Any finite number; zero and negative scores get no weight. */
  score: number;
}

/** Contributions credited per inference at most, unless quantizeWeights is told otherwise. */
export const DEFAULT_MAX_ENTRIES_PER_INFERENCE = 64;

export interface QuantizeWeightsOptions {
  /**
   * Keep only this many contributions per inference, those with the largest positive scores
   * (default DEFAULT_MAX_ENTRIES_PER_INFERENCE; Infinity: no cap).
   */
  maxEntries?: number;
}

export interface QuantizedWeight {
  contributionId: bigint;
  account: Address;
  /** At least 1; the weights of one inference sum to WEIGHT_SCALE. */
  weight: bigint;
}

/** A positive finite double as mantissa × 2^exponent, both exact. */
function dyadic(x: number): { mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  const fraction = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  // Subnormals have no implicit leading 1 and the smallest exponent.
  return biased === 0 ? { mantissa: fraction, exponent: -1074 } : { mantissa: fraction | (1n << 52n), exponent: biased - 1075 };
}

/**
 * The fixed-point weights of one inference's contributions, in contributionId order, for the positive
 * scores only (an empty list when none is positive: the inference's pool rolls over), and of those the
 * `maxEntries` largest. Equal remainders go to the lower contributionId. Throws ScoreFileError for a
 * score that is not finite, a contribution listed twice, or a cap that is not a positive integer.
 */
export function quantizeWeights(scores: readonly ContributionScore[], opts: QuantizeWeightsOptions = {}): QuantizedWeight[] {
  const maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES_PER_INFERENCE;
  if (!(maxEntries === Infinity || (Number.isSafeInteger(maxEntries) && maxEntries >= 1))) throw new ScoreFileError(`maxEntries must be a positive integer or Infinity, got ${maxEntries}`);
  const seen = new Set<bigint>();
  let kept: ContributionScore[] = [];
  for (const c of scores) {
    if (!Number.isFinite(c.score)) throw new ScoreFileError(`contribution ${c.contributionId} has score ${c.score}, not a finite number`);
    if (seen.has(c.contributionId)) throw new ScoreFileError(`contribution ${c.contributionId} is scored twice for one inference`);
    seen.add(c.contributionId);
    if (c.score > 0) kept.push(c);
  }
  if (kept.length === 0) return [];
  const byId = (a: ContributionScore, b: ContributionScore) => (a.contributionId < b.contributionId ? -1 : 1);
  if (kept.length > maxEntries) {
    // Doubles compare exactly, so the cut is the same on every platform.
    kept.sort((a, b) => (a.score > b.score ? -1 : a.score < b.score ? 1 : byId(a, b)));
    kept = kept.slice(0, maxEntries);
  }
  kept.sort(byId);
  const positive = kept.map((c) => ({ c, ...dyadic(c.score) }));
  const minExponent = Math.min(...positive.map((p) => p.exponent));
  const parts = positive.map((p) => ({ key: p.c.contributionId, weight: p.mantissa << BigInt(p.exponent - minExponent) }));
  const weights = largestRemainder(WEIGHT_SCALE, parts, (a, b) => (a < b ? -1 : a > b ? 1 : 0));
  // A tiny score next to a large one can round to 0: it is left out, since a weight is at least 1.
  return positive.flatMap((p, i) => (weights[i]! > 0n ? [{ contributionId: p.c.contributionId, account: p.c.account, weight: weights[i]! }] : []));
}
