// Test helpers that read event tables back: the live (collapsed) rows of every table, in one
// normalized form that can also be built from eth_getLogs (expectedRows in chainRows.ts).
import type { ClickHouseClient } from '@clickhouse/client';
import { EVENT_TABLES, type EventTable } from '../../schema/index.ts';

/** One live row: position, decoded parameters as ClickHouse returns them in JSON, and the net sign. */
export interface LiveRow {
  table: string;
  block_number: number;
  block_hash: string;
  block_timestamp_ms: number;
  log_index: number;
  tx_hash: string;
  contract: string;
  args: Record<string, unknown>;
}

/** A column as JSON-comparable text: binary columns as 0x hex, everything else as ClickHouse prints it. */
export function selectExpr(name: string, chType: string, hex: boolean): string {
  const q = `\`${name}\``;
  if (!hex) return `${q} AS ${q}`;
  return chType.startsWith('Array(') ? `arrayMap(x -> concat('0x', lower(hex(x))), ${q}) AS ${q}` : `concat('0x', lower(hex(${q}))) AS ${q}`;
}

/** The live rows of `table`: rows whose sum(sign) is 1; throws if one's net sign is neither 0 nor 1. */
export async function liveRows(client: ClickHouseClient, table: EventTable): Promise<LiveRow[]> {
  const params = table.params.map((p) => selectExpr(p.name, p.chType, p.hex !== undefined));
  // Grouped by every stored column, so that a row and the row cancelling it meet whatever merges did.
  const stored = table.columns.filter((c) => c.name !== 'sign').map((c) => `\`${c.name}\``).join(', ');
  const query = `SELECT block_number, concat('0x', lower(hex(block_hash))) AS block_hash, toUnixTimestamp64Milli(block_timestamp) AS ms,
      log_index, concat('0x', lower(hex(tx_hash))) AS tx_hash, concat('0x', lower(hex(contract))) AS contract
      ${params.map((p) => `, ${p}`).join('')}, net
    FROM (SELECT ${stored}, sum(sign) AS net FROM ${table.table} GROUP BY ${stored} HAVING net != 0)
    ORDER BY block_number, log_index`;
  const rows = await (await client.query({ query, format: 'JSONEachRow' })).json<Record<string, unknown>>();
  return rows.map((r) => {
    if (Number(r.net) !== 1) throw new Error(`${table.table} block ${r.block_number} log ${r.log_index}: net sign ${r.net}`);
    return {
      table: table.table,
      block_number: Number(r.block_number),
      block_hash: r.block_hash as string,
      block_timestamp_ms: Number(r.ms),
      log_index: Number(r.log_index),
      tx_hash: r.tx_hash as string,
      contract: r.contract as string,
      args: Object.fromEntries(table.params.map((p) => [p.name, r[p.name]])),
    };
  });
}

/** Live rows of every event table, ordered by block and log index. */
export async function allLiveRows(client: ClickHouseClient): Promise<LiveRow[]> {
  const out: LiveRow[] = [];
  for (const t of EVENT_TABLES) out.push(...(await liveRows(client, t)));
  return out.sort((a, b) => a.block_number - b.block_number || a.log_index - b.log_index);
}

/** How many cancelling rows (sign = -1) the event tables hold in all. */
export async function cancellingRows(client: ClickHouseClient): Promise<number> {
  const query = EVENT_TABLES.map((t) => `SELECT countIf(sign = -1) AS n FROM ${t.table}`).join(' UNION ALL ');
  const rows = await (await client.query({ query: `SELECT sum(n) AS n FROM (${query})`, format: 'JSONEachRow' })).json<{ n: string }>();
  return Number(rows[0]?.n ?? 0);
}
