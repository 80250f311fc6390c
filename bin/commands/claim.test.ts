// `tributary claim` on a devnet with one claimable and one pending payout batch: the key's own claim, a
// claim for another account (claimFor), nothing left to claim, an account with only a pending leaf, and the
// errors; and GET /proofs/{address} on the platform's HTTP server, which serves what claim pays.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import type { Address } from 'viem';
import { OpenTokenAbi, TributaryError, getClaimed, getPostedBatch, manifestPath, type Devnet } from '../../contracts/index.ts';
import { startTestDevnet } from '../../contracts/testing/devnet.ts';
import { openFsContentStore, type ContentStore } from '../../schema/index.ts';
import { accountPayout } from '../../attribution/index.ts';
import { proofsJson } from '../../attribution/index.ts';
import { ALICE, ALICE_KEY, BOB, CAROL, CAROL_KEY, STRANGER, STRANGER_KEY, leafOf, setUpPostedPayouts, type PostedPayouts } from '../../attribution/http/testing/postedPayouts.ts';
import { remoteChainEnv } from '../testing/remoteEnv.ts';
import { ConfigError } from '../config.ts';
import { startHttpServer } from '../server.ts';
import { claimSummary, registerClaimCommand } from './claim.ts';

let base: string;
let dataDir: string;
let devnet: Devnet;
let content: ContentStore;
let fixture: PostedPayouts;
let env: Record<string, string>;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'tributary-claim-cli-'));
  dataDir = join(base, 'data');
  devnet = await startTestDevnet(dataDir);
  content = await openFsContentStore({ root: join(dataDir, 'content') });
  fixture = await setUpPostedPayouts(devnet, content);
  env = remoteChainEnv(devnet, dataDir, { CONTRIBUTOR_KEY: ALICE_KEY });
});
afterAll(async () => {
  await devnet?.stop();
  rmSync(base, { recursive: true, force: true });
});

async function run(args: string[], e: Record<string, string> = env): Promise<string> {
  let out = '';
  const program = registerClaimCommand(new Command().exitOverride(), { env: e, out: (t) => (out += t), log: () => {} }).parent!;
  await program.parseAsync(['node', 'tributary', 'claim', ...args]);
  return out;
}

const balanceOf = (a: Address) => devnet.conn.publicClient.readContract({ address: devnet.deployment.contracts.OpenToken, abi: OpenTokenAbi, functionName: 'balanceOf', args: [a] });
const iso = (s: bigint) => new Date(Number(s) * 1000).toISOString();
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('tributary claim', () => {
  it("claims the key's claimable leaf and says what is still pending and when it opens", async () => {
    const [a1, a2] = [leafOf(fixture.batch1, ALICE), leafOf(fixture.batch2, ALICE)];
    const opensAt = iso((await getPostedBatch(devnet, 2n))!.claimableAt);
    const before = await balanceOf(ALICE);
    const out = await run([]);
    expect(await balanceOf(ALICE)).toBe(before + a1);
    expect(await getClaimed(devnet, ALICE)).toBe(a1);
    expect(out).toMatch(
      new RegExp(
        `^claimed [0-9.,]+ OPEN for ${ALICE} against epoch 1's payout batch in tx 0x[0-9a-f]{64} \\(block \\d+\\)\\n` +
          `  ${ALICE} has claimed [0-9.,]+ OPEN in total\\n` +
          `  pending: [0-9.,]+ OPEN more in epoch 2's payout batch, in its dispute window until ${esc(opensAt)}; claim again after that\\n$`,
      ),
    );
    // The amounts are printed exactly (formatOpen), not rounded.
    expect(out).toContain(`claimed ${formatted(a1)} for`);
    expect(out).toContain(`pending: ${formatted(a2 - a1)} more`);
    expect(a1).toBeGreaterThan(0n);
  });

  it('with nothing left to claim says so and exits normally, still naming the pending batch', async () => {
    const a1 = leafOf(fixture.batch1, ALICE);
    const out = await run([]);
    expect(out.split('\n')[0]).toBe(`nothing to claim for ${ALICE}: the ${formatted(a1)} it earned up to epoch 1's payout batch are claimed already`);
    expect(out).toContain("pending: ");
    expect(await getClaimed(devnet, ALICE)).toBe(a1);
  });

  it('--account claims for another account (claimFor): the OPEN goes to it, the key pays the gas; --json', async () => {
    const b1 = leafOf(fixture.batch1, BOB);
    const before = await balanceOf(BOB);
    const out = await run(['--account', BOB.toLowerCase(), '--json'], { ...env, CONTRIBUTOR_KEY: STRANGER_KEY });
    expect(await balanceOf(BOB)).toBe(before + b1);
    const j = JSON.parse(out);
    expect(j).toMatchObject({
      account: BOB.toLowerCase(),
      claimed: b1.toString(),
      claimable: { epoch: '1', cumulative: b1.toString(), amount: '0' },
      pending: { epoch: '2', cumulative: leafOf(fixture.batch2, BOB).toString(), amount: (leafOf(fixture.batch2, BOB) - b1).toString() },
      claim: { epoch: '1', caller: STRANGER.toLowerCase(), amount: b1.toString() },
    });
    expect(j.claim.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(await getClaimed(devnet, STRANGER)).toBe(0n);
  });

  it('an account with only a pending leaf has nothing to claim yet', async () => {
    const c2 = leafOf(fixture.batch2, CAROL);
    const out = await run([], { ...env, CONTRIBUTOR_KEY: CAROL_KEY });
    expect(out).toBe(
      `nothing to claim for ${CAROL}: it earned nothing up to epoch 1's payout batch\n` +
        `  pending: ${formatted(c2)} more in epoch 2's payout batch, in its dispute window until ${iso((await getPostedBatch(devnet, 2n))!.claimableAt)}; claim again after that\n`,
    );
    expect(await getClaimed(devnet, CAROL)).toBe(0n);
  });

  it('says when no batch is claimable at all', () => {
    const text = claimSummary({ account: CAROL, claimed: 0n, claimableNow: 0n, claimable: undefined, pending: undefined }, undefined, { claimableEpoch: 0n });
    expect(text).toBe(`nothing to claim for ${CAROL}: no payout batch is claimable yet\n`);
  });

  it('refuses a malformed --account, a missing key and a data dir without the batch files, in sentences', async () => {
    await expect(run(['--account', '0x12'])).rejects.toThrow('"0x12" is not an address (0x followed by 40 hex digits)');
    const { CONTRIBUTOR_KEY: _, ...noKey } = env;
    const e = await run([], noKey).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toContain('CONTRIBUTOR_KEY: required to sign `tributary claim` when RPC_URL is set');

    // Another data dir for the same deployment, without the attributor's batch files.
    const other = join(base, 'other');
    mkdirSync(other, { recursive: true });
    copyFileSync(manifestPath(dataDir), manifestPath(other));
    const missing = await run(['--account', BOB], { ...env, TRIBUTARY_DATA_DIR: other }).catch((err: unknown) => err);
    expect(missing).toBeInstanceOf(TributaryError);
    expect((missing as Error).message).toContain(`the payout batch of epoch 1 (root ${fixture.batch1.root}) is on chain but its files are not in this content store`);

    // Through the installed bin: the sentence on stderr and exit code 2.
    const r = spawnSync(process.execPath, ['bin/tributary.mjs', 'claim'], { encoding: 'utf8', env: { ...process.env, ...env, TRIBUTARY_DATA_DIR: other } });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('tributary: the payout batch of epoch 1');
  });
});

describe('GET /proofs/{address} on the platform server', () => {
  it('is mounted when the server has the content store, and serves what accountPayout gives', async () => {
    const http = await startHttpServer({ conn: devnet.conn, deployment: devnet.deployment, checks: [], content }, 0);
    try {
      const res = await fetch(`http://127.0.0.1:${http.port}/proofs/${CAROL}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual(proofsJson(await accountPayout(devnet, content, CAROL)));
      const bad = await fetch(`http://127.0.0.1:${http.port}/proofs/carol`);
      expect([bad.status, await bad.json()]).toEqual([400, { error: '"carol" is not an address (0x followed by 40 hex digits)' }]);
      expect((await fetch(`http://127.0.0.1:${http.port}/healthz`)).status).toBe(200);
    } finally {
      await http.close();
    }
    const without = await startHttpServer({ conn: devnet.conn, deployment: devnet.deployment, checks: [] }, 0);
    try {
      expect((await fetch(`http://127.0.0.1:${without.port}/proofs/${CAROL}`)).status).toBe(404);
    } finally {
      await without.close();
    }
  });
});

function formatted(wei: bigint): string {
  // formatOpen, spelled out here so the test checks the exact text rather than reusing the code under test.
  const whole = wei / 10n ** 18n;
  const frac = (wei % 10n ** 18n).toString().padStart(18, '0').replace(/0+$/, '');
  return `${whole.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${frac ? `.${frac}` : ''} OPEN`;
}
