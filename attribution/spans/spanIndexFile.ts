// The span index file: one binary file holding a SpanCorpus and a small JSON description, written
// atomically (temp file, then rename). Little-endian; every array starts on an 8-byte boundary so it can
// be viewed in place as a typed array once the file is read.
//
//   offset  size  field
//        0     8  magic "TRIBSPAN"
//        8     4  format version (1)
//       12     4  token width in bytes: 2 (ids below 0xFFFF, separator 0xFFFF) or 4 (separator 0xFFFFFFFF)
//       16     4  text length: tokens + one separator per row
//       20     4  tokens (entries of the suffix array)
//       24     4  rows
//       28     4  contributions
//       32     4  bytes of the JSON description
//       36     4  reserved, 0
//       40    32  SHA-256 of bytes [0, 40) and [72, end)
//       72        the JSON description (UTF-8), then, each padded with zeros to a multiple of 8 bytes:
//                 text (width × text length), suffix array (u32 × tokens), row starts (u32 × (rows + 1)),
//                 row index in contribution (u32 × rows), row → contribution (u32 × rows), owned (u8 × rows),
//                 contributions (32-byte big-endian id + 20-byte address, each)
//
// The header and the description are read when the index is opened; the arrays and the checksum only
// when they are first needed.
import { createHash, randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import type { Address } from 'viem';
import { SpanIndexCorruptError, SpanIndexError, SpanIndexNotFoundError } from './errors.ts';
import type { SpanCorpus } from './spanCorpus.ts';

export const SPAN_INDEX_MAGIC = 'TRIBSPAN';
export const SPAN_INDEX_FORMAT_VERSION = 1;
const HEADER_BYTES = 72;
const HASHED_HEADER_BYTES = 40;
const CONTRIBUTION_BYTES = 52;
const MAX_DESCRIPTION_BYTES = 1 << 20;

/** What the header says, checked against the file's size. */
export interface SpanIndexHeader {
  tokenWidth: 2 | 4;
  textLength: number;
  tokens: number;
  rows: number;
  contributions: number;
  /** The file's size in bytes. */
  bytes: number;
  /** 0x-prefixed SHA-256 recorded in the header. */
  sha256: string;
  descriptionBytes: number;
  description: Record<string, unknown>;
}

interface Section {
  name: string;
  bytes: number;
}

const pad8 = (n: number) => (n + 7) & ~7;

function sections(h: Pick<SpanIndexHeader, 'tokenWidth' | 'textLength' | 'tokens' | 'rows' | 'contributions' | 'descriptionBytes'>): Section[] {
  return [
    { name: 'description', bytes: h.descriptionBytes },
    { name: 'text', bytes: h.tokenWidth * h.textLength },
    { name: 'suffix array', bytes: 4 * h.tokens },
    { name: 'row starts', bytes: 4 * (h.rows + 1) },
    { name: 'row indexes', bytes: 4 * h.rows },
    { name: 'row contributions', bytes: 4 * h.rows },
    { name: 'row ownership', bytes: h.rows },
    { name: 'contributions', bytes: CONTRIBUTION_BYTES * h.contributions },
  ];
}

const fileSize = (list: Section[]) => list.reduce((sum, s) => sum + pad8(s.bytes), HEADER_BYTES);

function checkLittleEndian(): void {
  if (endianness() !== 'LE') throw new SpanIndexError('span index files are little-endian and this machine is not', { details: 'typed arrays are viewed in place' });
}

/** Writes `corpus` with `description` to `file` atomically; answers its size and SHA-256. */
export async function writeSpanIndexFile(file: string, corpus: SpanCorpus, description: Record<string, unknown>): Promise<{ bytes: number; sha256: string }> {
  checkLittleEndian();
  const descriptionBytes = Buffer.from(JSON.stringify(description), 'utf8');
  if (descriptionBytes.length > MAX_DESCRIPTION_BYTES) throw new SpanIndexError(`the span index description is ${descriptionBytes.length} bytes`, { details: `at most ${MAX_DESCRIPTION_BYTES}` });
  const rows = corpus.rowIndex.length;
  const contributions = Buffer.alloc(CONTRIBUTION_BYTES * corpus.contributions.length);
  corpus.contributions.forEach((c, i) => {
    contributions.write(c.contributionId.toString(16).padStart(64, '0'), i * CONTRIBUTION_BYTES, 32, 'hex');
    contributions.write(c.contributor.slice(2), i * CONTRIBUTION_BYTES + 32, 20, 'hex');
  });
  const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const body = [
    descriptionBytes,
    bytesOf(corpus.text),
    bytesOf(corpus.suffixArray),
    bytesOf(corpus.rowStart),
    bytesOf(corpus.rowIndex),
    bytesOf(corpus.rowContribution),
    bytesOf(corpus.rowOwned),
    contributions,
  ];
  const header = Buffer.alloc(HEADER_BYTES);
  header.write(SPAN_INDEX_MAGIC, 0, 'latin1');
  header.writeUInt32LE(SPAN_INDEX_FORMAT_VERSION, 8);
  header.writeUInt32LE(corpus.text.BYTES_PER_ELEMENT, 12);
  header.writeUInt32LE(corpus.text.length, 16);
  header.writeUInt32LE(corpus.suffixArray.length, 20);
  header.writeUInt32LE(rows, 24);
  header.writeUInt32LE(corpus.contributions.length, 28);
  header.writeUInt32LE(descriptionBytes.length, 32);
  const hash = createHash('sha256').update(header.subarray(0, HASHED_HEADER_BYTES));

  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  let fh: FileHandle | undefined;
  try {
    fh = await open(temp, 'wx');
    let at = HEADER_BYTES;
    const zeros = new Uint8Array(8);
    for (const part of body) {
      const padding = zeros.subarray(0, pad8(part.byteLength) - part.byteLength);
      for (const chunk of [part, padding]) {
        // Large arrays go out in pieces (a single write is capped near 2 GiB).
        for (let off = 0; off < chunk.byteLength; off += 1 << 28) {
          const piece = chunk.subarray(off, Math.min(chunk.byteLength, off + (1 << 28)));
          hash.update(piece);
          await fh.write(piece, 0, piece.byteLength, at);
          at += piece.byteLength;
        }
      }
    }
    const digest = hash.digest();
    digest.copy(header, HASHED_HEADER_BYTES);
    await fh.write(header, 0, HEADER_BYTES, 0);
    await fh.sync();
    await fh.close();
    fh = undefined;
    await rename(temp, file);
    return { bytes: at, sha256: `0x${digest.toString('hex')}` };
  } catch (cause) {
    await fh?.close().catch(() => {});
    await unlink(temp).catch(() => {});
    if (cause instanceof SpanIndexError) throw cause;
    throw new SpanIndexError(`cannot write the span index ${file}`, { cause, details: (cause as Error).message, retryable: true });
  }
}

/** Reads and checks the header and description of `file` (a few hundred bytes). */
export async function readSpanIndexHeader(file: string): Promise<SpanIndexHeader> {
  checkLittleEndian();
  const fh = await openForReading(file);
  try {
    const bytes = (await fh.stat()).size;
    const corrupt = (problem: string) => new SpanIndexCorruptError(`the span index ${file} ${problem}`, { details: 'rebuild it from its datanet version' });
    if (bytes < HEADER_BYTES) throw corrupt(`is truncated: ${bytes} bytes, less than its ${HEADER_BYTES}-byte header`);
    const header = Buffer.alloc(HEADER_BYTES);
    await fh.read(header, 0, HEADER_BYTES, 0);
    const magic = header.toString('latin1', 0, 8);
    if (magic !== SPAN_INDEX_MAGIC) throw corrupt(`is not a span index: it starts with ${JSON.stringify(magic)}, not "${SPAN_INDEX_MAGIC}"`);
    const version = header.readUInt32LE(8);
    if (version !== SPAN_INDEX_FORMAT_VERSION) throw corrupt(`has format version ${version}; this code reads version ${SPAN_INDEX_FORMAT_VERSION}`);
    const tokenWidth = header.readUInt32LE(12);
    if (tokenWidth !== 2 && tokenWidth !== 4) throw corrupt(`has token width ${tokenWidth} (2 or 4 expected)`);
    const [textLength, tokens, rows, contributions, descriptionBytes, reserved] = [16, 20, 24, 28, 32, 36].map((o) => header.readUInt32LE(o)) as [number, number, number, number, number, number];
    if (reserved !== 0) throw corrupt(`has ${reserved} in its reserved header field (0 expected)`);
    if (tokens + rows !== textLength) throw corrupt(`has a header that does not add up: ${tokens} tokens and ${rows} row separators, but a text of ${textLength}`);
    if (descriptionBytes > MAX_DESCRIPTION_BYTES) throw corrupt(`has a ${descriptionBytes}-byte description (at most ${MAX_DESCRIPTION_BYTES})`);
    const expected = fileSize(sections({ tokenWidth, textLength, tokens, rows, contributions, descriptionBytes }));
    if (bytes < expected) throw corrupt(`is truncated: ${bytes} bytes, but its header describes ${expected}`);
    if (bytes > expected) throw corrupt(`has ${bytes - expected} bytes beyond the ${expected} its header describes`);
    const raw = Buffer.alloc(descriptionBytes);
    await fh.read(raw, 0, descriptionBytes, HEADER_BYTES);
    let description: unknown;
    try {
      description = JSON.parse(raw.toString('utf8'));
    } catch (cause) {
      throw new SpanIndexCorruptError(`the span index ${file} has a description that is not JSON`, { cause, details: (cause as Error).message });
    }
    if (typeof description !== 'object' || description === null || Array.isArray(description)) throw corrupt(`has a description that is not a JSON object`);
    return { tokenWidth, textLength, tokens, rows, contributions, bytes, sha256: `0x${header.toString('hex', HASHED_HEADER_BYTES, HEADER_BYTES)}`, descriptionBytes, description: description as Record<string, unknown> };
  } finally {
    await fh.close();
  }
}

/** Reads the arrays of `file`, checking them against `header` (from readSpanIndexHeader) and the checksum. */
export async function readSpanIndexBody(file: string, header: SpanIndexHeader): Promise<SpanCorpus> {
  const corrupt = (problem: string) => new SpanIndexCorruptError(`the span index ${file} ${problem}`, { details: 'rebuild it from its datanet version' });
  const fh = await openForReading(file);
  let buffer: ArrayBuffer;
  try {
    const size = (await fh.stat()).size;
    if (size !== header.bytes) throw corrupt(`changed after it was opened: ${size} bytes now, ${header.bytes} then`);
    buffer = new ArrayBuffer(size);
    const all = new Uint8Array(buffer);
    for (let at = 0; at < size; ) {
      const { bytesRead } = await fh.read(all, at, Math.min(size - at, 1 << 28), at);
      if (bytesRead === 0) throw corrupt(`ended at byte ${at} while reading ${size}`);
      at += bytesRead;
    }
  } finally {
    await fh.close();
  }
  const all = new Uint8Array(buffer);
  const digest = `0x${createHash('sha256').update(all.subarray(0, HASHED_HEADER_BYTES)).update(all.subarray(HEADER_BYTES)).digest('hex')}`;
  const recorded = `0x${Buffer.from(all.subarray(HASHED_HEADER_BYTES, HEADER_BYTES)).toString('hex')}`;
  if (digest !== recorded) throw corrupt(`is corrupt: its content hashes to ${digest}, its header says ${recorded}`);
  if (recorded !== header.sha256) throw corrupt(`changed after it was opened: checksum ${recorded} now, ${header.sha256} then`);

  const offsets: number[] = [];
  let at = HEADER_BYTES;
  for (const s of sections(header)) {
    offsets.push(at);
    at += pad8(s.bytes);
  }
  const { rows, tokens, textLength } = header;
  const text = header.tokenWidth === 2 ? new Uint16Array(buffer, offsets[1], textLength) : new Uint32Array(buffer, offsets[1], textLength);
  const suffixArray = new Uint32Array(buffer, offsets[2], tokens);
  const rowStart = new Uint32Array(buffer, offsets[3], rows + 1);
  const rowIndex = new Uint32Array(buffer, offsets[4], rows);
  const rowContribution = new Uint32Array(buffer, offsets[5], rows);
  const rowOwned = new Uint8Array(buffer, offsets[6], rows);
  const table = Buffer.from(buffer, offsets[7], CONTRIBUTION_BYTES * header.contributions);
  const contributions = Array.from({ length: header.contributions }, (_, i) => ({
    contributionId: BigInt(`0x${table.toString('hex', i * CONTRIBUTION_BYTES, i * CONTRIBUTION_BYTES + 32)}`),
    contributor: `0x${table.toString('hex', i * CONTRIBUTION_BYTES + 32, (i + 1) * CONTRIBUTION_BYTES)}` as Address,
  }));
  const separator = header.tokenWidth === 2 ? 0xffff : 0xffffffff;

  // The checksum rules out damage; these rule out a well-formed file whose arrays disagree, which would
  // otherwise make queries read outside the text.
  if (rowStart[0] !== 0 || rowStart[rows] !== textLength) throw corrupt(`has row starts from ${rowStart[0]} to ${rowStart[rows]}, not 0 to ${textLength}`);
  for (let r = 0; r < rows; r++) {
    if (rowStart[r + 1]! <= rowStart[r]!) throw corrupt(`has row ${r} starting at ${rowStart[r]} and row ${r + 1} at ${rowStart[r + 1]}`);
    if (text[rowStart[r + 1]! - 1] !== separator) throw corrupt(`has no separator after row ${r}`);
    if (rowContribution[r]! >= header.contributions) throw corrupt(`maps row ${r} to contribution ${rowContribution[r]} of ${header.contributions}`);
  }
  for (let i = 0; i < tokens; i++) {
    if (suffixArray[i]! >= textLength || text[suffixArray[i]!] === separator) throw corrupt(`has suffix array entry ${i} = ${suffixArray[i]}, not a token position`);
  }
  return { text, separator, suffixArray, rowStart, rowIndex, rowContribution, rowOwned, contributions };
}

async function openForReading(file: string): Promise<FileHandle> {
  try {
    return await open(file, 'r');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') throw new SpanIndexNotFoundError(`there is no span index at ${file}`, { cause, details: 'build it first' });
    throw new SpanIndexError(`cannot open the span index ${file}`, { cause, details: (cause as Error).message, retryable: true });
  }
}
