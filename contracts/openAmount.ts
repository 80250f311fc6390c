// Amounts of OPEN as people write and read them ("10", "0.5", "100,000 OPEN") and as the chain keeps
// them (integer wei, 18 decimals). Conversions are exact: no floats, no rounding.
import { formatUnits } from 'viem';

export const OPEN_DECIMALS = 18;
const WEI_PER_OPEN = 10n ** BigInt(OPEN_DECIMALS);
const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

/**
 * Parses a decimal amount of OPEN ("10", "0.5", "1_000" is refused) into wei. Throws a RangeError that
 * names the value when it is not a plain non-negative decimal or has more than 18 decimals (which would
 * need rounding).
 */
export function parseOpen(text: string): bigint {
  const s = text.trim();
  const m = DECIMAL.exec(s);
  if (!m) throw new RangeError(`"${text}" is not an amount of OPEN: write a non-negative decimal such as 10 or 0.5`);
  const frac = m[2] ?? '';
  if (frac.length > OPEN_DECIMALS) {
    throw new RangeError(`"${text}" has ${frac.length} decimals; OPEN has ${OPEN_DECIMALS}, so it cannot be paid exactly`);
  }
  return BigInt(m[1]!) * WEI_PER_OPEN + BigInt(frac.padEnd(OPEN_DECIMALS, '0') || '0');
}

/** "100,000 OPEN", "0.5 OPEN", "0.000000000000000001 OPEN": exact, with thousands separators. */
export function formatOpen(wei: bigint): string {
  const sign = wei < 0n ? '-' : '';
  const [whole, frac] = formatUnits(wei < 0n ? -wei : wei, OPEN_DECIMALS).split('.');
  const grouped = whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}${grouped}${frac ? `.${frac}` : ''} OPEN`;
}
