// Turns a raw log of one of the deployment's contracts into a row of its event table (a TSV line for
// insertEventRows). The arguments are read straight from the ABI words (32-byte slots) of the topics
// and data, per event table, instead of through viem's decodeEventLog (~45 µs a log): the shapes our
// events use are few (integers, addresses, bools, fixed bytes, bytes, strings and arrays of them).
// An event with any other shape (tuples, fixed arrays of dynamic values) falls back to viem.
//
// The hot shapes (integers, addresses, fixed bytes, bools) go from the word to the TSV field without
// an intermediate value: a uint below 2^52 is printed from parseInt, not BigInt; an address or bytesN
// is a slice of the hex. The columns of the block (number, hash, time) are formatted once per block.
// The line is byte for byte what eventRowTsv() writes for viem's decoded values (decode.test.ts checks
// that for every event table); anything the fast path cannot vouch for goes through eventRowTsv(),
// which throws its own error.
import { decodeEventLog, type AbiEvent, type Hex } from 'viem';
import { artifacts, CONTRACT_NAMES, type ContractName } from '../contracts/index.ts';
import { EVENT_TABLES, eventRowTsv, tsvDateTime64, type EventTable } from '../schema/index.ts';
import { IndexerError, UnknownEventError } from './errors.ts';

/** A log as Subsquid delivers it (and as eth_getLogs returns it, numbers aside). */
export interface RawLog {
  address: string;
  topics: readonly string[];
  data: string;
  logIndex: number;
  transactionHash: string;
}

/** The block a log is in. */
export interface RawBlock {
  height: number;
  hash: string;
  /** Milliseconds since 1970 (Subsquid's header.timestamp). */
  timestamp: number;
}

export interface DecodedRow {
  table: EventTable;
  /** eventRowTsv()'s line, ending in '\n'. */
  line: string;
}

/** Decodes one log into its event table's row; undefined for a log of another contract. */
export type LogDecoder = (log: RawLog, block: RawBlock) => DecodedRow | undefined;

/** Rows of one event table: TSV lines, concatenated. */
export interface TableRows {
  table: EventTable;
  text: string;
  rows: number;
}

/** The rows of a block's logs, one TableRows per event table, in the order the tables first appear. */
export function blockRows(logs: readonly RawLog[], block: RawBlock, decode: LogDecoder): TableRows[] {
  const lines = new Map<EventTable, string[]>();
  for (const log of logs) {
    const row = decode(log, block);
    if (!row) continue;
    const list = lines.get(row.table);
    if (list) list.push(row.line);
    else lines.set(row.table, [row.line]);
  }
  // Joined: one flat string per table, so the parsed logs die young instead of being kept (and copied
  // by every scavenge) while the rows wait for their insert.
  return [...lines].map(([table, list]) => ({ table, text: list.join(''), rows: list.length }));
}

/** Reads the arguments of one event from its topics and data, in ABI order. */
export type ArgsReader = (topics: readonly string[], data: string) => unknown[];

/** A decoder for the logs of `contracts` (the deployment's addresses by contract name). */
export function createLogDecoder(contracts: Readonly<Record<ContractName, string>>): LogDecoder {
  const byAddress = new Map<string, { contract: ContractName; tables: Map<string, EventTable> }>();
  for (const name of CONTRACT_NAMES) {
    const tables = new Map(EVENT_TABLES.filter((t) => t.contract === name).map((t) => [t.topic0.toLowerCase(), t]));
    byAddress.set(contracts[name].toLowerCase(), { contract: name, tables });
  }
  const writers = new Map<EventTable, FieldsWriter>(EVENT_TABLES.map((t) => [t, fieldsWriter(t)]));
  // The block columns of the last block seen ('' when they need eventRowTsv's checks).
  let lastBlock: RawBlock | undefined;
  let blockColumns = '';
  return (log, block) => {
    const known = byAddress.get(log.address.toLowerCase());
    if (!known) return undefined;
    const topic0 = log.topics[0];
    const table = topic0 === undefined ? undefined : known.tables.get(topic0.toLowerCase());
    if (!table) {
      throw new UnknownEventError(
        `${known.contract} at ${log.address} emitted a log (block ${block.height}, log index ${log.logIndex}) whose first topic ${topic0 ?? '(none)'} is no event of its ABI`,
        { details: 'the deployed code and contracts/generated/artifacts.ts disagree: redeploy, or rebuild the artifacts and add a migration; retrying will not help' },
      );
    }
    if (block !== lastBlock) {
      lastBlock = block;
      blockColumns = positionOk(block) ? `${block.height}\t${block.hash.slice(2)}\t${tsvDateTime64(block.timestamp)}` : '';
    }
    // One join makes the line a flat string: built by `+`, it would be a tree of small pieces that costs
    // more to flatten later than the decoding itself, and keeps the log's whole data string alive.
    const parts = [blockColumns, String(log.logIndex), log.transactionHash.slice(2), log.address.slice(2)];
    try {
      writers.get(table)!(log.topics, log.data, parts);
    } catch (err) {
      throw new IndexerError(`cannot decode ${table.contract}.${table.event} at block ${block.height}, log index ${log.logIndex}`, {
        details: `${err instanceof Error ? err.message : String(err)}; the log does not match the ABI, retrying will not help`,
        cause: err,
      });
    }
    if (blockColumns === '' || !logOk(log)) {
      // The slow path: eventRowTsv checks every position column, throwing a RowEncodingError naming a bad one.
      return { table, line: eventRowTsv(table, positionOf(log, block), argsReader(table)(log.topics, log.data)) };
    }
    parts.push('1\n');
    return { table, line: parts.join('\t') };
  };
}

const HASH = /^0x[0-9a-fA-F]{64}$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

function positionOk(block: RawBlock): boolean {
  return Number.isSafeInteger(block.height) && block.height >= 0 && HASH.test(block.hash) && Number.isSafeInteger(block.timestamp) && block.timestamp >= 0;
}

function logOk(log: RawLog): boolean {
  return Number.isSafeInteger(log.logIndex) && log.logIndex >= 0 && log.logIndex < 2 ** 32 && HASH.test(log.transactionHash) && ADDRESS.test(log.address);
}

function positionOf(log: RawLog, block: RawBlock) {
  return {
    blockNumber: block.height,
    blockHash: block.hash as Hex,
    timestampMs: block.timestamp,
    logIndex: log.logIndex,
    transactionHash: log.transactionHash as Hex,
    address: log.address as Hex,
  };
}

/** Appends the parameter fields of one event's row (TSV fields) to `out`, from its topics and data. */
export type FieldsWriter = (topics: readonly string[], data: string, out: string[]) => void;

/**
 * The fields writer for `table`: straight from the words for the hot shapes, through the word reader's
 * values and the column codecs for the others, and through viem when the word reader cannot read the event.
 */
export function fieldsWriter(table: EventTable): FieldsWriter {
  const reader = wordReader(table);
  if (!reader) {
    const viem = viemReader(table);
    return (topics, data, out) => {
      const args = viem(topics, data);
      table.params.forEach((p, i) => out.push(p.toTsv(args[i])));
    };
  }
  const writers: ((topics: readonly string[], hex: string) => string)[] = [];
  let topic = 1;
  let head = 0;
  for (const p of table.params) {
    const dynamic = /^(string|bytes)$|\]$|^tuple/.test(p.abiType);
    if (p.indexed) {
      const t = topic++;
      // Indexed dynamic values arrive as their keccak256: the topic itself (bytes32).
      const field = wordField(dynamic ? 'bytes32' : p.abiType)!;
      writers.push((topics) => {
        const word = topics[t];
        if (word === undefined || !HASH.test(word)) throw new Error(`topic ${t} is missing or not 32 bytes of hex`);
        return field(word.slice(2));
      });
      continue;
    }
    const at = head; // bytes into the data's head
    const field = wordField(p.abiType);
    head += headBytesOf(p.abiType);
    if (field) {
      writers.push((_topics, hex) => field(hex.slice(at * 2, at * 2 + 64)));
    } else {
      // Dynamic values and arrays: read the value, then write it with the column's codec.
      const read = shapeOf(p.abiType)!.read;
      writers.push((_topics, hex) => p.toTsv(read(hex, 0, at)));
    }
  }
  const minBytes = head;
  return (topics, data, out) => {
    if (!DATA.test(data)) throw new Error('data is not 0x-prefixed hex of whole bytes');
    const hex = data.slice(2);
    if (hex.length < minBytes * 2) throw new Error(`data has ${hex.length / 2} bytes, the event needs at least ${minBytes}`);
    for (let i = 0; i < writers.length; i++) out.push(writers[i]!(topics, hex));
  };
}

const DATA = /^0x(?:[0-9a-fA-F]{2})*$/;
const ZEROS = '0'.repeat(64);
/** Words starting with this many zeros hold a value below 2^52: parseInt prints it exactly. */
const SMALL_PREFIX = ZEROS.slice(0, 51);

/** The TSV field of a uint word (64 hex digits): its decimal value. */
function uintField(word: string): string {
  return word.startsWith(SMALL_PREFIX) ? String(parseInt(word.slice(51), 16)) : BigInt(`0x${word}`).toString();
}

/** Bytes a parameter takes in the head of the data: 32, or 32 × k for a static T[k]. */
function headBytesOf(type: string): number {
  return shapeOf(type)?.headBytes ?? 32;
}

/** Word → TSV field for the static scalar types, or undefined for the others. */
function wordField(type: string): ((word: string) => string) | undefined {
  const int = /^(u?)int(\d*)$/.exec(type);
  if (int) {
    const bits = int[2] ? Number(int[2]) : 256;
    if (int[1] === 'u') {
      if (bits === 256) return uintField;
      const zeros = ZEROS.slice(0, 64 - bits / 4);
      return (word) => {
        if (!word.startsWith(zeros)) throw new Error(`0x${word} does not fit a uint${bits}`);
        return uintField(word);
      };
    }
    const min = -(1n << BigInt(bits - 1));
    const max = (1n << BigInt(bits - 1)) - 1n;
    return (word) => {
      let v = BigInt(`0x${word}`);
      if (v >= TWO_255) v -= TWO_256;
      if (v < min || v > max) throw new Error(`0x${word} does not fit an int${bits}`);
      return v.toString();
    };
  }
  const fixed = /^bytes(\d+)$/.exec(type);
  if (fixed) {
    const n = Number(fixed[1]) * 2;
    return (word) => word.slice(0, n);
  }
  if (type === 'address') return (word) => word.slice(24); // as viem: the last 20 bytes
  if (type === 'bool') return (word) => (word === ZEROS ? 'false' : 'true');
  return undefined;
}

/** The fast reader for `table` when every parameter has a supported shape, else viem's decoder. */
export function argsReader(table: EventTable): ArgsReader {
  const fast = wordReader(table);
  return fast ?? viemReader(table);
}

/** viem's decodeEventLog, for shapes the word reader does not handle (and as the reference in tests). */
export function viemReader(table: EventTable): ArgsReader {
  const event = abiEvent(table);
  const abi = [event];
  return (topics, data) => {
    const { args } = decodeEventLog({ abi, topics: topics as [Hex, ...Hex[]], data: data as Hex, strict: true });
    const values = args as unknown as Record<string, unknown> | unknown[];
    return table.params.map((p) => (Array.isArray(values) ? values[p.index] : values[p.param]));
  };
}

function abiEvent(table: EventTable): AbiEvent {
  const event = (artifacts[table.contract].abi as readonly { type: string; name?: string }[]).find(
    (i) => i.type === 'event' && i.name === table.event,
  );
  if (!event) throw new Error(`${table.contract} has no event ${table.event}`);
  return event as AbiEvent;
}

// ---- the word reader -------------------------------------------------------------------------------

/** Reads one value whose head starts at byte `at` of a tuple starting at byte `base` of `data` (hex, no 0x). */
type Read = (data: string, base: number, at: number) => unknown;

interface Shape {
  /** Bytes the value takes in its tuple's head: 32, or 32 × k for a static T[k]. */
  headBytes: number;
  dynamic: boolean;
  /** For a static value: decode from the head. For a dynamic one: follow the offset in the head. */
  read: Read;
}

/** The word reader for `table`, or undefined when one of its parameters has an unsupported shape. */
export function wordReader(table: EventTable): ArgsReader | undefined {
  const readers: ((topics: readonly string[], data: string) => unknown)[] = [];
  let topic = 1;
  let head = 0;
  for (const p of table.params) {
    if (p.indexed) {
      const t = topic++;
      // Indexed dynamic values arrive as their keccak256: the topic itself (bytes32).
      const dynamic = /^(string|bytes)$|\]$|^tuple/.test(p.abiType);
      const shape = dynamic ? shapeOf('bytes32') : shapeOf(p.abiType);
      if (!shape || shape.headBytes !== 32) return undefined;
      readers.push((topics) => {
        const word = topics[t];
        if (word === undefined || word.length !== 66) throw new Error(`topic ${t} is missing or not 32 bytes`);
        return shape.read(word.slice(2), 0, 0);
      });
    } else {
      const shape = shapeOf(p.abiType);
      if (!shape) return undefined;
      const at = head;
      head += shape.headBytes;
      readers.push((_topics, data) => shape.read(data, 0, at));
    }
  }
  const minBytes = head;
  return (topics, data) => {
    if (!data.startsWith('0x') || data.length % 2 !== 0) throw new Error('data is not 0x-prefixed hex');
    const hex = data.slice(2);
    if (hex.length < minBytes * 2) throw new Error(`data has ${hex.length / 2} bytes, the event needs at least ${minBytes}`);
    return readers.map((r) => r(topics, hex));
  };
}

const TWO_256 = 1n << 256n;
const TWO_255 = 1n << 255n;

function word(data: string, at: number): string {
  const start = at * 2;
  if (start + 64 > data.length) throw new Error(`read past the end of the data at byte ${at}`);
  return data.slice(start, start + 64);
}

/** An offset or a length: a small integer in the word's last bytes. */
function smallUint(data: string, at: number): number {
  const w = word(data, at);
  if (!/^0{48}/.test(w)) throw new Error(`offset or length at byte ${at} is too large`);
  return parseInt(w.slice(48), 16);
}

function shapeOf(type: string): Shape | undefined {
  const array = /^(.*)\[(\d*)\]$/.exec(type);
  if (array) {
    const inner = shapeOf(array[1]!);
    if (!inner) return undefined;
    if (array[2]) {
      const k = Number(array[2]);
      if (inner.dynamic) return undefined; // fixed arrays of dynamic values: viem's job
      return {
        headBytes: inner.headBytes * k,
        dynamic: false,
        read: (data, base, at) => Array.from({ length: k }, (_, i) => inner.read(data, base, at + i * inner.headBytes)),
      };
    }
    return {
      headBytes: 32,
      dynamic: true,
      read: (data, base, at) => {
        const start = base + smallUint(data, base + at);
        const n = smallUint(data, start);
        const elements = start + 32; // the elements form a tuple of their own
        const out = new Array<unknown>(n);
        for (let i = 0; i < n; i++) out[i] = inner.read(data, elements, i * inner.headBytes);
        return out;
      },
    };
  }
  const int = /^(u?)int(\d*)$/.exec(type);
  if (int) {
    const signed = int[1] !== 'u';
    return {
      headBytes: 32,
      dynamic: false,
      read: (data, base, at) => {
        const v = BigInt(`0x${word(data, base + at)}`);
        return signed && v >= TWO_255 ? v - TWO_256 : v;
      },
    };
  }
  const fixed = /^bytes(\d+)$/.exec(type);
  if (fixed) {
    const n = Number(fixed[1]);
    return { headBytes: 32, dynamic: false, read: (data, base, at) => `0x${word(data, base + at).slice(0, n * 2)}` };
  }
  switch (type) {
    case 'address': // lower case: the column stores the bytes, so checksumming would be wasted work
      return { headBytes: 32, dynamic: false, read: (data, base, at) => `0x${word(data, base + at).slice(24)}` };
    case 'bool':
      return { headBytes: 32, dynamic: false, read: (data, base, at) => BigInt(`0x${word(data, base + at)}`) !== 0n };
    case 'bytes':
      return { headBytes: 32, dynamic: true, read: (data, base, at) => `0x${dynamicBytes(data, base, at)}` };
    case 'string':
      return { headBytes: 32, dynamic: true, read: (data, base, at) => Buffer.from(dynamicBytes(data, base, at), 'hex').toString('utf8') };
  }
  return undefined;
}

/** The hex of a `bytes`/`string` value whose offset sits at byte `at` of the tuple at `base`. */
function dynamicBytes(data: string, base: number, at: number): string {
  const start = base + smallUint(data, base + at);
  const length = smallUint(data, start);
  const from = (start + 32) * 2;
  if (from + length * 2 > data.length) throw new Error(`a ${length}-byte value at byte ${start} runs past the end of the data`);
  return data.slice(from, from + length * 2);
}
