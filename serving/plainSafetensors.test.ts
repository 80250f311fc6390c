import { describe, expect, it } from 'vitest';
import { readPlainSafetensors } from './plainSafetensors.ts';
import { encodeSafetensors, readSafetensors } from './safetensors.ts';

/** The 8-byte little-endian length, the header's JSON, then the data bytes. */
function file(header: object | string, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  out.set(data, 8 + json.byteLength);
  return out;
}

/** JSON padded with spaces to 4k + 1 bytes. */
const unaligned = (json: string) => json + ' '.repeat((5 - (json.length % 4)) % 4);
const floats = (...xs: number[]) => new Uint8Array(new Float32Array(xs).buffer);
const tensor = (dtype: string, shape: number[], begin: number, end: number) => ({ dtype, shape, data_offsets: [begin, end] });
const asLists = (tensors: Iterable<[string, { shape: number[]; data: ArrayLike<number> }]>) => [...tensors].map(([key, t]) => [key, t.shape, Array.from(t.data)]);

describe('readPlainSafetensors()', () => {
  const valid: Record<string, Uint8Array> = {
    'encoded by the writer': encodeSafetensors({ b: { shape: [2, 1], data: new Float32Array([3, 4]) }, a: { shape: [1, 3], data: new Float32Array([1, -2, 0.5]) } }, { format: 'pt' }),
    // A header of 4k + 1 bytes puts the data at an odd offset: the reader copies rather than views the floats.
    'an unaligned data section': file(unaligned('{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'), floats(1.5, -7)),
    'tensors stored out of name order, and an empty one': file({ z: tensor('F32', [1], 0, 4), e: tensor('F32', [0, 3], 4, 4), y: tensor('F32', [2], 4, 12) }, floats(9, 8, 7)),
  };
  const other: Record<string, Uint8Array> = {
    'an F16 tensor (valid, but not plain)': encodeSafetensors({ h: { shape: [2], data: new Float32Array([1, 2]), dtype: 'F16' } }),
    'a gap between tensors': file({ a: tensor('F32', [1], 0, 4), b: tensor('F32', [1], 8, 12) }, floats(1, 2, 3)),
    'overlapping tensors': file({ a: tensor('F32', [2], 0, 8), b: tensor('F32', [1], 4, 8) }, floats(1, 2)),
    'bytes after the last tensor': file({ a: tensor('F32', [1], 0, 4) }, floats(1, 2)),
    'a tensor past the end': file({ a: tensor('F32', [3], 0, 12) }, floats(1, 2)),
    'a byte count that does not match the shape': file({ a: tensor('F32', [3], 0, 8) }, floats(1, 2)),
    'metadata that is not all strings': file({ __metadata__: { n: 1 }, a: tensor('F32', [1], 0, 4) }, floats(1)),
    'a header that is not JSON': file('{"a": ', floats(1)),
    'a header length past the end': file({ a: tensor('F32', [1], 0, 4) }, floats(1)).subarray(0, 20),
    'fewer than 8 bytes': new Uint8Array(5),
  };

  it('reads files in the plain layout to exactly what readSafetensors reads, in the header’s order', () => {
    for (const [what, bytes] of Object.entries(valid)) {
      const plain = readPlainSafetensors(bytes);
      expect(plain, what).not.toBeNull();
      expect(asLists(plain!.map((t) => [t.key, t]))).toEqual(asLists(readSafetensors(bytes).tensors));
    }
    expect(asLists(readPlainSafetensors(valid['an unaligned data section']!)!.map((t) => [t.key, t]))).toEqual([['x', [2], [1.5, -7]]]);
  });

  it('answers null for everything else, so that readSafetensors decides (and names what is wrong)', () => {
    for (const [what, bytes] of Object.entries(other)) expect(readPlainSafetensors(bytes), what).toBeNull();
    // Every one of them but the F16 file is one readSafetensors refuses.
    const refused = Object.entries(other).filter(([, bytes]) => {
      try {
        readSafetensors(bytes);
        return false;
      } catch {
        return true;
      }
    });
    expect(refused.map(([what]) => what)).toEqual(Object.keys(other).filter((w) => !w.startsWith('an F16')));
  });
});
