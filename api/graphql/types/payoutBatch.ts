// PayoutBatch: a batch of cumulative payouts an attributor posted for an epoch, from the
// `payout_batches` view. Query.payoutBatches.
import type { Builder } from '../builder.ts';
import { filters, relationConnection } from '../clickhouse.ts';
import { connectionComplexity } from '../pagination.ts';
import type { Refs } from '../refs.ts';

export interface PayoutBatchRow {
  epoch: string;
  nonce: string;
  root: string;
  total: string;
  cumulative_total: string;
  score_file_hash: string;
  signer_set_version: string;
  available: string;
  rolled_over: string;
  claimable_at: string;
  poster: string;
  status: 'posted' | 'revoked';
  revoked_by: string | null;
  revoke_reason: string | null;
  carry_restored: string | null;
  revoked_at: string | null;
  revoked_tx: string | null;
  posted_block: string;
  posted_at: string;
  posted_tx: string;
}

export function createPayoutBatchRef(builder: Builder) {
  return builder.objectRef<PayoutBatchRow>('PayoutBatch');
}

export function createPayoutBatchStatusEnum(builder: Builder) {
  return builder.enumType('PayoutBatchStatus', {
    description: 'Whether a posted payout batch still stands.',
    values: {
      POSTED: { value: 'posted', description: 'Posted; claims open once claimableAt has passed on chain.' },
      REVOKED: { value: 'revoked', description: 'Revoked in its dispute window; a re-post uses nonce + 1.' },
    } as const,
  });
}

export function implementPayoutBatch(builder: Builder, refs: Refs): void {
  refs.PayoutBatch.implement({
    description:
      'A payout batch posted to AttributionSettlement for an epoch: the Merkle root of cumulative (account, totalEarnedSoFar) ' +
      'leaves, signed by a threshold of attribution signers.',
    fields: (t) => ({
      epoch: t.expose('epoch', { type: 'BigInt', description: 'The epoch it pays.' }),
      nonce: t.expose('nonce', { type: 'BigInt', description: '0, then 1, 2… after revocations.' }),
      root: t.expose('root', { type: 'Bytes32', description: 'Merkle root of the cumulative leaves.' }),
      total: t.expose('total', { type: 'Wei', description: 'Paid out by this batch.' }),
      cumulativeTotal: t.expose('cumulative_total', { type: 'Wei', description: 'Paid out by all batches up to this one.' }),
      scoreFileHash: t.expose('score_file_hash', { type: 'Bytes32', description: 'Hash of the canonical score file it was computed from.' }),
      signerSetVersion: t.expose('signer_set_version', { type: 'BigInt', description: 'The signer set that signed it.' }),
      available: t.expose('available', { type: 'Wei', description: 'Pool available to it: pools of the epochs covered plus carry.' }),
      rolledOver: t.expose('rolled_over', { type: 'Wei', description: 'available − total, carried to the next batch.' }),
      claimableAt: t.expose('claimable_at', { type: 'DateTime', description: 'Claims open at this time (end of the dispute window).' }),
      poster: t.expose('poster', { type: 'Address', description: 'The attributor who posted it.' }),
      status: t.field({ type: refs.PayoutBatchStatus, description: 'Posted or revoked.', resolve: (b) => b.status }),
      revokedBy: t.expose('revoked_by', { type: 'Address', nullable: true, description: 'Guardian or governance; null unless revoked.' }),
      revokeReason: t.exposeString('revoke_reason', { nullable: true, description: 'Null unless revoked.' }),
      carryRestored: t.expose('carry_restored', { type: 'Wei', nullable: true, description: 'Carry restored by the revocation; null unless revoked.' }),
      revokedAt: t.expose('revoked_at', { type: 'DateTime', nullable: true, description: 'Block time of the revocation; null unless revoked.' }),
      revokedTx: t.expose('revoked_tx', { type: 'Bytes32', nullable: true, description: 'Its transaction; null unless revoked.' }),
      postedBlock: t.expose('posted_block', { type: 'BigInt', description: 'Block of the BatchPosted event.' }),
      postedAt: t.expose('posted_at', { type: 'DateTime', description: 'Its block time.' }),
      postedTx: t.expose('posted_tx', { type: 'Bytes32', description: 'Its transaction.' }),
    }),
  });

  builder.queryFields((t) => ({
    payoutBatches: t.connection(
      {
        type: refs.PayoutBatch,
        description: 'Posted payout batches by epoch then nonce, optionally one epoch’s or one status’s.',
        complexity: connectionComplexity,
        args: {
          epoch: t.arg({ type: 'BigInt', description: 'Only this epoch’s batches.' }),
          status: t.arg({ type: refs.PayoutBatchStatus, description: 'Only batches with this status.' }),
        },
        resolve: (_root, args, ctx) =>
          relationConnection<PayoutBatchRow>(ctx, args, {
            relation: 'payout_batches',
            filters: [filters.uint('epoch', 'epoch', args.epoch), filters.string('status', 'status', args.status)],
            orderBy: 'epoch, nonce',
          }),
      },
      refs.PayoutBatchConnection,
    ),
  }));
}
