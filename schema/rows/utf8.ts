// Strict UTF-8 decoding of an uploaded file, with the line and byte of the first invalid sequence.
import { RowFormatError, excerptOf } from './errors.ts';

const LF = 0x0a;

/**
 * Decodes `bytes` as UTF-8 (a leading byte order mark is dropped). Throws a RowFormatError naming the
 * 1-based line and the byte within it where the first invalid sequence starts.
 */
export function decodeUtf8(bytes: Uint8Array, filename: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw locateInvalidUtf8(bytes, filename);
  }
}

// Only on failure: a 0x0A byte never occurs inside a multi-byte sequence, so lines can be checked one by one.
function locateInvalidUtf8(bytes: Uint8Array, filename: string): RowFormatError {
  let start = 0;
  for (let line = 1; start <= bytes.length; line++) {
    let end = bytes.indexOf(LF, start);
    if (end < 0) end = bytes.length;
    const lineBytes = bytes.subarray(start, end);
    const at = firstInvalidByte(lineBytes);
    if (at !== undefined) {
      // The bytes of the broken sequence: its lead byte and what the lead says should follow.
      const shownBytes = lineBytes.subarray(at, at + sequenceLength(lineBytes[at]!));
      const bad = Array.from(shownBytes, (b) => `0x${b.toString(16).padStart(2, '0')}`);
      const shown = new TextDecoder('utf-8').decode(lineBytes); // invalid bytes shown as U+FFFD
      return new RowFormatError(
        filename,
        `not valid UTF-8: invalid byte sequence at byte ${at + 1} of the line (${bad.join(' ')}); save the file as UTF-8`,
        line,
        excerptOf(shown),
      );
    }
    start = end + 1;
  }
  return new RowFormatError(filename, 'not valid UTF-8; save the file as UTF-8');
}

/**
 * The 0-based offset of the first invalid UTF-8 sequence in `bytes`, or undefined if there is none.
 * A streaming decoder only throws once a sequence is certainly invalid, so "throws on the first k bytes"
 * is monotonic in k and a binary search finds the smallest such k.
 */
function firstInvalidByte(bytes: Uint8Array): number | undefined {
  const failsWithin = (k: number) => {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, k), { stream: true });
      return false;
    } catch {
      return true;
    }
  };
  if (!failsWithin(bytes.length)) {
    // Valid but for a sequence cut off at the end of the line.
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      return undefined;
    } catch {
      let at = bytes.length - 1;
      while (at > 0 && (bytes[at]! & 0xc0) === 0x80) at--; // back to the lead byte of the cut sequence
      return at;
    }
  }
  let lo = 1;
  let hi = bytes.length; // failsWithin(hi) is true
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (failsWithin(mid)) hi = mid;
    else lo = mid + 1;
  }
  // The decoder throws at the byte that makes a sequence invalid; report where that sequence starts:
  // at the lead byte before it if that lead's sequence was still unfinished, else at the byte itself.
  const at = lo - 1;
  let lead = at - 1;
  while (lead >= 0 && (bytes[lead]! & 0xc0) === 0x80) lead--;
  return lead >= 0 && at - lead < sequenceLength(bytes[lead]!) ? lead : at;
}

/** How many bytes a sequence starting with this byte has (1 for ASCII, stray and never-valid bytes). */
function sequenceLength(leadByte: number): number {
  if (leadByte >= 0xf5) return 1;
  if (leadByte >= 0xf0) return 4;
  if (leadByte >= 0xe0) return 3;
  if (leadByte >= 0xc0) return 2;
  return 1;
}
