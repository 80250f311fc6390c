// Auditing a posted batch against the chain: the batch AttributionSettlement holds for an epoch is rebuilt
// from its score file, the pool amounts and the previous batch's leaves, and compared with what the
// contract recorded, including the cumulative total claims are capped by, and the pools: the pool amounts
// given must add up to what the router moved into the epochs the batch covers, or some settled inference
// is missing from them.
import type { ChainContext } from '../../contracts/index.ts';
import { getEpochPool, getPostedBatch } from '../../contracts/index.ts';
import { PayoutError, PayoutMismatchError } from './errors.ts';
import type { BuildPayoutBatchParameters } from './buildBatch.ts';
import { verifyPayoutBatch, type VerifyPayoutBatchResult } from './verifyBatch.ts';

export interface VerifyPostedBatchParameters extends Omit<BuildPayoutBatchParameters, 'fromEpoch'> {
  epoch: bigint;
}

/**
 * Compares the posted batch of `epoch` with its rebuild (see verifyPayoutBatch); the epochs covered are
 * taken from the chain (the previous batch's epoch + 1 on). Throws PayoutError when no batch is posted for
 * `epoch` or it was revoked.
 */
export async function verifyPostedBatch(ctx: ChainContext, p: VerifyPostedBatchParameters): Promise<VerifyPayoutBatchResult> {
  const posted = await getPostedBatch(ctx, p.epoch);
  if (!posted) throw new PayoutError(`no payout batch was posted for epoch ${p.epoch}`);
  if (posted.revoked) throw new PayoutError(`the payout batch of epoch ${p.epoch} (nonce ${posted.nonce}) was revoked`);
  const previous = posted.prevEpoch === 0n ? undefined : await getPostedBatch(ctx, posted.prevEpoch);
  const fromEpoch = posted.prevEpoch + 1n;
  const result = verifyPayoutBatch({
    ...p,
    fromEpoch,
    claimed: { epoch: p.epoch, root: posted.root, total: posted.total, scoreFileHash: posted.scoreFileHash, cumulativeTotal: posted.cumulativeTotal },
    previousCumulativeTotal: previous?.cumulativeTotal ?? 0n,
  });
  if (!result.ok) return result;
  let funded = 0n;
  for (let e = fromEpoch; e <= p.epoch; e++) funded += await getEpochPool(ctx, e);
  if (funded !== result.batch.allocation.poolTotal) {
    return {
      ok: false,
      batch: result.batch,
      error: new PayoutMismatchError(
        'poolTotal',
        funded.toString(),
        result.batch.allocation.poolTotal.toString(),
        `the pool amounts given do not add up to what the router funded in epochs ${fromEpoch}..${p.epoch}: a settled inference is missing or extra`,
      ),
    };
  }
  return result;
}
