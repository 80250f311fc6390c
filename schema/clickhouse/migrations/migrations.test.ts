import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AbiEvent } from 'viem';
import { artifacts, CONTRACT_NAMES } from '../../../contracts/index.ts';
import { openClickHouse, type ClickHouseStore } from '../connect.ts';
import { EVENT_TABLES } from '../eventTables.ts';
import { migrate } from '../migrate.ts';
import { CLICKHOUSE_MIGRATIONS } from './index.ts';

// chDB binds one data dir per process, and migrating 70-odd tables takes about a second, so the
// tests of this file share one database migrated once; none of them changes the schema.
let dir: string;
let shared: ClickHouseStore;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-ch-migrations-'));
  shared = await openClickHouse({ dataDir: dir, database: 'migrations' });
  await migrate(shared, CLICKHOUSE_MIGRATIONS);
});
afterAll(async () => {
  await shared?.close();
  rmSync(dir, { recursive: true, force: true });
});
const migrated = (fn: (store: ClickHouseStore) => Promise<void>) => fn(shared);

const rows = async <T>(store: ClickHouseStore, query: string, query_params?: Record<string, unknown>) =>
  (await store.client.query({ query, query_params, format: 'JSONEachRow' })).json<T>();

/** Every event in the contracts' ABIs, read directly from the artifacts. */
const abiEvents = CONTRACT_NAMES.flatMap((contract) =>
  (artifacts[contract].abi as readonly { type: string }[])
    .filter((item): item is AbiEvent => item.type === 'event')
    .map((event) => ({ contract, event })),
);

describe('ClickHouse migrations', () => {
  it('apply once: a second run applies nothing', async () => {
    await migrated(async (store) => {
      expect(await migrate(store, CLICKHOUSE_MIGRATIONS)).toEqual([]);
      expect(await rows(store, 'SELECT id, name FROM schema_migrations ORDER BY id')).toEqual(
        CLICKHOUSE_MIGRATIONS.map((m) => ({ id: m.id, name: m.name })),
      );
    });
  });

  // A contract event added or changed without a new migration fails here.
  it('create one table per contract event whose columns are the event parameters in order and type', async () => {
    await migrated(async (store) => {
      // Every ABI event has its description, with the parameters in ABI order.
      expect(EVENT_TABLES.map((t) => `${t.contract}.${t.event}(${t.params.map((p) => `${p.abiType} ${p.param}`).join(',')})`)).toEqual(
        abiEvents.map(({ contract, event }) => `${contract}.${event.name}(${event.inputs.map((i) => `${i.type} ${i.name}`).join(',')})`),
      );
      // The applied schema has exactly those tables and columns: the stored ones, then the EPHEMERAL
      // hex columns that inserts fill.
      const applied = await rows<{ table: string; name: string; type: string; default_kind: string; default_expression: string }>(
        store,
        `SELECT table, name, type, default_kind, default_expression FROM system.columns
         WHERE database = {db:String} AND startsWith(table, 'ev_') ORDER BY table, position`,
        { db: store.database },
      );
      const actual: Record<string, string[]> = {};
      for (const c of applied) {
        const def = c.default_kind === 'EPHEMERAL' ? ' EPHEMERAL' : c.default_kind ? ` ${c.default_kind} ${c.default_expression}` : '';
        (actual[c.table] ??= []).push(`${c.name} ${c.type}${def}`);
      }
      const expected: Record<string, string[]> = {};
      for (const t of [...EVENT_TABLES].sort((a, b) => (a.table < b.table ? -1 : 1))) {
        expected[t.table] = [
          ...t.columns.map((c) => `${c.name} ${c.chType}${c.hex ? ` DEFAULT ${c.hex.defaultExpr}` : ''}`),
          ...t.columns.flatMap((c) => (c.hex ? [`${c.hex.name} ${c.hex.chType} EPHEMERAL`] : [])),
        ];
      }
      expect(actual).toEqual(expected);
      expect(Object.keys(actual)).toHaveLength(abiEvents.length);

      const engines = await rows<{ engine_full: string; sorting_key: string; comment: string; name: string }>(
        store,
        "SELECT name, engine_full, sorting_key, comment FROM system.tables WHERE database = {db:String} AND startsWith(name, 'ev_') ORDER BY name",
        { db: store.database },
      );
      for (const e of engines) {
        expect(e.engine_full, e.name).toMatch(/^CollapsingMergeTree\(sign\) ORDER BY \(block_number, log_index, block_hash\)/);
        expect(e.sorting_key, e.name).toBe('block_number, log_index, block_hash');
        const t = EVENT_TABLES.find((x) => x.table === e.name)!;
        expect(e.comment).toBe(`${t.contract}.${t.signature}`);
      }
    });
  });

  it('map each Solidity type in use to its ClickHouse type', () => {
    // The oracle for the mapping documented in abiColumns.ts; a new Solidity type in an event lands here.
    const expectedType: Record<string, string> = {
      address: 'FixedString(20)',
      bool: 'Bool',
      bytes: 'String',
      bytes32: 'FixedString(32)',
      string: 'String',
      uint8: 'UInt8',
      uint16: 'UInt16',
      uint64: 'UInt64',
      uint256: 'UInt256',
      'address[]': 'Array(FixedString(20))',
      'bytes[]': 'Array(String)',
      'string[]': 'Array(String)',
      'uint64[]': 'Array(UInt64)',
      'uint256[]': 'Array(UInt256)',
    };
    for (const t of EVENT_TABLES) {
      for (const p of t.params) {
        expect(expectedType[p.abiType], `${t.contract}.${t.event}.${p.param}: ${p.abiType} is not in the oracle`).toBeDefined();
        expect(`${t.table}.${p.name} ${p.chType}`).toBe(`${t.table}.${p.name} ${expectedType[p.abiType]}`);
      }
    }
    const settled = EVENT_TABLES.find((t) => t.table === 'ev_inference_router_inference_settled')!;
    expect(settled.columns.map((c) => `${c.name} ${c.chType}`)).toEqual([
      'block_number UInt64',
      'block_hash FixedString(32)',
      "block_timestamp DateTime64(3, 'UTC')",
      'log_index UInt32',
      'tx_hash FixedString(32)',
      'contract FixedString(20)',
      'request_id FixedString(32)',
      'model_id UInt256',
      'payer FixedString(20)',
      'epoch UInt256',
      'batch_number UInt256',
      'model_owner FixedString(20)',
      'tokens_in UInt256',
      'tokens_out UInt256',
      'fee UInt256',
      'owner_amount UInt256',
      'pool_amount UInt256',
      'treasury_amount UInt256',
      'sign Int8',
    ]);
  });

  it('keep the latest indexer_status row per id', async () => {
    await migrated(async (store) => {
      const write = (height: number, hash: string, at: string) =>
        store.client.command({
          query: 'INSERT INTO indexer_status SELECT {id:String}, {height:Int64}, {hash:String}, {top:String}, {at:String}',
          query_params: { id: 'main', height, hash, top: JSON.stringify([{ height, hash }]), at },
        });
      await write(-1, '0x', '2024-01-01 00:00:00.000001');
      await write(10, '0xaa', '2024-01-01 00:00:00.000002');
      await write(9, '0xbb', '2024-01-01 00:00:00.000003'); // a rollback: lower height, later write
      expect(await rows(store, "SELECT height, hash, top_json FROM indexer_status FINAL WHERE id = 'main'")).toEqual([
        { height: '9', hash: '0xbb', top_json: '[{"height":9,"hash":"0xbb"}]' },
      ]);
      // Two writes in the same microsecond: the later insert wins.
      await write(11, '0xcc', '2024-01-01 00:00:00.000004');
      await write(12, '0xdd', '2024-01-01 00:00:00.000004');
      expect(await rows(store, "SELECT height, hash FROM indexer_status FINAL WHERE id = 'main'")).toEqual([{ height: '12', hash: '0xdd' }]);
      await store.client.command({ query: 'OPTIMIZE TABLE indexer_status FINAL' });
      expect(await rows(store, "SELECT height, hash FROM indexer_status WHERE id = 'main'")).toEqual([{ height: '12', hash: '0xdd' }]);
    });
  });
});
