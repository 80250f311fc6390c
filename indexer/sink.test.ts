import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HashAndHeight } from '@subsquid/util-internal-processor-tools';
import { eventRowTsv, eventTable, openClickHouse, type ClickHouseStore } from '../schema/index.ts';
import { SinkClosedError, SinkStateError } from './errors.ts';
import { createClickHouseSink, type ClickHouseSink, type SinkFaults, type SinkStore } from './sink.ts';
import { allLiveRows, cancellingRows } from './testing/collapsed.ts';
import { openMigratedStore } from './testing/store.ts';

// chDB binds one data dir per process: the tests of this file share one and use a database each.
let dir: string;
let n = 0;
const stores: ClickHouseStore[] = [];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-sink-'));
});
afterAll(async () => {
  for (const s of stores) await s.close();
  rmSync(dir, { recursive: true, force: true });
});
async function freshStore(): Promise<ClickHouseStore> {
  const s = await openMigratedStore(dir, `sink_${++n}`);
  stores.push(s);
  return s;
}

const transfer = eventTable('OpenToken', 'Transfer');
const TOKEN = '0x5fbdb2315678afecb367f032d93f642f64180aa3';
/** Block `height` of fork `fork` (0 = the first chain): a distinct hash per (height, fork). */
const block = (height: number, fork = 0): HashAndHeight => ({ height, hash: `0x${fork.toString(16).padStart(8, '0')}${height.toString(16).padStart(56, '0')}` });
/** One Transfer row per log index in `logs`, with value = height × 1000 + fork × 100 + log index. */
function rows(store: SinkStore, b: HashAndHeight, fork = 0, logs = [0, 1]) {
  for (const i of logs) {
    store.insert(
      transfer,
      eventRowTsv(
        transfer,
        { blockNumber: b.height, blockHash: b.hash as `0x${string}`, timestampMs: 1_700_000_000_000 + b.height * 1000, logIndex: i, transactionHash: `0x${'ab'.repeat(32)}`, address: TOKEN },
        { from: `0x${'11'.repeat(20)}`, to: `0x${'22'.repeat(20)}`, value: BigInt(b.height * 1000 + fork * 100 + i) },
      ),
    );
  }
}
/** The live Transfer rows as (block, log index, value, fork of the block hash). */
async function live(store: ClickHouseStore) {
  return (await allLiveRows(store.client)).map((r) => [r.block_number, r.log_index, Number(r.args.value), parseInt(r.block_hash.slice(2, 10), 16)]);
}
const final = (sink: ClickHouseSink, from: HashAndHeight, to: HashAndHeight, write: (s: SinkStore) => void) =>
  sink.transact({ prevHead: from, nextHead: to, isOnTop: false }, async (s) => write(s));
const hot = (sink: ClickHouseSink, base: HashAndHeight, finalized: HashAndHeight, blocks: HashAndHeight[], fork = 0) =>
  sink.transactHot2({ baseHead: base, finalizedHead: finalized, newBlocks: blocks }, async (s, a, b) => {
    for (const bl of blocks.slice(a, b)) rows(s, bl, fork);
  });
class Crash extends Error {}
const crashAt = (point: keyof SinkFaults): SinkFaults => ({
  [point]: () => {
    throw new Crash(point);
  },
});

describe('ClickHouse sink', () => {
  it('starts empty, commits data then status, and a new sink resumes at the committed head', async () => {
    const store = await freshStore();
    const sink = createClickHouseSink({ client: store.client });
    expect(await sink.connect()).toEqual({ height: -1, hash: '0x', top: [] });
    await final(sink, { height: -1, hash: '0x' }, block(3), (s) => {
      rows(s, block(1));
      rows(s, block(3));
    });
    await final(sink, block(3), block(5), (s) => rows(s, block(4), 0, [0]));
    expect(sink.state()).toEqual({ ...block(5), top: [] });
    expect(await live(store)).toEqual([[1, 0, 1000, 0], [1, 1, 1001, 0], [3, 0, 3000, 0], [3, 1, 3001, 0], [4, 0, 4000, 0]]);

    const again = createClickHouseSink({ client: store.client });
    expect(await again.connect()).toEqual({ ...block(5), top: [] });
    expect(await cancellingRows(store.client)).toBe(0);
    // Another indexer id has its own status row.
    expect(await createClickHouseSink({ client: store.client, id: 'other' }).connect()).toEqual({ height: -1, hash: '0x', top: [] });
  });

  it('keeps unfinalized blocks as the top, and cancels exactly the orphaned blocks when the chain reorganises', async () => {
    const store = await freshStore();
    const log: string[] = [];
    const commits: unknown[] = [];
    const sink = createClickHouseSink({
      client: store.client,
      log: { debug() {}, info: (m) => log.push(m), warn() {}, error() {} },
      onCommit: (c) => commits.push(c),
    });
    await sink.connect();
    await final(sink, { height: -1, hash: '0x' }, block(10), (s) => rows(s, block(10)));
    await hot(sink, block(10), block(10), [block(11), block(12), block(13)]);
    expect(sink.state()).toEqual({ ...block(10), top: [block(11), block(12), block(13)] });
    expect(await sink.readStatus()).toEqual({ ...block(10), top: [block(11), block(12), block(13)] });

    // Blocks 12 and 13 are replaced by 12', 13', 14' (fork 1); 11 becomes final.
    await hot(sink, block(11), block(11), [block(12, 1), block(13, 1), block(14, 1)], 1);
    expect(sink.state()).toEqual({ ...block(11), top: [block(12, 1), block(13, 1), block(14, 1)] });
    expect(await live(store)).toEqual([
      [10, 0, 10000, 0], [10, 1, 10001, 0], [11, 0, 11000, 0], [11, 1, 11001, 0],
      [12, 0, 12100, 1], [12, 1, 12101, 1], [13, 0, 13100, 1], [13, 1, 13101, 1], [14, 0, 14100, 1], [14, 1, 14101, 1],
    ]);
    expect(log).toContain('chain reorganised within the finality window: cancelled the rows of the orphaned blocks');
    expect(commits.at(-1)).toEqual({ kind: 'hot', finalized: block(11), head: block(14, 1), rows: 6, cancelled: 4 });

    // A base that is not on the sink's chain is refused before anything is written.
    await expect(hot(sink, block(13), block(13), [block(14, 2)])).rejects.toThrow(SinkStateError);
    expect((await live(store)).length).toBe(10);
  });

  it('after a crash between the data write and the status write, connect() cancels the uncommitted rows', async () => {
    const store = await freshStore();
    const first = createClickHouseSink({ client: store.client, faults: crashAt('afterDataWrite') });
    await first.connect();
    await expect(final(first, { height: -1, hash: '0x' }, block(2), (s) => rows(s, block(2)))).rejects.toThrow(Crash);
    expect(await live(store)).toEqual([[2, 0, 2000, 0], [2, 1, 2001, 0]]); // written, not committed

    const logs: [string, Record<string, unknown> | undefined][] = [];
    const second = createClickHouseSink({ client: store.client, log: { debug() {}, info: (m, f) => logs.push([m, f]), warn() {}, error() {} } });
    expect(await second.connect()).toEqual({ height: -1, hash: '0x', top: [] });
    expect(await live(store)).toEqual([]);
    expect(logs).toEqual([['cancelled rows above the last final block (left by an interrupted run, or unfinalized)', { rows: 2, block: -1 }]]);
    // Redoing the batch gives the state of an uninterrupted run; a second connect cancels nothing more.
    await final(second, { height: -1, hash: '0x' }, block(2), (s) => rows(s, block(2)));
    expect(await live(store)).toEqual([[2, 0, 2000, 0], [2, 1, 2001, 0]]);
    expect(await createClickHouseSink({ client: store.client }).connect()).toEqual({ ...block(2), top: [] });
    expect(await live(store)).toEqual([[2, 0, 2000, 0], [2, 1, 2001, 0]]);
  });

  it('after a crash halfway through a reorg, restarting drops the hot blocks and redoing them converges', async () => {
    const store = await freshStore();
    const first = createClickHouseSink({ client: store.client, faults: crashAt('afterRollback') });
    await first.connect();
    await final(first, { height: -1, hash: '0x' }, block(5), (s) => rows(s, block(5)));
    await hot(first, block(5), block(5), [block(6), block(7)]);
    await expect(hot(first, block(6), block(6), [block(7, 1), block(8, 1)], 1)).rejects.toThrow(Crash);

    const second = createClickHouseSink({ client: store.client });
    // The hot blocks 6 and 7 are forgotten: Subsquid fetches them again from the final head.
    expect(await second.connect()).toEqual({ ...block(5), top: [] });
    expect(await live(store)).toEqual([[5, 0, 5000, 0], [5, 1, 5001, 0]]);
    await hot(second, block(5), block(6), [block(6), block(7, 1), block(8, 1)]);
    expect(await live(store)).toEqual([
      [5, 0, 5000, 0], [5, 1, 5001, 0], [6, 0, 6000, 0], [6, 1, 6001, 0], [7, 0, 7000, 1], [7, 1, 7001, 1], [8, 0, 8000, 1], [8, 1, 8001, 1],
    ]);
    expect(second.state()).toEqual({ ...block(6), top: [block(7, 1), block(8, 1)] });
  });

  it('a crash after the first table of a batch leaves nothing once connect() has run', async () => {
    const store = await freshStore();
    const approval = eventTable('OpenToken', 'Approval');
    const sink = createClickHouseSink({ client: store.client, faults: crashAt('afterFirstTable') });
    await sink.connect();
    const write = (s: SinkStore) => {
      rows(s, block(1));
      s.insert(approval, eventRowTsv(approval, { blockNumber: 1, blockHash: block(1).hash as `0x${string}`, timestampMs: 0, logIndex: 2, transactionHash: `0x${'cd'.repeat(32)}`, address: TOKEN }, { owner: `0x${'11'.repeat(20)}`, spender: `0x${'33'.repeat(20)}`, value: 5n }));
    };
    await expect(final(sink, { height: -1, hash: '0x' }, block(1), write)).rejects.toThrow(Crash);
    // Tables are written in EVENT_TABLES order: Approval (first) is in, Transfer is not.
    expect((await allLiveRows(store.client)).map((r) => [r.table, r.log_index])).toEqual([['ev_open_token_approval', 2]]);
    const again = createClickHouseSink({ client: store.client });
    await again.connect();
    expect(await allLiveRows(store.client)).toEqual([]);
    await final(again, { height: -1, hash: '0x' }, block(1), write);
    expect((await allLiveRows(store.client)).map((r) => [r.table, r.log_index])).toEqual([
      ['ev_open_token_transfer', 0],
      ['ev_open_token_transfer', 1],
      ['ev_open_token_approval', 2],
    ]);
  });

  it('rolls back to an earlier block for a deep reorg, and finds the indexed blocks below a height', async () => {
    const store = await freshStore();
    const sink = createClickHouseSink({ client: store.client });
    await sink.connect();
    await final(sink, { height: -1, hash: '0x' }, block(9), (s) => {
      for (const h of [2, 4, 7, 9]) rows(s, block(h));
    });
    expect(await sink.indexedBlockAtOrBelow(9, -1)).toEqual(block(9));
    expect(await sink.indexedBlockAtOrBelow(8, -1)).toEqual(block(7));
    expect(await sink.indexedBlockAtOrBelow(6, 4)).toBeUndefined();
    expect(await sink.indexedBlockAtOrBelow(1, -1)).toBeUndefined();

    sink.close(); // a rollback runs while the processor is stopped
    expect(await sink.rollbackTo(block(4))).toBe(4);
    expect(await sink.readStatus()).toEqual({ ...block(4), top: [] });
    expect(await live(store)).toEqual([[2, 0, 2000, 0], [2, 1, 2001, 0], [4, 0, 4000, 0], [4, 1, 4001, 0]]);
    expect(await sink.indexedBlockAtOrBelow(9, -1)).toEqual(block(4));
    expect(await sink.rollbackTo({ height: -1, hash: '0x' })).toBe(4);
    expect(await live(store)).toEqual([]);
    expect(await sink.readStatus()).toEqual({ height: -1, hash: '0x', top: [] });
  });

  it('refuses to continue from a head it does not have, and writes nothing once closed', async () => {
    const store = await freshStore();
    const sink = createClickHouseSink({ client: store.client });
    await expect(final(sink, { height: -1, hash: '0x' }, block(1), (s) => rows(s, block(1)))).rejects.toThrow(/used before connect\(\)/);
    await sink.connect();
    await final(sink, { height: -1, hash: '0x' }, block(1), (s) => rows(s, block(1)));
    const err = await final(sink, block(3), block(4), (s) => rows(s, block(4))).catch((e) => e);
    expect(err).toBeInstanceOf(SinkStateError);
    expect(err.message).toMatch(/is at block 1 but was asked to continue from 3\n {2}is another process indexing/);
    sink.close();
    await expect(final(sink, block(1), block(2), (s) => rows(s, block(2)))).rejects.toThrow(SinkClosedError);
    expect((await live(store)).map((r) => r[0])).toEqual([1, 1]);
  });

  it('says to apply the migrations when the status table is missing', async () => {
    const store = await openClickHouse({ dataDir: dir, database: `bare_${++n}` });
    stores.push(store);
    const err = await createClickHouseSink({ client: store.client }).connect().catch((e) => e);
    expect(err).toBeInstanceOf(SinkStateError);
    expect(err.message).toBe('the ClickHouse database has no indexer_status table\n  apply the migrations first: migrate(store, CLICKHOUSE_MIGRATIONS)');
  });
});
