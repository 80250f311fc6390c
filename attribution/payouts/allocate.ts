// Allocation: from a score file and the pool amounts of the inferences it covers, what each account earns
// in this batch, in integer wei.
//
// Each inference's pool amount P is divided among its contributions by their weights w (fixed-point
// fractions of WEIGHT_SCALE that sum to WEIGHT_SCALE), so an account's exact earning is
// Σ P × w / WEIGHT_SCALE over its contributions and inferences: a fraction with denominator WEIGHT_SCALE.
// Those exact earnings are summed per account first and rounded once, by largest remainder with equal
// remainders going to the lower address, so every account gets the floor or the ceiling of its exact
// earning and the accounts' amounts add up to exactly the pools of the attributed inferences.
// Inferences with no line in the score file (no positive attribution) are not paid: their pool amounts
// stay in the contract and roll over (RemainderRolledOver), as does whatever the contract holds beyond
// the batch total.
import { getAddress, type Address, type Hex } from 'viem';
import { AllocationError } from './errors.ts';
import { compareAddresses, largestRemainder } from './largestRemainder.ts';
import { canonicalEntries, type ScoreEntry, type ScoreFile } from './scoreFileFormat.ts';

/** One settled inference's contributor-pool share, as its InferenceSettled event carries it. */
export interface InferencePool {
  requestId: Hex;
  /** The epoch whose pool received it. */
  epoch: bigint;
  /** Wei. */
  poolAmount: bigint;
}

export interface AccountAmount {
  account: Address;
  /** Wei. */
  amount: bigint;
}

export interface AllocateBatchParameters {
  scores: ScoreFile;
  /** Every inference settled in the epochs the batch covers, whether attributed or not. */
  pools: readonly InferencePool[];
  /** The first epoch the batch covers (the previous batch's epoch + 1); default: the score file's epoch. */
  fromEpoch?: bigint;
}

export interface BatchAllocation {
  epoch: bigint;
  /** Accounts paid in this batch (amount > 0), by address; checksummed addresses. */
  amounts: AccountAmount[];
  /** Σ amounts: the pools of the attributed inferences. */
  total: bigint;
  /** Σ pools of every inference given. */
  poolTotal: bigint;
  attributedInferences: number;
  /** Inferences with no positive attribution, by requestId: their pools roll over. */
  unattributed: Hex[];
  /** poolTotal − total: what this batch leaves to roll over from these inferences. */
  rolledOver: bigint;
}

/** An allocation fed the score file's entries one at a time, so that they need not all be held at once. */
export interface AllocationAccumulator {
  /** The next entry, canonical and checked (canonicalEntries' order, or a parsed file's). */
  add(e: ScoreEntry): void;
  finish(): BatchAllocation;
}

export interface StartAllocationParameters {
  /** The score file's epoch. */
  epoch: bigint;
  pools: readonly InferencePool[];
  fromEpoch?: bigint;
}

/**
 * Starts an allocation: checks the pools now (AllocationError as allocateBatch says), and each entry's
 * inference as it is added.
 */
export function startAllocation(p: StartAllocationParameters): AllocationAccumulator {
  const { epoch } = p;
  const fromEpoch = p.fromEpoch ?? epoch;
  if (fromEpoch > epoch) throw new AllocationError(`fromEpoch ${fromEpoch} is after the score file's epoch ${epoch}`);
  const pools = new Map<string, InferencePool>();
  let poolTotal = 0n;
  for (const pool of p.pools) {
    const id = pool.requestId.toLowerCase();
    if (pools.has(id)) throw new AllocationError(`inference ${id} has two pool amounts`);
    if (typeof pool.poolAmount !== 'bigint' || pool.poolAmount < 0n) throw new AllocationError(`inference ${id} has pool amount ${String(pool.poolAmount)}, not a non-negative bigint of wei`);
    if (pool.epoch < fromEpoch || pool.epoch > epoch) {
      throw new AllocationError(`inference ${id} was settled in epoch ${pool.epoch}, outside the epochs ${fromEpoch}..${epoch} this batch covers`);
    }
    pools.set(id, pool);
    poolTotal += pool.poolAmount;
  }

  // Exact earnings in units of 1 / WEIGHT_SCALE wei, per account.
  const scaled = new Map<string, bigint>();
  const attributed = new Set<string>();
  let total = 0n;
  return {
    add(e) {
      const id = e.requestId;
      const pool = pools.get(id);
      if (!pool) throw new AllocationError(`the score file credits inference ${id}, which has no pool amount (not settled in epochs ${fromEpoch}..${epoch}?)`);
      if (!attributed.has(id)) {
        attributed.add(id);
        total += pool.poolAmount;
      }
      scaled.set(e.account, (scaled.get(e.account) ?? 0n) + pool.poolAmount * e.weight);
    },
    finish() {
      const accounts = [...scaled.keys()].sort(compareAddresses);
      // Σ scaled = total × WEIGHT_SCALE, since each inference's weights sum to WEIGHT_SCALE: so each share is
      // floor(scaled / WEIGHT_SCALE) or one more.
      const shares = largestRemainder(total, accounts.map((a) => ({ key: a, weight: scaled.get(a)! })), compareAddresses);
      const amounts: AccountAmount[] = [];
      accounts.forEach((a, i) => {
        if (shares[i]! > 0n) amounts.push({ account: getAddress(a), amount: shares[i]! });
      });
      const unattributed = [...pools.keys()].filter((id) => !attributed.has(id)).sort() as Hex[];
      return { epoch, amounts, total, poolTotal, attributedInferences: attributed.size, unattributed, rolledOver: poolTotal - total };
    },
  };
}

/**
 * Allocates the pools of a batch's inferences to accounts by the score file. Throws AllocationError when
 * the inputs do not fit (ScoreFileError for an invalid score file): a requestId given twice, a negative pool, a pool from an epoch the batch does not
 * cover, or a scored inference without a pool amount.
 */
export function allocateBatch(p: AllocateBatchParameters): BatchAllocation {
  const allocation = startAllocation({ epoch: p.scores.epoch, pools: p.pools, fromEpoch: p.fromEpoch });
  // Validated here too (weights summing to WEIGHT_SCALE per inference), since a ScoreFile may be built in memory.
  for (const e of canonicalEntries(p.scores.entries)) allocation.add(e);
  return allocation.finish();
}
