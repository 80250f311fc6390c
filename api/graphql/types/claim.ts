// Claim: one payment of earned OPEN to an account (a Claimed event), from the `claims` view.
// Listed by Contributor.claims.
import type { Builder } from '../builder.ts';
import type { Refs } from '../refs.ts';

export interface ClaimRow {
  account: string;
  epoch: string;
  caller: string;
  amount: string;
  cumulative_claimed: string;
  block_number: string;
  log_index: number;
  claimed_at: string;
  claimed_tx: string;
}

export function createClaimRef(builder: Builder) {
  return builder.objectRef<ClaimRow>('Claim');
}

export function implementClaim(_builder: Builder, refs: Refs): void {
  refs.Claim.implement({
    description: 'One claim: OPEN paid to an account against a posted payout batch (a Claimed event).',
    fields: (t) => ({
      account: t.expose('account', { type: 'Address', description: 'Who was paid.' }),
      epoch: t.expose('epoch', { type: 'BigInt', description: 'Epoch of the payout batch claimed against.' }),
      caller: t.expose('caller', { type: 'Address', description: 'Who sent the claim (claimFor lets anyone claim for an account).' }),
      amount: t.expose('amount', { type: 'Wei', description: 'Paid by this claim.' }),
      cumulativeClaimed: t.expose('cumulative_claimed', { type: 'Wei', description: 'The account’s claimed total after this claim.' }),
      blockNumber: t.expose('block_number', { type: 'BigInt', description: 'Block of the Claimed event.' }),
      logIndex: t.exposeInt('log_index', { description: 'Its log index in the block.' }),
      claimedAt: t.expose('claimed_at', { type: 'DateTime', description: 'Its block time.' }),
      claimedTx: t.expose('claimed_tx', { type: 'Bytes32', description: 'Its transaction.' }),
    }),
  });
}
