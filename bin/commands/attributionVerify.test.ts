// `tributary attribution verify` on a devnet with posted payout batches: the command indexes the chain into
// the data dir's chDB, takes the pools from there, rebuilds each batch from its stored files and compares it
// with the chain (posted) or with its own files (proposed, --root). Matches exit 0; a batch posted from
// tampered pools, or a score file naming an inference that was never settled, exit 1 naming the field; an
// epoch without a batch, a revoked batch and missing files exit 2. While `up` holds the chDB, the pools
// come from the chain.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { TributaryError, revokePayoutBatch, type Devnet } from '../../contracts/index.ts';
import { startTestDevnet } from '../../contracts/testing/devnet.ts';
import { openFsContentStore, type ContentStore } from '../../schema/index.ts';
import { buildPayoutBatch, chainPools, storePayoutBatchFiles, type ComputedPayoutBatch } from '../../attribution/index.ts';
import { GUARDIAN_KEY, requestIdOf } from '../../attribution/payouts/testing/payoutChain.ts';
import { postBatch, scoreEntries, setUpPostedPayouts, type PostedPayouts } from '../../attribution/http/testing/postedPayouts.ts';
import { remoteChainEnv } from '../testing/remoteEnv.ts';
import { registerAttributionVerifyCommand } from './attributionVerify.ts';

let base: string;
let dataDir: string;
let devnet: Devnet;
let content: ContentStore;
let fixture: PostedPayouts;
let env: Record<string, string>;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'tributary-verify-cli-'));
  dataDir = join(base, 'data');
  devnet = await startTestDevnet(dataDir);
  content = await openFsContentStore({ root: join(dataDir, 'content') });
  fixture = await setUpPostedPayouts(devnet, content);
  env = remoteChainEnv(devnet, dataDir);
});
afterAll(async () => {
  await devnet?.stop();
  rmSync(base, { recursive: true, force: true });
});

/** Runs the verb in-process: its output and the exit code main() would give (0, or 1 for a mismatch). */
async function run(args: string[], e: Record<string, string> = env): Promise<{ out: string; code: number }> {
  let out = '';
  const attribution = new Command('attribution').exitOverride();
  new Command().exitOverride().addCommand(attribution);
  registerAttributionVerifyCommand(attribution, { env: e, out: (t) => (out += t), log: () => {} });
  try {
    await attribution.parent!.parseAsync(['node', 'tributary', 'attribution', 'verify', ...args]);
    return { out, code: 0 };
  } catch (err) {
    if (err instanceof CommanderError && err.code === 'tributary.payoutMismatch') return { out, code: err.exitCode };
    throw err;
  }
}

let honest3: ComputedPayoutBatch;
let tampered3: ComputedPayoutBatch;

describe('tributary attribution verify', () => {
  it("a posted batch rebuilt from its files and the indexed pools matches (exit 0)", async () => {
    const { out, code } = await run(['--epoch', '1']);
    expect(code).toBe(0);
    const b = fixture.batch1;
    expect(out.split('\n')).toEqual([
      `epoch 1's payout batch matches (posted, nonce 0, root ${b.root})`,
      `  rebuilt from its score file, the pools of 3 inferences settled in epoch 1 (indexed in ClickHouse) and no previous batch`,
      expect.stringMatching(new RegExp(`^  total [0-9.,]+ OPEN to 2 accounts for 2 attributed inferences \\(cumulative [0-9.,]+ OPEN\\); [0-9.,]+ OPEN of unattributed pools rolls over$`)),
      '',
    ]);
  });

  it('--json: the batch of epoch 2 builds on the leaves of epoch 1', async () => {
    const { out, code } = await run(['--epoch', '2', '--json']);
    expect(code).toBe(0);
    const b = fixture.batch2;
    expect(JSON.parse(out)).toEqual({
      epoch: '2',
      root: b.root,
      status: 'posted',
      nonce: '0',
      match: true,
      mismatch: null,
      fromEpoch: '2',
      previousEpoch: '1',
      poolsSource: 'clickhouse',
      inferences: 2,
      rebuilt: {
        root: b.root,
        total: b.total.toString(),
        cumulativeTotal: b.cumulativeTotal.toString(),
        scoreFileHash: b.scoreFileHash,
        accounts: 3,
        attributedInferences: 2,
        rolledOver: '0',
      },
    });
  });

  it('a batch posted from tampered pools does not match: exit 1, naming the field and both values', async () => {
    await fixture.chain.passDisputeWindow(2n);
    await fixture.chain.serve([
      { label: 'p3 a', tokensIn: 900, tokensOut: 900 },
      { label: 'p3 b', tokensIn: 50, tokensOut: 60 },
    ]);
    await fixture.chain.endEpoch(3n);
    const pools = await chainPools(devnet, { fromEpoch: 3n, toEpoch: 3n });
    const scores = { epoch: 3n, entries: scoreEntries({ 'p3 a': { 1: 1, 2: 3 }, 'p3 b': { 3: 1 } }) };
    const previous = fixture.batch2.tree.leaves;
    honest3 = buildPayoutBatch({ scores, pools, previous, fromEpoch: 3n });
    // The attributor under-reports one inference's pool by 1000 wei and keeps the difference back.
    const skimmed = pools.map((p) => (p.requestId === requestIdOf('p3 a') ? { ...p, poolAmount: p.poolAmount - 1000n } : p));
    tampered3 = buildPayoutBatch({ scores, pools: skimmed, previous, fromEpoch: 3n });
    expect(tampered3.total).toBe(honest3.total - 1000n);
    await postBatch(devnet, content, tampered3);

    const { out, code } = await run(['--epoch', '3']);
    expect(code).toBe(1);
    expect(out.split('\n').slice(0, 2)).toEqual([
      `epoch 3's payout batch does NOT match (posted, nonce 0, root ${tampered3.root}): total is ${tampered3.total}, but the inputs give ${honest3.total}`,
      '  the pool amounts or the allocation differ',
    ]);
    expect(out).toContain('do not rely on it: the guardian can revoke it while its dispute window lasts');

    // The installed bin exits 1 for it, with the same report on stdout.
    const r = spawnSync(process.execPath, ['bin/tributary.mjs', 'attribution', 'verify', '--epoch', '3'], { encoding: 'utf8', env: { ...process.env, ...env } });
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toContain(`total is ${tampered3.total}, but the inputs give ${honest3.total}`);
  });

  it('--root checks a proposed batch that is not posted: the honest rebuild matches', async () => {
    await storePayoutBatchFiles(content, honest3);
    const { out, code } = await run(['--epoch', '3', '--root', honest3.root, '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ status: 'proposed', nonce: null, match: true, previousEpoch: '2', rebuilt: { root: honest3.root, total: honest3.total.toString() } });
  });

  it('a revoked batch cannot be verified (exit 2); a re-proposal then builds on the batch before it', async () => {
    await revokePayoutBatch(devnet, { key: GUARDIAN_KEY, epoch: 3n, reason: 'skimmed pool' });
    await expect(run(['--epoch', '3'])).rejects.toThrow(`the payout batch of epoch 3 (nonce 0, root ${tampered3.root}) was revoked: it no longer stands, so there is nothing to verify`);
    const { out, code } = await run(['--epoch', '3', '--root', honest3.root]);
    expect(code).toBe(0);
    expect(out.split('\n')[0]).toBe(`epoch 3's payout batch matches (proposed, not posted; root ${honest3.root})`);
    expect(out).toContain("the leaves of epoch 2's batch");
  });

  it('a score file naming an inference that was never settled does not match the indexed events (exit 1)', async () => {
    const pools = await chainPools(devnet, { fromEpoch: 3n, toEpoch: 3n });
    const ghost = buildPayoutBatch({
      scores: { epoch: 3n, entries: scoreEntries({ 'p3 a': { 1: 1 }, ghost: { 2: 1 } }) },
      pools: [...pools, { requestId: requestIdOf('ghost'), epoch: 3n, poolAmount: 10n ** 15n }],
      previous: fixture.batch2.tree.leaves,
      fromEpoch: 3n,
    });
    await storePayoutBatchFiles(content, ghost);
    const { out, code } = await run(['--epoch', '3', '--root', ghost.root]);
    expect(code).toBe(1);
    expect(out.split('\n')[0]).toMatch(new RegExp(`^epoch 3's payout batch does NOT match \\(proposed, not posted; root ${ghost.root}\\): pools: .*${requestIdOf('ghost')}`));
    expect(out).toContain('do not sign it');
  });

  it('an epoch without a batch, a root without files and a malformed root are errors in sentences', async () => {
    const none = await run(['--epoch', '9']).catch((e: unknown) => e);
    expect(none).toBeInstanceOf(TributaryError);
    expect((none as Error).message).toContain('no payout batch was posted for epoch 9');
    const root = `0x${'11'.repeat(32)}`;
    await expect(run(['--epoch', '3', '--root', root])).rejects.toThrow(`the content store in ${join(dataDir, 'content')} has no files for the payout batch of epoch 3 (epoch 3, root ${root})`);
    await expect(run(['--epoch', '3', '--root', '0x1234'])).rejects.toThrow('--root must be 0x followed by 64 hex digits, got "0x1234"');
    await expect(run(['--epoch', '0'])).rejects.toThrow('--epoch must be a positive integer, got "0"');
  });

  it('while `up` holds the embedded ClickHouse, reads the pools from the chain and says so', async () => {
    // What a running `up` leaves in the data dir (its pid must be alive: this process stands in).
    writeFileSync(join(dataDir, 'up.json'), JSON.stringify({ pid: process.pid, port: 1, rpcUrl: devnet.rpcUrl }));
    try {
      const { out, code } = await run(['--epoch', '2']);
      expect(code).toBe(0);
      expect(out).toContain("(from the chain's InferenceSettled logs)");
      expect(out).toContain(`note: \`tributary up\` (pid ${process.pid}) holds the embedded ClickHouse of ${dataDir}, so the pools were read from the chain's InferenceSettled logs instead`);
    } finally {
      rmSync(join(dataDir, 'up.json'), { force: true });
    }
  });
});
