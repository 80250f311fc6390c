import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../contracts/index.ts';
import type { ClickHouseStore } from '../schema/index.ts';
import { IndexerError, RpcUnreachableError, WrongChainError } from './errors.ts';
import type { IndexerLogger } from './log.ts';
import { startIndexer } from './run.ts';
import { createClickHouseSink } from './sink.ts';
import { chainRows } from './testing/chainRows.ts';
import { allLiveRows, cancellingRows } from './testing/collapsed.ts';
import { createRpcProxy } from './testing/rpcProxy.ts';
import { openMigratedStore } from './testing/store.ts';
import { newTrafficState, startTestChain, trafficRound, type TestChain } from './testing/traffic.ts';

let dir: string;
let store: ClickHouseStore | undefined;
let chain: TestChain | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-indexer-'));
});
afterEach(async () => {
  await store?.close();
  await chain?.stop();
  store = chain = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function until(what: string, cond: () => boolean, timeoutMs = 20_000) {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function recorder(): IndexerLogger & { lines: string[] } {
  const lines: string[] = [];
  const put = (level: string) => (msg: string, fields?: Record<string, unknown>) => lines.push(`${level} ${msg}${fields ? ` ${JSON.stringify(fields)}` : ''}`);
  return { lines, debug: () => {}, info: put('info'), warn: put('warn'), error: put('error') };
}

describe('startIndexer()', () => {
  it('indexes every event of every contract: the tables equal eth_getLogs row for row, and it follows the head', async () => {
    chain = await startTestChain();
    store = await openMigratedStore(dir);
    const traffic = newTrafficState();
    await trafficRound(chain, traffic);
    await trafficRound(chain, traffic, 5);
    const client = chain.conn.publicClient;
    const head = await client.getBlockNumber();

    const indexer = startIndexer({ rpcUrl: chain.anvil.rpcUrl, deployment: chain.deployment, clickhouse: store, finality: 5, pollIntervalMs: 100 });
    try {
      await indexer.waitForHeight(Number(head));
      const expected = await chainRows(client, chain.deployment, head);
      const indexed = await allLiveRows(store.client);
      expect(indexed).toEqual(expected);
      // The traffic reaches most contracts and a broad set of event shapes.
      expect(new Set(expected.map((r) => r.table)).size).toBeGreaterThanOrEqual(25);
      expect(expected.length).toBeGreaterThan(80);

      // New blocks while it runs: it follows the head.
      await trafficRound(chain, traffic, 2);
      const head2 = await client.getBlockNumber();
      await indexer.waitForHeight(Number(head2));
      expect(await allLiveRows(store.client)).toEqual(await chainRows(client, chain.deployment, head2));
      expect(await cancellingRows(store.client)).toBe(0);
      expect(indexer.progress()).toMatchObject({ head: Number(head2), rows: (await chainRows(client, chain.deployment, head2)).length, cancelled: 0, deepReorgs: 0, restarts: 0 });
    } finally {
      await indexer.stop();
    }
    await expect(indexer.done).resolves.toBeUndefined();
  });

  it('resumes after stop() where it left off, without duplicates', async () => {
    chain = await startTestChain();
    store = await openMigratedStore(dir);
    const traffic = newTrafficState();
    await trafficRound(chain, traffic);
    const client = chain.conn.publicClient;
    const opts = { rpcUrl: chain.anvil.rpcUrl, deployment: chain.deployment, clickhouse: store, finality: 3, pollIntervalMs: 100 };
    const first = startIndexer(opts);
    await first.waitForHeight(Number(await client.getBlockNumber()));
    await first.stop();
    await trafficRound(chain, traffic);
    const head = await client.getBlockNumber();
    const second = startIndexer(opts);
    try {
      await second.waitForHeight(Number(head));
      expect(await allLiveRows(store.client)).toEqual(await chainRows(client, chain.deployment, head));
    } finally {
      await second.stop();
    }
  });

  it('retries an unreachable RPC with a log line naming it, and gives up after the configured attempts', async () => {
    chain = await startTestChain();
    store = await openMigratedStore(dir);
    const url = `http://127.0.0.1:${await freePort()}`;
    const log = recorder();
    const indexer = startIndexer({ rpcUrl: url, deployment: chain.deployment, clickhouse: store, log, connect: { maxAttempts: 3, initialDelayMs: 10 } });
    const err = await indexer.done.catch((e) => e);
    expect(err).toBeInstanceOf(RpcUnreachableError);
    expect(err.message).toBe(
      `the chain RPC at ${url} is unreachable: gave up after 3 attempts\n  connect ECONNREFUSED ${url.slice(7)}; check RPC_URL, or start the chain`,
    );
    expect(log.lines).toEqual([
      `warn the chain RPC at ${url} is unreachable; retrying in 10 ms {"attempt":1,"maxAttempts":3,"reason":"connect ECONNREFUSED ${url.slice(7)}"}`,
      `warn the chain RPC at ${url} is unreachable; retrying in 20 ms {"attempt":2,"maxAttempts":3,"reason":"connect ECONNREFUSED ${url.slice(7)}"}`,
    ]);
    await expect(indexer.waitForHeight(1)).rejects.toBe(err);
    await indexer.stop(); // after the end: resolves
  });

  it('waits for an RPC that is down at start, and rides out one that drops mid-run', async () => {
    chain = await startTestChain();
    store = await openMigratedStore(dir);
    const traffic = newTrafficState();
    await trafficRound(chain, traffic);
    const client = chain.conn.publicClient;
    const proxy = await createRpcProxy(chain.anvil.rpcUrl, await freePort());
    const log = recorder();
    const indexer = startIndexer({
      rpcUrl: proxy.url,
      deployment: chain.deployment,
      clickhouse: store,
      finality: 2,
      pollIntervalMs: 50,
      log,
      rpc: { retryAttempts: 1 },
      connect: { initialDelayMs: 20, maxDelayMs: 40 },
    });
    try {
      await until('three failed attempts are logged', () => log.lines.length >= 3);
      expect(log.lines.every((l) => l.startsWith(`warn the chain RPC at ${proxy.url} is unreachable; retrying in`))).toBe(true);
      expect(log.lines[0]).toContain('"maxAttempts":"unlimited"');
      await proxy.up();
      await indexer.waitForHeight(Number(await client.getBlockNumber()));

      // Down while running: the processor fails, the indexer waits for the RPC, then carries on.
      await proxy.down();
      log.lines.length = 0;
      await trafficRound(chain, traffic);
      const head = await client.getBlockNumber();
      await until('the lost RPC is logged', () => log.lines.some((l) => l.includes('is unreachable; retrying')));
      expect(log.lines.some((l) => l.startsWith(`warn the chain RPC at ${proxy.url} is unreachable; retrying in`))).toBe(true);
      expect(log.lines.some((l) => l.startsWith(`warn lost the chain RPC at ${proxy.url}; reconnecting`))).toBe(true);
      await proxy.up();
      await indexer.waitForHeight(Number(head));
      expect(await allLiveRows(store.client)).toEqual(await chainRows(client, chain.deployment, head));
      expect(indexer.progress().restarts).toBeGreaterThanOrEqual(1);
    } finally {
      await indexer.stop();
      await proxy.down();
    }
  });

  it('stop() lets the batch in flight commit, data then status, before it resolves', async () => {
    chain = await startTestChain();
    store = await openMigratedStore(dir);
    let entered!: () => void;
    const inFlight = new Promise<void>((r) => (entered = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const indexer = startIndexer({
      rpcUrl: chain.anvil.rpcUrl,
      deployment: chain.deployment,
      clickhouse: store,
      finality: 0,
      faults: {
        afterDataWrite: async (ctx) => {
          if (ctx.from > 0) return;
          entered();
          await gate;
        },
      },
    });
    await inFlight;
    let stopped = false;
    const stopping = indexer.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(stopped).toBe(false);
    release();
    await stopping;
    await expect(indexer.done).resolves.toBeUndefined();
    // The first batch (the deployment's first blocks) is committed; nothing after it was written.
    const status = await createClickHouseSink({ client: store.client }).readStatus();
    expect(status.height).toBe(indexer.progress().finalized);
    expect(status.height).toBeGreaterThan(0);
    const rows = await allLiveRows(store.client);
    expect(rows.length).toBe(indexer.progress().rows);
    expect(rows.every((r) => r.block_number <= status.height)).toBe(true);
    expect(rows).toEqual(await chainRows(chain.conn.publicClient, chain.deployment, BigInt(status.height)));
  });

  it('gives up after maxFailures failures in a row, and at once on an error that retrying cannot fix', async () => {
    chain = await startTestChain();
    store = await openMigratedStore(dir);
    const log = recorder();
    const flaky = startIndexer({
      rpcUrl: chain.anvil.rpcUrl, deployment: chain.deployment, clickhouse: store, finality: 0, maxFailures: 2, log,
      faults: { afterDataWrite: () => { throw new IndexerError('ClickHouse hiccup', { retryable: true }); } },
    });
    const err = await flaky.done.catch((e) => e);
    expect(err.message).toBe('the indexer failed 2 times in a row without committing a batch\n  last error: ClickHouse hiccup');
    expect(log.lines.filter((l) => l.startsWith('error the processor failed; restarting'))).toEqual([
      'error the processor failed; restarting {"error":"ClickHouse hiccup","failures":1,"maxFailures":2,"retryInMs":500}',
    ]);
    expect(flaky.progress().restarts).toBe(1);

    const fatal = startIndexer({
      rpcUrl: chain.anvil.rpcUrl, deployment: chain.deployment, clickhouse: store, finality: 0,
      faults: { afterDataWrite: () => { throw new IndexerError('bad row', { retryable: false }); } },
    });
    await expect(fatal.done).rejects.toThrow(/^bad row$/);
    expect(fatal.progress().restarts).toBe(0);
  });

  it('refuses a chain that does not hold the deployment', async () => {
    chain = await startTestChain();
    store = await openMigratedStore(dir);
    const other = { ...chain.deployment, deploymentBlock: { ...chain.deployment.deploymentBlock, hash: `0x${'ab'.repeat(32)}` as const } };
    const indexer = startIndexer({ rpcUrl: chain.anvil.rpcUrl, deployment: other, clickhouse: store });
    const err = await indexer.done.catch((e) => e);
    expect(err).toBeInstanceOf(WrongChainError);
    expect(err.message).toMatch(/^the chain at http:\/\/127\.0\.0\.1:\d+ does not have the deployment block 1 \(0xabab/);
    const wrongId = startIndexer({ rpcUrl: chain.anvil.rpcUrl, deployment: { ...chain.deployment, chainId: 1 }, clickhouse: store });
    await expect(wrongId.done).rejects.toThrow(/serves chain 31337, the deployment is on chain 1/);
    expect(err).toBeInstanceOf(IndexerError);
  });
});
