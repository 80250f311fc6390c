// Encoding, parsing and hashing the canonical score file (the format: scoreFileFormat.ts). At an epoch of
// 10,000 inferences over 1,000 contributions a file has millions of lines, hundreds of MB: more than one
// JavaScript string may hold (about 512 MiB). So the file is made and read in parts: encoding gives the
// bytes as a list of parts of about 1 MiB, hashing updates over the parts, parsing reads them line by line.
// The bytes are the same as one buffer would hold: the parts are only where the buffer is cut.
import { keccak_256 } from '@noble/hashes/sha3';
import { bytesToHex, type Hex } from 'viem';
import { canonicalEntries, checkEpoch, SCORE_FILE_HEADER, type ScoreEntry, type ScoreFile } from './scoreFileFormat.ts';
import { createScoreFileReader } from './scoreFileReader.ts';

export { SCORE_FILE_HEADER, WEIGHT_SCALE, canonicalEntries, type ScoreEntry, type ScoreFile } from './scoreFileFormat.ts';

/** A score file's canonical bytes in order, cut anywhere: their concatenation is the file. */
export type ScoreFileParts = readonly Uint8Array[];

/** Where the encoder cuts the file: parts of about this many bytes (a line is never split). */
export const SCORE_FILE_PART_BYTES = 2 ** 20;

export interface EncodeScoreFileOptions {
  /** Bytes per part, about (default SCORE_FILE_PART_BYTES). */
  partBytes?: number;
}

/**
 * The canonical bytes of entries that are already canonical (canonicalEntries' output), in parts. Every
 * character of the format is ASCII, so a part's string length is its byte length.
 */
export function encodeCanonicalScoreFile(epoch: bigint, canonical: readonly ScoreEntry[], opts: EncodeScoreFileOptions = {}): Uint8Array[] {
  const partBytes = opts.partBytes ?? SCORE_FILE_PART_BYTES;
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  let text = `${SCORE_FILE_HEADER}\nepoch ${epoch}\n`;
  for (const e of canonical) {
    text += `${e.requestId}\t${e.contributionId}\t${e.account}\t${e.weight}\n`;
    if (text.length >= partBytes) {
      parts.push(encoder.encode(text));
      text = '';
    }
  }
  if (text || parts.length === 0) parts.push(encoder.encode(text));
  return parts;
}

/**
 * The canonical bytes of a score file, in parts. Entries may come in any order and with checksummed
 * addresses; they are sorted and lowercased. Throws ScoreFileError for an invalid entry or weights that do
 * not sum to WEIGHT_SCALE per inference.
 */
export function encodeScoreFileParts(file: ScoreFile, opts: EncodeScoreFileOptions = {}): Uint8Array[] {
  checkEpoch(file.epoch);
  return encodeCanonicalScoreFile(file.epoch, canonicalEntries(file.entries), opts);
}

/**
 * The canonical bytes of a score file as one buffer: for files known to be small (tests, examples). An
 * epoch's file can be larger than a buffer or string should be: use encodeScoreFileParts.
 */
export function encodeScoreFile(file: ScoreFile): Uint8Array {
  return concatParts(encodeScoreFileParts(file));
}

/**
 * Reads a score file, accepting only the canonical encoding (so one file has one hash): its bytes, in one
 * buffer or in parts, or its text. Throws ScoreFileError naming the line and what is wrong with it. The
 * entries it returns are held in memory; to use them without holding them, createScoreFileReader.
 */
export function parseScoreFile(bytes: Uint8Array | ScoreFileParts | string): ScoreFile {
  const entries: ScoreEntry[] = [];
  const reader = createScoreFileReader({ onEntry: (e) => entries.push(e) });
  if (typeof bytes === 'string') reader.pushText(bytes);
  else for (const part of bytes instanceof Uint8Array ? [bytes] : bytes) reader.push(part);
  const { epoch } = reader.end();
  return { epoch, entries };
}

/** keccak256 of a score file's canonical bytes, in one buffer or in parts: the batch's `scoreFileHash`. */
export function scoreFileHash(bytes: Uint8Array | ScoreFileParts): Hex {
  const h = keccak_256.create();
  for (const part of bytes instanceof Uint8Array ? [bytes] : bytes) h.update(part);
  return bytesToHex(h.digest());
}

/** Total bytes of the parts. */
export function scoreFileSize(parts: ScoreFileParts): number {
  return parts.reduce((n, p) => n + p.byteLength, 0);
}

function concatParts(parts: ScoreFileParts): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(scoreFileSize(parts));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
