// A datanet version's root, which `DatanetRegistry.publishVersion` records: the Merkle root of the version's
// accepted contributions, built by @openzeppelin/merkle-tree's StandardMerkleTree over the leaves
// (uint256 contributionId, bytes32 contentHash). So on-chain:
//   leaf = keccak256(bytes.concat(keccak256(abi.encode(contributionId, contentHash))))
//   MerkleProof.verify(proof, versionRoot, leaf)
// The tree sorts its leaves, so the root commits to the SET of (id, content hash) pairs, whatever order
// they are given in; ids must be distinct and the set non-empty. A version with one contribution has
// root = its leaf.
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import type { Hex } from 'viem';

export interface VersionContribution {
  contributionId: bigint;
  contentHash: Hex;
}

const LEAF_ENCODING = ['uint256', 'bytes32'];
const BYTES32 = /^0x[0-9a-f]{64}$/;
const MAX_UINT256 = (1n << 256n) - 1n;

function treeOf(contributions: readonly VersionContribution[], what: string): StandardMerkleTree<[bigint, Hex]> {
  if (contributions.length === 0) throw new RangeError(`${what}: a datanet version needs at least one contribution`);
  const seen = new Set<bigint>();
  for (const { contributionId: id, contentHash: h } of contributions) {
    if (typeof id !== 'bigint' || id < 0n || id > MAX_UINT256) throw new TypeError(`${what}: contribution id must be a uint256 bigint, got ${String(id)}`);
    if (seen.has(id)) throw new RangeError(`${what}: contribution ${id} is listed twice`);
    seen.add(id);
    if (typeof h !== 'string' || !BYTES32.test(h)) throw new TypeError(`${what}: content hash of contribution ${id} must be 0x followed by 64 lowercase hex digits, got ${String(h)}`);
  }
  const sorted = [...contributions].sort((a, b) => (a.contributionId < b.contributionId ? -1 : 1));
  return StandardMerkleTree.of(
    sorted.map((c): [bigint, Hex] => [c.contributionId, c.contentHash]),
    LEAF_ENCODING,
  );
}

/** The Merkle root of a datanet version's accepted contributions. */
export function datanetVersionRoot(contributions: readonly VersionContribution[]): Hex {
  return treeOf(contributions, 'datanetVersionRoot').root as Hex;
}

/** The proof that contribution `contributionId` is part of the version built from `contributions`. */
export function datanetVersionProof(contributions: readonly VersionContribution[], contributionId: bigint): Hex[] {
  const tree = treeOf(contributions, 'datanetVersionProof');
  for (const [i, [id]] of tree.entries()) if (id === contributionId) return tree.getProof(i) as Hex[];
  throw new RangeError(`datanetVersionProof: contribution ${contributionId} is not in this version`);
}

export interface VerifyDatanetVersionProofParameters extends VersionContribution {
  versionRoot: Hex;
  proof: readonly Hex[];
}

/** Whether `proof` shows that (contributionId, contentHash) is a leaf under `versionRoot`. Malformed input gives false. */
export function verifyDatanetVersionProof({ versionRoot, contributionId, contentHash, proof }: VerifyDatanetVersionProofParameters): boolean {
  if (typeof contributionId !== 'bigint' || contributionId < 0n || contributionId > MAX_UINT256) return false;
  if (![versionRoot, contentHash, ...proof].every((h) => typeof h === 'string' && BYTES32.test(h))) return false;
  return StandardMerkleTree.verify(versionRoot, LEAF_ENCODING, [contributionId, contentHash], [...proof]);
}
