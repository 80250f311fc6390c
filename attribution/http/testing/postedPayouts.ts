// A devnet with payouts for the proofs, claim and verify tests: epoch 1's batch posted and past its
// dispute window (claimable), epoch 2's posted and still in it (pending), both batches' files in the
// content store as the attributor leaves them. Alice and Bob earn in both epochs, Carol only in epoch 2.
import type { Address } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { ANVIL_KEYS, getNextBatchNonce, getSettlementState, postPayoutBatch, type Devnet, type PostedBatchEvent } from '../../../contracts/index.ts';
import type { ContentStore } from '../../../schema/index.ts';
import type { InferencePool } from '../../payouts/allocate.ts';
import { storePayoutBatchFiles } from '../../payouts/batchFiles.ts';
import { collectSignatures, signPayoutBatch } from '../../payouts/batchSigning.ts';
import { buildPayoutBatch, type ComputedPayoutBatch } from '../../payouts/buildBatch.ts';
import { chainPools } from '../../payouts/chainPools.ts';
import { quantizeWeights } from '../../payouts/quantizeWeights.ts';
import type { ScoreEntry } from '../../payouts/scoreFile.ts';
import { ATTRIBUTOR_KEY, SIGNER_KEYS, requestIdOf, setUpPayoutChain, type PayoutChain } from '../../payouts/testing/payoutChain.ts';

export const ALICE_KEY = ANVIL_KEYS[5];
export const BOB_KEY = ANVIL_KEYS[6];
export const CAROL_KEY = ANVIL_KEYS[8];
/** Holds no leaf: claims for others (claimFor) and has nothing of its own. */
export const STRANGER_KEY = ANVIL_KEYS[0];
export const ALICE = privateKeyToAddress(ALICE_KEY);
export const BOB = privateKeyToAddress(BOB_KEY);
export const CAROL = privateKeyToAddress(CAROL_KEY);
export const STRANGER = privateKeyToAddress(STRANGER_KEY);

const ACCOUNT_OF: Record<number, Address> = { 1: ALICE, 2: BOB, 3: CAROL };

/** Score-file entries from per-inference scores: label → contribution (1 Alice, 2 Bob, 3 Carol) → score. */
export function scoreEntries(scores: Record<string, Record<number, number>>): ScoreEntry[] {
  return Object.entries(scores).flatMap(([label, byContribution]) =>
    quantizeWeights(Object.entries(byContribution).map(([c, score]) => ({ contributionId: BigInt(c), account: ACCOUNT_OF[Number(c)]!, score }))).map((w) => ({
      requestId: requestIdOf(label),
      ...w,
    })),
  );
}

/** Stores the batch's files, signs it with the test signer set and posts it as the attributor. */
export async function postBatch(devnet: Devnet, content: ContentStore, batch: ComputedPayoutBatch): Promise<PostedBatchEvent> {
  await storePayoutBatchFiles(content, batch);
  const state = await getSettlementState(devnet);
  const message = {
    epoch: batch.epoch,
    nonce: await getNextBatchNonce(devnet, batch.epoch),
    root: batch.root,
    total: batch.total,
    scoreFileHash: batch.scoreFileHash,
    signerSetVersion: state.signerSetVersion,
  };
  const domain = { chainId: devnet.deployment.chainId, verifyingContract: devnet.deployment.contracts.AttributionSettlement };
  const given = await Promise.all(SIGNER_KEYS.map((k) => signPayoutBatch(k, domain, message)));
  const signatures = await collectSignatures({ domain, batch: message, signatures: given, signers: state.signers, threshold: Number(state.threshold) });
  return postPayoutBatch(devnet, { key: ATTRIBUTOR_KEY, batch: message, signatures: signatures.map((s) => s.signature) });
}

export interface PostedPayouts {
  chain: PayoutChain;
  pools1: InferencePool[];
  pools2: InferencePool[];
  /** Claimable. */
  batch1: ComputedPayoutBatch;
  /** In its dispute window. */
  batch2: ComputedPayoutBatch;
}

export async function setUpPostedPayouts(devnet: Devnet, content: ContentStore): Promise<PostedPayouts> {
  const chain = await setUpPayoutChain(devnet);
  await chain.serve([
    { label: 'p1 a', tokensIn: 1200, tokensOut: 800 },
    { label: 'p1 b', tokensIn: 64, tokensOut: 4096 },
    { label: 'p1 c', tokensIn: 333, tokensOut: 77 },
  ]);
  await chain.endEpoch(1n);
  const pools1 = await chainPools(devnet, { fromEpoch: 1n, toEpoch: 1n });
  const batch1 = buildPayoutBatch({ scores: { epoch: 1n, entries: scoreEntries({ 'p1 a': { 1: 2, 2: 1 }, 'p1 b': { 2: 1 } }) }, pools: pools1, previous: [] });
  await postBatch(devnet, content, batch1);
  await chain.passDisputeWindow(1n);

  await chain.serve([
    { label: 'p2 a', tokensIn: 3000, tokensOut: 10 },
    { label: 'p2 b', tokensIn: 222, tokensOut: 333 },
  ]);
  await chain.endEpoch(2n);
  const pools2 = await chainPools(devnet, { fromEpoch: 2n, toEpoch: 2n });
  const batch2 = buildPayoutBatch({
    scores: { epoch: 2n, entries: scoreEntries({ 'p2 a': { 1: 5, 3: 1 }, 'p2 b': { 2: 1, 3: 1 } }) },
    pools: pools2,
    previous: batch1.tree.leaves,
    fromEpoch: 2n,
  });
  await postBatch(devnet, content, batch2);
  return { chain, pools1, pools2, batch1, batch2 };
}

/** An account's leaf in a batch (0 when it has none). */
export const leafOf = (batch: ComputedPayoutBatch, account: Address): bigint => batch.tree.proof(account)?.cumulative ?? 0n;
