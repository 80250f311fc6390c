// The datanet operations against a real anvil with the protocol deployed: exact decoded results, readable
// refusals that send nothing, and the accepted-contribution membership read from the logs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createTestClient,
  createWalletClient,
  encodeFunctionData,
  http,
  keccak256,
  parseEther,
  parseEventLogs,
  toHex,
  type Address,
  type Hex,
} from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { ANVIL_KEYS } from './anvilKeys.ts';
import { DatanetRegistryAbi, OpenTokenAbi } from './generated/artifacts.ts';
import type { Devnet } from './devnet.ts';
import { connectChain } from './client.ts';
import { ContractRevertError } from './revertMessage.ts';
import {
  acceptedContributions,
  buildContributeTransactions,
  contribute,
  createDatanet,
  datanetMetadataURI,
  getDatanet,
  publishVersion,
  readDatanetMetadataURI,
  reviewContribution,
  setAccess,
  setCurator,
  type ChainContext,
} from './datanetOps.ts';
import { startTestDevnet } from './testing/devnet.ts';

const K = {
  owner: ANVIL_KEYS[7],
  curator: ANVIL_KEYS[6],
  alice: ANVIL_KEYS[5],
  bob: ANVIL_KEYS[8],
  carol: ANVIL_KEYS[9],
  // Holds ETH but no OPEN, curates nothing, owns nothing.
  stranger: ANVIL_KEYS[4],
};
const addr = (k: Hex) => privateKeyToAddress(k);
const OPEN = parseEther('1');

let dir: string;
let devnet: Devnet;
let ctx: ChainContext;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-datanet-ops-'));
  devnet = await startTestDevnet(dir);
  ctx = devnet;
});

afterAll(async () => {
  await devnet?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const pc = () => devnet.conn.publicClient;
const registry = () => devnet.deployment.contracts.DatanetRegistry;
const token = () => devnet.deployment.contracts.OpenToken;
const balanceOf = (a: Address) => pc().readContract({ address: token(), abi: OpenTokenAbi, functionName: 'balanceOf', args: [a] });
const allowanceOf = (a: Address) => pc().readContract({ address: token(), abi: OpenTokenAbi, functionName: 'allowance', args: [a, registry()] });
const nonceOf = (a: Address) => pc().getTransactionCount({ address: a });
const hashOf = (s: string) => keccak256(toHex(s));

async function approve(key: Hex, amount: bigint) {
  const hash = await devnet.conn.wallet(key).writeContract({ address: token(), abi: OpenTokenAbi, functionName: 'approve', args: [registry(), amount] });
  await pc().waitForTransactionReceipt({ hash });
}

async function newDatanet(stake = 10n * OPEN, permissioned = false) {
  const r = await createDatanet(ctx, { key: K.owner, metadataURI: datanetMetadataURI({ name: 'test' }), modality: 'text', license: 'CC0-1.0', requiredStake: stake, permissioned });
  return r.datanetId;
}

async function newContribution(datanetId: bigint, key: Hex, label: string, stake = 10n * OPEN) {
  const r = await contribute(ctx, { key, datanetId, contentHash: hashOf(label), size: 100n, uri: `file://${label}`, stake });
  return r;
}

describe('createDatanet()', () => {
  it('returns the DatanetCreated fields and the receipt it came from', async () => {
    const before = await pc().readContract({ address: registry(), abi: DatanetRegistryAbi, functionName: 'datanetCount' });
    const metadataURI = datanetMetadataURI({ name: 'Coastal ecology', description: 'Tide pools' });
    const r = await createDatanet(ctx, { key: K.owner, metadataURI, modality: 'text', license: 'CC-BY-4.0', requiredStake: 10n * OPEN, permissioned: true });
    const receipt = await pc().getTransactionReceipt({ hash: r.txHash });
    expect(r).toEqual({
      txHash: receipt.transactionHash,
      blockNumber: receipt.blockNumber,
      gasUsed: receipt.gasUsed,
      datanetId: before + 1n,
      owner: addr(K.owner),
      metadataURI,
      modality: 'text',
      license: 'CC-BY-4.0',
      requiredStake: 10n * OPEN,
      permissioned: true,
      feePaid: 0n,
      approval: undefined,
    });
    expect(await getDatanet(ctx, r.datanetId)).toEqual({ datanetId: r.datanetId, owner: addr(K.owner), versionCount: 0n, permissioned: true, requiredStake: 10n * OPEN });
  });

  it('approves and pays the creation fee when governance has set one', async () => {
    // Governance is the timelock: impersonate it to set a fee of 5 OPEN, and put it back afterwards.
    const timelock = devnet.deployment.contracts.TributaryTimelock;
    const test = createTestClient({ mode: 'anvil', transport: http(devnet.rpcUrl) });
    await test.impersonateAccount({ address: timelock });
    await test.setBalance({ address: timelock, value: parseEther('1') });
    const gov = createWalletClient({ chain: devnet.conn.chain, transport: http(devnet.rpcUrl), account: timelock });
    const setFee = async (fee: bigint) =>
      pc().waitForTransactionReceipt({ hash: await gov.writeContract({ address: registry(), abi: DatanetRegistryAbi, functionName: 'setCreationFee', args: [fee] }) });
    await setFee(5n * OPEN);
    try {
      await approve(K.owner, 0n);
      const [ownerBefore, treasuryBefore] = [await balanceOf(addr(K.owner)), await balanceOf(devnet.deployment.roles.treasury)];
      const r = await createDatanet(ctx, { key: K.owner, metadataURI: 'ipfs://x', modality: 'text', license: 'MIT', requiredStake: 0n, permissioned: false });
      expect(r.feePaid).toBe(5n * OPEN);
      expect(r.approval).toBeDefined();
      expect(r.approval!.blockNumber).toBeLessThan(r.blockNumber);
      expect(ownerBefore - (await balanceOf(addr(K.owner)))).toBe(5n * OPEN);
      expect((await balanceOf(devnet.deployment.roles.treasury)) - treasuryBefore).toBe(5n * OPEN);

      // An owner without the fee is told so before anything is signed.
      const nonce = await nonceOf(addr(K.stranger));
      const err = await createDatanet(ctx, { key: K.stranger, metadataURI: 'ipfs://y', modality: 'text', license: 'MIT', requiredStake: 0n, permissioned: false }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ContractRevertError);
      expect((err as Error).message.split('\n')[0]).toBe(`cannot create the datanet (creation fee): ${addr(K.stranger)} holds 0 OPEN, less than the 5 OPEN needed`);
      expect(await nonceOf(addr(K.stranger))).toBe(nonce);
    } finally {
      await setFee(0n);
      await test.stopImpersonatingAccount({ address: timelock });
    }
  });
});

describe('contribute()', () => {
  it('approves a short allowance, contributes, and returns the ContributionSubmitted fields', async () => {
    const d = await newDatanet();
    await approve(K.bob, 3n * OPEN);
    const before = await balanceOf(addr(K.bob));
    const count = await pc().readContract({ address: registry(), abi: DatanetRegistryAbi, functionName: 'contributionCount' });
    const r = await contribute(ctx, { key: K.bob, datanetId: d, contentHash: hashOf('bob-1'), size: 4321n, uri: 'file://bob-1.txt', stake: 10n * OPEN });
    const receipt = await pc().getTransactionReceipt({ hash: r.txHash });
    expect(r).toEqual({
      txHash: receipt.transactionHash,
      blockNumber: receipt.blockNumber,
      gasUsed: receipt.gasUsed,
      contributionId: count + 1n,
      datanetId: d,
      contributor: addr(K.bob),
      contentHash: hashOf('bob-1'),
      size: 4321n,
      uri: 'file://bob-1.txt',
      stake: 10n * OPEN,
      approval: { txHash: expect.stringMatching(/^0x[0-9a-f]{64}$/), blockNumber: receipt.blockNumber - 1n, gasUsed: expect.any(BigInt) },
    });
    expect(before - (await balanceOf(addr(K.bob)))).toBe(10n * OPEN);
    // The approval was for exactly the stake, and the stake used all of it.
    expect(await allowanceOf(addr(K.bob))).toBe(0n);
  });

  it('sends no approval when the allowance already covers the stake', async () => {
    const d = await newDatanet();
    await approve(K.bob, 100n * OPEN);
    const nonce = await nonceOf(addr(K.bob));
    const r = await newContribution(d, K.bob, 'bob-2');
    expect(r.approval).toBeUndefined();
    expect(await nonceOf(addr(K.bob))).toBe(nonce + 1);
    expect(await allowanceOf(addr(K.bob))).toBe(90n * OPEN);
  });
});

describe('buildContributeTransactions()', () => {
  it('returns an approve and a contribute that a wallet can sign and send as they are', async () => {
    const d = await newDatanet(2n * OPEN);
    await approve(K.carol, 0n);
    const fields = { datanetId: d, contentHash: hashOf('carol-1'), size: 77n, uri: 'file://carol-1.jsonl', stake: 2n * OPEN };
    const txs = await buildContributeTransactions(ctx, { from: addr(K.carol), ...fields });
    const chainId = devnet.conn.chain.id;
    expect(txs).toEqual({
      approve: {
        from: addr(K.carol),
        to: token(),
        data: encodeFunctionData({ abi: OpenTokenAbi, functionName: 'approve', args: [registry(), 2n * OPEN] }),
        value: 0n,
        chainId,
      },
      contribute: {
        from: addr(K.carol),
        to: registry(),
        data: encodeFunctionData({ abi: DatanetRegistryAbi, functionName: 'contribute', args: [d, hashOf('carol-1'), 77n, 'file://carol-1.jsonl', 2n * OPEN] }),
        value: 0n,
        chainId,
      },
    });
    // Signed by the contributor's wallet (here a local key), in order.
    const wallet = devnet.conn.wallet(K.carol);
    for (const tx of [txs.approve!, txs.contribute]) {
      const receipt = await pc().waitForTransactionReceipt({ hash: await wallet.sendTransaction({ to: tx.to, data: tx.data, value: tx.value }) });
      expect(receipt.status).toBe('success');
      if (tx === txs.contribute) {
        const [ev] = parseEventLogs({ abi: DatanetRegistryAbi, logs: receipt.logs, eventName: 'ContributionSubmitted' });
        expect(ev!.args).toMatchObject({ ...fields, contributor: addr(K.carol) });
      }
    }
    // With the allowance in place there is nothing to approve.
    await approve(K.carol, 5n * OPEN);
    expect((await buildContributeTransactions(ctx, { from: addr(K.carol), ...fields, contentHash: hashOf('carol-2') })).approve).toBeUndefined();
  });

  it('refuses a contribution the chain would refuse, with the same words', async () => {
    const d = await newDatanet(10n * OPEN);
    const low = buildContributeTransactions(ctx, { from: addr(K.carol), datanetId: d, contentHash: hashOf('x'), size: 1n, uri: '', stake: OPEN });
    await expect(low).rejects.toThrow(`cannot contribute to datanet ${d}: stake 1 OPEN is below the datanet's required 10 OPEN`);
    const broke = buildContributeTransactions(ctx, { from: addr(K.stranger), datanetId: d, contentHash: hashOf('x'), size: 1n, uri: '', stake: 10n * OPEN });
    await expect(broke).rejects.toThrow(`cannot contribute to datanet ${d}: ${addr(K.stranger)} holds 0 OPEN, less than the 10 OPEN needed`);
  });
});

describe('reviewContribution(), setCurator(), setAccess(), publishVersion()', () => {
  it('lets a curator the owner appointed review, and returns the ContributionReviewed fields', async () => {
    const d = await newDatanet();
    const c = await newContribution(d, K.alice, 'alice-review');
    const cur = await setCurator(ctx, { key: K.owner, datanetId: d, curator: addr(K.curator), enabled: true });
    expect(cur).toMatchObject({ datanetId: d, curator: addr(K.curator), enabled: true });
    expect(await pc().readContract({ address: registry(), abi: DatanetRegistryAbi, functionName: 'isCurator', args: [d, addr(K.curator)] })).toBe(true);

    const r = await reviewContribution(ctx, { key: K.curator, contributionId: c.contributionId, accepted: true, quality: 8500 });
    const block = await pc().getBlock({ blockNumber: r.blockNumber });
    expect(r).toEqual({
      txHash: expect.stringMatching(/^0x[0-9a-f]{64}$/),
      blockNumber: block.number,
      gasUsed: (await pc().getTransactionReceipt({ hash: r.txHash })).gasUsed,
      contributionId: c.contributionId,
      datanetId: d,
      reviewer: addr(K.curator),
      accepted: true,
      quality: 8500,
      reviewedAt: block.timestamp,
    });

    const off = await setCurator(ctx, { key: K.owner, datanetId: d, curator: addr(K.curator), enabled: false });
    expect(off).toMatchObject({ datanetId: d, curator: addr(K.curator), enabled: false });
    const c2 = await newContribution(d, K.alice, 'alice-review-2');
    await expect(reviewContribution(ctx, { key: K.curator, contributionId: c2.contributionId, accepted: true, quality: 1 })).rejects.toThrow(
      `cannot review contribution ${c2.contributionId}: ${addr(K.curator)} is not a curator of datanet ${d} (nor its owner)`,
    );
  });

  it('grants and revokes access to a permissioned datanet', async () => {
    const d = await newDatanet(0n, true);
    const hasAccess = () => pc().readContract({ address: registry(), abi: DatanetRegistryAbi, functionName: 'hasAccess', args: [d, addr(K.bob)] });
    expect(await hasAccess()).toBe(false);
    const g = await setAccess(ctx, { key: K.owner, datanetId: d, account: addr(K.bob), granted: true });
    expect(g).toMatchObject({ datanetId: d, account: addr(K.bob), granted: true });
    expect(await hasAccess()).toBe(true);
    const r = await setAccess(ctx, { key: K.owner, datanetId: d, account: addr(K.bob), granted: false });
    expect(r).toMatchObject({ datanetId: d, account: addr(K.bob), granted: false });
    expect(r.blockNumber).toBe(g.blockNumber + 1n);
    expect(await hasAccess()).toBe(false);
  });

  it('numbers published versions 1, 2 and records each root', async () => {
    const d = await newDatanet();
    const v1 = await publishVersion(ctx, { key: K.owner, datanetId: d, root: hashOf('root-1'), contributionCount: 3n, uri: 'ipfs://v1' });
    const v2 = await publishVersion(ctx, { key: K.owner, datanetId: d, root: hashOf('root-2'), contributionCount: 5n, uri: '' });
    expect(v1).toMatchObject({ datanetId: d, version: 1n, root: hashOf('root-1'), contributionCount: 3n, uri: 'ipfs://v1' });
    expect(v2).toMatchObject({ datanetId: d, version: 2n, root: hashOf('root-2'), contributionCount: 5n, uri: '' });
    const root = (v: bigint) => pc().readContract({ address: registry(), abi: DatanetRegistryAbi, functionName: 'versionRoot', args: [d, v] });
    expect([await root(1n), await root(2n)]).toEqual([hashOf('root-1'), hashOf('root-2')]);
    expect((await getDatanet(ctx, d)).versionCount).toBe(2n);
  });
});

describe('refusals', () => {
  it('are readable, typed, and send nothing', async () => {
    const d = await newDatanet();
    const stranger = addr(K.stranger);
    const nonces = { stranger: await nonceOf(stranger), alice: await nonceOf(addr(K.alice)), owner: await nonceOf(addr(K.owner)) };
    const c = await newContribution(d, K.alice, 'alice-refusals');
    nonces.alice = await nonceOf(addr(K.alice));
    const first = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as ContractRevertError);

    const notCurator = await first(reviewContribution(ctx, { key: K.stranger, contributionId: c.contributionId, accepted: true, quality: 10 }));
    expect(notCurator).toBeInstanceOf(ContractRevertError);
    expect(notCurator!.errorName).toBe('NotCurator');
    expect(notCurator!.errorArgs).toEqual([d, stranger]);
    expect(notCurator!.retryable).toBe(false);
    expect(notCurator!.message).toBe(
      `cannot review contribution ${c.contributionId}: ${stranger} is not a curator of datanet ${d} (nor its owner)\n` +
        `  the contract reverts with NotCurator(${d}, ${stranger}); nothing was sent`,
    );

    await expect(contribute(ctx, { key: K.alice, datanetId: d, contentHash: hashOf('low'), size: 1n, uri: '', stake: OPEN })).rejects.toThrow(
      `cannot contribute to datanet ${d}: stake 1 OPEN is below the datanet's required 10 OPEN`,
    );
    await expect(contribute(ctx, { key: K.alice, datanetId: 999_999n, contentHash: hashOf('gone'), size: 1n, uri: '', stake: 0n })).rejects.toThrow(
      'cannot contribute to datanet 999999: datanet 999999 does not exist',
    );
    await expect(contribute(ctx, { key: K.stranger, datanetId: d, contentHash: hashOf('broke'), size: 1n, uri: '', stake: 10n * OPEN })).rejects.toThrow(
      `cannot contribute to datanet ${d}: ${stranger} holds 0 OPEN, less than the 10 OPEN needed`,
    );
    await expect(reviewContribution(ctx, { key: K.owner, contributionId: c.contributionId, accepted: true, quality: 10_001 })).rejects.toThrow(
      `cannot review contribution ${c.contributionId}: quality 10001 is out of range: a quality score is 0 to 10000 basis points`,
    );
    await expect(reviewContribution(ctx, { key: K.owner, contributionId: 999_999n, accepted: true, quality: 1 })).rejects.toThrow(
      'cannot review contribution 999999: contribution 999999 does not exist',
    );
    await expect(setAccess(ctx, { key: K.owner, datanetId: 999_999n, account: stranger, granted: true })).rejects.toThrow(
      `cannot grant access to datanet 999999 for ${stranger}: datanet 999999 does not exist`,
    );
    await expect(publishVersion(ctx, { key: K.stranger, datanetId: d, root: hashOf('r'), contributionCount: 1n, uri: '' })).rejects.toThrow(
      `cannot publish a version of datanet ${d}: ${stranger} is not the owner of datanet ${d}`,
    );
    await expect(publishVersion(ctx, { key: K.owner, datanetId: d, root: `0x${'0'.repeat(64)}`, contributionCount: 1n, uri: '' })).rejects.toThrow(
      `cannot publish a version of datanet ${d}: the hash is zero`,
    );
    await expect(setCurator(ctx, { key: K.stranger, datanetId: d, curator: stranger, enabled: true })).rejects.toThrow(
      `cannot add curator ${stranger} to datanet ${d}: ${stranger} is not the owner of datanet ${d}`,
    );

    // Reviewing twice: the second says what the first decided.
    await reviewContribution(ctx, { key: K.owner, contributionId: c.contributionId, accepted: true, quality: 5000 });
    await expect(reviewContribution(ctx, { key: K.owner, contributionId: c.contributionId, accepted: false, quality: 0 })).rejects.toThrow(
      `cannot review contribution ${c.contributionId}: contribution ${c.contributionId} was already accepted`,
    );
    const c2 = await newContribution(d, K.alice, 'alice-refusals-2');
    await reviewContribution(ctx, { key: K.owner, contributionId: c2.contributionId, accepted: false, quality: 0 });
    await expect(reviewContribution(ctx, { key: K.owner, contributionId: c2.contributionId, accepted: true, quality: 1 })).rejects.toThrow(
      `contribution ${c2.contributionId} was already rejected`,
    );

    // Only the owner's two successful reviews were sent; nothing from the refused calls.
    expect(await nonceOf(stranger)).toBe(nonces.stranger);
    expect(await nonceOf(addr(K.owner))).toBe(nonces.owner + 2);
  });
});

describe('acceptedContributions()', () => {
  it('lists the accepted contributions of one datanet as of a block, sorted by id', async () => {
    const a = await newDatanet(OPEN);
    const b = await newDatanet(OPEN);
    const c1 = await newContribution(a, K.alice, 'a1', OPEN);
    const c2 = await newContribution(a, K.bob, 'a2', OPEN);
    const c3 = await newContribution(a, K.alice, 'a3', OPEN);
    const c4 = await newContribution(a, K.bob, 'a4', OPEN);
    const c5 = await newContribution(b, K.alice, 'b1', OPEN);
    const review = (id: bigint, accepted: boolean) => reviewContribution(ctx, { key: K.owner, contributionId: id, accepted, quality: 7000 });
    // Reviewed out of id order, to see the sort.
    const r4 = await review(c4.contributionId, true);
    const r1 = await review(c1.contributionId, true);
    await review(c2.contributionId, false);
    await review(c5.contributionId, true);
    // c3 stays pending.
    void c3;

    const entry = (c: typeof c1) => ({ contributionId: c.contributionId, contentHash: c.contentHash, contributor: c.contributor });
    expect(await acceptedContributions(ctx, { datanetId: a })).toEqual([entry(c1), entry(c4)]);
    expect(await acceptedContributions(ctx, { datanetId: b })).toEqual([entry(c5)]);
    expect(await acceptedContributions(ctx, { datanetId: a, toBlock: r1.blockNumber - 1n })).toEqual([entry(c4)]);
    expect(await acceptedContributions(ctx, { datanetId: a, toBlock: r4.blockNumber - 1n })).toEqual([]);
    expect(await acceptedContributions(ctx, { datanetId: a, toBlock: r1.blockNumber, maxBlockRange: 2n })).toEqual([entry(c1), entry(c4)]);
    expect(await acceptedContributions(ctx, { datanetId: a, toBlock: devnet.deployment.deploymentBlock.number - 1n })).toEqual([]);
    expect(await acceptedContributions(ctx, { datanetId: 999_999n })).toEqual([]);
  });

  it('splits a block range the RPC refuses until each request fits', async () => {
    const a = await newDatanet(0n);
    const c = await newContribution(a, K.alice, 'split-1', 0n);
    await reviewContribution(ctx, { key: K.owner, contributionId: c.contributionId, accepted: true, quality: 1 });
    // A proxy in front of anvil that refuses eth_getLogs over more than 8 blocks, as public RPCs do.
    const ranges: number[] = [];
    const server: Server = createServer(async (req, res) => {
      const body = JSON.parse(await new Promise<string>((r) => { let s = ''; req.on('data', (d) => (s += d)); req.on('end', () => r(s)); }));
      const calls = Array.isArray(body) ? body : [body];
      const answers = await Promise.all(
        calls.map(async (call: { id: number; method: string; params: [{ fromBlock: Hex; toBlock: Hex }] }) => {
          if (call.method === 'eth_getLogs') {
            const span = Number(BigInt(call.params[0].toBlock) - BigInt(call.params[0].fromBlock)) + 1;
            ranges.push(span);
            if (span > 8) return { jsonrpc: '2.0', id: call.id, error: { code: -32005, message: 'query exceeds max block range 8' } };
          }
          const r = await fetch(devnet.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(call) });
          return r.json();
        }),
      );
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(Array.isArray(body) ? answers : answers[0]));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      const conn = await connectChain(`http://127.0.0.1:${port}`);
      const viaProxy = await acceptedContributions({ conn, deployment: devnet.deployment }, { datanetId: a });
      expect(viaProxy).toEqual([{ contributionId: c.contributionId, contentHash: c.contentHash, contributor: addr(K.alice) }]);
      expect(ranges.some((s) => s > 8)).toBe(true);
      expect(ranges.filter((s) => s <= 8).length).toBeGreaterThan(2);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

describe('datanetMetadataURI()', () => {
  it('round-trips a name and description through a data: URI, keys sorted', () => {
    const uri = datanetMetadataURI({ name: 'Coastal ecology', description: 'Tide pools, 100% "wet"' });
    expect(uri).toBe('data:application/json,' + encodeURIComponent('{"description":"Tide pools, 100% \\"wet\\"","name":"Coastal ecology"}'));
    expect(readDatanetMetadataURI(uri)).toEqual({ name: 'Coastal ecology', description: 'Tide pools, 100% "wet"' });
    expect(readDatanetMetadataURI(datanetMetadataURI({ name: 'Só' }))).toEqual({ name: 'Só' });
    expect(readDatanetMetadataURI('data:application/json;base64,' + Buffer.from('{"name":"b64"}').toString('base64'))).toEqual({ name: 'b64' });
    expect(readDatanetMetadataURI('ipfs://Qm')).toBeUndefined();
    expect(readDatanetMetadataURI('data:application/json,{"title":"no name"}')).toBeUndefined();
    expect(readDatanetMetadataURI('data:application/json,%E0%A4%A')).toBeUndefined();
  });
});
