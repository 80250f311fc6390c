// A reader for safetensors files in the plain layout that writers produce: F32 tensors only, a
// well-formed header, the data section covered exactly. The adapter loader's worker thread reads with it
// instead of safetensors.ts, whose error class comes through contracts/index.ts: loading that (viem, the
// contract artifacts) costs a worker about 3 s of CPU and 70 MB. It answers null for anything else, and
// the caller then reads the file with readSafetensors on the main thread, which decides every error: so
// whatever this reader accepts, readSafetensors accepts too and decodes to the same values.
import type { NamedTensor } from './loraWeights.ts';

const MAX_HEADER_BYTES = 100_000_000; // as safetensors.ts

export function readPlainSafetensors(bytes: Uint8Array): (NamedTensor & { data: Float32Array })[] | null {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) return null; // tensors are stored little-endian
  if (bytes.byteLength < 8) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES) || 8 + Number(headerLength) > bytes.byteLength) return null;
  const n = Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch {
    return null;
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return null;

  const entries: { key: string; shape: number[]; begin: number; end: number }[] = [];
  for (const [key, value] of Object.entries(header as Record<string, unknown>)) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
    if (key === '__metadata__') {
      if (!Object.values(value).every((v) => typeof v === 'string')) return null;
      continue;
    }
    const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
    if (dtype !== 'F32') return null;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) return null;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) return null;
    const [begin, end] = offsets as [number, number];
    if (end - begin !== 4 * (shape as number[]).reduce((a, b) => a * b, 1)) return null;
    entries.push({ key, shape: shape as number[], begin, end });
  }

  // The tensors, in offset order, must cover the data section exactly.
  const dataStart = 8 + n;
  let cursor = 0;
  for (const e of [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end)) {
    if (e.begin !== cursor) return null;
    cursor = e.end;
  }
  if (cursor !== bytes.byteLength - dataStart) return null;

  return entries.map(({ key, shape, begin, end }) => {
    const at = bytes.byteOffset + dataStart + begin;
    const count = (end - begin) / 4;
    // A view where the offset allows one, else a copy (Float32Array needs 4-byte alignment).
    const data = at % 4 === 0 ? new Float32Array(bytes.buffer, at, count) : new Float32Array(bytes.slice(dataStart + begin, dataStart + end).buffer);
    return { key, shape, data };
  });
}
