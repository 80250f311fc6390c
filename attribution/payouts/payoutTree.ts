// The Merkle tree of a batch's cumulative leaves, exactly as AttributionSettlement checks a claim:
//   leaf = keccak256(bytes.concat(keccak256(abi.encode(account, cumulativeAmount))))
//   MerkleProof.verifyCalldata(proof, root, leaf)
// which is @openzeppelin/merkle-tree's StandardMerkleTree with leaf encoding (address, uint256). The tree
// sorts its leaves by hash, so the root depends on the set of leaves only. A batch that pays nobody ever
// (no leaves) has the root 0x00…00, which no proof can match.
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { getAddress, isAddress, zeroHash, type Address, type Hex } from 'viem';
import { AllocationError } from './errors.ts';
import { leavesTotal, type PayoutLeaf } from './cumulativeLeaves.ts';

export const PAYOUT_LEAF_ENCODING: readonly string[] = ['address', 'uint256'];
/** The root of a batch with no leaves. */
export const EMPTY_PAYOUT_ROOT: Hex = zeroHash;

export interface PayoutProof {
  account: Address;
  cumulative: bigint;
  proof: Hex[];
}

export interface PayoutTree {
  root: Hex;
  /** The leaves, by address. */
  leaves: readonly PayoutLeaf[];
  /** Σ cumulative. */
  cumulativeTotal: bigint;
  /** The claim arguments of `account`; undefined when it has no leaf. */
  proof(account: Address): PayoutProof | undefined;
}

/** Builds the tree of `leaves`. Throws AllocationError for an account listed twice or a leaf below 1 wei. */
export function buildPayoutTree(leaves: readonly PayoutLeaf[]): PayoutTree {
  const index = new Map<string, number>();
  leaves.forEach((l, i) => {
    const a = l.account.toLowerCase();
    if (index.has(a)) throw new AllocationError(`the leaves list ${getAddress(a)} twice`);
    if (l.cumulative < 1n) throw new AllocationError(`the leaf of ${getAddress(a)} is ${l.cumulative}: a leaf pays at least 1 wei`);
    index.set(a, i);
  });
  const sorted = [...leaves];
  const tree = sorted.length === 0 ? undefined : StandardMerkleTree.of(sorted.map((l): [Address, bigint] => [l.account, l.cumulative]), [...PAYOUT_LEAF_ENCODING]);
  return {
    root: tree ? (tree.root as Hex) : EMPTY_PAYOUT_ROOT,
    leaves: sorted,
    cumulativeTotal: leavesTotal(sorted),
    proof(account) {
      if (!tree || !isAddress(account, { strict: false })) return undefined;
      const i = index.get(account.toLowerCase());
      if (i === undefined) return undefined;
      const l = sorted[i]!;
      // The tree keeps the values in the order given, so value index i is leaf i.
      return { account: l.account, cumulative: l.cumulative, proof: tree.getProof(i) as Hex[] };
    },
  };
}

/** Whether `proof` shows that (account, cumulative) is a leaf under `root`. Malformed input gives false. */
export function verifyPayoutProof(p: { root: Hex; account: Address; cumulative: bigint; proof: readonly Hex[] }): boolean {
  if (!isAddress(p.account, { strict: false }) || typeof p.cumulative !== 'bigint' || p.cumulative < 0n || p.root === EMPTY_PAYOUT_ROOT) return false;
  try {
    return StandardMerkleTree.verify(p.root, [...PAYOUT_LEAF_ENCODING], [p.account, p.cumulative], [...p.proof]);
  } catch {
    return false;
  }
}
