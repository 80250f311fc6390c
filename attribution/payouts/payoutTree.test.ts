// Cumulative leaves and their Merkle tree: previous totals carried forward, the contract's leaf hash,
// proofs that verify for their own leaf only, and a root that depends on the set of leaves only.
import { describe, expect, it } from 'vitest';
import { concat, encodeAbiParameters, getAddress, keccak256, type Address } from 'viem';
import { cumulativeLeaves, leavesTotal } from './cumulativeLeaves.ts';
import { EMPTY_PAYOUT_ROOT, buildPayoutTree, verifyPayoutProof } from './payoutTree.ts';
import { addressOf, seeded } from './testing/random.ts';

const A = getAddress(addressOf('a'));
const B = getAddress(addressOf('b'));
const C = getAddress(addressOf('c'));

/** The leaf hash exactly as AttributionSettlement._claim computes it. */
const contractLeaf = (account: Address, amount: bigint) => keccak256(concat([keccak256(encodeAbiParameters([{ type: 'address' }, { type: 'uint256' }], [account, amount]))]));

describe('cumulativeLeaves()', () => {
  it('adds this batch to the previous totals and keeps accounts that earned nothing this time', () => {
    const leaves = cumulativeLeaves(
      [
        { account: A, cumulative: 10n },
        { account: B, cumulative: 5n },
      ],
      [
        { account: B.toLowerCase() as Address, amount: 7n },
        { account: C, amount: 1n },
      ],
    );
    const expected = [
      { account: A, cumulative: 10n },
      { account: B, cumulative: 12n },
      { account: C, cumulative: 1n },
    ].sort((x, y) => (BigInt(x.account) < BigInt(y.account) ? -1 : 1));
    expect(leaves).toEqual(expected);
    expect(leavesTotal(leaves)).toBe(23n);
  });

  it('refuses an account listed twice and amounts below 0 or beyond a uint128', () => {
    expect(() => cumulativeLeaves([{ account: A, cumulative: 1n }, { account: A, cumulative: 2n }], [])).toThrow(`the previous leaves list ${A} twice`);
    expect(() => cumulativeLeaves([], [{ account: A, amount: 1n }, { account: A.toLowerCase() as Address, amount: 1n }])).toThrow(`the batch pays ${A} twice`);
    expect(() => cumulativeLeaves([], [{ account: A, amount: -1n }])).toThrow(`the batch pays ${A} -1, below 0`);
    expect(() => cumulativeLeaves([{ account: A, cumulative: 1n << 128n }], [])).toThrow('more than a uint128 holds');
  });
});

describe('buildPayoutTree()', () => {
  it('hashes leaves as the contract does: a one-leaf tree has that leaf as its root and an empty proof', () => {
    const t = buildPayoutTree([{ account: A, cumulative: 123n }]);
    expect(t.root).toBe(contractLeaf(A, 123n));
    expect(t.proof(A)).toEqual({ account: A, cumulative: 123n, proof: [] });
    expect(t.cumulativeTotal).toBe(123n);
  });

  it('has the zero root when nobody has earned anything, and no proofs', () => {
    const t = buildPayoutTree([]);
    expect(t.root).toBe(EMPTY_PAYOUT_ROOT);
    expect(t.proof(A)).toBeUndefined();
    expect(verifyPayoutProof({ root: EMPTY_PAYOUT_ROOT, account: A, cumulative: 0n, proof: [] })).toBe(false);
  });

  it('over 100 seeded trees: each proof verifies for its own leaf only, and the root ignores leaf order', () => {
    for (let seed = 1; seed <= 100; seed++) {
      const r = seeded(seed);
      const leaves = Array.from({ length: 1 + r.int(20) }, (_, i) => ({ account: getAddress(addressOf(`${seed}/${i}`)), cumulative: 1n + r.big(10n ** 24n) }));
      const t = buildPayoutTree(leaves);
      const shuffled = [...leaves].reverse();
      expect(buildPayoutTree(shuffled).root, `seed ${seed}`).toBe(t.root);
      for (const l of leaves) {
        const p = t.proof(l.account.toLowerCase() as Address)!;
        expect(p.cumulative).toBe(l.cumulative);
        expect(verifyPayoutProof({ root: t.root, ...p }), `seed ${seed}`).toBe(true);
        expect(verifyPayoutProof({ root: t.root, ...p, cumulative: p.cumulative + 1n })).toBe(false);
        if (leaves.length > 1) expect(verifyPayoutProof({ root: t.root, ...p, account: C })).toBe(false);
      }
      expect(t.proof(C)).toBeUndefined();
    }
  });

  it('refuses a leaf below 1 wei and an account listed twice', () => {
    expect(() => buildPayoutTree([{ account: A, cumulative: 0n }])).toThrow(`the leaf of ${A} is 0: a leaf pays at least 1 wei`);
    expect(() => buildPayoutTree([{ account: A, cumulative: 1n }, { account: A.toLowerCase() as Address, cumulative: 2n }])).toThrow(`the leaves list ${A} twice`);
  });
});
