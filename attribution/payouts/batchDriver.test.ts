// The batch driver against a real anvil and a temp PGlite: a batch goes pending → signed → posted →
// confirmed with an audit row per step; a crash after any step (thrown in-process, or a real SIGKILL of a
// driver process) followed by a restart posts the batch exactly once; refusals keep or fail the batch as
// they should; a batch revoked on chain is re-posted under the next nonce.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getAbiItem, getAddress, toHex, type Address } from 'viem';
import { AttributionSettlementAbi, type Devnet } from '../../contracts/index.ts';
import { startTestDevnet } from '../../contracts/testing/devnet.ts';
import { getPayoutBatch, listPayoutBatchEvents, listPayoutBatches, openFsContentStore, openPostgres, type ContentStore, type OperationalStore } from '../../schema/index.ts';
import { createBatchDriver, type BatchDriverFaultPoint, type BatchDriverOptions } from './batchDriver.ts';
import { loadPayoutBatchFiles } from './batchFiles.ts';
import { keySigner } from './batchSigning.ts';
import { buildPayoutBatch, type ComputedPayoutBatch } from './buildBatch.ts';
import { chainPools } from './chainPools.ts';
import { BatchDriverError } from './errors.ts';
import { quantizeWeights } from './quantizeWeights.ts';
import { getPostedBatch, getSettlementState, postPayoutBatch, revokePayoutBatch } from '../../contracts/index.ts';
import type { DriverChildArgs } from './testing/driverChild.ts';
import { ATTRIBUTOR_KEY, GUARDIAN_KEY, SIGNER_KEYS, pgliteTemplate, setUpPayoutChain, type PayoutChain, type PgliteTemplate } from './testing/payoutChain.ts';
import { addressOf } from './testing/random.ts';

const ALICE = getAddress(addressOf('alice'));
const BOB = getAddress(addressOf('bob'));

let dir: string;
let devnet: Devnet;
let chain: PayoutChain;
let templates: PgliteTemplate;
const stores: OperationalStore[] = [];
let served = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-batch-driver-'));
  devnet = await startTestDevnet(dir);
  chain = await setUpPayoutChain(devnet);
  templates = pgliteTemplate();
});
afterAll(async () => {
  for (const s of stores) await s.close();
  await devnet?.stop();
  templates?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

interface Fixture {
  dataDir: string;
  store: OperationalStore;
  content: ContentStore;
  contentDir: string;
}

async function fresh(): Promise<Fixture> {
  const dataDir = await templates.freshDataDir();
  const store = await openPostgres({ dataDir });
  stores.push(store);
  const contentDir = join(dataDir, 'content');
  return { dataDir, store, content: await openFsContentStore({ root: contentDir }), contentDir };
}

/** Closes the store and opens it again, as a restarted process would. */
async function reopen(f: Fixture): Promise<Fixture> {
  await f.store.close();
  const store = await openPostgres({ dataDir: f.dataDir });
  stores.push(store);
  return { ...f, store, content: await openFsContentStore({ root: f.contentDir }) };
}

const driverFor = (f: Fixture, over: Partial<BatchDriverOptions> = {}) =>
  createBatchDriver({ db: f.store.db, chain: devnet, content: f.content, attributorKey: ATTRIBUTOR_KEY, sign: keySigner(SIGNER_KEYS), ...over });

/** The current epoch, after serving `n` inferences in it. */
async function serveInCurrentEpoch(n: number): Promise<bigint> {
  const settled = await chain.serve(Array.from({ length: n }, (_, i) => ({ label: `driver ${++served}`, tokensIn: 100 + i * 37, tokensOut: 20 + i * 11 })));
  return settled[0]!.epoch;
}

/** The batch for `epoch` over every epoch since the last posted batch: each inference 2/3 alice, 1/3 bob. */
async function batchFor(epoch: bigint, previousEpoch?: bigint): Promise<ComputedPayoutBatch> {
  const from = (previousEpoch ?? (await getSettlementState(devnet)).lastPostedEpoch) + 1n;
  const pools = await chainPools(devnet, { fromEpoch: from, toEpoch: epoch });
  const weights = quantizeWeights([
    { contributionId: 1n, account: ALICE, score: 2 },
    { contributionId: 2n, account: BOB, score: 1 },
  ]);
  const entries = pools.flatMap((p) => weights.map((w) => ({ requestId: p.requestId, ...w })));
  return buildPayoutBatch({ scores: { epoch, entries }, pools, previous: [], fromEpoch: from });
}

/** Every BatchPosted log of `epoch` on chain: "posted exactly once" means one per nonce used. */
async function postsOf(epoch: bigint) {
  return devnet.conn.publicClient.getLogs({
    address: devnet.deployment.contracts.AttributionSettlement,
    event: getAbiItem({ abi: AttributionSettlementAbi, name: 'BatchPosted' }),
    args: { epoch },
    fromBlock: devnet.deployment.deploymentBlock.number,
    toBlock: 'latest',
    strict: true,
  });
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the promise to reject');
}

const crash = (at: BatchDriverFaultPoint) => (point: BatchDriverFaultPoint) => {
  if (point === at) throw new Error(`crash ${point}`);
};

describe('drive()', () => {
  it('takes a batch from pending to confirmed, with an audit row per step and its files in the content store', async () => {
    const f = await fresh();
    const epoch = await serveInCurrentEpoch(3);
    await chain.endEpoch(epoch);
    const batch = await batchFor(epoch);
    expect(batch.total).toBeGreaterThan(0n);
    const r = await driverFor(f).drive(batch);
    expect({ epoch: r.epoch, nonce: r.nonce, status: r.status, recovered: r.recovered }).toEqual({ epoch, nonce: 0n, status: 'confirmed', recovered: false });
    expect([r.posted!.root, r.posted!.total, r.posted!.scoreFileHash]).toEqual([batch.root, batch.total, batch.scoreFileHash]);
    expect(r.posted!.rolledOver).toBe(r.posted!.available - batch.total);
    const row = (await getPayoutBatch(f.store.db, epoch, 0n))!;
    expect([row.status, row.txHash, row.signatures.length]).toEqual(['confirmed', r.txHash, 2]);
    expect((await listPayoutBatchEvents(f.store.db, epoch, 0n)).map((e) => `${e.fromStatus}→${e.toStatus}`)).toEqual(['null→pending', 'pending→signed', 'signed→posted', 'posted→confirmed']);
    const onChain = (await getPostedBatch(devnet, epoch))!;
    expect([onChain.root, onChain.total, onChain.scoreFileHash, onChain.nonce]).toEqual([batch.root, batch.total, batch.scoreFileHash, 0n]);
    const files = (await loadPayoutBatchFiles(f.content, epoch, batch.root))!;
    expect([files.total, files.scoreFileHash, files.leaves]).toEqual([batch.total, batch.scoreFileHash, batch.tree.leaves]);
    expect(Buffer.concat(await files.readScoreFile())).toEqual(Buffer.concat(batch.scoreFile));
    // Driving it again sends nothing.
    const again = await driverFor(f).drive(batch);
    expect([again.status, again.txHash, again.recovered]).toEqual(['confirmed', r.txHash, true]);
    expect(await postsOf(epoch)).toHaveLength(1);
  });

  it('refuses an epoch that has not ended, recording nothing', async () => {
    const f = await fresh();
    const epoch = await serveInCurrentEpoch(1);
    const e = await rejection(driverFor(f).drive(await batchFor(epoch)));
    expect(e).toBeInstanceOf(BatchDriverError);
    expect((e as BatchDriverError).retryable).toBe(true);
    expect(e.message.split('\n')[0]).toBe(`epoch ${epoch} has not ended yet (the current epoch is ${epoch})`);
    expect(await listPayoutBatches(f.store.db)).toEqual([]);
    await chain.endEpoch(epoch);
    expect((await driverFor(f).drive(await batchFor(epoch))).status).toBe('confirmed');
  });
});

describe('crashes', () => {
  const points: { at: BatchDriverFaultPoint; statusAfterCrash: string; recovered: boolean }[] = [
    { at: 'after-create', statusAfterCrash: 'pending', recovered: false },
    { at: 'after-sign', statusAfterCrash: 'signed', recovered: false },
    { at: 'after-send', statusAfterCrash: 'signed', recovered: true },
    { at: 'after-mark-posted', statusAfterCrash: 'posted', recovered: true },
    { at: 'after-confirm', statusAfterCrash: 'confirmed', recovered: true },
  ];
  for (const { at, statusAfterCrash, recovered } of points) {
    it(`a crash ${at}, then a restart: the batch is posted exactly once and confirmed`, async () => {
      let f = await fresh();
      const epoch = await serveInCurrentEpoch(2);
      await chain.endEpoch(epoch);
      const batch = await batchFor(epoch);
      await rejection(driverFor(f, { faults: crash(at) }).drive(batch));
      expect((await getPayoutBatch(f.store.db, epoch, 0n))!.status).toBe(statusAfterCrash);
      f = await reopen(f);
      // A restarted process first resumes what the store holds, then drives the epoch's batch again.
      const resumed = await driverFor(f).resume();
      if (statusAfterCrash === 'confirmed') expect(resumed).toEqual([]);
      else expect(resumed.map((r) => [r.epoch, r.status, r.recovered])).toEqual([[epoch, 'confirmed', recovered]]);
      const r = await driverFor(f).drive(batch);
      expect([r.status, r.nonce]).toEqual(['confirmed', 0n]);
      const posts = await postsOf(epoch);
      expect(posts).toHaveLength(1);
      expect(posts[0]!.args.root).toBe(batch.root);
      const row = (await getPayoutBatch(f.store.db, epoch, 0n))!;
      expect([row.status, row.txHash]).toEqual(['confirmed', posts[0]!.transactionHash]);
      const steps = (await listPayoutBatchEvents(f.store.db, epoch, 0n)).map((e) => e.toStatus);
      expect(steps).toEqual(['pending', 'signed', 'posted', 'confirmed']);
    });
  }

  it('a driver process SIGKILLed after sending, then restarted: posted once, confirmed from the chain', async () => {
    const f = await fresh();
    await f.store.close(); // the child processes take the data dir
    const epoch = await serveInCurrentEpoch(2);
    await chain.endEpoch(epoch);
    const batch = await batchFor(epoch);
    const deployment = JSON.parse(JSON.stringify(devnet.deployment, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
    const base: DriverChildArgs = {
      dataDir: f.dataDir,
      contentDir: f.contentDir,
      rpcUrl: devnet.rpcUrl,
      deployment,
      scoreFile: toHex(Buffer.concat(batch.scoreFile)),
      pools: (await chainPools(devnet, { fromEpoch: batch.fromEpoch, toEpoch: epoch })).map((p) => ({ requestId: p.requestId, epoch: p.epoch.toString(), poolAmount: p.poolAmount.toString() })),
      fromEpoch: batch.fromEpoch.toString(),
    };
    const a = await child({ ...base, kill: 'after-send' });
    expect(a.signal, a.out).toBe('SIGKILL');
    expect(a.out).toMatch(new RegExp(`^fault after-send epoch ${epoch} nonce 0 tx 0x[0-9a-f]{64}$`, 'm'));
    const b = await child({ ...base, resume: true });
    expect(b.code, b.out).toBe(0);
    expect(b.out).toMatch(new RegExp(`^confirmed epoch ${epoch} nonce 0 recovered=true tx 0x[0-9a-f]{64}$`, 'm'));
    expect(await postsOf(epoch)).toHaveLength(1);
    const after = await openPostgres({ dataDir: f.dataDir });
    stores.push(after);
    expect((await getPayoutBatch(after.db, epoch, 0n))!.status).toBe('confirmed');
  });
});

/** Runs the driver child to completion or to its fault. */
function child(args: DriverChildArgs): Promise<{ out: string; code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'attribution/payouts/testing/driverChild.ts', JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (b) => (out += b));
    p.stderr.on('data', (b) => (out += b));
    const timer = setTimeout(() => p.kill('SIGKILL'), 90_000);
    p.on('error', reject);
    p.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ out, code, signal });
    });
  });
}

describe('refusals and reconciliation', () => {
  it('the previous batch still in its dispute window: the batch stays signed, and posts once the window is over', async () => {
    const f = await fresh();
    const first = await serveInCurrentEpoch(1);
    await chain.endEpoch(first);
    const second = await serveInCurrentEpoch(1);
    await chain.endEpoch(second);
    const d = driverFor(f);
    expect((await d.drive(await batchFor(first))).status).toBe('confirmed');
    const batch2 = await batchFor(second, first);
    const e = await rejection(d.drive(batch2));
    expect(e).toBeInstanceOf(BatchDriverError);
    expect((e as BatchDriverError).retryable).toBe(true);
    expect(e.message.split('\n')[0]).toMatch(new RegExp(`^cannot post the payout batch of epoch ${second} \\(nonce 0\\) yet: cannot post the payout batch of epoch ${second} \\(nonce 0\\): the batch of epoch ${first} is still in its dispute window until `));
    expect((await getPayoutBatch(f.store.db, second, 0n))!.status).toBe('signed');
    await chain.passDisputeWindow(first);
    expect((await d.resume()).map((r) => [r.epoch, r.status, r.recovered])).toEqual([[second, 'confirmed', false]]);
  });

  it('refuses a batch that does not cover every epoch since the newest batch, and covers a skipped epoch when asked', async () => {
    const f = await fresh();
    const skipped = await serveInCurrentEpoch(1);
    await chain.endEpoch(skipped);
    const epoch = await serveInCurrentEpoch(2);
    await chain.endEpoch(epoch);
    const last = (await getSettlementState(devnet)).lastPostedEpoch;
    expect(last).toBeLessThan(skipped);
    const e = await rejection(driverFor(f).drive(await batchFor(epoch, epoch - 1n)));
    expect(e.message.split('\n')[0]).toBe(`the payout batch of epoch ${epoch} covers epochs ${epoch}..${epoch}, but the chain's newest batch is for epoch ${last}, so it must cover ${last + 1n}..${epoch}`);
    expect(await listPayoutBatches(f.store.db)).toEqual([]);
    const both = await batchFor(epoch);
    expect(both.allocation.attributedInferences).toBe(3);
    const r = await driverFor(f).drive(both);
    expect([r.status, r.posted!.total, r.posted!.rolledOver]).toEqual(['confirmed', both.total, r.posted!.available - both.total]);
  });

  it('another batch took the nonce on chain: ours is marked failed with both roots, nothing is sent', async () => {
    const f = await fresh();
    const epoch = await serveInCurrentEpoch(1);
    await chain.endEpoch(epoch);
    const ours = await batchFor(epoch);
    await rejection(driverFor(f, { faults: crash('after-create') }).drive(ours));
    // Someone else posts a different batch for the epoch at nonce 0.
    const other = { epoch, nonce: 0n, root: `0x${'ab'.repeat(32)}` as const, total: 1n, scoreFileHash: ours.scoreFileHash, signerSetVersion: 1n };
    const sigs = await keySigner(SIGNER_KEYS)(other, { chainId: devnet.deployment.chainId, verifyingContract: devnet.deployment.contracts.AttributionSettlement });
    sigs.sort((a, b) => (BigInt(a.signer) < BigInt(b.signer) ? -1 : 1));
    const theirs = await postPayoutBatch(devnet, { key: ATTRIBUTOR_KEY, batch: other, signatures: sigs.map((s) => s.signature) });
    const e = await rejection(driverFor(f).resume());
    expect(e).toBeInstanceOf(BatchDriverError);
    expect(e.message.split('\n')[0]).toBe(
      `payout batch of epoch ${epoch} (nonce 0) was marked failed: nonce 0 of epoch ${epoch} was used on chain by another batch (root ${other.root}, total 1, tx ${theirs.txHash}); ours has root ${ours.root}, total ${ours.total}`,
    );
    const row = (await getPayoutBatch(f.store.db, epoch, 0n))!;
    expect(row.status).toBe('failed');
    expect(await postsOf(epoch)).toHaveLength(1);
  });

  it('a batch revoked on chain is marked revoked, and a corrected batch goes out under the next nonce', async () => {
    const f = await fresh();
    const epoch = await serveInCurrentEpoch(2);
    await chain.endEpoch(epoch);
    const prev = (await getSettlementState(devnet)).lastPostedEpoch;
    const wrong = await batchFor(epoch, prev);
    const d = driverFor(f);
    await d.drive(wrong);
    await revokePayoutBatch(devnet, { key: GUARDIAN_KEY, epoch, reason: 'scores were wrong' });
    // The corrected batch: everything to alice.
    const pools = await chainPools(devnet, { fromEpoch: prev + 1n, toEpoch: epoch });
    const fixed = buildPayoutBatch({
      scores: { epoch, entries: pools.map((p) => ({ requestId: p.requestId, contributionId: 1n, account: ALICE as Address, weight: 10n ** 18n })) },
      pools,
      previous: [],
      fromEpoch: prev + 1n,
    });
    const r = await d.drive(fixed);
    expect([r.status, r.nonce, r.recovered]).toEqual(['confirmed', 1n, false]);
    expect((await listPayoutBatches(f.store.db, { epoch })).map((b) => [b.nonce, b.status])).toEqual([
      [0n, 'revoked'],
      [1n, 'confirmed'],
    ]);
    expect((await postsOf(epoch)).map((l) => [l.args.nonce, l.args.root])).toEqual([
      [0n, wrong.root],
      [1n, fixed.root],
    ]);
    // A different batch while one is confirmed and not revoked is refused.
    await chain.passDisputeWindow(epoch);
    const e = await rejection(d.drive(wrong));
    expect(e.message.split('\n')[0]).toBe(`epoch ${epoch} already has a different confirmed batch in the store (nonce 1, root ${fixed.root}, total ${fixed.total})`);
  });
  it('a batch the contract refuses for good is marked failed; the recomputed batch takes the same nonce and goes out', async () => {
    const f = await fresh();
    const epoch = await serveInCurrentEpoch(2);
    await chain.endEpoch(epoch);
    const prev = (await getSettlementState(devnet)).lastPostedEpoch;
    const good = await batchFor(epoch, prev);
    // Computed from pools ten times what the router funded: more than the contract holds for the epoch.
    const pools = await chainPools(devnet, { fromEpoch: prev + 1n, toEpoch: epoch });
    const inflated = buildPayoutBatch({
      scores: { epoch, entries: pools.map((p) => ({ requestId: p.requestId, contributionId: 1n, account: ALICE as Address, weight: 10n ** 18n })) },
      pools: pools.map((p) => ({ ...p, poolAmount: p.poolAmount * 10n })),
      previous: [],
      fromEpoch: prev + 1n,
    });
    const d = driverFor(f);
    const e = await rejection(d.drive(inflated));
    expect(e).toBeInstanceOf(BatchDriverError);
    expect(e.message.split('\n')[0]).toMatch(new RegExp(`^payout batch of epoch ${epoch} \\(nonce 0\\) was marked failed: cannot post the payout batch of epoch ${epoch} \\(nonce 0\\): the batch pays [0-9.]+ OPEN, more than the [0-9.]+ OPEN available`));
    const r = await d.drive(good);
    expect([r.status, r.nonce]).toEqual(['confirmed', 0n]);
    expect((await listPayoutBatches(f.store.db, { epoch })).map((b) => [b.nonce, b.status, b.root])).toEqual([
      [0n, 'failed', inflated.root],
      [0n, 'confirmed', good.root],
    ]);
    expect((await getPayoutBatch(f.store.db, epoch, 0n))!.root).toBe(good.root);
    expect((await postsOf(epoch)).map((l) => l.args.root)).toEqual([good.root]);
  });
});
