// Scalars with exact, checked encodings: addresses as lowercase 0x-hex, amounts of OPEN as decimal
// strings of wei (never floats), other wide integers as decimal strings, 32-byte hashes as 0x-hex,
// times as ISO-8601 UTC, days as YYYY-MM-DD. Malformed input is a BAD_USER_INPUT error naming the
// expected form; malformed output is an internal error (the data broke an invariant).
import type { ValueNode } from 'graphql';
import { GraphQLError, Kind, print } from './graphqljs.ts';
import { badUserInput } from './errors.ts';
import type { Builder } from './builder.ts';

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const BYTES32 = /^0x[0-9a-fA-F]{64}$/;
const WHOLE = /^(0|[1-9][0-9]*)$/;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const MAX_UINT256 = (1n << 256n) - 1n;
/** The days ClickHouse's Date32 can hold, which the usage filters compare against. */
const FIRST_YEAR = 1900;
const LAST_YEAR = 2299;

/** A literal of the wrong kind in a query (an Int where a String belongs), shown as written. */
class Written {
  constructor(readonly text: string) {}
}

const show = (value: unknown) =>
  value instanceof Written ? value.text : typeof value === 'bigint' ? `${value}` : (JSON.stringify(value) ?? String(value));
const bad = (what: string, value: unknown, hint: string) => badUserInput(`${what} must be ${hint}, got ${show(value)}`);

export function parseAddress(value: unknown): `0x${string}` {
  if (typeof value !== 'string' || !ADDRESS.test(value)) throw bad('Address', value, '0x followed by 40 hex digits');
  return value.toLowerCase() as `0x${string}`;
}

export function parseBytes32(value: unknown): `0x${string}` {
  if (typeof value !== 'string' || !BYTES32.test(value)) throw bad('Bytes32', value, '0x followed by 64 hex digits');
  return value.toLowerCase() as `0x${string}`;
}

function parseUint256(what: string, value: unknown): bigint {
  const s = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof s !== 'string' || !WHOLE.test(s)) throw bad(what, value, 'a decimal string of a whole number');
  const v = BigInt(s);
  if (v > MAX_UINT256) throw bad(what, value, 'at most 2^256 - 1');
  return v;
}

export const parseWei = (value: unknown): bigint => parseUint256('Wei', value);
export const parseBigInt = (value: unknown): bigint => parseUint256('BigInt', value);

/**
 * An on-chain id (datanet, model, contribution, training run) given as a GraphQL ID: a decimal whole
 * number from 0 to 2^256 - 1. `arg` names the argument in the error.
 */
export function parseId(value: unknown, arg: string): bigint {
  const s = typeof value === 'number' ? String(value) : value;
  if (typeof s === 'string' && /^-\s*[0-9]+$/.test(s.trim())) {
    throw badUserInput(`\`${arg}\` must not be negative: ids are whole numbers from 0, got ${show(value)}`);
  }
  if (typeof s !== 'string' || !WHOLE.test(s)) {
    throw badUserInput(`\`${arg}\` must be a decimal whole number such as "1", got ${show(value)}`);
  }
  const v = BigInt(s);
  if (v > MAX_UINT256) throw badUserInput(`\`${arg}\` must be at most 2^256 - 1, got ${show(value)}`);
  return v;
}

/** A calendar day YYYY-MM-DD (UTC), checked to exist (no 2025-02-30). */
export function parseDay(value: unknown): string {
  const m = typeof value === 'string' ? DAY.exec(value) : null;
  if (!m) throw bad('Date', value, 'a day written YYYY-MM-DD');
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const d = new Date(Date.UTC(year, month - 1, day));
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) {
    throw bad('Date', value, 'a day that exists in the calendar');
  }
  if (year < FIRST_YEAR || year > LAST_YEAR) throw bad('Date', value, `a day in the years ${FIRST_YEAR} to ${LAST_YEAR}`);
  return value as string;
}

/** The literal's own value when it is a string (or, where `ints`, an integer); else its source text, which every parser refuses. */
function literal(ast: ValueNode, ints: boolean): unknown {
  if (ast.kind === Kind.STRING) return ast.value;
  if (ints && ast.kind === Kind.INT) return ast.value;
  return new Written(print(ast));
}

const internal = (what: string, v: unknown) => new GraphQLError(`internal: ${show(v)} is not ${what}`);

function serializeWhole(what: string) {
  return (v: unknown) => {
    const s = typeof v === 'bigint' || typeof v === 'number' ? String(v) : v;
    if (typeof s !== 'string' || !WHOLE.test(s)) throw internal(what, v);
    return s;
  };
}

export function defineScalars(builder: Builder): void {
  builder.scalarType('Address', {
    description: 'An EVM address: 0x followed by 40 hex digits (returned in lowercase).',
    serialize: (v) => {
      if (typeof v !== 'string' || !ADDRESS.test(v)) throw internal('an address', v);
      return v.toLowerCase();
    },
    parseValue: parseAddress,
    parseLiteral: (ast) => parseAddress(literal(ast, false)),
  });
  builder.scalarType('Bytes32', {
    description: 'A 32-byte value (hash or Merkle root): 0x followed by 64 hex digits (returned in lowercase).',
    serialize: (v) => {
      if (typeof v !== 'string' || !BYTES32.test(v)) throw internal('32 bytes of hex', v);
      return v.toLowerCase();
    },
    parseValue: parseBytes32,
    parseLiteral: (ast) => parseBytes32(literal(ast, false)),
  });
  builder.scalarType('Wei', {
    description: 'An amount of OPEN in wei (10^-18 OPEN), as a decimal string: exact, never a float.',
    serialize: serializeWhole('a wei amount'),
    parseValue: parseWei,
    parseLiteral: (ast) => parseWei(literal(ast, true)),
  });
  builder.scalarType('BigInt', {
    description: 'A whole number that may exceed 2^31 (block numbers, epochs, token counts), as a decimal string.',
    serialize: serializeWhole('a whole number'),
    parseValue: parseBigInt,
    parseLiteral: (ast) => parseBigInt(literal(ast, true)),
  });
  builder.scalarType('DateTime', {
    description: 'A UTC time in ISO-8601 with milliseconds, e.g. 2026-11-25T14:00:00.000Z.',
    serialize: (v) => {
      if (v instanceof Date) return v.toISOString();
      // ClickHouse DateTime64(3, 'UTC') comes back as 'YYYY-MM-DD hh:mm:ss.sss'.
      const d = typeof v === 'string' ? new Date(/Z$/.test(v) ? v : `${v.replace(' ', 'T')}Z`) : new Date(NaN);
      if (Number.isNaN(d.getTime())) throw internal('a time', v);
      return d.toISOString();
    },
    parseValue: (v) => {
      const d = typeof v === 'string' ? new Date(v) : new Date(NaN);
      if (Number.isNaN(d.getTime())) throw bad('DateTime', v, 'an ISO-8601 time');
      return d;
    },
  });
  builder.scalarType('Date', {
    description: `A UTC calendar day, YYYY-MM-DD (years ${FIRST_YEAR} to ${LAST_YEAR}).`,
    serialize: (v) => {
      if (typeof v !== 'string' || !DAY.test(v)) throw internal('a day', v);
      return v;
    },
    parseValue: parseDay,
    parseLiteral: (ast) => parseDay(literal(ast, false)),
  });
}
