// Leaves are cumulative: (account, totalEarnedSoFar), so a claim against the newest batch collects every
// epoch at once and the contract pays the difference from what the account already claimed. A batch's
// leaves are the previous batch's leaves plus this batch's amounts; an account that earned nothing this
// time keeps its leaf, or it could no longer claim what it earned before.
import { getAddress, type Address } from 'viem';
import { AllocationError } from './errors.ts';
import { compareAddresses } from './largestRemainder.ts';
import type { AccountAmount } from './allocate.ts';

export interface PayoutLeaf {
  account: Address;
  /** Wei earned in every batch up to and including this one. */
  cumulative: bigint;
}

const MAX_UINT128 = (1n << 128n) - 1n;

/**
 * The new batch's leaves, by address (checksummed), accounts with nothing earned left out. Throws
 * AllocationError for an account listed twice in either list or a negative amount.
 */
export function cumulativeLeaves(previous: readonly PayoutLeaf[], batch: readonly AccountAmount[]): PayoutLeaf[] {
  const totals = new Map<string, bigint>();
  for (const l of previous) {
    const a = l.account.toLowerCase();
    if (totals.has(a)) throw new AllocationError(`the previous leaves list ${getAddress(a)} twice`);
    if (l.cumulative < 0n) throw new AllocationError(`the previous leaf of ${getAddress(a)} is ${l.cumulative}, below 0`);
    totals.set(a, l.cumulative);
  }
  const inBatch = new Set<string>();
  for (const b of batch) {
    const a = b.account.toLowerCase();
    if (inBatch.has(a)) throw new AllocationError(`the batch pays ${getAddress(a)} twice`);
    if (b.amount < 0n) throw new AllocationError(`the batch pays ${getAddress(a)} ${b.amount}, below 0`);
    inBatch.add(a);
    totals.set(a, (totals.get(a) ?? 0n) + b.amount);
  }
  const leaves: PayoutLeaf[] = [];
  for (const a of [...totals.keys()].sort(compareAddresses)) {
    const cumulative = totals.get(a)!;
    // The contract keeps cumulative totals in a uint128.
    if (cumulative > MAX_UINT128) throw new AllocationError(`${getAddress(a)} would have earned ${cumulative} wei in total, more than a uint128 holds`);
    if (cumulative > 0n) leaves.push({ account: getAddress(a), cumulative });
  }
  return leaves;
}

/** Σ cumulative over the leaves: what the batch's `cumulativeTotal` on-chain must equal. */
export function leavesTotal(leaves: readonly PayoutLeaf[]): bigint {
  return leaves.reduce((s, l) => s + l.cumulative, 0n);
}
