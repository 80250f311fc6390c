import { describe, expect, it } from 'vitest';
import { parseAddress, parseBigInt, parseBytes32, parseDay, parseId, parseWei } from './scalars.ts';

const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as { extensions?: { code?: unknown } }).extensions?.code;
  }
  return 'no error';
};

describe('parseId', () => {
  it('accepts decimal whole numbers up to 2^256 - 1, given as text or an integer', () => {
    expect(parseId('1', 'id')).toBe(1n);
    expect(parseId(42, 'id')).toBe(42n);
    expect(parseId('0', 'id')).toBe(0n);
    expect(parseId(`${2n ** 256n - 1n}`, 'id')).toBe(2n ** 256n - 1n);
  });

  it('refuses a negative id', () => {
    expect(() => parseId('-1', 'id')).toThrow('`id` must not be negative: ids are whole numbers from 0, got "-1"');
    expect(() => parseId(-7, 'datanetId')).toThrow('`datanetId` must not be negative: ids are whole numbers from 0, got -7');
    expect(code(() => parseId('-1', 'id'))).toBe('BAD_USER_INPUT');
  });

  it('refuses a non-numeric id', () => {
    expect(() => parseId('abc', 'id')).toThrow('`id` must be a decimal whole number such as "1", got "abc"');
    for (const v of ['', '1.5', '0x10', '01', ' 1', '1e3']) expect(() => parseId(v, 'id')).toThrow('must be a decimal whole number');
    expect(code(() => parseId('abc', 'id'))).toBe('BAD_USER_INPUT');
  });

  it('refuses an id above 2^256 - 1', () => {
    expect(() => parseId(`${2n ** 256n}`, 'modelId')).toThrow(`\`modelId\` must be at most 2^256 - 1, got "${2n ** 256n}"`);
  });
});

describe('input scalars', () => {
  it('Address: 0x and 40 hex digits, lowercased', () => {
    expect(parseAddress('0xA0000000000000000000000000000000000000Ff')).toBe('0xa0000000000000000000000000000000000000ff');
    expect(() => parseAddress('0x12')).toThrow('Address must be 0x followed by 40 hex digits, got "0x12"');
    expect(() => parseAddress(`0x${'g'.repeat(40)}`)).toThrow('Address must be 0x followed by 40 hex digits');
    expect(() => parseAddress(12)).toThrow('Address must be 0x followed by 40 hex digits, got 12');
    expect(code(() => parseAddress('0x12'))).toBe('BAD_USER_INPUT');
  });

  it('Bytes32, Wei and BigInt', () => {
    expect(parseBytes32(`0x${'AB'.repeat(32)}`)).toBe(`0x${'ab'.repeat(32)}`);
    expect(() => parseBytes32('0x00')).toThrow('Bytes32 must be 0x followed by 64 hex digits, got "0x00"');
    expect(parseWei('340282366920938463463374607431768211457')).toBe(2n ** 128n + 1n);
    expect(() => parseWei('1.5')).toThrow('Wei must be a decimal string of a whole number, got "1.5"');
    expect(() => parseWei(`${2n ** 256n}`)).toThrow('Wei must be at most 2^256 - 1');
    expect(parseBigInt(7)).toBe(7n);
    expect(() => parseBigInt(-7)).toThrow('BigInt must be a decimal string of a whole number, got -7');
  });

  it('Date: an existing day written YYYY-MM-DD', () => {
    expect(parseDay('2025-03-01')).toBe('2025-03-01');
    expect(parseDay('2024-02-29')).toBe('2024-02-29');
    expect(() => parseDay('2025-02-29')).toThrow('Date must be a day that exists in the calendar, got "2025-02-29"');
    expect(() => parseDay('2025-3-1')).toThrow('Date must be a day written YYYY-MM-DD, got "2025-3-1"');
    expect(() => parseDay('2400-01-01')).toThrow('Date must be a day in the years 1900 to 2299, got "2400-01-01"');
  });
});
