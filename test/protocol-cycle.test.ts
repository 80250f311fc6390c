// One full cycle of the protocol on a fresh anvil, through viem, checking every wei against DESIGN.md:
// datanet → contributions → review → version → access grant → model → escrow → settlement → epoch end →
// signed payout batch → dispute window → claims.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BaseError,
  ContractFunctionRevertedError,
  createTestClient,
  decodeEventLog,
  http,
  keccak256,
  maxUint256,
  parseEther,
  toHex,
  type Address,
  type Hash,
  type Hex,
} from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { contentHash, datanetVersionRoot, parseRows, rowHash } from '../schema/index.ts';
import {
  ANVIL_KEYS,
  artifacts,
  startDevnet,
  type Devnet,
  type TributaryWalletClient,
} from '../contracts/index.ts';

const EPOCH = 3600;
const DISPUTE = 600;
const K = {
  operator: ANVIL_KEYS[1],
  attributor: ANVIL_KEYS[2],
  signerA: ANVIL_KEYS[2],
  signerB: ANVIL_KEYS[3],
  contributorA: ANVIL_KEYS[5],
  contributorB: ANVIL_KEYS[6],
  datanetOwner: ANVIL_KEYS[7],
  modelOwner: ANVIL_KEYS[8],
  payer: ANVIL_KEYS[9],
  stranger: ANVIL_KEYS[4],
};
const addr = (k: Hex) => privateKeyToAddress(k);

let dir: string;
let devnet: Devnet;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-cycle-'));
  devnet = await startDevnet({
    dataDir: dir,
    deployerKey: ANVIL_KEYS[0],
    operatorKey: K.operator,
    attributorKey: K.attributor,
    signerKeys: [K.signerA, K.signerB],
    signerThreshold: 2,
    epochSeconds: EPOCH,
    disputeWindowSeconds: DISPUTE,
  });
});

afterAll(async () => {
  await devnet?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Sends a contract write and waits for its receipt; returns the decoded events of that contract. */
async function send(key: Hex, name: keyof typeof artifacts, functionName: string, args: readonly unknown[]) {
  const wallet: TributaryWalletClient = devnet.conn.wallet(key);
  const address = devnet.deployment.contracts[name];
  const abi = artifacts[name].abi;
  const { request } = await (devnet.conn.publicClient.simulateContract as (a: unknown) => Promise<{ request: unknown }>)({
    address,
    abi,
    functionName,
    args,
    account: wallet.account,
  });
  const hash = await (wallet.writeContract as (r: unknown) => Promise<Hash>)(request);
  const receipt = await devnet.conn.publicClient.waitForTransactionReceipt({ hash });
  expect(receipt.status).toBe('success');
  const events = receipt.logs
    .filter((l) => l.address.toLowerCase() === address.toLowerCase())
    .map((l) => decodeEventLog({ abi, data: l.data, topics: l.topics }) as { eventName: string; args: Record<string, unknown> });
  return { receipt, events };
}

/** The custom error name a write reverts with (via simulation). */
async function revertName(key: Hex, name: keyof typeof artifacts, functionName: string, args: readonly unknown[]) {
  try {
    await (devnet.conn.publicClient.simulateContract as (a: unknown) => Promise<unknown>)({
      address: devnet.deployment.contracts[name],
      abi: artifacts[name].abi,
      functionName,
      args,
      account: addr(key),
    });
  } catch (e) {
    if (e instanceof BaseError) {
      const revert = e.walk((x) => x instanceof ContractFunctionRevertedError);
      if (revert instanceof ContractFunctionRevertedError) return revert.data?.errorName;
    }
    throw e;
  }
  return undefined;
}

const read = <T>(name: keyof typeof artifacts, functionName: string, args: readonly unknown[] = []) =>
  (devnet.conn.publicClient.readContract as (a: unknown) => Promise<T>)({
    address: devnet.deployment.contracts[name],
    abi: artifacts[name].abi,
    functionName,
    args,
  });
const balanceOf = (a: Address) => read<bigint>('OpenToken', 'balanceOf', [a]);

async function advance(seconds: number) {
  const test = createTestClient({ mode: 'anvil', transport: http(devnet.rpcUrl) });
  await test.increaseTime({ seconds });
  await test.mine({ blocks: 1 });
}

describe('protocol cycle on the devnet', () => {
  it('runs datanet → model → paid inferences → signed payout → claims, conserving every wei', async () => {
    const d = devnet.deployment.contracts;
    const stake = parseEther('10');

    // Datanet: permissioned, 10 OPEN stake per contribution.
    const created = await send(K.datanetOwner, 'DatanetRegistry', 'createDatanet', ['file://meta.json', 'text', 'CC-BY-4.0', stake, true]);
    const datanetId = created.events.find((e) => e.eventName === 'DatanetCreated')!.args.datanetId as bigint;
    expect(datanetId).toBe(1n);

    const contributions: { contributionId: bigint; contentHash: Hex }[] = [];
    for (const key of [K.contributorA, K.contributorB]) {
      await send(key, 'OpenToken', 'approve', [d.DatanetRegistry, stake]);
      const before = await balanceOf(addr(key));
      // The content hash a contributor's wallet signs: the Merkle root of the file's row hashes.
      const file = new TextEncoder().encode(`Rivers carry water to the sea.\nRows from ${addr(key)}.\n`);
      const content = contentHash(parseRows({ bytes: file, filename: 'rows.txt' }).rows.map(rowHash));
      const r = await send(key, 'DatanetRegistry', 'contribute', [datanetId, content, 1234n, 'file://rows', stake]);
      const ev = r.events.find((e) => e.eventName === 'ContributionSubmitted')!;
      expect(ev.args).toMatchObject({ datanetId, contributor: addr(key), contentHash: content, size: 1234n, stake });
      expect(before - (await balanceOf(addr(key)))).toBe(stake);
      contributions.push({ contributionId: ev.args.contributionId as bigint, contentHash: content });
    }
    for (const { contributionId: id } of contributions) {
      const r = await send(K.datanetOwner, 'DatanetRegistry', 'review', [id, true, 9000]);
      expect(r.events[0]).toMatchObject({ eventName: 'ContributionReviewed', args: { contributionId: id, accepted: true, quality: 9000 } });
    }
    const versionRoot = datanetVersionRoot(contributions);
    const pub = await send(K.datanetOwner, 'DatanetRegistry', 'publishVersion', [datanetId, versionRoot, 2n, 'file://v1']);
    expect(pub.events[0]).toMatchObject({ eventName: 'DatanetVersionPublished', args: { version: 1n, root: versionRoot } });

    // Model: refused before the access grant, registered after it.
    const registration = {
      name: 'support-bot',
      baseModel: 'tributary-tiny',
      metadataURI: 'file://model.json',
      priceIn: parseEther('0.002'),
      priceOut: parseEther('0.006'),
      adapterHash: keccak256(toHex('adapter bytes')),
      adapterURI: 'file://adapter',
      datanets: [{ datanetId, version: 1n }],
      manifestHash: keccak256(toHex('manifest')),
    };
    expect(await revertName(K.modelOwner, 'ModelRegistry', 'registerModel', [registration])).toBe('NoDatanetAccess');
    await send(K.datanetOwner, 'DatanetRegistry', 'setAccess', [datanetId, addr(K.modelOwner), true]);
    const reg = await send(K.modelOwner, 'ModelRegistry', 'registerModel', [registration]);
    expect(reg.events.map((e) => e.eventName)).toEqual(['ModelRegistered', 'TrainingRunRecorded', 'ModelVersionPublished']);
    const modelId = reg.events[0]!.args.modelId as bigint;

    // Payer escrow and operator allowance.
    const deposit = parseEther('1000');
    await send(K.payer, 'OpenToken', 'approve', [d.InferenceRouter, deposit]);
    await send(K.payer, 'InferenceRouter', 'deposit', [deposit]);
    await send(K.payer, 'InferenceRouter', 'approveOperator', [addr(K.operator), maxUint256]);

    // Settle a batch: four inferences of the payer, one of a stranger without escrow (rejected).
    const usage = [
      [120, 37],
      [1, 1],
      [999, 1001],
      [4096, 333],
    ] as const;
    const items: { requestId: Hex; payer: Address; modelId: bigint; tokensIn: number; tokensOut: number }[] = usage.map(([tin, tout], i) => ({
      requestId: keccak256(toHex(`req-${i}`)),
      payer: addr(K.payer),
      modelId,
      tokensIn: tin,
      tokensOut: tout,
    }));
    items.push({ requestId: keccak256(toHex('req-broke')), payer: addr(K.stranger), modelId, tokensIn: 10, tokensOut: 10 });
    const epoch = await read<bigint>('AttributionSettlement', 'currentEpoch');
    const treasuryBefore = await balanceOf(devnet.deployment.roles.treasury);
    const settlementBefore = await balanceOf(d.AttributionSettlement);
    const settled = await send(K.operator, 'InferenceRouter', 'settle', [1n, items]);

    let fees = 0n, owners = 0n, pools = 0n, treasuries = 0n;
    const settledEvents = settled.events.filter((e) => e.eventName === 'InferenceSettled');
    expect(settledEvents).toHaveLength(4);
    usage.forEach(([tin, tout], i) => {
      const fee = (BigInt(tin) * registration.priceIn + BigInt(tout) * registration.priceOut) / 1000n;
      const owner = (fee * 5000n) / 10000n;
      const treasury = (fee * 1000n) / 10000n;
      const pool = fee - owner - treasury;
      expect(settledEvents[i]!.args).toMatchObject({
        requestId: items[i]!.requestId,
        modelId,
        payer: addr(K.payer),
        epoch,
        batchNumber: 1n,
        modelOwner: addr(K.modelOwner),
        tokensIn: BigInt(tin),
        tokensOut: BigInt(tout),
        fee,
        ownerAmount: owner,
        poolAmount: pool,
        treasuryAmount: treasury,
      });
      fees += fee;
      owners += owner;
      pools += pool;
      treasuries += treasury;
    });
    expect(owners + pools + treasuries).toBe(fees);
    const rejected = settled.events.find((e) => e.eventName === 'InferenceRejected')!;
    expect(rejected.args).toMatchObject({ payer: addr(K.stranger), reason: 1 }); // InsufficientEscrow
    expect(settled.events.find((e) => e.eventName === 'BatchSettled')!.args).toMatchObject({
      batchNumber: 1n,
      settledCount: 4n,
      rejectedCount: 1n,
      feeTotal: fees,
      ownerTotal: owners,
      poolTotal: pools,
      treasuryTotal: treasuries,
    });
    const [escrow] = await read<[bigint, bigint]>('InferenceRouter', 'escrowOf', [addr(K.payer)]);
    expect(escrow).toBe(deposit - fees);
    expect(await read<bigint>('InferenceRouter', 'ownerEarnings', [addr(K.modelOwner)])).toBe(owners);
    expect((await balanceOf(devnet.deployment.roles.treasury)) - treasuryBefore).toBe(treasuries);
    expect((await balanceOf(d.AttributionSettlement)) - settlementBefore).toBe(pools);
    expect(await read<bigint>('AttributionSettlement', 'poolOf', [epoch])).toBe(pools);
    // A repeated batch number is refused: settlement is idempotent.
    expect(await revertName(K.operator, 'InferenceRouter', 'settle', [1n, items])).toBe('BatchOutOfOrder');

    // End the epoch; attribute 60/40 with a remainder of 1 wei that rolls over.
    const rewardA = ((pools - 1n) * 6n) / 10n;
    const rewardB = pools - 1n - rewardA;
    const tree = StandardMerkleTree.of(
      [
        [addr(K.contributorA), rewardA],
        [addr(K.contributorB), rewardB],
      ],
      ['address', 'uint256'],
    );
    const batch = {
      epoch,
      nonce: 0n,
      root: tree.root as Hex,
      total: rewardA + rewardB,
      scoreFileHash: keccak256(toHex('score file')),
      signerSetVersion: 1n,
    };
    const domain = { name: 'TributaryAttribution', version: '1', chainId: devnet.deployment.chainId, verifyingContract: d.AttributionSettlement };
    const types = {
      PayoutBatch: [
        { name: 'epoch', type: 'uint256' },
        { name: 'nonce', type: 'uint256' },
        { name: 'root', type: 'bytes32' },
        { name: 'total', type: 'uint256' },
        { name: 'scoreFileHash', type: 'bytes32' },
        { name: 'signerSetVersion', type: 'uint256' },
      ],
    } as const;
    const signers = [K.signerA, K.signerB].sort((a, b) => (BigInt(addr(a)) < BigInt(addr(b)) ? -1 : 1));
    const signatures = await Promise.all(
      signers.map((k) => devnet.conn.wallet(k).signTypedData({ domain, types, primaryType: 'PayoutBatch', message: batch })),
    );
    expect(await revertName(K.attributor, 'AttributionSettlement', 'postBatch', [batch, signatures])).toBe('EpochNotEnded');
    await advance(EPOCH);
    expect(await revertName(K.attributor, 'AttributionSettlement', 'postBatch', [batch, signatures.slice(0, 1)])).toBe('NotEnoughSignatures');
    const posted = await send(K.attributor, 'AttributionSettlement', 'postBatch', [batch, signatures]);
    expect(posted.events.find((e) => e.eventName === 'BatchPosted')!.args).toMatchObject({ epoch, total: batch.total, available: pools });
    expect(posted.events.find((e) => e.eventName === 'RemainderRolledOver')!.args).toMatchObject({ fromEpoch: epoch, amount: 1n });

    // Claims open only after the dispute window.
    const proofA = tree.getProof([addr(K.contributorA), rewardA]) as Hex[];
    const proofB = tree.getProof([addr(K.contributorB), rewardB]) as Hex[];
    expect(await revertName(K.contributorA, 'AttributionSettlement', 'claim', [rewardA, proofA])).toBe('NothingClaimable');
    await advance(DISPUTE);
    const aBefore = await balanceOf(addr(K.contributorA));
    await send(K.contributorA, 'AttributionSettlement', 'claim', [rewardA, proofA]);
    expect((await balanceOf(addr(K.contributorA))) - aBefore).toBe(rewardA);
    // claimFor is permissionless: a stranger pays the gas, the contributor gets the tokens.
    const bBefore = await balanceOf(addr(K.contributorB));
    const sBefore = await balanceOf(addr(K.stranger));
    await send(K.stranger, 'AttributionSettlement', 'claimFor', [addr(K.contributorB), rewardB, proofB]);
    expect((await balanceOf(addr(K.contributorB))) - bBefore).toBe(rewardB);
    expect(await balanceOf(addr(K.stranger))).toBe(sBefore);
    expect(await revertName(K.contributorA, 'AttributionSettlement', 'claim', [rewardA, proofA])).toBe('NothingToClaim');
    expect(await revertName(K.contributorA, 'AttributionSettlement', 'claim', [rewardA + 1n, proofA])).toBe('InvalidProof');

    // The model owner takes its share; the settlement keeps exactly the rolled-over wei.
    const oBefore = await balanceOf(addr(K.modelOwner));
    await send(K.modelOwner, 'InferenceRouter', 'withdrawOwnerEarnings', []);
    expect((await balanceOf(addr(K.modelOwner))) - oBefore).toBe(owners);
    expect((await balanceOf(d.AttributionSettlement)) - settlementBefore).toBe(1n);
    expect(await read<bigint>('AttributionSettlement', 'outstanding')).toBe(1n);
    expect(await read<bigint>('AttributionSettlement', 'carry')).toBe(1n);
  });
});
