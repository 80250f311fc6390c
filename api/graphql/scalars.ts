// Scalars with exact, checked encodings: addresses as lowercase 0x-hex, amounts of OPEN as decimal
// strings of wei (never floats), 32-byte hashes as 0x-hex, times as ISO-8601 UTC.
import { GraphQLError, Kind, type ValueNode } from 'graphql';
import type { Builder } from './builder.ts';

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const BYTES32 = /^0x[0-9a-fA-F]{64}$/;
const WEI = /^(0|[1-9][0-9]*)$/;
const MAX_UINT256 = (1n << 256n) - 1n;

const bad = (what: string, value: unknown, hint: string) =>
  new GraphQLError(`${what} must be ${hint}, got ${JSON.stringify(value)}`, { extensions: { code: 'BAD_USER_INPUT' } });

export function parseAddress(value: unknown): `0x${string}` {
  if (typeof value !== 'string' || !ADDRESS.test(value)) throw bad('Address', value, '0x followed by 40 hex digits');
  return value.toLowerCase() as `0x${string}`;
}

export function parseBytes32(value: unknown): `0x${string}` {
  if (typeof value !== 'string' || !BYTES32.test(value)) throw bad('Bytes32', value, '0x followed by 64 hex digits');
  return value.toLowerCase() as `0x${string}`;
}

export function parseWei(value: unknown): bigint {
  if (typeof value !== 'string' || !WEI.test(value)) throw bad('Wei', value, 'a decimal string of a whole number of wei');
  const v = BigInt(value);
  if (v > MAX_UINT256) throw bad('Wei', value, 'at most 2^256 - 1');
  return v;
}

function literal(ast: ValueNode): unknown {
  return ast.kind === Kind.STRING ? ast.value : ast.kind === Kind.INT ? ast.value : undefined;
}

export function defineScalars(builder: Builder): void {
  builder.scalarType('Address', {
    description: 'An EVM address: 0x followed by 40 hex digits (returned in lowercase).',
    serialize: (v) => String(v).toLowerCase(),
    parseValue: parseAddress,
    parseLiteral: (ast) => parseAddress(literal(ast)),
  });
  builder.scalarType('Bytes32', {
    description: 'A 32-byte value (hash or Merkle root): 0x followed by 64 hex digits.',
    serialize: (v) => String(v).toLowerCase(),
    parseValue: parseBytes32,
    parseLiteral: (ast) => parseBytes32(literal(ast)),
  });
  builder.scalarType('Wei', {
    description: 'An amount of OPEN in wei, as a decimal string (exact; never a float).',
    serialize: (v) => {
      const s = typeof v === 'bigint' ? v.toString() : String(v);
      if (!WEI.test(s)) throw new GraphQLError(`internal: ${s} is not a wei amount`);
      return s;
    },
    parseValue: parseWei,
    parseLiteral: (ast) => parseWei(literal(ast)),
  });
  builder.scalarType('DateTime', {
    description: 'A UTC time in ISO-8601 with milliseconds, e.g. 2026-11-25T14:00:00.000Z.',
    serialize: (v) => {
      if (v instanceof Date) return v.toISOString();
      // ClickHouse DateTime64(3, 'UTC') comes back as 'YYYY-MM-DD hh:mm:ss.sss'.
      const d = new Date(/Z$/.test(v) ? v : `${v.replace(' ', 'T')}Z`);
      if (Number.isNaN(d.getTime())) throw new GraphQLError(`internal: ${v} is not a time`);
      return d.toISOString();
    },
    parseValue: (v) => {
      const d = typeof v === 'string' ? new Date(v) : new Date(NaN);
      if (Number.isNaN(d.getTime())) throw bad('DateTime', v, 'an ISO-8601 time');
      return d;
    },
  });
}
