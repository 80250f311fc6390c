// Verification: rebuild a batch from its score file, the indexed pool amounts and the previous cumulative
// totals, and compare it with the batch someone proposes (to co-sign) or posted (to audit). A signer signs
// only a batch that matches (cosignPayoutBatch).
import type { Hex } from 'viem';
import type { BatchSignature } from '../../schema/index.ts';
import { PayoutMismatchError } from './errors.ts';
import { buildPayoutBatch, type BuildPayoutBatchParameters, type ComputedPayoutBatch } from './buildBatch.ts';
import { leavesTotal } from './cumulativeLeaves.ts';
import { signPayoutBatch, type PayoutBatchMessage, type SettlementDomain } from './batchSigning.ts';

/** What a batch claims about itself. */
export interface ClaimedPayoutBatch {
  epoch: bigint;
  root: Hex;
  total: bigint;
  scoreFileHash: Hex;
  /** The batch's cumulative total on chain, when known (a posted batch). */
  cumulativeTotal?: bigint;
}

export interface VerifyPayoutBatchParameters extends BuildPayoutBatchParameters {
  claimed: ClaimedPayoutBatch;
  /** The previous batch's cumulative total on chain, when known: the previous leaves must add up to it. */
  previousCumulativeTotal?: bigint;
}

export type VerifyPayoutBatchResult = { ok: true; batch: ComputedPayoutBatch } | { ok: false; error: PayoutMismatchError; batch: ComputedPayoutBatch };

/**
 * Rebuilds the batch and compares it field by field (epoch, score file hash, previous cumulative total,
 * total, root, cumulative total): the first that differs comes back as a PayoutMismatchError. Inputs that
 * are not valid (a score file that does not parse, a pool missing for a scored inference) throw.
 */
export function verifyPayoutBatch(p: VerifyPayoutBatchParameters): VerifyPayoutBatchResult {
  const batch = buildPayoutBatch(p);
  const c = p.claimed;
  const fail = (field: ConstructorParameters<typeof PayoutMismatchError>[0], expected: unknown, actual: unknown, details?: string): VerifyPayoutBatchResult => ({
    ok: false,
    error: new PayoutMismatchError(field, String(expected), String(actual), details),
    batch,
  });
  if (batch.epoch !== c.epoch) return fail('epoch', batch.epoch, c.epoch, 'the score file is for another epoch');
  if (batch.scoreFileHash !== c.scoreFileHash.toLowerCase()) return fail('scoreFileHash', batch.scoreFileHash, c.scoreFileHash, 'the batch was computed from another score file');
  if (p.previousCumulativeTotal !== undefined && leavesTotal(p.previous) !== p.previousCumulativeTotal) {
    return fail('previousCumulativeTotal', p.previousCumulativeTotal, leavesTotal(p.previous), "the previous leaves do not add up to the previous batch's cumulative total on chain");
  }
  if (batch.total !== c.total) return fail('total', batch.total, c.total, 'the pool amounts or the allocation differ');
  if (batch.root !== c.root.toLowerCase()) return fail('root', batch.root, c.root, 'the leaves differ (the allocation, or the previous cumulative totals)');
  if (c.cumulativeTotal !== undefined && batch.cumulativeTotal !== c.cumulativeTotal) {
    return fail('cumulativeTotal', batch.cumulativeTotal, c.cumulativeTotal, "the leaves do not add up to the batch's cumulative total on chain: claims could fail");
  }
  return { ok: true, batch };
}

export interface CosignPayoutBatchParameters extends BuildPayoutBatchParameters {
  /** The co-signer's private key. */
  key: Hex;
  domain: SettlementDomain;
  /** The batch to sign, as proposed. */
  message: PayoutBatchMessage;
  previousCumulativeTotal?: bigint;
}

/** Signs `message` only if the batch rebuilt from the inputs matches it; throws the PayoutMismatchError otherwise. */
export async function cosignPayoutBatch(p: CosignPayoutBatchParameters): Promise<BatchSignature> {
  const v = verifyPayoutBatch({ ...p, claimed: p.message });
  if (!v.ok) throw v.error;
  return signPayoutBatch(p.key, p.domain, p.message);
}
