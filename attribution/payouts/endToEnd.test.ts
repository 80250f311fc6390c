// Two epochs of payouts on the devnet, end to end: inferences settled through InferenceRouter, each epoch
// ended on the chain's clock, scores quantised into a canonical score file, the batch allocated, stored,
// signed by two signers (the second rebuilds it from the published score file and the chain's events and
// signs only if it matches), posted by the crash-safe driver, audited against the chain, and claimed after
// the dispute window with claim and claimFor. Every wei is accounted for: what the accounts claimed plus
// what rolled over equals what the router put into the pools.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getAbiItem, type Address } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { ANVIL_KEYS, AttributionSettlementAbi, OpenTokenAbi, type Devnet } from '../../contracts/index.ts';
import { startTestDevnet } from '../../contracts/testing/devnet.ts';
import { openFsContentStore, openPostgres, type ContentStore, type OperationalStore } from '../../schema/index.ts';
import type { InferencePool } from './allocate.ts';
import { accountPayout } from './accountPayout.ts';
import { createBatchDriver, type BatchDriver } from './batchDriver.ts';
import { loadPayoutBatchFiles } from './batchFiles.ts';
import { signPayoutBatch } from './batchSigning.ts';
import { buildPayoutBatch, type ComputedPayoutBatch } from './buildBatch.ts';
import { chainPools } from './chainPools.ts';
import type { PayoutLeaf } from './cumulativeLeaves.ts';
import { PayoutMismatchError } from './errors.ts';
import { quantizeWeights, type ContributionScore } from './quantizeWeights.ts';
import type { ScoreEntry } from './scoreFile.ts';
import { claimPayout, claimPayoutFor, getClaimed, getPostedBatch, getSettlementState } from '../../contracts/index.ts';
import { ATTRIBUTOR_KEY, SIGNER_KEYS, pgliteTemplate, requestIdOf, setUpPayoutChain, type PayoutChain, type PgliteTemplate } from './testing/payoutChain.ts';
import { cosignPayoutBatch } from './verifyBatch.ts';
import { verifyPostedBatch } from './verifyPostedBatch.ts';

const ALICE_KEY = ANVIL_KEYS[5];
const BOB_KEY = ANVIL_KEYS[6];
const CAROL_KEY = ANVIL_KEYS[8];
const STRANGER_KEY = ANVIL_KEYS[0];
const ALICE = privateKeyToAddress(ALICE_KEY);
const BOB = privateKeyToAddress(BOB_KEY);
const CAROL = privateKeyToAddress(CAROL_KEY);

let dir: string;
let devnet: Devnet;
let chain: PayoutChain;
let templates: PgliteTemplate;
let store: OperationalStore;
let content: ContentStore;
let driver: BatchDriver;

/** The attribution scores of each inference: contribution → (account, score). */
const contributions: Record<number, Address> = { 1: ALICE, 2: BOB, 3: CAROL, 4: CAROL };
function scoreFileEntries(scores: Record<string, Record<number, number>>): ScoreEntry[] {
  return Object.entries(scores).flatMap(([label, byContribution]) => {
    const list: ContributionScore[] = Object.entries(byContribution).map(([c, score]) => ({ contributionId: BigInt(c), account: contributions[Number(c)]!, score }));
    return quantizeWeights(list).map((w) => ({ requestId: requestIdOf(label), ...w }));
  });
}

/**
 * What the second signer does: fetch the published score file, take the pools from the chain's own events
 * and the previous leaves from the files of the newest batch on chain, rebuild, and sign only a match.
 */
async function sign(message: Parameters<typeof signPayoutBatch>[2], domain: Parameters<typeof signPayoutBatch>[1]) {
  const file = (await loadPayoutBatchFiles(content, message.epoch, message.root))!;
  const last = (await getSettlementState(devnet)).lastPostedEpoch;
  const prev = last === 0n ? undefined : (await getPostedBatch(devnet, last))!;
  const previous: PayoutLeaf[] = prev ? (await loadPayoutBatchFiles(content, last, prev.root))!.leaves : [];
  const pools = await chainPools(devnet, { fromEpoch: last + 1n, toEpoch: message.epoch });
  return [
    await signPayoutBatch(SIGNER_KEYS[0]!, domain, message),
    await cosignPayoutBatch({ key: SIGNER_KEYS[1]!, domain, message, scores: await file.readScoreFile(), pools, previous, fromEpoch: last + 1n, previousCumulativeTotal: prev?.cumulativeTotal ?? 0n }),
  ];
}

let batch1: ComputedPayoutBatch;
let batch2: ComputedPayoutBatch;
let pools1: InferencePool[];
let pools2: InferencePool[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-payouts-e2e-'));
  devnet = await startTestDevnet(dir);
  chain = await setUpPayoutChain(devnet);
  templates = pgliteTemplate();
  store = await openPostgres({ dataDir: await templates.freshDataDir() });
  content = await openFsContentStore({ root: join(dir, 'content') });
  driver = createBatchDriver({
    db: store.db,
    chain: devnet,
    content,
    attributorKey: ATTRIBUTOR_KEY,
    sign,
  });
});
afterAll(async () => {
  await store?.close();
  await devnet?.stop();
  templates?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const balanceOf = (a: Address) => devnet.conn.publicClient.readContract({ address: devnet.deployment.contracts.OpenToken, abi: OpenTokenAbi, functionName: 'balanceOf', args: [a] });

describe('two epochs from inferences to claimed payouts', () => {
  it('epoch 1: settles, allocates, co-signs after checking, posts and audits the batch', async () => {
    const settled = await chain.serve([
      { label: 'e1 a', tokensIn: 1200, tokensOut: 800 },
      { label: 'e1 b', tokensIn: 64, tokensOut: 4096 },
      { label: 'e1 c', tokensIn: 333, tokensOut: 77 },
      { label: 'e1 d', tokensIn: 1, tokensOut: 1 },
    ]);
    const epoch = settled[0]!.epoch;
    expect(epoch).toBe(1n);
    await chain.endEpoch(epoch);
    pools1 = await chainPools(devnet, { fromEpoch: 1n, toEpoch: 1n });
    expect(pools1.map((p) => p.poolAmount)).toEqual(settled.map((s) => s.poolAmount));
    const entries = scoreFileEntries({
      'e1 a': { 1: 2, 2: 1 },
      'e1 b': { 2: 0.25, 3: 0.5, 4: 0.25 },
      'e1 c': { 1: -3, 3: -0.1 }, // no positive attribution: its pool rolls over
      'e1 d': { 1: 1, 2: 1, 3: 1 }, // 1/3 each of a pool of a few wei
    });
    batch1 = buildPayoutBatch({ scores: { epoch, entries }, pools: pools1, previous: [] });
    expect(batch1.allocation.unattributed).toEqual([requestIdOf('e1 c')]);

    const r = await driver.drive(batch1);
    expect(r.status).toBe('confirmed');
    const poolC = pools1.find((p) => p.requestId === requestIdOf('e1 c'))!.poolAmount;
    expect(r.posted!.available).toBe(pools1.reduce((s, p) => s + p.poolAmount, 0n));
    expect(r.posted!.rolledOver).toBe(poolC);
    expect(r.posted!.total + r.posted!.rolledOver).toBe(r.posted!.available);
    const audit = await verifyPostedBatch(devnet, { epoch, scores: batch1.scoreFile, pools: pools1, previous: [] });
    expect(audit.ok).toBe(true);
  });

  it('an auditor missing a settled inference, or holding other scores, gets a mismatch', async () => {
    const missing = await verifyPostedBatch(devnet, { epoch: 1n, scores: batch1.scoreFile, pools: pools1.filter((p) => p.requestId !== requestIdOf('e1 c')), previous: [] });
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.error.field).toBe('poolTotal');
    const other = buildPayoutBatch({ scores: { epoch: 1n, entries: scoreFileEntries({ 'e1 a': { 1: 1 } }) }, pools: pools1, previous: [] });
    const wrong = await verifyPostedBatch(devnet, { epoch: 1n, scores: other.scoreFile, pools: pools1, previous: [] });
    expect(wrong.ok).toBe(false);
    if (!wrong.ok) expect(wrong.error).toBeInstanceOf(PayoutMismatchError);
    if (!wrong.ok) expect(wrong.error.field).toBe('scoreFileHash');
  });

  it('epoch 2: alice claims batch 1 meanwhile; batch 2 adds to the cumulative leaves and pays the rest by claim and claimFor', async () => {
    await chain.passDisputeWindow(1n);
    const a1 = batch1.tree.proof(ALICE)!;
    const aliceBefore = await balanceOf(ALICE);
    const c1 = await claimPayout(devnet, { key: ALICE_KEY, cumulativeAmount: a1.cumulative, proof: a1.proof });
    expect(c1.amount).toBe(a1.cumulative);

    const settled = await chain.serve([
      { label: 'e2 a', tokensIn: 3000, tokensOut: 10 },
      { label: 'e2 b', tokensIn: 222, tokensOut: 333 },
    ]);
    const epoch = settled[0]!.epoch;
    expect(epoch).toBe(2n);
    await chain.endEpoch(epoch);
    pools2 = await chainPools(devnet, { fromEpoch: 2n, toEpoch: 2n });
    const previous = (await loadPayoutBatchFiles(content, 1n, batch1.root))!.leaves;
    batch2 = buildPayoutBatch({ scores: { epoch, entries: scoreFileEntries({ 'e2 a': { 1: 5, 3: 1 }, 'e2 b': { 2: 1 } }) }, pools: pools2, previous, fromEpoch: 2n });
    const r = await driver.drive(batch2);
    expect(r.status).toBe('confirmed');
    expect(r.posted!.cumulativeTotal).toBe(batch2.cumulativeTotal);
    expect((await verifyPostedBatch(devnet, { epoch, scores: batch2.scoreFile, pools: pools2, previous })).ok).toBe(true);

    // In batch 2's dispute window, bob can claim batch 1's leaf; batch 2's is pending.
    const bobNow = await accountPayout(devnet, content, BOB);
    expect(bobNow.claimable?.epoch).toBe(1n);
    expect(bobNow.claimable?.cumulative).toBe(batch1.tree.proof(BOB)!.cumulative);
    expect(bobNow.claimableNow).toBe(batch1.tree.proof(BOB)!.cumulative);
    expect([bobNow.pending?.epoch, bobNow.pending?.cumulative]).toEqual([2n, batch2.tree.proof(BOB)!.cumulative]);
    expect((await accountPayout(devnet, content, ALICE)).claimableNow).toBe(0n);

    await chain.passDisputeWindow(2n);
    const bobLater = await accountPayout(devnet, content, BOB);
    expect([bobLater.claimable?.epoch, bobLater.pending, bobLater.claimable?.proof]).toEqual([2n, undefined, batch2.tree.proof(BOB)!.proof]);
    const bobBefore = await balanceOf(BOB);
    const carolBefore = await balanceOf(CAROL);
    const a2 = batch2.tree.proof(ALICE)!;
    const b2 = batch2.tree.proof(BOB)!;
    const k2 = batch2.tree.proof(CAROL)!;
    const c2 = await claimPayout(devnet, { key: ALICE_KEY, cumulativeAmount: a2.cumulative, proof: a2.proof });
    expect(c2.amount).toBe(a2.cumulative - a1.cumulative);
    const forBob = await claimPayoutFor(devnet, { key: STRANGER_KEY, account: BOB, cumulativeAmount: bobLater.claimable!.cumulative, proof: bobLater.claimable!.proof });
    expect(forBob.caller).toBe(privateKeyToAddress(STRANGER_KEY));
    const forCarol = await claimPayout(devnet, { key: CAROL_KEY, cumulativeAmount: k2.cumulative, proof: k2.proof });

    // Every account got exactly its cumulative leaf, in tokens.
    expect(await balanceOf(ALICE)).toBe(aliceBefore + a2.cumulative);
    expect(await balanceOf(BOB)).toBe(bobBefore + b2.cumulative);
    expect(await balanceOf(CAROL)).toBe(carolBefore + k2.cumulative);
    for (const [who, leaf] of [[ALICE, a2], [BOB, b2], [CAROL, k2]] as const) expect(await getClaimed(devnet, who)).toBe(leaf.cumulative);
    expect(forCarol.cumulativeClaimed).toBe(k2.cumulative);

    // Conservation: claims + what rolled over = every pool the router funded, to the wei.
    const claimedLogs = await devnet.conn.publicClient.getLogs({
      address: devnet.deployment.contracts.AttributionSettlement,
      event: getAbiItem({ abi: AttributionSettlementAbi, name: 'Claimed' }),
      fromBlock: devnet.deployment.deploymentBlock.number,
      toBlock: 'latest',
      strict: true,
    });
    const claimedSum = claimedLogs.reduce((s, l) => s + l.args.amount, 0n);
    const poolSum = [...pools1, ...pools2].reduce((s, p) => s + p.poolAmount, 0n);
    const state = await getSettlementState(devnet);
    const rolledOver = r.posted!.rolledOver; // the carry after batch 2: epoch 1's unattributed pool, carried on
    expect(claimedSum).toBe(batch2.cumulativeTotal);
    expect(claimedSum + rolledOver).toBe(poolSum);
    expect(state.totalFunded).toBe(poolSum);
    expect(state.carry).toBe(rolledOver);
    expect(rolledOver).toBe(pools1.find((p) => p.requestId === requestIdOf('e1 c'))!.poolAmount);
    expect(await balanceOf(devnet.deployment.contracts.AttributionSettlement)).toBe(rolledOver);
    expect((await getPostedBatch(devnet, 2n))!.prevEpoch).toBe(1n);
  });
});
