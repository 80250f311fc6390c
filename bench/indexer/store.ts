// The store every storing arm writes to: a fresh chDB in the arm's temp dir, with the platform's
// migrations applied (the same event tables, materialized views included).
import type { ClickHouseClient } from '@clickhouse/client';
import { CLICKHOUSE_MIGRATIONS, EVENT_TABLES, migrate, openClickHouse, type ClickHouseStore } from '../../schema/index.ts';

export async function openBenchStore(dataDir: string): Promise<ClickHouseStore> {
  const store = await openClickHouse({ dataDir });
  try {
    await migrate(store, CLICKHOUSE_MIGRATIONS);
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

/** Net rows (sum of sign) per event table, for the tables holding any. */
export async function storedRows(client: ClickHouseClient): Promise<Record<string, number>> {
  const query = EVENT_TABLES.map((t) => `SELECT '${t.table}' AS t, sum(sign) AS n FROM ${t.table}`).join(' UNION ALL ');
  const rows = await (await client.query({ query, format: 'JSONEachRow' })).json<{ t: string; n: string }>();
  return Object.fromEntries(rows.filter((r) => Number(r.n) !== 0).map((r) => [r.t, Number(r.n)]).sort());
}

export const totalRows = (rows: Record<string, number>): number => Object.values(rows).reduce((a, b) => a + b, 0);
