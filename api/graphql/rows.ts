// Small conversions from ClickHouse JSON rows to GraphQL values. Rows come from derivedSelectList():
// UInt64 and wider as decimal strings, narrower integers as numbers, binary columns as 0x-hex.

const MAX_INT = 2 ** 31 - 1;

/**
 * A count or version number as a GraphQL Int. One beyond 2^31 - 1 breaks an assumption the schema
 * makes (such values use BigInt), so it fails loudly rather than wrapping.
 */
export function toInt(value: string | number, what: string): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < -MAX_INT - 1 || n > MAX_INT) throw new Error(`${what} ${value} does not fit a GraphQL Int`);
  return n;
}

const ZERO_HASH = `0x${'0'.repeat(64)}`;

/** A hash column that holds zero bytes when the thing it names does not exist yet. */
export const hashOrNull = (value: string): string | null => (value === ZERO_HASH ? null : value);
