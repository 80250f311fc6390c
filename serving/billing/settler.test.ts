// The settler against a real anvil and a temp PGlite: batches billed in order, each request id exactly once
// on chain whatever happens between claiming, sending and marking (faults thrown in-process, and a real
// SIGKILL of a settler process), refusals that give the records back, and an RPC outage ridden out with
// backoff.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keccak256, toHex, type Address, type Hex } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { connectChain, type Devnet } from '../../contracts/index.ts';
import { lastSettledBatch, settleUsage } from '../../contracts/routerOps.ts';
import { startTestDevnet } from '../../contracts/testing/devnet.ts';
import { openPostgres, type OperationalDb, type OperationalStore } from '../../schema/index.ts';
import { claimBatch, countUnbatchedUsage, getUsageRecord, listUsageBatches, recordUsages } from '../../schema/postgres/usageOutbox.ts';
import { SettlementError } from './errors.ts';
import type { BillingLogger } from './log.ts';
import { createSettler, type SettleResult, type SettlerFaultPoint } from './settler.ts';
import { BROKE, PAYER, billedOnChain, asGovernance, newOperator, setUpBillingChain } from './testing/billingChain.ts';
import type { SettlerChildArgs } from './testing/settlerChild.ts';
import { pgliteTemplate, type PgliteTemplate } from '../../schema/postgres/testing/pgliteTemplate.ts';

let dir: string;
let devnet: Devnet;
let modelId: bigint;
let templates: PgliteTemplate;
const stores: OperationalStore[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-settler-'));
  devnet = await startTestDevnet(dir);
  ({ modelId } = await setUpBillingChain(devnet));
  templates = pgliteTemplate();
});
afterAll(async () => {
  for (const s of stores) await s.close();
  await devnet?.stop();
  templates?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function freshStore(): Promise<{ db: OperationalDb; dataDir: string; store: OperationalStore }> {
  const dataDir = await templates.freshDataDir();
  const store = await openPostgres({ dataDir });
  stores.push(store);
  return { db: store.db, dataDir, store };
}

const T0 = Date.UTC(2026, 4, 1);
let counter = 0;
/** `n` usage records of PAYER (or `payer`), served one second apart, with ids unique to this file. */
function usages(n: number, payer: Address = PAYER) {
  return Array.from({ length: n }, () => {
    const i = ++counter;
    return { requestId: keccak256(toHex(`settler-test ${i}`)), payer, modelId, tokensIn: 100 + i, tokensOut: 10 + i, createdAt: new Date(T0 + i * 1000) };
  });
}

const nonceOf = (a: Address) => devnet.conn.publicClient.getTransactionCount({ address: a });

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the promise to reject');
}

/** Exactly once: every id settled (or rejected) once on chain, none twice, nothing else. */
async function expectBilledOnce(operator: Address, settled: readonly Hex[], rejected: readonly Hex[] = []) {
  const chain = await billedOnChain(devnet, operator);
  expect(Object.fromEntries(chain.settled)).toEqual(Object.fromEntries(settled.map((id) => [id, 1])));
  expect(Object.fromEntries(chain.rejected)).toEqual(Object.fromEntries(rejected.map((id) => [id, 1])));
  return chain;
}

function recordingLog(): BillingLogger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => void lines.push(`${level} ${msg}${fields?.attempt ? ` (attempt ${fields.attempt})` : ''}`);
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

async function until(what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('settleOnce() and drain()', () => {
  it('bill the oldest records in batches numbered 1, 2, 3…, each request id once, rejected items marked', async () => {
    const { db } = await freshStore();
    const key = await newOperator(devnet);
    const operator = privateKeyToAddress(key);
    const items = [...usages(3), ...usages(1, BROKE), ...usages(3)];
    await recordUsages(db, items);
    const told: SettleResult[] = [];
    const settler = createSettler({ db, chain: devnet, operatorKey: key, maxItems: 3, onSettled: (r) => void told.push(r) });
    const results = await settler.drain();
    expect(results.map((r) => [r.batch.batchNumber, r.recovered, r.batch.settled.length, r.batch.rejected.length])).toEqual([
      [1n, false, 3, 0],
      [2n, false, 2, 1],
      [3n, false, 1, 0],
    ]);
    expect(told).toEqual(results);
    expect(results[1]!.batch.rejected.map((r) => [r.requestId, r.reason])).toEqual([[items[3]!.requestId, 'InsufficientEscrow']]);
    expect(await settler.settleOnce()).toBeUndefined();
    expect(await lastSettledBatch(devnet, operator)).toBe(3n);
    expect((await listUsageBatches(db, { operator })).map((b) => [b.number, b.status, b.itemCount, b.txHash])).toEqual(
      results.map((r) => [r.batch.batchNumber, 'settled', r.batch.settled.length + r.batch.rejected.length, r.batch.txHash]),
    );
    expect((await getUsageRecord(db, items[3]!.requestId))!.outcome).toBe('rejected');
    expect((await getUsageRecord(db, items[0]!.requestId))!.outcome).toBe('settled');
    await expectBilledOnce(operator, items.filter((_, i) => i !== 3).map((i) => i.requestId), [items[3]!.requestId]);
  });
});

describe('crashes', () => {
  it('a crash after the claim, after the send or after the mark, then a fresh settler: each record billed once, nothing sent twice', async () => {
    const { db } = await freshStore();
    const key = await newOperator(devnet);
    const operator = privateKeyToAddress(key);
    const crashAt = (point: SettlerFaultPoint) =>
      createSettler({
        db,
        chain: devnet,
        operatorKey: key,
        maxItems: 10,
        faults: (p) => {
          if (p === point) throw new Error(`crash ${p}`);
        },
      });
    const fresh = () => createSettler({ db, chain: devnet, operatorKey: key, maxItems: 10 });
    const all: Hex[] = [];

    // After the claim: nothing was sent; the next settler sends batch 1.
    const a = usages(2);
    all.push(...a.map((x) => x.requestId));
    await recordUsages(db, a);
    expect((await rejection(crashAt('after-claim').settleOnce())).message).toBe('crash after-claim');
    expect(await lastSettledBatch(devnet, operator)).toBe(0n);
    const r1 = await fresh().settleOnce();
    expect([r1!.batch.batchNumber, r1!.recovered, r1!.batch.settled.map((s) => s.requestId)]).toEqual([1n, false, a.map((x) => x.requestId)]);

    // After the send: batch 2 is on chain but not marked; the next settler finds it and sends nothing.
    const b = usages(2);
    all.push(...b.map((x) => x.requestId));
    await recordUsages(db, b);
    expect((await rejection(crashAt('after-send').settleOnce())).message).toBe('crash after-send');
    // The crash came right after the send: anvil may still be mining the transaction into its block.
    const until = Date.now() + 10_000;
    while ((await lastSettledBatch(devnet, operator)) < 2n && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(await lastSettledBatch(devnet, operator)).toBe(2n);
    expect((await listUsageBatches(db, { operator })).map((x) => [x.number, x.status])).toEqual([
      [1n, 'settled'],
      [2n, 'pending'],
    ]);
    const nonce = await nonceOf(operator);
    const r2 = await fresh().settleOnce();
    expect([r2!.batch.batchNumber, r2!.recovered, r2!.batch.settled.map((s) => s.requestId)]).toEqual([2n, true, b.map((x) => x.requestId)]);
    expect(await nonceOf(operator)).toBe(nonce);

    // After the mark: all done; the next settler has nothing to do.
    const c = usages(1);
    all.push(...c.map((x) => x.requestId));
    await recordUsages(db, c);
    expect((await rejection(crashAt('after-mark').settleOnce())).message).toBe('crash after-mark');
    expect(await fresh().settleOnce()).toBeUndefined();

    const chain = await expectBilledOnce(operator, all);
    expect(chain.batches).toEqual([1n, 2n, 3n]);
    expect((await listUsageBatches(db, { operator })).every((x) => x.status === 'settled')).toBe(true);
  });

  it('kill -9 of a settler process after the claim and after a send, then a fresh process: each record billed once', async () => {
    const { dataDir, store } = await freshStore();
    const key = await newOperator(devnet);
    const operator = privateKeyToAddress(key);
    const items = usages(5);
    await recordUsages(store.db, items);
    await store.close(); // the child processes take the data dir
    const deployment = JSON.parse(JSON.stringify(devnet.deployment, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
    const base = { dataDir, rpcUrl: devnet.rpcUrl, deployment, operatorKey: key, maxItems: 2 };

    const a = await child({ ...base, kill: { point: 'after-claim', nth: 1 } });
    expect(a.signal, a.out).toBe('SIGKILL');
    expect(a.out).toMatch(/^fault after-claim batch 1$/m);
    const b = await child({ ...base, kill: { point: 'after-send', nth: 2 } });
    expect(b.signal, b.out).toBe('SIGKILL');
    expect(b.out).toMatch(/^settled batch 1 recovered=false items=2 tx 0x[0-9a-f]{64}$/m);
    expect(b.out).toMatch(/^fault after-send batch 2 tx 0x[0-9a-f]{64}$/m);
    const c = await child(base);
    expect(c.code, c.out).toBe(0);
    expect(c.out.split('\n').filter((l) => l.startsWith('settled')).map((l) => l.replace(/ tx .*/, ''))).toEqual([
      'settled batch 2 recovered=true items=2',
      'settled batch 3 recovered=false items=1',
    ]);
    const chain = await expectBilledOnce(operator, items.map((i) => i.requestId));
    expect(chain.batches).toEqual([1n, 2n, 3n]);
    const after = await openPostgres({ dataDir });
    stores.push(after);
    expect((await listUsageBatches(after.db, { operator })).map((x) => [x.number, x.status])).toEqual([
      [1n, 'settled'],
      [2n, 'settled'],
      [3n, 'settled'],
    ]);
    expect(await countUnbatchedUsage(after.db)).toBe(0);
  });
});

/** Runs the settler child to completion or to its fault. */
function child(args: SettlerChildArgs): Promise<{ out: string; code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'serving/billing/testing/settlerChild.ts', JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'] });
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

describe('refusals', () => {
  it('a revert other than ordering marks the batch failed with the reason, and the records are billed once the cause is fixed', async () => {
    const { db } = await freshStore();
    const key = await newOperator(devnet);
    const operator = privateKeyToAddress(key);
    const items = usages(2);
    await recordUsages(db, items);
    await asGovernance(devnet, 'setOperator', [operator, false]);
    const settler = createSettler({ db, chain: devnet, operatorKey: key, maxItems: 10 });
    const e = await rejection(settler.settleOnce());
    expect(e).toBeInstanceOf(SettlementError);
    expect((e as SettlementError).retryable).toBe(false);
    const reason = `cannot settle usage batch 1: ${operator} is not an operator of the InferenceRouter (governance enables operators with setOperator)`;
    expect(e.message).toBe(`usage batch 1 of ${operator} was refused and marked failed; its 2 records will be billed again\n  ${reason}`);
    expect((await listUsageBatches(db, { operator })).map((b) => [b.number, b.status, b.error])).toEqual([[1n, 'failed', reason]]);
    expect(await countUnbatchedUsage(db)).toBe(2);

    await asGovernance(devnet, 'setOperator', [operator, true]);
    const r = await settler.settleOnce();
    expect([r!.batch.batchNumber, r!.batch.settled.length]).toEqual([1n, 2]);
    await expectBilledOnce(operator, items.map((i) => i.requestId));
  });

  it('a batch number taken on chain by other items: the pending batch fails and its records are billed under the next number', async () => {
    const { db } = await freshStore();
    const key = await newOperator(devnet);
    const operator = privateKeyToAddress(key);
    const ours = usages(2);
    await recordUsages(db, ours);
    const crash = createSettler({ db, chain: devnet, operatorKey: key, faults: () => { throw new Error('crash'); } });
    await rejection(crash.settleOnce());
    // Another store, billing as the same operator, takes number 1 meanwhile.
    const [theirs] = usages(1);
    await settleUsage(devnet, { key, batchNumber: 1n, items: [theirs!] });
    const log = recordingLog();
    const results = await createSettler({ db, chain: devnet, operatorKey: key, log }).drain();
    expect(results.map((r) => [r.batch.batchNumber, r.recovered, r.batch.settled.map((s) => s.requestId)])).toEqual([[2n, false, ours.map((o) => o.requestId)]]);
    const batches = await listUsageBatches(db, { operator });
    expect(batches.map((b) => [b.number, b.status])).toEqual([
      [1n, 'failed'],
      [2n, 'settled'],
    ]);
    expect(batches[0]!.error).toMatch(new RegExp(`^batch number 1 was used on chain by other items \\(tx 0x[0-9a-f]{64}\\): another store settles as ${operator}$`));
    expect(log.lines).toContain('warn usage batch number already taken on chain; its records go back to be billed under the next free number');
    await expectBilledOnce(operator, [theirs!.requestId, ...ours.map((o) => o.requestId)]);
  });

  it('refuses to send when the store has batches the chain does not (another chain, a reset devnet)', async () => {
    const { db } = await freshStore();
    const key = await newOperator(devnet);
    const operator = privateKeyToAddress(key);
    await recordUsages(db, usages(1));
    await claimBatch(db, { operator, maxItems: 5, minNumber: 4n });
    const nonce = await nonceOf(operator);
    const e = await rejection(createSettler({ db, chain: devnet, operatorKey: key }).settleOnce());
    expect(e).toBeInstanceOf(SettlementError);
    expect((e as SettlementError).retryable).toBe(false);
    expect(e.message.split('\n')[0]).toBe(`usage batch 4 of ${operator} cannot be sent: the chain's last batch is 0, so the store has batches the chain does not`);
    expect(await nonceOf(operator)).toBe(nonce);
  });
});

describe('the loop', () => {
  it('rides out an unreachable RPC with backoff and a log line per attempt, then bills what arrived meanwhile', async () => {
    // A proxy in front of anvil that can drop every connection.
    let down = false;
    const target = new URL(devnet.rpcUrl);
    const proxy: Server = createServer((req, res) => {
      if (down) return void req.socket.destroy();
      const up = httpRequest({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const conn = await connectChain(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`);
      const { db } = await freshStore();
      const key = await newOperator(devnet);
      const operator = privateKeyToAddress(key);
      const log = recordingLog();
      const settler = createSettler({ db, chain: { conn, deployment: devnet.deployment }, operatorKey: key, intervalMs: 50, maxItems: 2, log, backoff: { initialMs: 100, maxMs: 400 } });
      down = true;
      settler.start();
      const items = usages(3);
      await recordUsages(db, items);
      await until('three failed attempts', () => log.lines.filter((l) => l.startsWith('warn')).length >= 3);
      down = false;
      await until('everything billed', async () => (await countUnbatchedUsage(db)) === 0 && (await listUsageBatches(db, { operator })).every((b) => b.status === 'settled'));
      await settler.stop();
      const warns = log.lines.filter((l) => l.startsWith('warn'));
      const unreachable = `warn could not settle usage: cannot read the last usage batch of ${operator}: the chain RPC did not answer; retrying in`;
      expect(warns.slice(0, 3)).toEqual([`${unreachable} 0.1 s (attempt 1)`, `${unreachable} 0.2 s (attempt 2)`, `${unreachable} 0.4 s (attempt 3)`]);
      expect(log.lines.filter((l) => l.startsWith('info settled usage batch'))).toHaveLength(2);
      const chain = await expectBilledOnce(operator, items.map((i) => i.requestId));
      expect(chain.batches).toEqual([1n, 2n]);
      // Stopped: records that arrive now wait for the next start.
      await recordUsages(db, usages(1));
      await new Promise((r) => setTimeout(r, 200));
      expect(await countUnbatchedUsage(db)).toBe(1);
    } finally {
      await new Promise((r) => proxy.close(r));
    }
  });
});
