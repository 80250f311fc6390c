// Synthetic chain events for API tests, written the way the indexer writes them (TSV rows with
// sign 1 into the event tables), so the derived views compute from them as they would in production.
import type { Hex } from 'viem';
import type { ContractName } from '../../../contracts/index.ts';
import { eventRowTsv, eventTable, insertEventRows, type ClickHouseStore, type ContractEvent, type EventTable, type LogPosition } from '../../../schema/index.ts';

export const T0 = Date.UTC(2025, 2, 1, 9, 30); // 2025-03-01 09:30 UTC
export const DAY_MS = 86_400_000;
const CONTRACT = '0x5fbdb2315678afecb367f032d93f642f64180aa3' as Hex;

/** A 32-byte value whose first byte is `prefix` and whose last bytes are `n`. */
export const hex32 = (prefix: number, n: bigint | number) => `0x${prefix.toString(16).padStart(2, '0')}${BigInt(n).toString(16).padStart(62, '0')}` as Hex;
/** An address ending in `n`. */
export const addr = (n: number) => `0xa0${n.toString(16).padStart(38, '0')}` as Hex;

/** Block `block`, 12 s apart from T0 unless `ms` says when. */
export const at = (block: number, logIndex = 0, ms?: number): LogPosition => ({
  blockNumber: BigInt(block),
  blockHash: hex32(0xb0, block),
  timestampMs: ms ?? T0 + block * 12_000,
  logIndex,
  transactionHash: hex32(0xc0, block * 1000 + logIndex),
  address: CONTRACT,
});

export interface Ev {
  table: EventTable;
  pos: LogPosition;
  args: Record<string, unknown>;
}

export const ev = <C extends ContractName>(contract: C, event: ContractEvent<C>, pos: LogPosition, args: Record<string, unknown>): Ev => ({
  table: eventTable(contract, event),
  pos,
  args,
});

/** Inserts the events, one insert per event table. */
export async function put(store: ClickHouseStore, evs: readonly Ev[]): Promise<void> {
  const byTable = new Map<EventTable, string[]>();
  for (const e of evs) {
    const lines = byTable.get(e.table) ?? [];
    lines.push(eventRowTsv(e.table, e.pos, e.args, 1));
    byTable.set(e.table, lines);
  }
  for (const [table, lines] of byTable) await insertEventRows(store.client, table, lines);
}
