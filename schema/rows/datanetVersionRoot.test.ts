import { describe, expect, it } from 'vitest';
import { concat, encodeAbiParameters, keccak256, type Hex } from 'viem';
import { datanetVersionProof, datanetVersionRoot, verifyDatanetVersionProof, type VersionContribution } from './datanetVersionRoot.ts';

const node = (a: Hex, b: Hex): Hex => keccak256(concat(a < b ? [a, b] : [b, a]));
/** The leaf as Solidity computes it: keccak256(bytes.concat(keccak256(abi.encode(id, contentHash)))). */
const leaf = (c: VersionContribution): Hex =>
  keccak256(keccak256(encodeAbiParameters([{ type: 'uint256' }, { type: 'bytes32' }], [c.contributionId, c.contentHash])));

function independentRoot(leaves: Hex[]): Hex {
  const sorted = [...leaves].sort();
  const tree: Hex[] = new Array(2 * sorted.length - 1);
  sorted.forEach((l, i) => (tree[tree.length - 1 - i] = l));
  for (let i = tree.length - 1 - sorted.length; i >= 0; i--) tree[i] = node(tree[2 * i + 1]!, tree[2 * i + 2]!);
  return tree[0]!;
}

const contributions = (ids: number[]): VersionContribution[] =>
  ids.map((id) => ({ contributionId: BigInt(id), contentHash: keccak256(`0x${id.toString(16).padStart(4, '0')}`) }));

describe('datanetVersionRoot()', () => {
  it('of one contribution is its double-hashed (id, contentHash) leaf', () => {
    const [c] = contributions([7]);
    expect(datanetVersionRoot([c!])).toBe(leaf(c!));
  });

  it('matches an independent build for 2, 3 and 200 contributions, in any input order', () => {
    for (const n of [2, 3, 200]) {
      const cs = contributions(Array.from({ length: n }, (_, i) => i * 3 + 1));
      const root = independentRoot(cs.map(leaf));
      expect(datanetVersionRoot(cs)).toBe(root);
      expect(datanetVersionRoot([...cs].reverse())).toBe(root);
    }
  });

  it('changes when a content hash, an id or the set changes', () => {
    const cs = contributions([1, 2, 3]);
    const root = datanetVersionRoot(cs);
    expect(datanetVersionRoot(cs.slice(0, 2))).not.toBe(root);
    expect(datanetVersionRoot([{ ...cs[0]!, contributionId: 9n }, ...cs.slice(1)])).not.toBe(root);
    expect(datanetVersionRoot([{ ...cs[0]!, contentHash: cs[1]!.contentHash }, ...cs.slice(1)])).not.toBe(root);
  });

  it('proves each contribution, and a proof fails for another id or content hash', () => {
    const cs = contributions([4, 8, 15, 16, 23, 42]);
    const root = datanetVersionRoot(cs);
    for (const c of cs) {
      const proof = datanetVersionProof(cs, c.contributionId);
      expect(verifyDatanetVersionProof({ versionRoot: root, ...c, proof })).toBe(true);
      expect(proof.reduce(node, leaf(c))).toBe(root);
    }
    const proof = datanetVersionProof(cs, 15n);
    expect(verifyDatanetVersionProof({ versionRoot: root, contributionId: 16n, contentHash: cs[2]!.contentHash, proof })).toBe(false);
    expect(verifyDatanetVersionProof({ versionRoot: root, contributionId: 15n, contentHash: cs[3]!.contentHash, proof })).toBe(false);
    expect(verifyDatanetVersionProof({ versionRoot: root, contributionId: -1n, contentHash: cs[2]!.contentHash, proof })).toBe(false);
    expect(() => datanetVersionProof(cs, 5n)).toThrow('datanetVersionProof: contribution 5 is not in this version');
  });

  it('refuses an empty version, a repeated id and a malformed content hash', () => {
    expect(() => datanetVersionRoot([])).toThrow('datanetVersionRoot: a datanet version needs at least one contribution');
    const cs = contributions([1, 2]);
    expect(() => datanetVersionRoot([...cs, cs[0]!])).toThrow('datanetVersionRoot: contribution 1 is listed twice');
    expect(() => datanetVersionRoot([{ contributionId: 3n, contentHash: '0xabc' }])).toThrow(
      'datanetVersionRoot: content hash of contribution 3 must be 0x followed by 64 lowercase hex digits, got 0xabc',
    );
    expect(() => datanetVersionRoot([{ contributionId: 3 as unknown as bigint, contentHash: cs[0]!.contentHash }])).toThrow(
      'datanetVersionRoot: contribution id must be a uint256 bigint, got 3',
    );
  });
});
