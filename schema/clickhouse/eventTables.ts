// The event tables as data: one per event of every contract, derived from the ABIs the contracts
// part generates. The indexer uses them to turn decoded logs into rows; the migrations must create
// exactly these tables (migrations.test.ts compares them with the applied schema).
import { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import { toEventSelector, type AbiEvent, type ContractEventName, type Hex } from 'viem';
import { artifacts, CONTRACT_NAMES, type ContractName } from '../../contracts/index.ts';
import { abiColumnCodec, snakeCase } from './abiColumns.ts';
import { RowEncodingError } from './errors.ts';
import { tsvDateTime64 } from './tsv.ts';

/** A stored column of an event table. */
export interface ColumnSpec {
  name: string;
  /** As ClickHouse spells it in system.columns. */
  chType: string;
  /**
   * For binary columns: the EPHEMERAL column that an insert fills with hex digits, and the DEFAULT
   * expression (over it) that stores the bytes.
   */
  hex?: { name: string; chType: string; defaultExpr: string };
}

/** Where a log sits on the chain: the columns every event table starts with. */
export interface LogPosition {
  blockNumber: number | bigint;
  blockHash: Hex;
  /** Block timestamp in milliseconds (Subsquid's `header.timestamp`; viem's `block.timestamp` × 1000). */
  timestampMs: number;
  logIndex: number;
  transactionHash: Hex;
  /** The emitting contract. */
  address: Hex;
}

const hexOf = (name: string, chType = 'String', toStored = (c: string) => `unhex(${c})`) => ({
  name: `${name}_hex`,
  chType,
  defaultExpr: toStored(`${name}_hex`),
});

/** The columns before the event's parameters, in table order. */
export const POSITION_COLUMNS: readonly ColumnSpec[] = [
  { name: 'block_number', chType: 'UInt64' },
  { name: 'block_hash', chType: 'FixedString(32)', hex: hexOf('block_hash') },
  { name: 'block_timestamp', chType: "DateTime64(3, 'UTC')" },
  { name: 'log_index', chType: 'UInt32' },
  { name: 'tx_hash', chType: 'FixedString(32)', hex: hexOf('tx_hash') },
  { name: 'contract', chType: 'FixedString(20)', hex: hexOf('contract') },
];
/** The last stored column: +1 for a row, -1 for the row that cancels it (CollapsingMergeTree). */
export const SIGN_COLUMN: ColumnSpec = { name: 'sign', chType: 'Int8' };

const RESERVED = new Set([...POSITION_COLUMNS, SIGN_COLUMN].flatMap((c) => [c.name, ...(c.hex ? [c.hex.name] : [])]));

export interface EventColumn extends ColumnSpec {
  /** The ABI parameter's name (`arg<i>` when unnamed). */
  param: string;
  /** The ABI parameter's position, for viem's args when they come as an array. */
  index: number;
  abiType: string;
  indexed: boolean;
  /** A decoded viem argument as this column's TSV field; throws RowEncodingError when it does not fit. */
  toTsv(value: unknown): string;
}

export interface EventTable {
  contract: ContractName;
  event: string;
  /** `ev_<contract_snake>_<event_snake>`, e.g. `ev_inference_router_inference_settled`. */
  table: string;
  /** `InferenceSettled(bytes32,uint256,…)` */
  signature: string;
  topic0: Hex;
  /** One column per event parameter, in ABI order. */
  params: readonly EventColumn[];
  /** The stored columns in order: position columns, parameters, sign. */
  columns: readonly ColumnSpec[];
  /** The columns an eventRowTsv() line fills, in its order (`<name>_hex` for binary ones). */
  insertColumns: readonly string[];
}

function buildEventTable(contract: ContractName, event: AbiEvent): EventTable {
  const table = `ev_${snakeCase(contract)}_${snakeCase(event.name)}`;
  const taken = new Set(RESERVED);
  const claim = (name: string) => {
    if (taken.has(name)) throw new Error(`${contract}.${event.name}: two columns would be named ${name}`);
    taken.add(name);
  };
  const params = event.inputs.map((input, index): EventColumn => {
    const param = input.name || `arg${index}`;
    const snake = snakeCase(param);
    // A parameter named like a position column keeps a prefix rather than shadowing it.
    const name = RESERVED.has(snake) ? `arg_${snake}` : snake;
    const indexed = 'indexed' in input && input.indexed === true;
    const codec = abiColumnCodec(input, indexed);
    const hex = codec.hex && hexOf(name, codec.hex.chType, codec.hex.toStored);
    claim(name);
    if (hex) claim(hex.name);
    const where = `${contract}.${event.name}.${param}`;
    return {
      name,
      chType: codec.chType,
      ...(hex && { hex }),
      param,
      index,
      abiType: input.type,
      indexed,
      toTsv: (value) => codec.field(value, where),
    };
  });
  const columns: ColumnSpec[] = [
    ...POSITION_COLUMNS,
    ...params.map(({ name, chType, hex }) => ({ name, chType, ...(hex && { hex }) })),
    SIGN_COLUMN,
  ];
  const signature = `${event.name}(${event.inputs.map((i) => i.type).join(',')})`;
  return {
    contract,
    event: event.name,
    table,
    signature,
    topic0: toEventSelector(signature),
    params,
    columns,
    insertColumns: columns.map((c) => c.hex?.name ?? c.name),
  };
}

function buildAll(): EventTable[] {
  const tables: EventTable[] = [];
  const names = new Set<string>();
  for (const contract of CONTRACT_NAMES) {
    for (const item of artifacts[contract].abi) {
      if (item.type !== 'event') continue;
      const t = buildEventTable(contract, item as AbiEvent);
      // Overloaded events (same name, other parameters) would need a suffix; none exists yet.
      if (names.has(t.table)) throw new Error(`Two events map to the table ${t.table}: overloaded event ${contract}.${t.event}?`);
      names.add(t.table);
      tables.push(t);
    }
  }
  return tables;
}

/** Every event table, by contract in deployment order, then by event as the ABI lists them. */
export const EVENT_TABLES: readonly EventTable[] = buildAll();

const byName = new Map(EVENT_TABLES.map((t) => [`${t.contract}.${t.event}`, t]));
const byTopic = new Map(EVENT_TABLES.map((t) => [`${t.contract}.${t.topic0}`, t]));

export type ContractEvent<C extends ContractName> = ContractEventName<(typeof artifacts)[C]['abi']>;

/** The table of `contract`'s event `event`. */
export function eventTable<C extends ContractName>(contract: C, event: ContractEvent<C>): EventTable {
  const t = byName.get(`${contract}.${event}`);
  if (!t) throw new Error(`${contract} has no event ${String(event)}`);
  return t;
}

/** The table for a log of `contract` with first topic `topic0`, or undefined for an unknown event. */
export function eventTableByTopic(contract: ContractName, topic0: Hex): EventTable | undefined {
  return byTopic.get(`${contract}.${topic0.toLowerCase()}`);
}

/**
 * One row of `table` as a TSV line (ending in '\n') whose fields are `table.insertColumns`, for
 * insertEventRows(). `args` are viem's decoded arguments: an object by parameter name, or an array
 * by position. `sign` -1 writes the row that cancels an earlier one.
 */
export function eventRowTsv(table: EventTable, log: LogPosition, args: unknown, sign: 1 | -1 = 1): string {
  const where = `${table.contract}.${table.event}`;
  const fields = [
    uint(log.blockNumber, 64, `${where} blockNumber`),
    hex(log.blockHash, 32, `${where} blockHash`),
    timestamp(log.timestampMs, `${where} timestampMs`),
    uint(log.logIndex, 32, `${where} logIndex`),
    hex(log.transactionHash, 32, `${where} transactionHash`),
    hex(log.address, 20, `${where} address`),
  ];
  if (table.params.length > 0) {
    if (typeof args !== 'object' || args === null) {
      throw new RowEncodingError(`${where}: expected decoded args (an object or an array), got ${String(args)}`);
    }
    const byPosition = Array.isArray(args);
    for (const p of table.params) {
      fields.push(p.toTsv(byPosition ? (args as unknown[])[p.index] : (args as Record<string, unknown>)[p.param]));
    }
  }
  fields.push(sign === -1 ? '-1' : '1');
  return `${fields.join('\t')}\n`;
}

/**
 * Inserts lines made by eventRowTsv() for `table`, as one TabSeparated insert. Each element is one
 * line or several whole lines (a caller may concatenate rows early); returns the number of elements.
 */
export async function insertEventRows(client: ClickHouseClient, table: EventTable, lines: readonly string[]): Promise<number> {
  if (lines.length === 0) return 0;
  const body = lines.join('');
  const raw = chdbRawInsert(client);
  if (raw && table.insertColumns.every((c) => PLAIN_IDENTIFIER.test(c))) {
    await raw({ table: table.table, columns: table.insertColumns, format: 'TabSeparated', values: Buffer.from(body, 'utf8') });
    return lines.length;
  }
  await client.insert({
    table: table.table,
    // Quoted: parameters such as `from` and `to` are SQL keywords.
    columns: table.insertColumns.map((c) => `\`${c}\``) as [string, ...string[]],
    format: 'TabSeparated',
    values: Readable.from([body], { objectMode: false }),
  });
  return lines.length;
}

/** What chDB's raw insert accepts as a column name (it refuses quoting). */
const PLAIN_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

type RawInsert = (params: { table: string; columns: readonly string[]; format: 'TabSeparated'; values: Buffer }) => Promise<unknown>;

/**
 * chDB's raw insert, when `client` runs on chDB's connection: the body goes to the engine as bytes.
 * Through client.insert() a multi-MB body is turned into a Buffer, back into a string, glued to the
 * INSERT statement and converted to UTF-8 again on the main thread (measured: ~4 µs of main-thread
 * time per InferenceSettled row, against ~8 µs for the whole insert in the engine). The connection
 * keeps chDB's extension on `connection.chdb` (chdb/connection's documented escape hatch); the client
 * keeps its connection in a plain property, so a client on a ClickHouse server, or one that stores it
 * otherwise, simply takes the ordinary path.
 */
function chdbRawInsert(client: ClickHouseClient): RawInsert | undefined {
  const chdb = (client as unknown as { connection?: { chdb?: { rawInsert?: unknown } } }).connection?.chdb;
  const rawInsert = chdb?.rawInsert;
  return typeof rawInsert === 'function' ? (rawInsert.bind(chdb) as RawInsert) : undefined;
}

function uint(v: number | bigint, bits: number, where: string): string {
  const ok = typeof v === 'bigint' ? v >= 0n && v < 1n << BigInt(bits) : Number.isSafeInteger(v) && v >= 0 && v < 2 ** bits;
  if (!ok) throw new RowEncodingError(`${where}: expected an unsigned ${bits}-bit integer, got ${String(v)}`);
  return String(v);
}

function hex(v: string, bytes: number, where: string): string {
  if (typeof v !== 'string' || v.length !== 2 + bytes * 2 || !/^0x[0-9a-fA-F]*$/.test(v)) {
    throw new RowEncodingError(`${where}: expected 0x-prefixed hex of ${bytes} bytes, got ${JSON.stringify(v)}`);
  }
  return v.slice(2);
}

function timestamp(ms: number, where: string): string {
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new RowEncodingError(`${where}: expected milliseconds since 1970 as a non-negative integer, got ${String(ms)}`);
  }
  return tsvDateTime64(ms);
}
