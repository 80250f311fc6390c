// A contribution's content hash: the Merkle root of its row hashes, exactly as @openzeppelin/merkle-tree's
// SimpleMerkleTree.of(rowHashes) builds it with its default options, so proofs check with OpenZeppelin's
// `MerkleProof.verify(proof, contentHash, rowHash)` on-chain as well as here. The tree is built here
// rather than by the library because the library takes about 12 s for 100,000 rows (it converts every
// node to and from hex); the tests check root and proofs against SimpleMerkleTree.
//
// What the root commits to: the MULTISET of row hashes. Leaves are sorted and each pair of nodes is hashed
// in sorted order, so reordering a file's rows gives the same content hash, while adding, removing,
// changing or duplicating a row changes it. Row order is not part of a contribution's identity; a row's
// index is only its position in the stored canonical rows file.
//   - leaves: the row hashes themselves (bytes32, not hashed again), sorted ascending as byte strings,
//     laid out as a complete binary tree in an array: node i has children 2i+1 and 2i+2, and the n leaves
//     fill the last n slots, smallest in the very last;
//   - node = keccak256(min(a, b) ‖ max(a, b));
//   - one row: the content hash IS that row's hash, and its proof is empty;
//   - no rows: refused (the registry refuses a zero content hash, and an empty file is no contribution).
import { keccak256, type Hex } from 'viem';

const BYTES32 = /^0x[0-9a-f]{64}$/;
const toBytes = (h: Hex): Uint8Array => Buffer.from(h.slice(2), 'hex');
const toHex = (b: Uint8Array): Hex => `0x${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')}`;

interface Tree {
  nodes: Uint8Array[];
  /** The slot in `nodes` of each row, by its position in the file. */
  slotOf: number[];
}

function nodeHash(a: Uint8Array, b: Uint8Array): Uint8Array {
  const pair = new Uint8Array(64);
  const [lo, hi] = Buffer.compare(a, b) <= 0 ? [a, b] : [b, a];
  pair.set(lo, 0);
  pair.set(hi, 32);
  return keccak256(pair, 'bytes');
}

function buildTree(rowHashes: readonly Hex[], what: string): Tree {
  if (rowHashes.length === 0) throw new RangeError(`${what}: no rows; a content hash needs at least one row hash`);
  const leaves = rowHashes.map((h, i) => {
    if (typeof h !== 'string' || !BYTES32.test(h)) {
      throw new TypeError(`${what}: row hash ${i} must be 0x followed by 64 lowercase hex digits, got ${String(h)}`);
    }
    return toBytes(h);
  });
  const n = leaves.length;
  // A stable sort, as the library's: equal row hashes keep their file order.
  const order = leaves.map((_, i) => i).sort((i, j) => Buffer.compare(leaves[i]!, leaves[j]!));
  const nodes: Uint8Array[] = new Array(2 * n - 1);
  const slotOf: number[] = new Array(n);
  order.forEach((row, k) => {
    const slot = 2 * n - 2 - k;
    nodes[slot] = leaves[row]!;
    slotOf[row] = slot;
  });
  for (let i = n - 2; i >= 0; i--) nodes[i] = nodeHash(nodes[2 * i + 1]!, nodes[2 * i + 2]!);
  return { nodes, slotOf };
}

function proofFrom({ nodes }: Tree, slot: number): Hex[] {
  const proof: Hex[] = [];
  for (let i = slot; i > 0; i = (i - 1) >> 1) proof.push(toHex(nodes[i % 2 === 1 ? i + 1 : i - 1]!));
  return proof;
}

/** The content hash (Merkle root) of a contribution's row hashes. */
export function contentHash(rowHashes: readonly Hex[]): Hex {
  return toHex(buildTree(rowHashes, 'contentHash').nodes[0]!);
}

/** The proof that the row at `index` (its position in the file) is part of the contribution. */
export function rowProof(rowHashes: readonly Hex[], index: number): Hex[] {
  if (!Number.isSafeInteger(index) || index < 0 || index >= rowHashes.length) {
    throw new RangeError(`rowProof: index ${index} is outside the ${rowHashes.length} rows`);
  }
  const tree = buildTree(rowHashes, 'rowProof');
  return proofFrom(tree, tree.slotOf[index]!);
}

/** The proofs of every row, in file order (one tree instead of one per row). */
export function rowProofs(rowHashes: readonly Hex[]): Hex[][] {
  const tree = buildTree(rowHashes, 'rowProofs');
  return tree.slotOf.map((slot) => proofFrom(tree, slot));
}

export interface VerifyRowProofParameters {
  contentHash: Hex;
  rowHash: Hex;
  proof: readonly Hex[];
}

/**
 * Whether `proof` shows that `rowHash` is one of the rows under `contentHash`; malformed input gives false.
 * To prove a row rather than a hash, pass `rowHash(row)`: a verifier that hashes the row itself cannot be
 * handed an inner node of the tree passed off as a leaf.
 */
export function verifyRowProof({ contentHash, rowHash, proof }: VerifyRowProofParameters): boolean {
  if (![contentHash, rowHash, ...proof].every((h) => typeof h === 'string' && BYTES32.test(h))) return false;
  const root = proof.reduce((acc, sibling) => nodeHash(acc, toBytes(sibling)), toBytes(rowHash));
  return toHex(root) === contentHash;
}
