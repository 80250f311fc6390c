import { describe, expect, it } from 'vitest';
import { SimpleMerkleTree } from '@openzeppelin/merkle-tree';
import { concat, keccak256, type Hex } from 'viem';
import { rowHash } from './canonical.ts';
import { contentHash, rowProof, rowProofs, verifyRowProof } from './contentHash.ts';

/** Independent of @openzeppelin/merkle-tree: OpenZeppelin's commutative node hash. */
const node = (a: Hex, b: Hex): Hex => keccak256(concat(a < b ? [a, b] : [b, a]));

/**
 * An independent build of the documented tree: leaves sorted ascending, laid out as a complete binary tree
 * in an array (children of i at 2i+1 and 2i+2, leaves at the end in reverse order), node = sorted-pair keccak.
 */
function independentRoot(leaves: readonly Hex[]): Hex {
  const sorted = [...leaves].sort(); // equal-length lowercase hex: string order is byte order
  const tree: Hex[] = new Array(2 * sorted.length - 1);
  sorted.forEach((leaf, i) => (tree[tree.length - 1 - i] = leaf));
  for (let i = tree.length - 1 - sorted.length; i >= 0; i--) tree[i] = node(tree[2 * i + 1]!, tree[2 * i + 2]!);
  return tree[0]!;
}

/** Folds a proof the way OpenZeppelin's MerkleProof.processProof does. */
const fold = (leaf: Hex, proof: readonly Hex[]) => proof.reduce(node, leaf);

const hashes = (n: number, prefix = 'row') => Array.from({ length: n }, (_, i) => rowHash({ text: `${prefix} ${i}` }));

describe('contentHash()', () => {
  it('of one row is that row hash itself, with an empty proof', () => {
    const [h] = hashes(1);
    expect(contentHash([h!])).toBe(h);
    expect(rowProof([h!], 0)).toEqual([]);
    expect(verifyRowProof({ contentHash: h!, rowHash: h!, proof: [] })).toBe(true);
  });

  it('of two rows is keccak256 of the two row hashes, smaller first', () => {
    const [a, b] = hashes(2) as [Hex, Hex];
    const [lo, hi] = a < b ? [a, b] : [b, a];
    expect(contentHash([a, b])).toBe(keccak256(concat([lo, hi])));
    expect(contentHash([b, a])).toBe(keccak256(concat([lo, hi])));
  });

  it('of three rows hashes the two smallest row hashes together, then that node with the largest', () => {
    const [s0, s1, s2] = [...hashes(3)].sort() as [Hex, Hex, Hex];
    // Array layout of 5 nodes: [root, n1, s2, s1, s0]; n1 = node(s1, s0); root = node(n1, s2).
    expect(contentHash(hashes(3))).toBe(node(node(s1, s0), s2));
  });

  it('matches the independent build for 1, 2, 3, 4, 5, 7, 8, 9 and 1000 rows', () => {
    for (const n of [1, 2, 3, 4, 5, 7, 8, 9, 1000]) {
      const hs = hashes(n, `n${n}`);
      expect(contentHash(hs)).toBe(independentRoot(hs));
    }
  });

  it('equals SimpleMerkleTree.of() from @openzeppelin/merkle-tree, root and every proof, for 1 to 40 rows and 1000', () => {
    for (const n of [...Array.from({ length: 40 }, (_, i) => i + 1), 1000]) {
      // Some duplicates too, whose proofs depend on the stable sort.
      const hs = hashes(n, `oz${n}`).map((h, i, all) => (i % 7 === 6 ? all[i - 3]! : h));
      const oz = SimpleMerkleTree.of(hs);
      expect(contentHash(hs)).toBe(oz.root);
      const proofs = rowProofs(hs);
      for (let i = 0; i < n; i += n === 1000 ? 97 : 1) expect(proofs[i]).toEqual(oz.getProof(i));
    }
  });

  it('commits to the multiset of rows: order does not matter, a changed, missing or duplicated row does', () => {
    const hs = hashes(50);
    const root = contentHash(hs);
    expect(contentHash([...hs].reverse())).toBe(root);
    expect(contentHash([hs[3]!, ...hs.slice(0, 3), ...hs.slice(4)])).toBe(root);
    expect(contentHash(hs.slice(1))).not.toBe(root);
    expect(contentHash([...hs, hs[0]!])).not.toBe(root);
    expect(contentHash([rowHash({ text: 'changed' }), ...hs.slice(1)])).not.toBe(root);
  });

  it('refuses no rows and malformed row hashes', () => {
    expect(() => contentHash([])).toThrow('contentHash: no rows; a content hash needs at least one row hash');
    expect(() => contentHash(['0x1234'])).toThrow('contentHash: row hash 0 must be 0x followed by 64 lowercase hex digits, got 0x1234');
    expect(() => contentHash([hashes(1)[0]!.toUpperCase().replace('0X', '0x') as Hex])).toThrow(/row hash 0 must be/);
  });
});

describe('rowProof() and verifyRowProof()', () => {
  it('proves every row of 1000, by its position in the file; an independent fold reaches the root', () => {
    const hs = hashes(1000);
    const root = contentHash(hs);
    const proofs = rowProofs(hs);
    hs.forEach((h, i) => {
      expect(verifyRowProof({ contentHash: root, rowHash: h, proof: proofs[i]! })).toBe(true);
      expect(fold(h, proofs[i]!)).toBe(root);
      if (i % 50 === 0) expect(SimpleMerkleTree.verify(root, h, proofs[i]!)).toBe(true);
      expect(proofs[i]!.length).toBeLessThanOrEqual(10); // ⌈log2 1000⌉
    });
    expect(rowProof(hs, 617)).toEqual(proofs[617]);
  });

  it('fails for a tampered row, another row with this proof, a wrong root or a cut proof', () => {
    const rows = Array.from({ length: 37 }, (_, i) => ({ text: `row ${i}` }));
    const hs = rows.map(rowHash);
    const root = contentHash(hs);
    const proof = rowProof(hs, 5);
    expect(verifyRowProof({ contentHash: root, rowHash: rowHash(rows[5]!), proof })).toBe(true);
    expect(verifyRowProof({ contentHash: root, rowHash: rowHash({ text: 'row 5 ' }), proof })).toBe(false);
    expect(verifyRowProof({ contentHash: root, rowHash: rowHash({ text: 'Row 5' }), proof })).toBe(false);
    expect(verifyRowProof({ contentHash: root, rowHash: hs[6]!, proof })).toBe(false);
    expect(verifyRowProof({ contentHash: contentHash(hs.slice(1)), rowHash: hs[5]!, proof })).toBe(false);
    expect(verifyRowProof({ contentHash: root, rowHash: hs[5]!, proof: proof.slice(1) })).toBe(false);
    const flipped = `${proof[0]!.slice(0, -1)}${proof[0]!.endsWith('0') ? '1' : '0'}` as Hex;
    expect(verifyRowProof({ contentHash: root, rowHash: hs[5]!, proof: [flipped, ...proof.slice(1)] })).toBe(false);
    expect(verifyRowProof({ contentHash: root, rowHash: '0xnothex' as Hex, proof })).toBe(false);
  });

  it('proves each copy of a duplicated row', () => {
    const hs = [...hashes(4), hashes(1)[0]!];
    const root = contentHash(hs);
    expect(verifyRowProof({ contentHash: root, rowHash: hs[0]!, proof: rowProof(hs, 0) })).toBe(true);
    expect(verifyRowProof({ contentHash: root, rowHash: hs[4]!, proof: rowProof(hs, 4) })).toBe(true);
  });

  it('refuses an index outside the rows', () => {
    expect(() => rowProof(hashes(3), 3)).toThrow('rowProof: index 3 is outside the 3 rows');
    expect(() => rowProof(hashes(3), -1)).toThrow('rowProof: index -1 is outside the 3 rows');
  });
});
