// EIP-712 signing of a payout batch, exactly as AttributionSettlement.batchDigest hashes it:
//   domain  { name: "TributaryAttribution", version: "1", chainId, verifyingContract: <AttributionSettlement> }
//   PayoutBatch(uint256 epoch,uint256 nonce,bytes32 root,uint256 total,bytes32 scoreFileHash,uint256 signerSetVersion)
// and the collection of signatures in the form postBatch takes them: from distinct members of the current
// signer set, ordered by signer address, at least the threshold of them.
import { getAddress, hashTypedData, isAddress, recoverTypedDataAddress, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import type { BatchSignature } from '../../schema/index.ts';
import { PayoutError } from './errors.ts';
import { compareAddresses } from './largestRemainder.ts';

/** The struct signers sign: AttributionSettlement.PayoutBatch. */
export interface PayoutBatchMessage {
  epoch: bigint;
  nonce: bigint;
  root: Hex;
  total: bigint;
  scoreFileHash: Hex;
  signerSetVersion: bigint;
}

/** Which deployment a signature is for: the chain and the AttributionSettlement contract. */
export interface SettlementDomain {
  chainId: number;
  verifyingContract: Address;
}

export const PAYOUT_BATCH_TYPES = {
  PayoutBatch: [
    { name: 'epoch', type: 'uint256' },
    { name: 'nonce', type: 'uint256' },
    { name: 'root', type: 'bytes32' },
    { name: 'total', type: 'uint256' },
    { name: 'scoreFileHash', type: 'bytes32' },
    { name: 'signerSetVersion', type: 'uint256' },
  ],
} as const;

/** The typed data of a batch, for viem's signTypedData or a wallet's eth_signTypedData_v4. */
export function payoutBatchTypedData(domain: SettlementDomain, batch: PayoutBatchMessage) {
  return {
    domain: { name: 'TributaryAttribution', version: '1', chainId: domain.chainId, verifyingContract: getAddress(domain.verifyingContract) },
    types: PAYOUT_BATCH_TYPES,
    primaryType: 'PayoutBatch' as const,
    message: {
      epoch: batch.epoch,
      nonce: batch.nonce,
      root: batch.root,
      total: batch.total,
      scoreFileHash: batch.scoreFileHash,
      signerSetVersion: batch.signerSetVersion,
    },
  };
}

/** The digest AttributionSettlement.batchDigest returns for `batch`. */
export function payoutBatchDigest(domain: SettlementDomain, batch: PayoutBatchMessage): Hex {
  return hashTypedData(payoutBatchTypedData(domain, batch));
}

/** One signer's signature over `batch`, as the payout batch table stores it (lowercase hex). */
export async function signPayoutBatch(key: Hex, domain: SettlementDomain, batch: PayoutBatchMessage): Promise<BatchSignature> {
  const account = privateKeyToAccount(key);
  const signature = await account.signTypedData(payoutBatchTypedData(domain, batch));
  return { signer: account.address.toLowerCase() as Hex, signature: signature.toLowerCase() as Hex };
}

export interface CollectSignaturesParameters {
  domain: SettlementDomain;
  batch: PayoutBatchMessage;
  signatures: readonly BatchSignature[];
  /** The current signer set (AttributionSettlement.signers()); each signer must be in it. */
  signers: readonly Address[];
  /** Signatures needed (AttributionSettlement.threshold()). */
  threshold: number;
}

/**
 * The signatures in the order postBatch requires: each checked to recover to the signer it names and that
 * signer to be in the set, duplicates of one signer dropped, sorted by signer address. Throws PayoutError
 * for a signature by someone else, a signer outside the set, or fewer distinct signers than the threshold.
 */
export async function collectSignatures(p: CollectSignaturesParameters): Promise<BatchSignature[]> {
  const members = new Set(p.signers.map((s) => s.toLowerCase()));
  const typed = payoutBatchTypedData(p.domain, p.batch);
  const bySigner = new Map<string, BatchSignature>();
  for (const s of p.signatures) {
    if (!isAddress(s.signer, { strict: false })) throw new PayoutError(`a signature names ${String(s.signer)} as its signer, which is not an address`);
    let recovered: Address;
    try {
      recovered = await recoverTypedDataAddress({ ...typed, signature: s.signature });
    } catch (cause) {
      throw new PayoutError(`the signature of ${s.signer} over batch ${p.batch.epoch}/${p.batch.nonce} is malformed: ${s.signature}`, { cause });
    }
    const signer = s.signer.toLowerCase();
    if (recovered.toLowerCase() !== signer) {
      throw new PayoutError(`the signature said to be ${getAddress(signer)}'s over batch ${p.batch.epoch}/${p.batch.nonce} was made by ${recovered}`, {
        details: 'it was made over another batch, deployment or chain, or by another key',
      });
    }
    if (!members.has(signer)) throw new PayoutError(`${getAddress(signer)} signed batch ${p.batch.epoch}/${p.batch.nonce} but is not in the signer set (version ${p.batch.signerSetVersion})`);
    if (!bySigner.has(signer)) bySigner.set(signer, { signer: signer as Hex, signature: s.signature.toLowerCase() as Hex });
  }
  if (bySigner.size < p.threshold) {
    throw new PayoutError(`batch ${p.batch.epoch}/${p.batch.nonce} has signatures from ${bySigner.size} distinct signers, fewer than the threshold of ${p.threshold}`, {
      retryable: true,
      details: 'collect more signatures from the signer set',
    });
  }
  return [...bySigner.values()].sort((a, b) => compareAddresses(a.signer, b.signer));
}

/** A `sign` function for the batch driver that signs with local keys (the devnet's signers, tests). */
export function keySigner(keys: readonly Hex[]): (message: PayoutBatchMessage, domain: SettlementDomain) => Promise<BatchSignature[]> {
  return (message, domain) => Promise.all(keys.map((k) => signPayoutBatch(k, domain, message)));
}
