// The one canonical encoding of a row, and its hash. A row is encoded as a JSON object holding exactly its
// shape's keys, sorted, every string in Unicode NFC, with no whitespace, as UTF-8 bytes:
//   {"text":"café"}   {"completion":"4","prompt":"2+2="}   {"label":"spam","text":"win now"}
// Strings are written as JSON.stringify writes them (RFC 8785 string rules: only ", \ and control
// characters are escaped; everything else is written as is). row hash = keccak256(those bytes), 0x-hex.
// So the same content always hashes the same, whatever the file format, key order or Unicode composition.
import { keccak256, type Hex } from 'viem';
import { ROW_SHAPE_KEYS, checkRow, type Row } from './row.ts';
import { RowFormatError, excerptOf } from './errors.ts';

const encoder = new TextEncoder();
// With the u flag a surrogate pair is one code point, so this matches only unpaired surrogates.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** A copy of `row` with only its shape's keys, every value NFC-normalised. Throws TypeError on a non-row. */
export function canonicalRow(row: Row): Row {
  const checked = checkRow(row);
  if ('problem' in checked) throw new TypeError(`not a row: ${checked.problem}`);
  const out: Record<string, string> = {};
  for (const k of ROW_SHAPE_KEYS[checked.shape]) {
    const v = (row as unknown as Record<string, string>)[k]!;
    // A lone surrogate has no UTF-8 encoding: hashing it would silently hash U+FFFD instead.
    if (LONE_SURROGATE.test(v)) throw new TypeError(`not a row: "${k}" holds a lone UTF-16 surrogate`);
    out[k] = v.normalize('NFC');
  }
  return out as unknown as Row;
}

/** The canonical JSON text of a row (see the top of this file). */
export function canonicalJson(row: Row): string {
  const c = canonicalRow(row) as unknown as Record<string, string>;
  // canonicalRow already holds the keys in sorted order (ROW_SHAPE_KEYS are sorted).
  return `{${Object.keys(c)
    .map((k) => `${JSON.stringify(k)}:${JSON.stringify(c[k])}`)
    .join(',')}}`;
}

/** The canonical encoding of a row: UTF-8 bytes of its canonical JSON. */
export function canonicalBytes(row: Row): Uint8Array {
  return encoder.encode(canonicalJson(row));
}

/** keccak256 of the row's canonical encoding, 0x-prefixed lowercase hex. */
export function rowHash(row: Row): Hex {
  return keccak256(canonicalBytes(row));
}

/** The canonical rows file of a contribution: each row's canonical JSON followed by "\n", in file order. */
export function encodeCanonicalJsonl(rows: readonly Row[]): Uint8Array {
  return encoder.encode(rows.map((r) => `${canonicalJson(r)}\n`).join(''));
}

/**
 * Reads a canonical rows file back. Strict: every line must be exactly the canonical encoding of a row
 * (so hashing a line's bytes gives the row hash) and the file ends with "\n". Throws RowFormatError.
 */
export function decodeCanonicalJsonl(bytes: Uint8Array, name = 'canonical rows'): Row[] {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new RowFormatError(name, 'not valid UTF-8');
  }
  if (text.length === 0) throw new RowFormatError(name, 'no rows');
  if (!text.endsWith('\n')) throw new RowFormatError(name, 'does not end with a line feed');
  const lines = text.slice(0, -1).split('\n');
  return lines.map((line, i) => {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw new RowFormatError(name, `not valid JSON (${(e as Error).message})`, i + 1, excerptOf(line));
    }
    const checked = checkRow(value);
    if ('problem' in checked) throw new RowFormatError(name, checked.problem, i + 1, excerptOf(line));
    const row = value as Row;
    let canonical: string;
    try {
      canonical = canonicalJson(row);
    } catch (e) {
      throw new RowFormatError(name, (e as Error).message, i + 1, excerptOf(line));
    }
    if (canonical !== line) throw new RowFormatError(name, 'not in canonical form', i + 1, excerptOf(line));
    return row;
  });
}
