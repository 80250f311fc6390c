import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keccak256, maxUint256, parseEther, toHex, type Hex } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { ANVIL_KEYS } from '../contracts/index.ts';
import type { ClickHouseStore } from '../schema/index.ts';
import type { IndexerLogger } from './log.ts';
import { startIndexer, type Indexer } from './run.ts';
import { anvilRpc } from './testing/anvilRpc.ts';
import { chainRows } from './testing/chainRows.ts';
import { allLiveRows, type LiveRow } from './testing/collapsed.ts';
import { openMigratedStore } from './testing/store.ts';
import { ACTORS, callData, newTrafficState, send, startTestChain, trafficRound, type TestChain } from './testing/traffic.ts';

let dir: string;
let store: ClickHouseStore | undefined;
let chain: TestChain | undefined;
let indexer: Indexer | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-reorg-'));
});
afterEach(async () => {
  await indexer?.stop();
  await store?.close();
  await chain?.stop();
  indexer = store = chain = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const addr = (k: Hex) => privateKeyToAddress(k);
function recorder(): IndexerLogger & { lines: string[] } {
  const lines: string[] = [];
  const put = (level: string) => (msg: string, fields?: Record<string, unknown>) => {
    lines.push(`${level} ${msg}`);
    if (process.env.DEBUG_INDEXER_TEST) console.log(level, msg, JSON.stringify(fields));
  };
  return { lines, debug: () => {}, info: put('info'), warn: put('warn'), error: put('error') };
}
async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 30_000) {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Per model and UTC day: what model_usage_daily must hold, recomputed from the canonical events. */
function usageFrom(rows: LiveRow[]) {
  const days = new Map<string, { settled: number; tokensIn: bigint; fee: bigint; pool: bigint; rejected: number; rejectedFee: bigint }>();
  for (const r of rows) {
    if (r.table !== 'ev_inference_router_inference_settled' && r.table !== 'ev_inference_router_inference_rejected') continue;
    const key = `${r.args.model_id} ${new Date(r.block_timestamp_ms).toISOString().slice(0, 10)}`;
    const u = days.get(key) ?? { settled: 0, tokensIn: 0n, fee: 0n, pool: 0n, rejected: 0, rejectedFee: 0n };
    if (r.table === 'ev_inference_router_inference_settled') {
      u.settled++;
      u.tokensIn += BigInt(r.args.tokens_in as string);
      u.fee += BigInt(r.args.fee as string);
      u.pool += BigInt(r.args.pool_amount as string);
    } else {
      u.rejected++;
      u.rejectedFee += BigInt(r.args.fee as string);
    }
    days.set(key, u);
  }
  return [...days.entries()].sort().map(([k, u]) => [k, u.settled, String(u.tokensIn), String(u.fee), String(u.pool), u.rejected, String(u.rejectedFee)]);
}
async function usageView(s: ClickHouseStore) {
  const rows = await (
    await s.client.query({
      query: `SELECT concat(toString(model_id), ' ', toString(day)) AS k, settled_count, tokens_in, fee, pool_amount, rejected_count, rejected_fee
              FROM model_usage_daily ORDER BY k`,
      format: 'JSONEachRow',
    })
  ).json<Record<string, string>>();
  return rows.map((r) => [r.k, Number(r.settled_count), r.tokens_in, r.fee, r.pool_amount, Number(r.rejected_count), r.rejected_fee]);
}

describe('reorgs', () => {
  it('a reorg inside the finality window leaves exactly the canonical chain’s events, and the daily usage follows', async () => {
    chain = await startTestChain();
    store = await openMigratedStore(dir);
    await trafficRound(chain, newTrafficState(), 3);
    const client = chain.conn.publicClient;
    const head = await client.getBlockNumber();
    const log = recorder();
    indexer = startIndexer({ rpcUrl: chain.anvil.rpcUrl, deployment: chain.deployment, clickhouse: store, finality: 8, pollIntervalMs: 50, log });
    await indexer.waitForHeight(Number(head));
    const before = await allLiveRows(store.client);
    expect(usageFrom(before)).toHaveLength(1);
    expect(await usageView(store)).toEqual(usageFrom(before));

    // Replace the last 4 blocks (approve, deposit, approveOperator, settle) with the same escrow steps and
    // a settlement of other inferences, in 4 blocks; then one more block so that the head moves on.
    const d = chain.deployment.contracts;
    const payer = addr(ACTORS.payer);
    const tx = (key: Hex, to: Hex, data: Hex) => ({ from: addr(key), to, data, gas: '0x1000000' });
    const items = [0, 1].map((i) => ({ requestId: keccak256(toHex(`fork ${i}`)), payer, modelId: 1n, tokensIn: 5000 + i, tokensOut: 7 }));
    await anvilRpc(chain.anvil.rpcUrl, 'anvil_reorg', [
      4,
      [
        [tx(ACTORS.payer, d.OpenToken, callData('OpenToken', 'approve', [d.InferenceRouter, parseEther('500')])), 0],
        [tx(ACTORS.payer, d.InferenceRouter, callData('InferenceRouter', 'deposit', [parseEther('500')])), 1],
        [tx(ACTORS.payer, d.InferenceRouter, callData('InferenceRouter', 'approveOperator', [addr(ACTORS.operator), maxUint256])), 2],
        [tx(ACTORS.operator, d.InferenceRouter, callData('InferenceRouter', 'settle', [1n, items])), 3],
      ],
    ]);
    expect(await client.getBlockNumber()).toBe(head);
    await anvilRpc(chain.anvil.rpcUrl, 'evm_mine', []);
    await indexer.waitForHeight(Number(head) + 1);

    const expected = await chainRows(client, chain.deployment, head + 1n);
    const orphaned = before.filter((r) => r.block_number > Number(head) - 4);
    expect(orphaned.length).toBeGreaterThan(5);
    expect(expected.filter((r) => r.table === 'ev_inference_router_inference_settled').map((r) => r.args.tokens_in)).toEqual(['5000', '5001']);
    expect(await allLiveRows(store.client)).toEqual(expected);
    expect(indexer.progress()).toMatchObject({ cancelled: orphaned.length, deepReorgs: 0, restarts: 0 });
    expect(log.lines).toContain('info chain reorganised within the finality window: cancelled the rows of the orphaned blocks');
    // The materialized daily aggregate subtracted the orphaned settlement and added the new one.
    expect(await usageView(store)).toEqual(usageFrom(expected));
    // fee = ⌊(tokensIn × 0.002 OPEN + 7 × 0.006 OPEN) / 1000⌋ per inference; the pool gets 40 %.
    expect(usageFrom(expected)).toEqual([[expect.stringMatching(/^1 \d{4}-\d\d-\d\d$/), 2, '10001', '20086000000000000', '8034400000000000', 0, '0']]);
  });

  it('orphaned unfinalized blocks are dropped even when the chain does not move on', async () => {
    chain = await startTestChain();
    store = await openMigratedStore(dir);
    await trafficRound(chain, newTrafficState(), 2);
    const client = chain.conn.publicClient;
    const head = await client.getBlockNumber();
    const log = recorder();
    indexer = startIndexer({
      rpcUrl: chain.anvil.rpcUrl, deployment: chain.deployment, clickhouse: store, finality: 8, pollIntervalMs: 50, reorgCheckIntervalMs: 100, log,
    });
    await indexer.waitForHeight(Number(head));
    // Three hot blocks disappear and nothing new is mined: Subsquid alone would wait for a higher head.
    await anvilRpc(chain.anvil.rpcUrl, 'anvil_rollback', [3]);
    await until('the orphaned rows are gone', async () => (await allLiveRows(store!.client)).every((r) => r.block_number <= Number(head) - 3));
    expect(await allLiveRows(store.client)).toEqual(await chainRows(client, chain.deployment, head - 3n));
    expect(indexer.progress()).toMatchObject({ deepReorgs: 0, restarts: 1 });
    expect(log.lines.some((l) => l.startsWith('warn restarting the processor'))).toBe(true);
  });

  it('a rollback deeper than the finality window is rolled back to the last common block and re-indexed', async () => {
    chain = await startTestChain();
    store = await openMigratedStore(dir);
    const traffic = newTrafficState();
    await trafficRound(chain, traffic, 3);
    const client = chain.conn.publicClient;
    const head = await client.getBlockNumber();
    const log = recorder();
    indexer = startIndexer({
      rpcUrl: chain.anvil.rpcUrl, deployment: chain.deployment, clickhouse: store, finality: 3, pollIntervalMs: 50, reorgCheckIntervalMs: 100, log,
    });
    await indexer.waitForHeight(Number(head));
    const before = await allLiveRows(store.client);

    await anvilRpc(chain.anvil.rpcUrl, 'anvil_rollback', [10]);
    await send(chain, ACTORS.datanetOwner, 'DatanetRegistry', 'createDatanet', ['file://after-rollback.json', 'text', 'MIT', 0n, false]);
    await send(chain, ACTORS.contributorA, 'OpenToken', 'transfer', [addr(ACTORS.contributorB), 12345n]);
    const newHead = await client.getBlockNumber();
    expect(newHead).toBe(head - 8n);
    await until('the deep reorg is rolled back', () => indexer!.progress().deepReorgs === 1);
    await indexer.waitForHeight(Number(newHead));

    const expected = await chainRows(client, chain.deployment, newHead);
    expect(await allLiveRows(store.client)).toEqual(expected);
    const kept = before.filter((r) => r.block_number <= Number(head) - 10);
    expect(expected.slice(0, kept.length)).toEqual(kept);
    expect(log.lines).toContain(
      'warn the last final block indexed is no longer on the chain: a reorg deeper than the finality window; looking for the last common block',
    );
    expect(log.lines).toContain('warn rolled back to the last common block; re-indexing from there');
    expect(indexer.progress().restarts).toBe(1);
  });

  it('a deep rollback while the indexer is stopped is rolled back when it starts, instead of crash-looping', async () => {
    chain = await startTestChain();
    store = await openMigratedStore(dir);
    await trafficRound(chain, newTrafficState(), 2);
    const client = chain.conn.publicClient;
    const opts = { rpcUrl: chain.anvil.rpcUrl, deployment: chain.deployment, clickhouse: store, finality: 2, pollIntervalMs: 50 };
    const first = startIndexer(opts);
    await first.waitForHeight(Number(await client.getBlockNumber()));
    await first.stop();

    // Rolled back past every block since the deployment's last setup transaction, then new activity.
    await anvilRpc(chain.anvil.rpcUrl, 'anvil_rollback', [15]);
    await send(chain, ACTORS.contributorA, 'OpenToken', 'transfer', [addr(ANVIL_KEYS[4]), 1n]);
    const head = await client.getBlockNumber();
    const log = recorder();
    indexer = startIndexer({ ...opts, log });
    await until('the deep reorg is rolled back', () => indexer!.progress().deepReorgs === 1);
    await indexer.waitForHeight(Number(head));
    expect(await allLiveRows(store.client)).toEqual(await chainRows(client, chain.deployment, head));
    expect(indexer.progress().restarts).toBe(0);
  });

  it('without the watchdog, the processor’s own failure on the new chain leads to the same rollback', async () => {
    chain = await startTestChain();
    store = await openMigratedStore(dir);
    await trafficRound(chain, newTrafficState(), 2);
    const client = chain.conn.publicClient;
    const head = await client.getBlockNumber();
    const log = recorder();
    indexer = startIndexer({
      rpcUrl: chain.anvil.rpcUrl, deployment: chain.deployment, clickhouse: store, finality: 2, pollIntervalMs: 50, reorgCheckIntervalMs: 0, log,
    });
    await indexer.waitForHeight(Number(head));
    await anvilRpc(chain.anvil.rpcUrl, 'anvil_rollback', [5]);
    // Subsquid only looks again once the chain is higher than before.
    for (let i = 0; i < 7; i++) await send(chain, ACTORS.contributorB, 'OpenToken', 'transfer', [addr(ANVIL_KEYS[4]), BigInt(i + 1)]);
    const newHead = await client.getBlockNumber();
    expect(newHead).toBe(head + 2n);
    await until('the deep reorg is rolled back', () => indexer!.progress().deepReorgs === 1);
    await indexer.waitForHeight(Number(newHead));
    expect(await allLiveRows(store.client)).toEqual(await chainRows(client, chain.deployment, newHead));
    expect(log.lines).toContain('warn rolled back to the last common block; re-indexing from there');
  });
});
