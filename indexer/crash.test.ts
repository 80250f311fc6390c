import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseStore } from '../schema/index.ts';
import { startIndexer } from './run.ts';
import { chainRows } from './testing/chainRows.ts';
import { allLiveRows, type LiveRow } from './testing/collapsed.ts';
import type { CrashChildArgs } from './testing/crashChild.ts';
import { openMigratedStore } from './testing/store.ts';
import { newTrafficState, startTestChain, trafficRound, type TestChain } from './testing/traffic.ts';

let dir: string;
let chain: TestChain;
let store: ClickHouseStore | undefined;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-crash-'));
  chain = await startTestChain();
});
afterAll(async () => {
  await store?.close();
  await chain?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the crash child to completion or to its fault; returns its output and how it ended. */
function child(args: CrashChildArgs): Promise<{ out: string; code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'indexer/testing/crashChild.ts', JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (b) => (out += b));
    p.stderr.on('data', (b) => (out += b));
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('error', reject);
    p.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ out, code, signal });
    });
  });
}

describe('crash safety', () => {
  it('kill -9 between a batch’s data and its status, mid data write and mid hot blocks, then restart: the same state as an uninterrupted run', async () => {
    const traffic = newTrafficState();
    for (let i = 0; i < 3; i++) await trafficRound(chain, traffic, 2);
    const client = chain.conn.publicClient;
    const deployment = JSON.parse(JSON.stringify(chain.deployment, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
    const dataDir = join(dir, 'crashing');
    const base = { dataDir, rpcUrl: chain.anvil.rpcUrl, deployment, finality: 5 };
    const head1 = Number(await client.getBlockNumber());

    // 1. Killed after the second final batch's rows, before its status row.
    const a = await child({ ...base, target: head1, fault: { point: 'afterDataWrite', kind: 'final', nth: 2 } });
    expect(a.signal).toBe('SIGKILL');
    expect(a.out).toMatch(/^fault afterDataWrite final blocks \d+-\d+ rows [1-9]\d*$/m);
    // 2. Killed after the first table of a batch: a torn data write.
    const b = await child({ ...base, target: head1, fault: { point: 'afterFirstTable', kind: 'final', nth: 2 } });
    expect(b.signal).toBe('SIGKILL');
    expect(b.out).toMatch(/^fault afterFirstTable final blocks \d+-\d+ rows [1-9]\d*$/m);
    // 3. Killed after the hot blocks' rows, before their status row.
    const c = await child({ ...base, target: head1, fault: { point: 'afterDataWrite', kind: 'hot', nth: 1 } });
    expect(c.signal).toBe('SIGKILL');
    expect(c.out).toMatch(/^fault afterDataWrite hot blocks \d+-\d+ rows [1-9]\d*$/m);

    // 4. More blocks; killed right after a commit of hot blocks; then a clean run to the head.
    await trafficRound(chain, traffic, 2);
    const head2 = Number(await client.getBlockNumber());
    const d = await child({ ...base, target: head2, fault: { point: 'afterStatusWrite', kind: 'hot', nth: 1 } });
    expect(d.signal).toBe('SIGKILL');
    const dump = join(dir, 'crashing.json');
    const e = await child({ ...base, target: head2, dump });
    expect(e.code, e.out).toBe(0);
    expect(e.out).toMatch(/^done at \d+$/m);
    const recovered = JSON.parse(readFileSync(dump, 'utf8')) as LiveRow[];

    // An uninterrupted run over the same chain, in this process.
    store = await openMigratedStore(join(dir, 'reference'));
    const indexer = startIndexer({ rpcUrl: chain.anvil.rpcUrl, deployment: chain.deployment, clickhouse: store, finality: 5, pollIntervalMs: 50 });
    try {
      await indexer.waitForHeight(head2);
    } finally {
      await indexer.stop();
    }
    const reference = await allLiveRows(store.client);
    expect(recovered).toEqual(reference);
    expect(reference).toEqual(await chainRows(client, chain.deployment, BigInt(head2)));
    expect(reference.length).toBeGreaterThan(130);
  });
});
