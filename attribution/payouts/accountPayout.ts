// What an account can claim now, with the proof to claim it: the leaf of the account in the newest batch
// past its dispute window (the one AttributionSettlement checks claims against), what it already claimed,
// and the leaf in a newer batch still in its dispute window, if any. `/proofs/{address}` and
// `tributary claim` answer from this.
import { getAddress, type Address, type Hex } from 'viem';
import type { ChainContext } from '../../contracts/index.ts';
import type { ContentStore } from '../../schema/index.ts';
import { loadPayoutBatchFiles } from './batchFiles.ts';
import { PayoutError } from './errors.ts';
import { getClaimed, getPostedBatch, getSettlementState } from '../../contracts/index.ts';

export interface PayoutLeafProof {
  epoch: bigint;
  root: Hex;
  /** The account's leaf: wei earned in total up to this batch (0 when it has no leaf). */
  cumulative: bigint;
  /** claim(cumulative, proof) or claimFor(account, cumulative, proof). */
  proof: Hex[];
  /** Unix seconds from which the batch can be claimed against. */
  claimableAt: bigint;
}

export interface AccountPayout {
  account: Address;
  /** Wei the account has claimed in total. */
  claimed: bigint;
  /** Wei a claim would pay now: the claimable leaf minus what was claimed (0 when none). */
  claimableNow: bigint;
  /** The leaf in the claimable batch, if one is claimable and the account is in it. */
  claimable: PayoutLeafProof | undefined;
  /** The leaf in a newer batch still in its dispute window (revocable, not yet claimable). */
  pending: PayoutLeafProof | undefined;
}

async function leafIn(ctx: ChainContext, content: ContentStore, epoch: bigint, account: Address): Promise<PayoutLeafProof | undefined> {
  if (epoch === 0n) return undefined;
  const posted = await getPostedBatch(ctx, epoch);
  if (!posted) return undefined;
  const files = await loadPayoutBatchFiles(content, epoch, posted.root);
  if (!files) {
    throw new PayoutError(`the payout batch of epoch ${epoch} (root ${posted.root}) is on chain but its files are not in this content store`, {
      details: 'proofs are built from the batch\'s stored leaves: use the data dir of the attributor that posted it',
    });
  }
  const p = files.tree.proof(account);
  return { epoch, root: posted.root, cumulative: p?.cumulative ?? 0n, proof: p?.proof ?? [], claimableAt: posted.claimableAt };
}

/** The account's claimable and pending payouts, with proofs, as the chain and the stored batches give them. */
export async function accountPayout(ctx: ChainContext, content: ContentStore, account: Address): Promise<AccountPayout> {
  const who = getAddress(account);
  const [state, claimed] = await Promise.all([getSettlementState(ctx), getClaimed(ctx, who)]);
  const claimable = await leafIn(ctx, content, state.claimableEpoch, who);
  const pending = state.lastPostedEpoch !== state.claimableEpoch ? await leafIn(ctx, content, state.lastPostedEpoch, who) : undefined;
  const leaf = claimable?.cumulative ?? 0n;
  return {
    account: who,
    claimed,
    claimableNow: leaf > claimed ? leaf - claimed : 0n,
    claimable: claimable && claimable.cumulative > 0n ? claimable : undefined,
    pending: pending && pending.cumulative > 0n ? pending : undefined,
  };
}
