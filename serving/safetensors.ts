// The safetensors file format: an 8-byte little-endian header length N, N bytes of JSON
// ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}), then the raw
// little-endian tensor bytes, which the offsets must cover exactly (no overlaps, no gaps).
// Hand-written: npm has no maintained safetensors library for local files.
//
// Tensors are read one at a time from a file descriptor straight into their own typed arrays, so a
// file is never held in memory twice and files over 2 GiB work; writes go to a temp file in the same
// folder, are fsynced and then renamed over the target, so a crash never leaves half a file.
import { closeSync, fstatSync, fsyncSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { TributaryError } from '../contracts/index.ts';

export const SAFE_DTYPES = ['F32', 'F16', 'BF16', 'F64', 'I32', 'I64', 'U8', 'BOOL'] as const;
export type SafeDtype = (typeof SAFE_DTYPES)[number];

const DTYPE_BYTES: Record<SafeDtype, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I32: 4, I64: 8, U8: 1, BOOL: 1 };

/** One decoded tensor: floats of any width as Float32Array, I32/I64 as Int32Array, U8/BOOL as Uint8Array. */
export interface SafeTensor {
  /** The dtype stored in the file (before decoding). */
  dtype: SafeDtype;
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array;
}

export interface SafetensorsContents {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

/** What the writer takes: float32 values, stored as F32 (default), F16 or BF16 (both rounded to nearest even). */
export interface SafetensorsInput {
  shape: number[];
  data: Float32Array;
  dtype?: 'F32' | 'F16' | 'BF16';
}

/** A safetensors file (or buffer) that cannot be read or written; the message names the file and what is wrong. */
export class SafetensorsError extends TributaryError {
  override name = 'SafetensorsError';
}

/** The largest header accepted, as in the reference implementation: a bigger one is a corrupt length, not a real header. */
export const MAX_HEADER_BYTES = 100_000_000;

const BYTES_NAME = 'the safetensors bytes';

// ---------------------------------------------------------------------------------------------------
// Reading

interface ByteSource {
  readonly name: string;
  readonly size: number;
  /** Fills `into` from `position`; the caller has checked that the range lies inside the source. */
  read(into: Uint8Array, position: number): void;
}

interface HeaderEntry {
  name: string;
  dtype: SafeDtype;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * Reads every tensor and the metadata of a safetensors file (a path) or buffer. Throws
 * SafetensorsError for a truncated file, a header length larger than the file or than 100 MB,
 * invalid JSON, offsets out of range, overlapping or leaving gaps, a byte length that is not
 * product(shape) × dtype size, an unsupported dtype, or an I64 value outside the int32 range.
 */
export function readSafetensors(source: string | Uint8Array): SafetensorsContents {
  assertLittleEndianHost();
  if (typeof source !== 'string') return readFrom(bufferSource(source));
  let fd: number;
  try {
    fd = openSync(source, 'r');
  } catch (cause) {
    throw new SafetensorsError(`cannot open safetensors file ${source}`, { cause, details: (cause as Error).message });
  }
  try {
    return readFrom(fileSource(source, fd));
  } finally {
    closeSync(fd);
  }
}

function bufferSource(bytes: Uint8Array): ByteSource {
  return {
    name: BYTES_NAME,
    size: bytes.byteLength,
    read: (into, position) => into.set(bytes.subarray(position, position + into.byteLength)),
  };
}

function fileSource(file: string, fd: number): ByteSource {
  return {
    name: file,
    size: fstatSync(fd).size,
    read(into, position) {
      let done = 0;
      while (done < into.byteLength) {
        const n = readSync(fd, into, done, into.byteLength - done, position + done);
        if (n === 0) throw new SafetensorsError(`safetensors file ${file} ended early while reading`, { details: 'it changed while being read', retryable: true });
        done += n;
      }
    },
  };
}

function readFrom(src: ByteSource): SafetensorsContents {
  const fail = (what: string, details?: string): never => {
    throw new SafetensorsError(`invalid safetensors file ${src.name}: ${what}`, details === undefined ? {} : { details });
  };
  if (src.size < 8) fail(`truncated: ${src.size} bytes, fewer than the 8-byte header length`);
  const lengthBytes = new Uint8Array(8);
  src.read(lengthBytes, 0);
  const headerLength = new DataView(lengthBytes.buffer).getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) fail(`header length ${headerLength} is over the ${MAX_HEADER_BYTES}-byte limit`, 'the file is corrupt or not safetensors');
  const n = Number(headerLength);
  if (8 + n > src.size) fail(`header length ${n} is larger than the file (${src.size} bytes, so at most ${src.size - 8})`, 'the file is truncated or not safetensors');
  const headerBytes = new Uint8Array(n);
  src.read(headerBytes, 8);

  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (cause) {
    fail('the header is not valid UTF-8 JSON', (cause as Error).message);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('the header is not a JSON object');

  const metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('__metadata__ is not an object of strings');
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__.${k} is ${JSON.stringify(v)}, not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    entries.push(parseEntry(name, value, fail));
  }

  // The data section must be covered exactly: sorted by offset, each tensor starts where the last ended.
  const dataStart = 8 + n;
  const dataLength = src.size - dataStart;
  const byOffset = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let previous: HeaderEntry | undefined;
  for (const e of byOffset) {
    if (e.end > dataLength) {
      fail(`tensor ${JSON.stringify(e.name)} has data_offsets [${e.begin}, ${e.end}] past the end of the data section (${dataLength} bytes)`, 'the file is truncated or its header is wrong');
    }
    if (e.begin < cursor) fail(`tensor ${JSON.stringify(e.name)} (bytes ${e.begin}–${e.end}) overlaps ${JSON.stringify(previous!.name)} (bytes ${previous!.begin}–${previous!.end})`);
    if (e.begin > cursor) fail(`the data section has a gap: bytes ${cursor}–${e.begin} belong to no tensor (before ${JSON.stringify(e.name)})`);
    cursor = e.end;
    previous = e;
  }
  if (cursor !== dataLength) fail(`the data section has ${dataLength - cursor} bytes after the last tensor (bytes ${cursor}–${dataLength} belong to no tensor)`);

  const tensors = new Map<string, SafeTensor>();
  for (const e of entries) tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: decodeTensor(src, e, dataStart) });
  return { tensors, metadata };
}

function parseEntry(name: string, value: unknown, fail: (what: string, details?: string) => never): HeaderEntry {
  const q = JSON.stringify(name);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(`tensor ${q} is not an object with dtype, shape and data_offsets`);
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (typeof dtype !== 'string') return fail(`tensor ${q} has no dtype string`);
  if (!(SAFE_DTYPES as readonly string[]).includes(dtype)) {
    return fail(`tensor ${q} has dtype ${JSON.stringify(dtype)}, which is not supported`, `supported: ${SAFE_DTYPES.join(', ')}`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) return fail(`tensor ${q} has shape ${JSON.stringify(shape)}, not a list of non-negative integers`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
    return fail(`tensor ${q} has data_offsets ${JSON.stringify(offsets)}, not [begin, end] with 0 ≤ begin ≤ end`);
  }
  const [begin, end] = offsets as [number, number];
  const elements = (shape as number[]).reduce((a, b) => a * b, 1);
  const expected = elements * DTYPE_BYTES[dtype as SafeDtype];
  if (end - begin !== expected) {
    return fail(`tensor ${q} has ${end - begin} bytes (data_offsets [${begin}, ${end}]) but shape ${JSON.stringify(shape)} of ${dtype} needs ${elements} × ${DTYPE_BYTES[dtype as SafeDtype]} = ${expected}`);
  }
  return { name, dtype: dtype as SafeDtype, shape: shape as number[], begin, end };
}

function decodeTensor(src: ByteSource, e: HeaderEntry, dataStart: number): SafeTensor['data'] {
  const count = (e.end - e.begin) / DTYPE_BYTES[e.dtype];
  const position = dataStart + e.begin;
  const fill = <T extends ArrayBufferView>(array: T): T => {
    src.read(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), position);
    return array;
  };
  switch (e.dtype) {
    case 'F32':
      return fill(new Float32Array(count));
    case 'F16':
      return float16ToFloat32Array(fill(new Uint16Array(count)));
    case 'BF16':
      return bfloat16ToFloat32Array(fill(new Uint16Array(count)));
    case 'F64':
      return new Float32Array(fill(new Float64Array(count)));
    case 'I32':
      return fill(new Int32Array(count));
    case 'I64': {
      // Read as (low, high) int32 pairs: a value fits in int32 exactly when high is low's sign extension.
      const pairs = fill(new Int32Array(count * 2));
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const lo = pairs[2 * i]!;
        const hi = pairs[2 * i + 1]!;
        if (hi !== lo >> 31) {
          const value = (BigInt(hi) << 32n) | BigInt(lo >>> 0);
          throw new SafetensorsError(`invalid safetensors file ${src.name}: tensor ${JSON.stringify(e.name)} (I64) holds ${value} at index ${i}, which does not fit in int32`, {
            details: 'I64 tensors are read as Int32Array; values must lie in [-2147483648, 2147483647]',
          });
        }
        out[i] = lo;
      }
      return out;
    }
    case 'U8':
    case 'BOOL':
      return fill(new Uint8Array(count));
  }
}

// ---------------------------------------------------------------------------------------------------
// Writing

interface Plan {
  header: Uint8Array; // the 8-byte length and the padded JSON
  names: string[]; // sorted
  size: number;
}

/** The exact bytes of a safetensors file: tensors sorted by name, header padded with spaces to a multiple of 8. */
export function encodeSafetensors(tensors: Record<string, SafetensorsInput>, metadata?: Record<string, string>): Uint8Array {
  const plan = planFile(BYTES_NAME, tensors, metadata);
  const out = new Uint8Array(plan.size);
  out.set(plan.header, 0);
  let at = plan.header.byteLength;
  for (const name of plan.names) {
    const bytes = tensorBytes(tensors[name]!);
    out.set(bytes, at);
    at += bytes.byteLength;
  }
  return out;
}

/**
 * Writes what encodeSafetensors would return to `file`, atomically: a temp file in the same folder,
 * fsynced, renamed over the target. The tensors are written one by one, never as one big buffer.
 */
export function writeSafetensors(file: string, tensors: Record<string, SafetensorsInput>, metadata?: Record<string, string>): void {
  const plan = planFile(file, tensors, metadata);
  writeAtomically(file, (write) => {
    write(plan.header);
    for (const name of plan.names) write(tensorBytes(tensors[name]!));
  });
}

function planFile(name: string, tensors: Record<string, SafetensorsInput>, metadata: Record<string, string> | undefined): Plan {
  const fail = (what: string): never => {
    throw new SafetensorsError(`cannot write safetensors ${name === BYTES_NAME ? 'bytes' : `file ${name}`}: ${what}`);
  };
  const header: Record<string, unknown> = {};
  if (metadata !== undefined && Object.keys(metadata).length > 0) {
    const sorted: Record<string, string> = {};
    for (const key of Object.keys(metadata).sort()) {
      const v = metadata[key];
      if (typeof v !== 'string') fail(`metadata ${JSON.stringify(key)} is ${JSON.stringify(v)}, not a string`);
      sorted[key] = v!;
    }
    header['__metadata__'] = sorted;
  }
  const names = Object.keys(tensors).sort();
  let offset = 0;
  for (const tensorName of names) {
    const t = tensors[tensorName]!;
    const q = JSON.stringify(tensorName);
    if (tensorName === '__metadata__' || tensorName === '') fail(`${q} cannot be a tensor name`);
    const dtype = t.dtype ?? 'F32';
    if (dtype !== 'F32' && dtype !== 'F16' && dtype !== 'BF16') fail(`tensor ${q} has dtype ${JSON.stringify(dtype)}; the writer stores F32, F16 or BF16`);
    if (!(t.data instanceof Float32Array)) fail(`tensor ${q}'s data is not a Float32Array`);
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`tensor ${q} has shape ${JSON.stringify(t.shape)}, not a list of non-negative integers`);
    const elements = t.shape.reduce((a, b) => a * b, 1);
    if (elements !== t.data.length) fail(`tensor ${q} has shape ${JSON.stringify(t.shape)} (${elements} values) but ${t.data.length} values`);
    const bytes = elements * DTYPE_BYTES[dtype];
    header[tensorName] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.byteLength / 8) * 8;
  const headerBytes = new Uint8Array(8 + padded).fill(0x20, 8 + json.byteLength);
  new DataView(headerBytes.buffer).setBigUint64(0, BigInt(padded), true);
  headerBytes.set(json, 8);
  return { header: headerBytes, names, size: headerBytes.byteLength + offset };
}

function tensorBytes(t: SafetensorsInput): Uint8Array {
  assertLittleEndianHost();
  switch (t.dtype ?? 'F32') {
    case 'F16': {
      const h = float32ToFloat16Array(t.data);
      return new Uint8Array(h.buffer, h.byteOffset, h.byteLength);
    }
    case 'BF16': {
      const h = float32ToBfloat16Array(t.data);
      return new Uint8Array(h.buffer, h.byteOffset, h.byteLength);
    }
    default:
      return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  }
}

function writeAtomically(file: string, body: (write: (bytes: Uint8Array) => void) => void): void {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(temp, 'wx');
    const out = fd;
    body((bytes) => {
      let done = 0;
      while (done < bytes.byteLength) done += writeSync(out, bytes, done, bytes.byteLength - done);
    });
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temp, file);
  } catch (cause) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(temp);
    } catch {
      // never created, or already renamed
    }
    if (cause instanceof SafetensorsError) throw cause;
    throw new SafetensorsError(`cannot write safetensors file ${file}`, { cause, details: (cause as Error).message });
  }
  // Make the rename itself durable; some file systems cannot fsync a directory, which is fine.
  try {
    const dirFd = openSync(dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  } catch {
    // best effort
  }
}

// ---------------------------------------------------------------------------------------------------
// Half-precision conversions (IEEE 754 binary16 and bfloat16), rounding to nearest, ties to even.

/** float32 → binary16 bits, rounding to nearest even; overflow → ±Infinity, NaN stays NaN (quiet). */
export function float32ToFloat16Array(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < bits.length; i++) out[i] = f32BitsToF16(bits[i]!);
  return out;
}

/** binary16 bits → float32 (exact: every half is a float32). */
export function float16ToFloat32Array(halves: Uint16Array): Float32Array {
  const out = new Float32Array(halves.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < halves.length; i++) bits[i] = f16ToF32Bits(halves[i]!);
  return out;
}

/** float32 → bfloat16 bits (the top 16 bits), rounding to nearest even; NaN stays NaN (quiet). */
export function float32ToBfloat16Array(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i]!;
    if ((b & 0x7fffffff) > 0x7f800000) out[i] = (b >>> 16) | 0x0040;
    else out[i] = (b + 0x7fff + ((b >>> 16) & 1)) >>> 16; // carry into the exponent is right, up to infinity
  }
  return out;
}

/** bfloat16 bits → float32 (exact). */
export function bfloat16ToFloat32Array(halves: Uint16Array): Float32Array {
  const out = new Float32Array(halves.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < halves.length; i++) bits[i] = halves[i]! << 16;
  return out;
}

function f32BitsToF16(f: number): number {
  const sign = (f >>> 16) & 0x8000;
  const abs = f & 0x7fffffff;
  if (abs > 0x7f800000) return sign | 0x7e00 | ((abs >>> 13) & 0x3ff); // NaN, quiet, keeping the top payload bits
  if (abs >= 0x477ff000) return sign | 0x7c00; // ≥ 65520 (halfway from 65504 to 2^16) rounds to infinity
  if (abs >= 0x38800000) {
    // Normal half: rebias the exponent (127 → 15) and round away the 13 low mantissa bits.
    let h = (abs >>> 13) - (112 << 10);
    const rest = abs & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++; // a carry into the exponent is correct
    return sign | h;
  }
  if (abs <= 0x33000000) return sign; // ≤ 2^-25: rounds to zero (2^-25 itself is a tie, and 0 is even)
  // Subnormal half: value / 2^-24 = mantissa24 × 2^(e - 126), with e ≤ 112, so a right shift by 14..24.
  const e = abs >>> 23;
  const mantissa = (abs & 0x7fffff) | 0x800000;
  const shift = 126 - e;
  let h = mantissa >>> shift;
  const rest = mantissa & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  if (rest > halfway || (rest === halfway && (h & 1) === 1)) h++; // may become 0x400, the smallest normal
  return sign | h;
}

function f16ToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exponent = (h >>> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0x1f) return (sign | 0x7f800000 | (mantissa << 13)) >>> 0; // ±Infinity, NaN
  if (exponent !== 0) return (sign | ((exponent + 112) << 23) | (mantissa << 13)) >>> 0;
  if (mantissa === 0) return sign >>> 0;
  // Subnormal half: normalise the mantissa into a float32 normal.
  let e = 113;
  let m = mantissa;
  while ((m & 0x400) === 0) {
    m <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((m & 0x3ff) << 13)) >>> 0;
}

function assertLittleEndianHost(): void {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    throw new SafetensorsError('safetensors reading and writing needs a little-endian host', { details: 'this machine is big-endian' });
  }
}
