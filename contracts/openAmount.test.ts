import { describe, expect, it } from 'vitest';
import { formatOpen, parseOpen } from './openAmount.ts';

const E18 = 10n ** 18n;

describe('parseOpen()', () => {
  it('reads decimal OPEN exactly into wei', () => {
    expect(parseOpen('10')).toBe(10n * E18);
    expect(parseOpen('0.5')).toBe(E18 / 2n);
    expect(parseOpen(' 0 ')).toBe(0n);
    expect(parseOpen('1.000000000000000001')).toBe(E18 + 1n);
    expect(parseOpen('0.000000000000000001')).toBe(1n);
    expect(parseOpen('340282366920938463463.374607431768211455')).toBe(2n ** 128n - 1n);
  });

  it('refuses what is not a plain non-negative decimal, or would need rounding', () => {
    for (const bad of ['', '-1', '1e3', '1,000', '0x10', '.5', '5.', 'ten', '1 OPEN']) {
      expect(() => parseOpen(bad)).toThrow(`"${bad}" is not an amount of OPEN: write a non-negative decimal such as 10 or 0.5`);
    }
    expect(() => parseOpen('0.0000000000000000001')).toThrow('"0.0000000000000000001" has 19 decimals; OPEN has 18, so it cannot be paid exactly');
  });
});

describe('formatOpen()', () => {
  it('writes wei as exact OPEN with thousands separators', () => {
    expect(formatOpen(100_000n * E18)).toBe('100,000 OPEN');
    expect(formatOpen(E18 / 2n)).toBe('0.5 OPEN');
    expect(formatOpen(1n)).toBe('0.000000000000000001 OPEN');
    expect(formatOpen(0n)).toBe('0 OPEN');
    expect(formatOpen(1_234_567n * E18 + E18 / 4n)).toBe('1,234,567.25 OPEN');
    expect(formatOpen(-3n * E18)).toBe('-3 OPEN');
  });
});
