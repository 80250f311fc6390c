// The indexer's store: a ClickHouse sink implementing Subsquid's HotDatabase.
//
// Commit protocol. A batch's rows go in first (one TabSeparated insert per event table), then the
// status row in `indexer_status` (height and hash of the last final block, and the unfinalized
// blocks above it): the status row is the commit point. ClickHouse has no transactions across
// inserts, so a crash can leave rows of an uncommitted batch behind; they all lie above the
// committed final head, and connect() cancels everything above that head.
//
// Undoing rows. Event tables are CollapsingMergeTree(sign): a row is undone by inserting the same
// row with sign = -1 (an INSERT … SELECT of the net-positive rows above a height), never by a
// DELETE, so that materialized views fed by these tables see the cancellation too. Readers count
// with sum(sign) or read with FINAL.
//
// Hot blocks. Blocks within the finality window arrive through transactHot2(). When its base lies
// below our last block (the chain reorganised), the rows of the orphaned blocks (every row above the
// base) are cancelled before the new blocks are written. On restart, connect() also cancels the hot
// blocks and reports none, so Subsquid fetches them again: at most a finality window of re-work, and
// no half-applied reorg can survive a crash.
import type { ClickHouseClient } from '@clickhouse/client';
import type { FinalTxInfo, HashAndHeight, HotDatabase, HotDatabaseState, HotTxInfo } from '@subsquid/util-internal-processor-tools';
import { EVENT_TABLES, insertEventRows, type EventTable } from '../schema/index.ts';
import { IndexerError, SinkClosedError, SinkStateError } from './errors.ts';
import { SILENT_LOGGER, type IndexerLogger } from './log.ts';

/** What the handler writes to: rows buffered per event table until the batch commits. */
export interface SinkStore {
  /** Buffers rows of `table`: `lines` is one or more lines made by eventRowTsv() (sign +1), `rows` how many (default 1). */
  insert(table: EventTable, lines: string, rows?: number): void;
  /** Rows buffered so far in this batch. */
  readonly rows: number;
}

/** Where a fault fires: which kind of transaction, its blocks, and its rows. */
export interface SinkFaultContext {
  kind: 'final' | 'hot';
  /** First and last block of the batch (for a rollback: the base it rolls back to, twice). */
  from: number;
  to: number;
  rows: number;
}

/**
 * Fault-injection points, for crash tests: each runs at its point and may kill the process
 * (process.kill(process.pid, 'SIGKILL')) or throw, which the transaction propagates unchanged.
 */
export interface SinkFaults {
  /** After the cancelling rows of orphaned hot blocks, before the new blocks' rows. */
  afterRollback?(ctx: SinkFaultContext): void | Promise<void>;
  /** After the batch's first event table is written, before the others: a torn data write. */
  afterFirstTable?(ctx: SinkFaultContext): void | Promise<void>;
  /** After every row of the batch, before its status row (the commit point). */
  afterDataWrite?(ctx: SinkFaultContext): void | Promise<void>;
  /** After the status row. */
  afterStatusWrite?(ctx: SinkFaultContext): void | Promise<void>;
}

/** A committed batch, for progress reports. */
export interface SinkCommit {
  kind: 'final' | 'hot';
  /** The last final block. */
  finalized: HashAndHeight;
  /** The last block indexed (the last hot block, or the final head). */
  head: HashAndHeight;
  /** Rows this batch wrote. */
  rows: number;
  /** Rows this batch cancelled (orphaned hot blocks). */
  cancelled: number;
}

export interface ClickHouseSinkOptions {
  client: ClickHouseClient;
  /** The `indexer_status` row this sink owns (default `main`): one per indexed deployment. */
  id?: string;
  faults?: SinkFaults;
  log?: IndexerLogger;
  onCommit?(commit: SinkCommit): void;
}

export interface ClickHouseSink extends HotDatabase<SinkStore> {
  readonly id: string;
  transactHot2(info: HotTxInfo, cb: (store: SinkStore, blockSliceStart: number, blockSliceEnd: number) => Promise<void>): Promise<void>;
  /** The committed state as this sink knows it (undefined before connect() and while closed). */
  state(): HotDatabaseState | undefined;
  /** The status row as stored (height -1 and hash '0x' when there is none). */
  readStatus(): Promise<HotDatabaseState>;
  /**
   * Cancels every row above `head` and commits `head` as the final head with no hot blocks (height
   * -1, hash '0x': everything). For a reorg deeper than the finality window; returns the rows cancelled.
   */
  rollbackTo(head: HashAndHeight): Promise<number>;
  /** The highest block at or below `height` and above `above` that holds net-positive rows. */
  indexedBlockAtOrBelow(height: number, above: number): Promise<HashAndHeight | undefined>;
  /** From now on transactions throw SinkClosedError before writing anything; connect() reopens. */
  close(): void;
}

/** A table's rows buffered in a transaction: chunks of TSV lines, and how many rows they hold. */
interface Buffered {
  chunks: string[];
  rows: number;
}

export const EMPTY_HEAD: HashAndHeight = Object.freeze({ height: -1, hash: '0x' });

const STATUS_TABLE = 'indexer_status';

/** A ClickHouse store for Subsquid's processor; see the file comment for the protocol. */
export function createClickHouseSink(opts: ClickHouseSinkOptions): ClickHouseSink {
  const { client } = opts;
  const id = opts.id ?? 'main';
  const faults = opts.faults ?? {};
  const log = opts.log ?? SILENT_LOGGER;
  let current: HotDatabaseState | undefined;
  let closed = false;
  let busy = false;
  /** The last status version written (µs), so the next one is always later even if the clock steps back. */
  let lastVersion = 0;

  const query = async <T>(sql: string, params: Record<string, unknown> = {}): Promise<T[]> => {
    const rs = await client.query({ query: sql, query_params: params, format: 'JSONEachRow' });
    return rs.json<T>();
  };

  async function readStatus(): Promise<HotDatabaseState & { version: number }> {
    let rows: { height: string; hash: string; top_json: string; version: string }[];
    try {
      rows = await query(
        `SELECT height, hash, top_json, toUnixTimestamp64Micro(updated_at) AS version FROM ${STATUS_TABLE} FINAL WHERE id = {id:String}`,
        { id },
      );
    } catch (err) {
      const e = err as { type?: unknown; message?: unknown } | undefined;
      if (e?.type === 'UNKNOWN_TABLE' || /Unknown table|doesn't exist|does not exist/i.test(String(e?.message))) {
        throw new SinkStateError(`the ClickHouse database has no ${STATUS_TABLE} table`, {
          details: 'apply the migrations first: migrate(store, CLICKHOUSE_MIGRATIONS)',
          cause: err,
        });
      }
      throw storeError(err, 'read the indexer status');
    }
    const row = rows[0];
    if (!row) return { ...EMPTY_HEAD, top: [], version: 0 };
    let top: HashAndHeight[];
    try {
      top = JSON.parse(row.top_json) as HashAndHeight[];
      if (!Array.isArray(top)) throw new Error('not an array');
    } catch (err) {
      throw new SinkStateError(`the ${STATUS_TABLE} row ${id} has a malformed top_json`, { details: String(err), cause: err });
    }
    return { height: Number(row.height), hash: row.hash, top, version: Number(row.version) };
  }

  async function writeStatus(next: HotDatabaseState): Promise<void> {
    const version = Math.max(Date.now() * 1000, lastVersion + 1);
    try {
      await client.command({
        query: `INSERT INTO ${STATUS_TABLE} (id, height, hash, top_json, updated_at)
                SELECT {id:String}, {height:Int64}, {hash:String}, {top:String}, fromUnixTimestamp64Micro({version:Int64}, 'UTC')`,
        query_params: {
          id,
          height: next.height,
          hash: next.hash,
          top: JSON.stringify(next.top.map((b) => ({ height: b.height, hash: b.hash }))),
          version,
        },
      });
    } catch (err) {
      throw storeError(err, `write the indexer status (block ${next.height})`);
    }
    lastVersion = version;
  }

  /** Cancels every net-positive row above `height` in every event table; returns how many. */
  async function cancelAbove(height: number): Promise<number> {
    const counts = await query<{ i: number; n: string }>(
      EVENT_TABLES.map((t, i) => `SELECT ${i} AS i, sum(sign) AS n FROM ${t.table} WHERE block_number > {h:Int64}`).join('\nUNION ALL\n'),
      { h: height },
    ).catch((err) => {
      throw storeError(err, `find rows above block ${height}`);
    });
    let cancelled = 0;
    for (const { i, n } of counts.sort((a, b) => a.i - b.i)) {
      if (Number(n) <= 0) continue;
      const t = EVENT_TABLES[i]!;
      const cols = t.columns.filter((c) => c.name !== 'sign').map((c) => `\`${c.name}\``);
      const list = cols.join(', ');
      try {
        // A row cancelled once is net zero and not selected again, so cancelling is idempotent.
        await client.command({
          query: `INSERT INTO ${t.table} (${list}, sign)
                  SELECT ${list}, toInt8(-1) FROM
                    (SELECT ${list}, sum(sign) AS _net FROM ${t.table} WHERE block_number > {h:Int64} GROUP BY ${list} HAVING _net > 0)
                  ARRAY JOIN range(toUInt64(_net)) AS _copy`,
          query_params: { h: height },
        });
      } catch (err) {
        throw storeError(err, `cancel the rows of ${t.table} above block ${height}`);
      }
      cancelled += Number(n);
    }
    return cancelled;
  }

  /** Writes the buffered rows, table by table, firing the data-write faults. */
  async function writeRows(buffers: Map<EventTable, Buffered>, ctx: SinkFaultContext): Promise<void> {
    let first = true;
    for (const t of EVENT_TABLES) {
      const buffered = buffers.get(t);
      if (!buffered || buffered.rows === 0) continue;
      try {
        await insertEventRows(client, t, buffered.chunks);
      } catch (err) {
        throw storeError(err, `insert ${buffered.rows} rows into ${t.table} (blocks ${ctx.from}–${ctx.to})`);
      }
      if (first) {
        first = false;
        await faults.afterFirstTable?.(ctx);
      }
    }
    await faults.afterDataWrite?.(ctx);
  }

  function newStore(): { store: SinkStore; buffers: Map<EventTable, Buffered> } {
    const buffers = new Map<EventTable, Buffered>();
    let rows = 0;
    const store: SinkStore = {
      insert(table, lines, n = 1) {
        let buffered = buffers.get(table);
        if (!buffered) buffers.set(table, (buffered = { chunks: [], rows: 0 }));
        buffered.chunks.push(lines);
        buffered.rows += n;
        rows += n;
      },
      get rows() {
        return rows;
      },
    };
    return { store, buffers };
  }

  /** Runs one transaction: refuses two at once, and (unless `whenClosed`) any once closed. */
  async function exclusive<T>(what: string, fn: () => Promise<T>, whenClosed = false): Promise<T> {
    if (closed && !whenClosed) throw new SinkClosedError(`the indexer sink ${id} is closed`, { details: `${what} was not started` });
    if (busy) throw new SinkStateError(`${what} started while another transaction of the sink ${id} is running`);
    busy = true;
    try {
      return await fn();
    } finally {
      busy = false;
    }
  }

  function connected(): HotDatabaseState {
    if (!current) throw new SinkStateError(`the indexer sink ${id} is used before connect()`);
    return current;
  }

  return {
    supportsHotBlocks: true,
    id,

    state: () => (closed || !current ? undefined : { ...current, top: [...current.top] }),

    readStatus: async () => {
      const { version: _v, ...s } = await readStatus();
      return s;
    },

    async connect() {
      // Reopened only once the state below is the database's again.
      current = undefined;
      const stored = await readStatus();
      lastVersion = stored.version;
      // Whatever lies above the last final block was written by a batch that never committed, or
      // belongs to hot blocks that Subsquid will fetch again: cancel it.
      const cancelled = await cancelAbove(stored.height);
      if (cancelled > 0) {
        log.info('cancelled rows above the last final block (left by an interrupted run, or unfinalized)', {
          rows: cancelled,
          block: stored.height,
        });
      }
      current = { height: stored.height, hash: stored.hash, top: [] };
      closed = false;
      return { ...current, top: [] };
    },

    transact(info: FinalTxInfo, cb: (store: SinkStore) => Promise<void>) {
      return exclusive(`the batch up to block ${info.nextHead.height}`, async () => {
        const state = connected();
        if (info.prevHead.height !== state.height || info.prevHead.hash !== state.hash) {
          throw new SinkStateError(`the indexer sink ${id} is at block ${state.height} but was asked to continue from ${info.prevHead.height}`, {
            details: 'is another process indexing into the same database with the same indexer id?',
          });
        }
        if (info.nextHead.height <= state.height) {
          throw new SinkStateError(`batch head ${info.nextHead.height} is not above the sink's head ${state.height}`);
        }
        // Hot blocks re-delivered as final ones: undo them first.
        const cancelled = state.top.length > 0 ? await cancelAbove(state.height) : 0;
        const { store, buffers } = newStore();
        await cb(store);
        const ctx: SinkFaultContext = { kind: 'final', from: state.height + 1, to: info.nextHead.height, rows: store.rows };
        await writeRows(buffers, ctx);
        const next: HotDatabaseState = { height: info.nextHead.height, hash: info.nextHead.hash, top: [] };
        await writeStatus(next);
        current = next;
        await faults.afterStatusWrite?.(ctx);
        const head = { height: next.height, hash: next.hash };
        opts.onCommit?.({ kind: 'final', finalized: head, head, rows: store.rows, cancelled });
      });
    },

    transactHot(): Promise<void> {
      // Deprecated in Subsquid; the runner uses transactHot2 when it exists.
      return Promise.reject(new SinkStateError('transactHot is not supported: use transactHot2'));
    },

    transactHot2(info: HotTxInfo, cb: (store: SinkStore, blockSliceStart: number, blockSliceEnd: number) => Promise<void>) {
      const last = info.newBlocks[info.newBlocks.length - 1] ?? info.baseHead;
      return exclusive(`the hot blocks up to ${last.height}`, async () => {
        const state = connected();
        const chain: HashAndHeight[] = [{ height: state.height, hash: state.hash }, ...state.top];
        const base = info.baseHead.height - state.height;
        if (base < 0 || chain[base]?.hash !== info.baseHead.hash) {
          throw new SinkStateError(`the hot blocks' base ${info.baseHead.height} (${info.baseHead.hash}) is not a block this sink indexed`, {
            details: `the sink's chain is ${chain.map((b) => b.height).join(', ')}`,
          });
        }
        let cancelled = 0;
        if (base < chain.length - 1) {
          const orphaned = chain.slice(base + 1);
          cancelled = await cancelAbove(info.baseHead.height);
          log.info('chain reorganised within the finality window: cancelled the rows of the orphaned blocks', {
            base: info.baseHead.height,
            orphaned: orphaned.map((b) => b.height),
            rows: cancelled,
          });
          await faults.afterRollback?.({ kind: 'hot', from: info.baseHead.height, to: info.baseHead.height, rows: cancelled });
        }
        const { store, buffers } = newStore();
        if (info.newBlocks.length > 0) await cb(store, 0, info.newBlocks.length);
        const ctx: SinkFaultContext = { kind: 'hot', from: info.baseHead.height + 1, to: last.height, rows: store.rows };
        await writeRows(buffers, ctx);

        const newChain = chain.slice(0, base + 1).concat(info.newBlocks.map((b) => ({ height: b.height, hash: b.hash })));
        const f = info.finalizedHead.height - state.height;
        if (f < 0 || newChain[f]?.hash !== info.finalizedHead.hash) {
          throw new SinkStateError(`the finalized head ${info.finalizedHead.height} (${info.finalizedHead.hash}) is not on the sink's chain`);
        }
        const next: HotDatabaseState = { height: info.finalizedHead.height, hash: info.finalizedHead.hash, top: newChain.slice(f + 1) };
        await writeStatus(next);
        current = next;
        await faults.afterStatusWrite?.(ctx);
        opts.onCommit?.({
          kind: 'hot',
          finalized: { height: next.height, hash: next.hash },
          head: newChain[newChain.length - 1]!,
          rows: store.rows,
          cancelled,
        });
      });
    },

    rollbackTo(head: HashAndHeight) {
      return exclusive(`the rollback to block ${head.height}`, async () => {
        const stored = await readStatus();
        lastVersion = Math.max(lastVersion, stored.version);
        const cancelled = await cancelAbove(head.height);
        const next: HotDatabaseState = { height: head.height, hash: head.hash, top: [] };
        await writeStatus(next);
        current = next;
        return cancelled;
      }, true);
    },

    async indexedBlockAtOrBelow(height: number, above: number) {
      if (height <= above) return undefined;
      const union = EVENT_TABLES.map(
        (t) => `SELECT block_number, block_hash, sign FROM ${t.table} WHERE block_number <= {h:Int64} AND block_number > {lo:Int64}`,
      ).join('\nUNION ALL\n');
      const rows = await query<{ block_number: string; hash: string }>(
        `SELECT block_number, concat('0x', lower(hex(block_hash))) AS hash FROM (${union})
         GROUP BY block_number, block_hash HAVING sum(sign) > 0 ORDER BY block_number DESC LIMIT 1`,
        { h: height, lo: above },
      ).catch((err) => {
        throw storeError(err, `find the indexed blocks at or below ${height}`);
      });
      const row = rows[0];
      return row && { height: Number(row.block_number), hash: row.hash };
    },

    close() {
      closed = true;
    },
  };
}

/** A ClickHouse failure during a transaction: retryable, since the store may be back after a while. */
function storeError(err: unknown, doing: string): IndexerError {
  if (err instanceof IndexerError) return err;
  return new IndexerError(`ClickHouse failed to ${doing}`, {
    details: `${err instanceof Error ? err.message.split('\n')[0] : String(err)}; the batch was not committed and will be redone`,
    retryable: true,
    cause: err,
  });
}
