// How a Solidity event parameter becomes a ClickHouse column: its type, and how a value decoded by
// viem is written as a TSV field. Defined once here; the event tables and their migration use it.
//
// Binary values travel as hex digits into an EPHEMERAL `<column>_hex` column, whose DEFAULT unhex()
// stores the raw bytes: about 3× faster to insert than TSV's own `\xHH` escapes (measured on chDB:
// ~80k against ~25k rows/s for InferenceSettled-sized rows), and half the bytes on the wire.
//
//   uintN / intN      → UInt8/16/32/64/128/256, Int8/…/256 (the narrowest that holds N bits)
//   address           → FixedString(20), the 20 raw bytes (compact; compare with
//                       unhex(substring({addr:String}, 3)), print with concat('0x', lower(hex(col))))
//   bytesN            → FixedString(N), raw bytes
//   bytes             → String, raw bytes
//   string            → String (UTF-8 text)
//   bool              → Bool
//   T[] and T[k]      → Array(T)
//   indexed string, bytes, arrays → FixedString(32): the log carries only their keccak256 topic
//   tuples            → not supported yet (no event uses one): the generator refuses them
import type { AbiParameter } from 'viem';
import { RowEncodingError } from './errors.ts';
import { tsvQuoted, tsvString } from './tsv.ts';

export interface ColumnCodec {
  /** The ClickHouse type, spelled as ClickHouse reports it in system.columns. */
  chType: string;
  /**
   * Set for binary values (and arrays of them): the type of the EPHEMERAL column carrying them as hex
   * digits, and the DEFAULT expression turning that column into the stored value.
   */
  hex?: { chType: string; toStored(hexColumn: string): string };
  /** The value as a TSV field. `where` names the value in errors (Contract.Event.param). */
  field(value: unknown, where: string): string;
  /** The value as an element inside an array field. */
  quoted(value: unknown, where: string): string;
}

/** The codec of an event parameter; `indexed` dynamic values arrive as their topic (bytes32). */
export function abiColumnCodec(param: AbiParameter, indexed: boolean): ColumnCodec {
  if (indexed && isDynamic(param.type)) return bytesCodec(32);
  return codecOf(param.type);
}

/** `metadataURI` → `metadata_uri`, `EIP712DomainChanged` → `eip712_domain_changed`. */
export function snakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

function isDynamic(type: string): boolean {
  return type === 'string' || type === 'bytes' || type.endsWith(']') || type.startsWith('tuple');
}

function codecOf(type: string): ColumnCodec {
  const array = /^(.*)\[(\d*)\]$/.exec(type);
  if (array) return arrayCodec(codecOf(array[1]!), array[2] ? Number(array[2]) : undefined, type.split('[').length - 1);
  const int = /^(u?)int(\d*)$/.exec(type);
  if (int) return intCodec(int[1] === 'u', int[2] ? Number(int[2]) : 256);
  const fixed = /^bytes(\d+)$/.exec(type);
  if (fixed) return bytesCodec(Number(fixed[1]));
  switch (type) {
    case 'address':
      return bytesCodec(20);
    case 'bytes':
      return bytesCodec(undefined);
    case 'string':
      return stringCodec;
    case 'bool':
      return boolCodec;
  }
  throw new Error(`No ClickHouse column type for the ABI type ${type}: add one to schema/clickhouse/abiColumns.ts`);
}

function intCodec(unsigned: boolean, bits: number): ColumnCodec {
  const chBits = [8, 16, 32, 64, 128, 256].find((b) => b >= bits);
  if (chBits === undefined || bits % 8 !== 0) throw new Error(`Invalid ABI integer width ${bits}`);
  const min = unsigned ? 0n : -(1n << BigInt(bits - 1));
  const max = unsigned ? (1n << BigInt(bits)) - 1n : (1n << BigInt(bits - 1)) - 1n;
  const abiType = `${unsigned ? 'u' : ''}int${bits}`;
  const field = (v: unknown, where: string): string => {
    const n = typeof v === 'bigint' ? v : typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : undefined;
    if (n === undefined) throw encodingError(where, `an integer (bigint or safe number) for ${abiType}`, v);
    if (n < min || n > max) throw encodingError(where, `a value in [${min}, ${max}] for ${abiType}`, v);
    return n.toString();
  };
  return { chType: `${unsigned ? 'UInt' : 'Int'}${chBits}`, field, quoted: field };
}

/** address, bytesN (fixed `size`) and bytes (`size` undefined), from viem's 0x-hex strings. */
function bytesCodec(size: number | undefined): ColumnCodec {
  const pattern = size === undefined ? /^0x(?:[0-9a-fA-F]{2})*$/ : new RegExp(`^0x[0-9a-fA-F]{${size * 2}}$`);
  const what = size === undefined ? '0x-prefixed hex of whole bytes' : `0x-prefixed hex of ${size} bytes`;
  const field = (v: unknown, where: string): string => {
    if (typeof v !== 'string' || !pattern.test(v)) throw encodingError(where, what, v);
    return v.slice(2);
  };
  return {
    chType: size === undefined ? 'String' : `FixedString(${size})`,
    hex: { chType: 'String', toStored: (col) => `unhex(${col})` },
    field,
    quoted: (v, where) => `'${field(v, where)}'`,
  };
}

const stringCodec: ColumnCodec = {
  chType: 'String',
  field(v, where) {
    if (typeof v !== 'string') throw encodingError(where, 'a string', v);
    return tsvString(v);
  },
  quoted(v, where) {
    if (typeof v !== 'string') throw encodingError(where, 'a string', v);
    return tsvQuoted(v);
  },
};

const boolField = (v: unknown, where: string): string => {
  if (typeof v !== 'boolean') throw encodingError(where, 'a boolean', v);
  return v ? 'true' : 'false';
};
const boolCodec: ColumnCodec = { chType: 'Bool', field: boolField, quoted: boolField };

function arrayCodec(inner: ColumnCodec, length: number | undefined, depth: number): ColumnCodec {
  // A lambda variable per nesting level, so that nested arrays do not shadow each other.
  const x = `x${depth}`;
  const field = (v: unknown, where: string): string => {
    if (!Array.isArray(v)) throw encodingError(where, 'an array', v);
    if (length !== undefined && v.length !== length) throw encodingError(where, `an array of ${length} elements`, v);
    return `[${v.map((e, i) => inner.quoted(e, `${where}[${i}]`)).join(',')}]`;
  };
  const innerHex = inner.hex;
  return {
    chType: `Array(${inner.chType})`,
    hex: innerHex && { chType: `Array(${innerHex.chType})`, toStored: (col) => `arrayMap(${x} -> ${innerHex.toStored(x)}, ${col})` },
    field,
    quoted: field,
  };
}

function encodingError(where: string, expected: string, got: unknown): RowEncodingError {
  return new RowEncodingError(`${where}: expected ${expected}, got ${show(got)}`, {
    details: 'the decoded event does not match the ABI the tables were built from; retrying will not help',
  });
}

function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}…` : v);
  try {
    const s = JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x));
    return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 80)}…` : s;
  } catch {
    return String(v);
  }
}
