// verifyPayoutBatch(): a batch rebuilt from its own inputs matches; each field someone could get wrong or
// tamper with comes back as a PayoutMismatchError naming it; cosignPayoutBatch() signs only a match.
import { describe, expect, it } from 'vitest';
import { getAddress, recoverTypedDataAddress, type Hex } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { ANVIL_KEYS } from '../../contracts/index.ts';
import { payoutBatchTypedData, type PayoutBatchMessage, type SettlementDomain } from './batchSigning.ts';
import { buildPayoutBatch } from './buildBatch.ts';
import { PayoutMismatchError } from './errors.ts';
import { WEIGHT_SCALE } from './scoreFile.ts';
import { addressOf, id32 } from './testing/random.ts';
import { cosignPayoutBatch, verifyPayoutBatch, type VerifyPayoutBatchParameters } from './verifyBatch.ts';

const A = getAddress(addressOf('a'));
const B = getAddress(addressOf('b'));
const r1 = id32('r1');
const r2 = id32('r2');
const pools = [
  { requestId: r1, epoch: 4n, poolAmount: 1001n },
  { requestId: r2, epoch: 4n, poolAmount: 50n },
];
const scores = {
  epoch: 4n,
  entries: [
    { requestId: r1, contributionId: 1n, account: A, weight: WEIGHT_SCALE / 2n },
    { requestId: r1, contributionId: 2n, account: B, weight: WEIGHT_SCALE / 2n },
  ],
};
const previous = [{ account: B, cumulative: 7n }];
const built = buildPayoutBatch({ scores, pools, previous, fromEpoch: 4n });
const inputs = { scores: built.scoreFile, pools, previous, fromEpoch: 4n };
const claimed = { epoch: 4n, root: built.root, total: built.total, scoreFileHash: built.scoreFileHash, cumulativeTotal: built.cumulativeTotal };

function mismatch(p: VerifyPayoutBatchParameters): PayoutMismatchError {
  const v = verifyPayoutBatch(p);
  if (v.ok) throw new Error('expected a mismatch');
  return v.error;
}

describe('verifyPayoutBatch()', () => {
  it('matches the batch built from the same inputs', () => {
    expect(built.total).toBe(1001n);
    expect(built.cumulativeTotal).toBe(1008n);
    const v = verifyPayoutBatch({ ...inputs, claimed, previousCumulativeTotal: 7n });
    expect(v.ok).toBe(true);
  });

  it('names the field that differs, with both values', () => {
    const total = mismatch({ ...inputs, claimed: { ...claimed, total: 1000n } });
    expect([total.field, total.expected, total.actual]).toEqual(['total', '1001', '1000']);
    expect(total.message).toBe('payout batch mismatch: total is 1000, but the inputs give 1001\n  the pool amounts or the allocation differ');
    expect(mismatch({ ...inputs, claimed: { ...claimed, root: id32('x') } }).field).toBe('root');
    expect(mismatch({ ...inputs, claimed: { ...claimed, epoch: 5n } }).field).toBe('epoch');
    expect(mismatch({ ...inputs, claimed: { ...claimed, scoreFileHash: id32('other file') } }).field).toBe('scoreFileHash');
    expect(mismatch({ ...inputs, claimed: { ...claimed, cumulativeTotal: 1009n } }).field).toBe('cumulativeTotal');
    const prev = mismatch({ ...inputs, claimed, previousCumulativeTotal: 8n });
    expect([prev.field, prev.expected, prev.actual]).toEqual(['previousCumulativeTotal', '8', '7']);
    // A verifier that sees a different pool amount for a scored inference gets another total.
    expect(mismatch({ ...inputs, pools: [{ ...pools[0]!, poolAmount: 1000n }, pools[1]!], claimed }).field).toBe('total');
    // Different previous totals give different leaves, so another root.
    expect(mismatch({ ...inputs, previous: [{ account: B, cumulative: 8n }], claimed }).field).toBe('root');
  });

  it('throws for inputs that are not valid, rather than calling them a mismatch', () => {
    expect(() => verifyPayoutBatch({ ...inputs, pools: [pools[1]!], claimed })).toThrow(`the score file credits inference ${r1}, which has no pool amount`);
    expect(() => verifyPayoutBatch({ ...inputs, scores: new TextEncoder().encode('nonsense\n'), claimed })).toThrow('score file line 1');
  });
});

describe('cosignPayoutBatch()', () => {
  const domain: SettlementDomain = { chainId: 31337, verifyingContract: addressOf('settlement') };
  const message: PayoutBatchMessage = { epoch: 4n, nonce: 0n, root: built.root, total: built.total, scoreFileHash: built.scoreFileHash, signerSetVersion: 1n };

  it('signs a batch that matches its inputs', async () => {
    const s = await cosignPayoutBatch({ ...inputs, key: ANVIL_KEYS[3], domain, message });
    expect(s.signer).toBe(privateKeyToAddress(ANVIL_KEYS[3]).toLowerCase());
    expect(await recoverTypedDataAddress({ ...payoutBatchTypedData(domain, message), signature: s.signature as Hex })).toBe(privateKeyToAddress(ANVIL_KEYS[3]));
  });

  it('refuses to sign one that does not, with the mismatch', async () => {
    const e = await cosignPayoutBatch({ ...inputs, key: ANVIL_KEYS[3], domain, message: { ...message, total: message.total + 1n } }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PayoutMismatchError);
    expect((e as PayoutMismatchError).field).toBe('total');
  });
});
