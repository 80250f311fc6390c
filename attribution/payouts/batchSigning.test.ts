// EIP-712 signing of payout batches against the deployed contract: the off-chain digest equals
// AttributionSettlement.batchDigest for seeded batches, and collectSignatures() orders, checks and counts
// signatures the way postBatch does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getAddress, type Hex } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { ANVIL_KEYS, type Devnet } from '../../contracts/index.ts';
import { startTestDevnet } from '../../contracts/testing/devnet.ts';
import { readBatchDigest } from '../../contracts/index.ts';
import { collectSignatures, keySigner, payoutBatchDigest, signPayoutBatch, type PayoutBatchMessage, type SettlementDomain } from './batchSigning.ts';
import { id32, seeded } from './testing/random.ts';

let dir: string;
let devnet: Devnet;
let domain: SettlementDomain;
const SIGNERS = [ANVIL_KEYS[2], ANVIL_KEYS[3], ANVIL_KEYS[4]];
const signerAddrs = SIGNERS.map((k) => privateKeyToAddress(k));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-batch-signing-'));
  devnet = await startTestDevnet(dir);
  domain = { chainId: devnet.deployment.chainId, verifyingContract: devnet.deployment.contracts.AttributionSettlement };
});

afterAll(async () => {
  await devnet?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const batch: PayoutBatchMessage = { epoch: 3n, nonce: 1n, root: id32('root'), total: 123_456_789n, scoreFileHash: id32('scores'), signerSetVersion: 1n };

describe('payoutBatchDigest()', () => {
  it('equals the contract\'s batchDigest over 20 seeded batches, including uint256 extremes', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const r = seeded(seed);
      const max = (1n << 256n) - 1n;
      const big = () => (r.bool(0.2) ? max : r.bool(0.2) ? 0n : r.big(1n << 256n));
      const b: PayoutBatchMessage = { epoch: big(), nonce: big(), root: id32(`root ${seed}`), total: big(), scoreFileHash: id32(`scores ${seed}`), signerSetVersion: big() };
      expect(payoutBatchDigest(domain, b), `seed ${seed}`).toBe(await readBatchDigest(devnet, b));
    }
  });

  it('changes with the chain and the contract (no replay across deployments)', () => {
    const d = payoutBatchDigest(domain, batch);
    expect(payoutBatchDigest({ ...domain, chainId: domain.chainId + 1 }, batch)).not.toBe(d);
    expect(payoutBatchDigest({ ...domain, verifyingContract: devnet.deployment.contracts.InferenceRouter }, batch)).not.toBe(d);
  });
});

describe('collectSignatures()', () => {
  it('orders signatures by signer address and drops a repeated signer', async () => {
    const sigs = await keySigner([SIGNERS[1]!, SIGNERS[0]!, SIGNERS[2]!, SIGNERS[1]!])(batch, domain);
    const out = await collectSignatures({ domain, batch, signatures: sigs, signers: signerAddrs, threshold: 2 });
    expect(out.map((s) => s.signer)).toEqual([...signerAddrs].map((a) => a.toLowerCase()).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)));
    for (const s of out) expect(s.signature).toMatch(/^0x[0-9a-f]{130}$/);
  });

  it('refuses a signature over another batch, a signer outside the set, and fewer than the threshold', async () => {
    const good = await signPayoutBatch(SIGNERS[0]!, domain, batch);
    const other = await signPayoutBatch(SIGNERS[1]!, domain, { ...batch, total: batch.total + 1n });
    await expect(collectSignatures({ domain, batch, signatures: [good, other], signers: signerAddrs, threshold: 2 })).rejects.toThrow(
      new RegExp(`^the signature said to be ${getAddress(other.signer)}'s over batch 3/1 was made by 0x[0-9a-fA-F]{40}\\n  it was made over another batch, deployment or chain, or by another key$`),
    );
    const outsider = await signPayoutBatch(ANVIL_KEYS[9], domain, batch);
    await expect(collectSignatures({ domain, batch, signatures: [good, outsider], signers: signerAddrs, threshold: 2 })).rejects.toThrow(
      `${privateKeyToAddress(ANVIL_KEYS[9])} signed batch 3/1 but is not in the signer set (version 1)`,
    );
    await expect(collectSignatures({ domain, batch, signatures: [good, good], signers: signerAddrs, threshold: 2 })).rejects.toThrow(
      'batch 3/1 has signatures from 1 distinct signers, fewer than the threshold of 2',
    );
    await expect(collectSignatures({ domain, batch, signatures: [{ signer: good.signer, signature: '0x1234' as Hex }], signers: signerAddrs, threshold: 1 })).rejects.toThrow(
      `the signature of ${good.signer} over batch 3/1 is malformed: 0x1234`,
    );
  });
});
