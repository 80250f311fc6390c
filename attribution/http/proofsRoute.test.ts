// GET /proofs/{address} against a devnet with one claimable and one pending payout batch: the proof it
// serves is the one the contract pays, the amounts follow claims and the dispute window, and malformed
// requests and missing batch files are answered with the reason.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Address, Hex } from 'viem';
import { claimPayout, getEpochClock, getPostedBatch, type Devnet } from '../../contracts/index.ts';
import { startTestDevnet } from '../../contracts/testing/devnet.ts';
import { openFsContentStore, type ContentStore } from '../../schema/index.ts';
import { verifyPayoutProof } from '../payouts/payoutTree.ts';
import { proofsRoute, type ProofsJson } from './proofsRoute.ts';
import { ALICE, ALICE_KEY, BOB, CAROL, STRANGER, leafOf, setUpPostedPayouts, type PostedPayouts } from './testing/postedPayouts.ts';

let dir: string;
let devnet: Devnet;
let content: ContentStore;
let fixture: PostedPayouts;
const servers: Server[] = [];
let base: string;
const errors: unknown[] = [];

async function serve(store: ContentStore): Promise<string> {
  const route = proofsRoute({ chain: devnet, content: store }, { onError: (e) => errors.push(e) });
  const server = createServer((req, res) => {
    void route(req, res, new URL(req.url!, 'http://x').pathname).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-proofs-'));
  devnet = await startTestDevnet(join(dir, 'data'));
  content = await openFsContentStore({ root: join(dir, 'content') });
  fixture = await setUpPostedPayouts(devnet, content);
  base = await serve(content);
});
afterAll(async () => {
  for (const s of servers) s.close();
  await devnet?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const get = async (path: string, init?: RequestInit, at = base) => {
  const res = await fetch(`${at}${path}`, init);
  return { status: res.status, headers: res.headers, body: (await res.json().catch(() => undefined)) as any };
};
const proofs = async (a: string) => {
  const r = await get(`/proofs/${a}`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body as ProofsJson;
};
const iso = (s: bigint) => new Date(Number(s) * 1000).toISOString();

describe('GET /proofs/{address}', () => {
  it("serves the claimable leaf with a proof the contract pays, and the pending batch's addition", async () => {
    const { batch1, batch2 } = fixture;
    const [posted1, posted2] = [(await getPostedBatch(devnet, 1n))!, (await getPostedBatch(devnet, 2n))!];
    const a1 = leafOf(batch1, ALICE);
    const a2 = leafOf(batch2, ALICE);
    expect(a1).toBeGreaterThan(0n);
    expect(a2).toBeGreaterThan(a1);
    const before = await proofs(ALICE);
    expect(before).toEqual({
      account: ALICE.toLowerCase(),
      claimed: '0',
      claimable: { epoch: '1', root: batch1.root, cumulative: a1.toString(), amount: a1.toString(), proof: batch1.tree.proof(ALICE)!.proof, claimableAt: iso(posted1.claimableAt) },
      pending: { epoch: '2', root: batch2.root, cumulative: a2.toString(), amount: (a2 - a1).toString(), opensAt: iso(posted2.claimableAt) },
    });
    expect(verifyPayoutProof({ root: batch1.root, account: ALICE, cumulative: a1, proof: before.claimable!.proof as Hex[] })).toBe(true);

    // The served proof is what the contract pays; afterwards nothing is claimable until epoch 2 opens.
    const paid = await claimPayout(devnet, { key: ALICE_KEY, cumulativeAmount: BigInt(before.claimable!.cumulative), proof: before.claimable!.proof as Hex[] });
    expect(paid.amount).toBe(a1);
    const after = await proofs(ALICE.toLowerCase());
    expect([after.claimed, after.claimable?.amount, after.claimable?.cumulative, after.pending?.amount]).toEqual([a1.toString(), '0', a1.toString(), (a2 - a1).toString()]);
  });

  it('an account only in the pending batch has nothing claimable; one in neither has nothing at all', async () => {
    const carol = await proofs(CAROL.toUpperCase().replace('0X', '0x'));
    expect(carol.account).toBe(CAROL.toLowerCase());
    expect(carol.claimable).toBeNull();
    expect(carol.pending).toMatchObject({ epoch: '2', cumulative: leafOf(fixture.batch2, CAROL).toString(), amount: leafOf(fixture.batch2, CAROL).toString() });
    expect(await proofs(STRANGER)).toEqual({ account: STRANGER.toLowerCase(), claimed: '0', claimable: null, pending: null });
  });

  it('answers 400 with the reason for a malformed address, 405 for other methods, and leaves other paths alone', async () => {
    expect(await get('/proofs/0x1234')).toMatchObject({ status: 400, body: { error: '"0x1234" is not an address (0x followed by 40 hex digits)' } });
    expect(await get(`/proofs/${BOB.slice(2)}`)).toMatchObject({ status: 400, body: { error: `"${BOB.slice(2)}" is not an address (0x followed by 40 hex digits)` } });
    expect(await get('/proofs/%ZZ')).toMatchObject({ status: 400, body: { error: '"%ZZ" is not an address (0x followed by 40 hex digits)' } });
    expect(await get('/proofs/')).toMatchObject({ status: 400, body: { error: 'the path needs an address: GET /proofs/0x… (0x followed by 40 hex digits)' } });
    expect(await get(`/proofs/${BOB}/extra`)).toMatchObject({ status: 400 });
    const post = await get(`/proofs/${BOB}`, { method: 'POST' });
    expect(post).toMatchObject({ status: 405, body: { error: 'use GET /proofs/{address}, not POST' } });
    expect(post.headers.get('allow')).toBe('GET');
    expect((await get('/proofsx')).status).toBe(404);
  });

  it('answers 503 naming the batch when its files are not in the content store', async () => {
    const empty = await openFsContentStore({ root: join(dir, 'empty-content') });
    const r = await get(`/proofs/${BOB}`, undefined, await serve(empty));
    expect(r.status).toBe(503);
    expect(r.body).toEqual({ error: `the payout batch of epoch 1 (root ${fixture.batch1.root}) is on chain but its files are not in this content store`, retryable: false });
    expect(errors).toHaveLength(1);
  });

  it('once the dispute window of epoch 2 passes, its leaf is the claimable one and nothing is pending', async () => {
    await fixture.chain.passDisputeWindow(2n);
    expect((await getEpochClock(devnet)).currentEpoch).toBe(3n);
    const alice = await proofs(ALICE);
    const [a1, a2] = [leafOf(fixture.batch1, ALICE), leafOf(fixture.batch2, ALICE)];
    expect(alice.claimable).toMatchObject({ epoch: '2', cumulative: a2.toString(), amount: (a2 - a1).toString(), proof: fixture.batch2.tree.proof(ALICE)!.proof });
    expect(alice.pending).toBeNull();
    const bob = await proofs(BOB as Address);
    expect(bob.claimable).toMatchObject({ epoch: '2', amount: leafOf(fixture.batch2, BOB).toString() });
  });
});
