// The AttributionSettlement operations against a real anvil with the protocol deployed: the epoch clock,
// a pool funded through the router, a batch refused in words for each thing wrong with it (nothing sent),
// posted with exact event values and found again from its log, claims for oneself and for another, and
// revocation in the dispute window.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  concat,
  createTestClient,
  encodeAbiParameters,
  http,
  keccak256,
  maxUint256,
  parseEther,
  parseEventLogs,
  toHex,
  zeroHash,
  type Address,
  type Hex,
} from 'viem';
import { privateKeyToAccount, privateKeyToAddress } from 'viem/accounts';
import { ANVIL_KEYS } from './anvilKeys.ts';
import { ModelRegistryAbi } from './generated/artifacts.ts';
import type { Devnet } from './devnet.ts';
import { createDatanet, datanetMetadataURI, publishVersion, type ChainContext } from './datanetOps.ts';
import { ContractRevertError } from './revertMessage.ts';
import { approveOperator, depositEscrow, settleUsage } from './routerOps.ts';
import {
  claimPayout,
  claimPayoutFor,
  findPostedBatch,
  getClaimed,
  getEpochClock,
  getEpochEnd,
  getEpochPool,
  getNextBatchNonce,
  getPostedBatch,
  getSettlementState,
  postPayoutBatch,
  readBatchDigest,
  revokePayoutBatch,
  type SettlementBatch,
} from './settlementOps.ts';
import { startTestDevnet } from './testing/devnet.ts';

const K = {
  operator: ANVIL_KEYS[1],
  attributor: ANVIL_KEYS[2],
  signerA: ANVIL_KEYS[2],
  signerB: ANVIL_KEYS[3],
  guardian: ANVIL_KEYS[4],
  alice: ANVIL_KEYS[5],
  bob: ANVIL_KEYS[6],
  owner: ANVIL_KEYS[7],
  payer: ANVIL_KEYS[9],
};
const addr = (k: Hex) => privateKeyToAddress(k);
const rid = (s: string) => keccak256(toHex(s));

let dir: string;
let devnet: Devnet;
let ctx: ChainContext;
let modelId: bigint;
let usageBatch = 0n;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-settlement-ops-'));
  devnet = await startTestDevnet(dir);
  ctx = devnet;
  const d = await createDatanet(ctx, { key: K.owner, metadataURI: datanetMetadataURI({ name: 'settlement' }), modality: 'text', license: 'CC0-1.0', requiredStake: 0n, permissioned: false });
  await publishVersion(ctx, { key: K.owner, datanetId: d.datanetId, root: rid('root'), contributionCount: 1n, uri: 'file://v1' });
  const hash = await devnet.conn.wallet(K.owner).writeContract({
    address: devnet.deployment.contracts.ModelRegistry,
    abi: ModelRegistryAbi,
    functionName: 'registerModel',
    args: [
      {
        name: 'settlement-test',
        baseModel: 'tributary-tiny',
        metadataURI: 'file://model.json',
        priceIn: parseEther('0.002'),
        priceOut: parseEther('0.006'),
        adapterHash: rid('adapter'),
        adapterURI: 'file://adapter',
        datanets: [{ datanetId: d.datanetId, version: 1n }],
        manifestHash: rid('manifest'),
      },
    ],
  });
  const receipt = await devnet.conn.publicClient.waitForTransactionReceipt({ hash });
  modelId = parseEventLogs({ abi: ModelRegistryAbi, logs: receipt.logs, eventName: 'ModelRegistered', strict: true })[0]!.args.modelId;
  await depositEscrow(ctx, { key: K.payer, amount: parseEther('1000') });
  await approveOperator(ctx, { key: K.payer, operator: addr(K.operator), allowance: maxUint256 });
});

afterAll(async () => {
  await devnet?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const test = () => createTestClient({ mode: 'anvil', transport: http(devnet.rpcUrl) });
/** Moves the chain's clock to `t` (unix seconds) and mines a block there. */
async function warpTo(t: bigint): Promise<void> {
  await test().setNextBlockTimestamp({ timestamp: t });
  await test().mine({ blocks: 1 });
}
const now = async () => (await devnet.conn.publicClient.getBlock({ blockTag: 'latest' })).timestamp;
const nonceOf = (a: Address) => devnet.conn.publicClient.getTransactionCount({ address: a });

/** Bills one inference; returns its pool amount. */
async function serve(label: string, tokensIn: number, tokensOut: number): Promise<bigint> {
  const b = await settleUsage(ctx, { key: K.operator, batchNumber: ++usageBatch, items: [{ requestId: rid(label), payer: addr(K.payer), modelId, tokensIn, tokensOut }] });
  return b.settled[0]!.poolAmount;
}

/** The contract's leaf: keccak256(bytes.concat(keccak256(abi.encode(account, amount)))). */
const leaf = (a: Address, amount: bigint) => keccak256(concat([keccak256(encodeAbiParameters([{ type: 'address' }, { type: 'uint256' }], [a, amount]))]));
/** OpenZeppelin's commutative pair hash: the root of a two-leaf tree. */
const pair = (x: Hex, y: Hex) => keccak256(BigInt(x) < BigInt(y) ? concat([x, y]) : concat([y, x]));

async function sign(keys: Hex[], b: SettlementBatch): Promise<Hex[]> {
  const typed = {
    domain: { name: 'TributaryAttribution', version: '1', chainId: devnet.deployment.chainId, verifyingContract: devnet.deployment.contracts.AttributionSettlement },
    types: {
      PayoutBatch: [
        { name: 'epoch', type: 'uint256' },
        { name: 'nonce', type: 'uint256' },
        { name: 'root', type: 'bytes32' },
        { name: 'total', type: 'uint256' },
        { name: 'scoreFileHash', type: 'bytes32' },
        { name: 'signerSetVersion', type: 'uint256' },
      ],
    },
    primaryType: 'PayoutBatch',
    message: b,
  } as const;
  const sorted = [...keys].sort((x, y) => (BigInt(addr(x)) < BigInt(addr(y)) ? -1 : 1));
  return Promise.all(sorted.map((k) => privateKeyToAccount(k).signTypedData(typed)));
}

async function rejection(p: Promise<unknown>): Promise<ContractRevertError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ContractRevertError) return e;
    throw e;
  }
  throw new Error('expected a ContractRevertError');
}

describe('reads', () => {
  it('getEpochClock() and getSettlementState() report the deployment', async () => {
    const clock = await getEpochClock(ctx);
    expect({ currentEpoch: clock.currentEpoch, anchorEpoch: clock.anchorEpoch, epochLength: clock.epochLength, disputeWindow: clock.disputeWindow }).toEqual({
      currentEpoch: 1n,
      anchorEpoch: 1n,
      epochLength: 3600n,
      disputeWindow: 600n,
    });
    expect(await getEpochEnd(ctx, 1n)).toBe(clock.anchorTime + 3600n);
    const state = await getSettlementState(ctx);
    expect(state).toEqual({
      lastPostedEpoch: 0n,
      claimableEpoch: 0n,
      carry: 0n,
      signerSetVersion: 1n,
      signers: [addr(K.signerA), addr(K.signerB)].sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1)),
      threshold: 2n,
      totalFunded: 0n,
      totalClaimed: 0n,
    });
    expect(await getPostedBatch(ctx, 1n)).toBeUndefined();
    expect(await getNextBatchNonce(ctx, 1n)).toBe(0n);
    expect(await getClaimed(ctx, addr(K.alice))).toBe(0n);
  });
});

describe('a batch from posting to claims', () => {
  const A = addr(K.alice);
  const B = addr(K.bob);
  let pool: bigint;
  let batch: SettlementBatch;
  let amountA: bigint;
  let amountB: bigint;

  it('postPayoutBatch() refuses, in words and without sending, each thing wrong with a batch', async () => {
    pool = (await serve('s1', 1200, 800)) + (await serve('s2', 64, 4096));
    expect(await getEpochPool(ctx, 1n)).toBe(pool);
    amountA = pool / 3n;
    amountB = pool / 2n;
    batch = { epoch: 1n, nonce: 0n, root: pair(leaf(A, amountA), leaf(B, amountB)), total: amountA + amountB, scoreFileHash: rid('scores 1'), signerSetVersion: 1n };
    const nonce = await nonceOf(addr(K.attributor));
    const post = (b: SettlementBatch, signatures: Hex[], key = K.attributor) => rejection(postPayoutBatch(ctx, { key, batch: b, signatures }));
    const sigs = await sign([K.signerA, K.signerB], batch);

    const early = await post(batch, sigs);
    expect(early.errorName).toBe('EpochNotEnded');
    expect(early.message.split('\n')[0]).toBe('cannot post the payout batch of epoch 1 (nonce 0): epoch 1 has not ended yet (the current epoch is 1)');
    await warpTo(await getEpochEnd(ctx, 1n));

    expect((await post(batch, sigs, K.payer)).message.split('\n')[0]).toBe(`cannot post the payout batch of epoch 1 (nonce 0): ${addr(K.payer)} is not an attributor of AttributionSettlement (governance enables attributors with setAttributor)`);
    expect((await post(batch, sigs.slice(0, 1))).message.split('\n')[0]).toBe('cannot post the payout batch of epoch 1 (nonce 0): the batch has 1 valid signatures, fewer than the threshold of 2');
    const reversed = await post(batch, [...sigs].reverse());
    expect(reversed.errorName).toBe('SignersNotSorted');
    const stranger = await post(batch, await sign([K.signerA, K.guardian], batch));
    expect(stranger.errorName).toBe('UnknownSigner');
    expect(stranger.message).toContain(`a signature recovers to ${addr(K.guardian)}, which is not in the signer set`);
    const wrongNonce = { ...batch, nonce: 1n };
    expect((await post(wrongNonce, await sign([K.signerA, K.signerB], wrongNonce))).message.split('\n')[0]).toBe(
      "cannot post the payout batch of epoch 1 (nonce 1): epoch 1's next batch nonce is 0, not 1",
    );
    const tooMuch = { ...batch, total: pool + 1n };
    expect((await post(tooMuch, await sign([K.signerA, K.signerB], tooMuch))).errorName).toBe('TotalExceedsAvailable');
    const otherSet = { ...batch, signerSetVersion: 2n };
    expect((await post(otherSet, await sign([K.signerA, K.signerB], otherSet))).message.split('\n')[0]).toBe(
      'cannot post the payout batch of epoch 1 (nonce 0): the batch was signed for signer set version 2, but the current version is 1',
    );
    await expect(postPayoutBatch(ctx, { key: K.attributor, batch: { ...batch, root: '0x12' }, signatures: sigs })).rejects.toThrow(
      'cannot post the payout batch of epoch 1 (nonce 0): root must be 0x followed by 64 hex digits, got 0x12',
    );
    expect(await nonceOf(addr(K.attributor))).toBe(nonce);
  });

  it('readBatchDigest() is what the signers sign', async () => {
    const digest = await readBatchDigest(ctx, batch);
    const [sig] = await sign([K.signerA], batch);
    const { recoverAddress } = await import('viem');
    expect(await recoverAddress({ hash: digest, signature: sig! })).toBe(addr(K.signerA));
  });

  it('posts with the exact values, rolls the remainder over, and findPostedBatch() reads the same back', async () => {
    let sent: Hex | undefined;
    const posted = await postPayoutBatch(ctx, { key: K.attributor, batch, signatures: await sign([K.signerA, K.signerB], batch), onSent: (h) => void (sent = h) });
    expect(sent).toBe(posted.txHash);
    const postedAt = (await devnet.conn.publicClient.getBlock({ blockNumber: posted.blockNumber })).timestamp;
    expect({ ...posted, txHash: undefined, blockNumber: undefined, gasUsed: undefined }).toEqual({
      txHash: undefined,
      blockNumber: undefined,
      gasUsed: undefined,
      epoch: 1n,
      nonce: 0n,
      root: batch.root,
      total: amountA + amountB,
      cumulativeTotal: amountA + amountB,
      scoreFileHash: batch.scoreFileHash,
      signerSetVersion: 1n,
      available: pool,
      rolledOver: pool - amountA - amountB,
      claimableAt: postedAt + 600n,
      poster: addr(K.attributor),
    });
    expect(await findPostedBatch(ctx, { epoch: 1n, nonce: 0n })).toEqual(posted);
    expect(await findPostedBatch(ctx, { epoch: 1n, nonce: 0n, maxBlockRange: 1n })).toEqual(posted);
    expect(await findPostedBatch(ctx, { epoch: 1n, nonce: 1n })).toBeUndefined();
    expect(await findPostedBatch(ctx, { epoch: 2n, nonce: 0n })).toBeUndefined();
    expect(await getPostedBatch(ctx, 1n)).toEqual({
      epoch: 1n,
      nonce: 0n,
      root: batch.root,
      total: amountA + amountB,
      cumulativeTotal: amountA + amountB,
      carryIn: 0n,
      scoreFileHash: batch.scoreFileHash,
      postedAt,
      claimableAt: postedAt + 600n,
      prevEpoch: 0n,
      revoked: false,
    });
    expect(await getNextBatchNonce(ctx, 1n)).toBe(1n);
    const state = await getSettlementState(ctx);
    expect([state.lastPostedEpoch, state.claimableEpoch, state.carry, state.totalFunded]).toEqual([1n, 0n, pool - amountA - amountB, pool]);
    // The same batch again is refused.
    expect((await rejection(postPayoutBatch(ctx, { key: K.attributor, batch, signatures: await sign([K.signerA, K.signerB], batch) }))).errorName).toBe('EpochAlreadyPosted');
  });

  it('claims open after the dispute window: for oneself and by anyone for another, each once', async () => {
    const proofA = [leaf(B, amountB)];
    const proofB = [leaf(A, amountA)];
    expect((await rejection(claimPayout(ctx, { key: K.alice, cumulativeAmount: amountA, proof: proofA }))).message.split('\n')[0]).toBe(
      `cannot claim the payout of ${A}: no payout batch is claimable yet (none posted, or the first is still in its dispute window)`,
    );
    await warpTo((await getPostedBatch(ctx, 1n))!.claimableAt);
    const wrong = await rejection(claimPayout(ctx, { key: K.alice, cumulativeAmount: amountA + 1n, proof: proofA }));
    expect(wrong.errorName).toBe('InvalidProof');
    expect(wrong.errorArgs).toEqual([A, amountA + 1n]);
    const mine = await claimPayout(ctx, { key: K.alice, cumulativeAmount: amountA, proof: proofA });
    expect({ account: mine.account, epoch: mine.epoch, caller: mine.caller, amount: mine.amount, cumulativeClaimed: mine.cumulativeClaimed }).toEqual({
      account: A,
      epoch: 1n,
      caller: A,
      amount: amountA,
      cumulativeClaimed: amountA,
    });
    const again = await rejection(claimPayout(ctx, { key: K.alice, cumulativeAmount: amountA, proof: proofA }));
    expect(again.message.split('\n')[0]).toMatch(new RegExp(`^cannot claim the payout of ${A}: ${A} has already claimed .* OPEN, which covers the .* OPEN proven$`));
    // Someone else (the guardian's key here) claims for bob; the tokens go to bob.
    const forBob = await claimPayoutFor(ctx, { key: K.guardian, account: B, cumulativeAmount: amountB, proof: proofB });
    expect([forBob.account, forBob.caller, forBob.amount]).toEqual([B, addr(K.guardian), amountB]);
    expect(await getClaimed(ctx, A)).toBe(amountA);
    expect(await getClaimed(ctx, B)).toBe(amountB);
    expect((await getSettlementState(ctx)).totalClaimed).toBe(amountA + amountB);
  });

  it('revokePayoutBatch() revokes in the window only, by the guardian only; the epoch re-posts with the next nonce', async () => {
    await serve('s3', 10, 10);
    await warpTo(await getEpochEnd(ctx, 2n));
    const b2: SettlementBatch = { epoch: 2n, nonce: 0n, root: zeroHash, total: 0n, scoreFileHash: rid('scores 2'), signerSetVersion: 1n };
    await postPayoutBatch(ctx, { key: K.attributor, batch: b2, signatures: await sign([K.signerA, K.signerB], b2) });
    const denied = await rejection(revokePayoutBatch(ctx, { key: K.alice, epoch: 2n, reason: 'no' }));
    expect(denied.message.split('\n')[0]).toBe(`cannot revoke the payout batch of epoch 2: ${A} may not revoke batches: only the guardian or governance may`);
    const r = await revokePayoutBatch(ctx, { key: K.guardian, epoch: 2n, reason: 'wrong scores' });
    expect([r.epoch, r.nonce, r.by, r.reason, r.restoredEpoch]).toEqual([2n, 0n, addr(K.guardian), 'wrong scores', 1n]);
    expect((await getPostedBatch(ctx, 2n))!.revoked).toBe(true);
    expect(await getNextBatchNonce(ctx, 2n)).toBe(1n);
    const again = { ...b2, nonce: 1n };
    const p = await postPayoutBatch(ctx, { key: K.attributor, batch: again, signatures: await sign([K.signerA, K.signerB], again) });
    expect(p.nonce).toBe(1n);
    expect((await findPostedBatch(ctx, { epoch: 2n, nonce: 0n }))!.root).toBe(zeroHash);
    await warpTo((await getPostedBatch(ctx, 2n))!.claimableAt);
    const late = await rejection(revokePayoutBatch(ctx, { key: K.guardian, epoch: 2n, reason: 'late' }));
    expect(late.errorName).toBe('DisputeWindowOver');
    expect(late.message.split('\n')[0]).toMatch(/^cannot revoke the payout batch of epoch 2: the dispute window of epoch 2's batch ended at \d{4}-\d\d-\d\dT/);
  });
});
