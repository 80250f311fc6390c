import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  bfloat16ToFloat32Array,
  encodeSafetensors,
  float16ToFloat32Array,
  float32ToBfloat16Array,
  float32ToFloat16Array,
  readSafetensors,
  SafetensorsError,
  writeSafetensors,
} from './safetensors.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'safetensors-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const toF16 = (...xs: number[]) => Array.from(float32ToFloat16Array(new Float32Array(xs)));
const fromF16 = (...hs: number[]) => Array.from(float16ToFloat32Array(new Uint16Array(hs)));
const toBF16 = (...xs: number[]) => Array.from(float32ToBfloat16Array(new Float32Array(xs)));
const fromBF16 = (...hs: number[]) => Array.from(bfloat16ToFloat32Array(new Uint16Array(hs)));
/** A float32 from its bit pattern. */
const f32 = (bits: number) => new Float32Array(new Uint32Array([bits]).buffer)[0]!;

/** Little-endian bytes of a header length, then the header text, then the data, assembled by hand. */
function handMade(header: string, data: number[], lengthOverride?: number[]): Uint8Array {
  const json = [...header].map((c) => c.charCodeAt(0)); // the headers used here are ASCII
  const n = json.length;
  const length = lengthOverride ?? [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >> 24) & 0xff, 0, 0, 0, 0];
  return new Uint8Array([...length, ...json, ...data]);
}

function errorOf(fn: () => unknown): SafetensorsError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SafetensorsError);
    return e as SafetensorsError;
  }
  throw new Error('expected a SafetensorsError, got none');
}

describe('F16 conversion', () => {
  it('encodes float32 to the binary16 bit patterns computed by hand, rounding to nearest even', () => {
    expect(toF16(1, -2, 0.5, 0, -0)).toEqual([0x3c00, 0xc000, 0x3800, 0x0000, 0x8000]);
    expect(toF16(65504, 65519, 65520, 1e6, Infinity, -Infinity)).toEqual([0x7bff, 0x7bff, 0x7c00, 0x7c00, 0x7c00, 0xfc00]);
    expect(toF16(1 / 3, 0.1, Math.PI)).toEqual([0x3555, 0x2e66, 0x4248]);
    // Ties: 1 + 2^-11 lies halfway between 0x3c00 (even) and 0x3c01; 1 + 3·2^-11 between 0x3c01 and 0x3c02 (even).
    expect(toF16(1 + 2 ** -11, 1 + 3 * 2 ** -11, 1 + 2 ** -11 + 2 ** -20)).toEqual([0x3c00, 0x3c02, 0x3c01]);
    // Subnormals: 2^-24 is the smallest; 2^-25 ties to 0; 3·2^-25 ties to 2 (even); just below 2^-14 rounds up to the smallest normal.
    expect(toF16(2 ** -24, 2 ** -25, 1.5 * 2 ** -25, 3 * 2 ** -25, 2 ** -14 - 2 ** -24, 2 ** -14, -(2 ** -24))).toEqual([0x0001, 0x0000, 0x0001, 0x0002, 0x03ff, 0x0400, 0x8001]);
    expect(toF16(f32(0x387fffff), 2 ** -30)).toEqual([0x0400, 0x0000]);
    expect(toF16(NaN)).toEqual([0x7e00]);
  });

  it('decodes binary16 bit patterns exactly, including subnormals, infinities and NaN', () => {
    expect(fromF16(0x3c00, 0xc000, 0x7bff, 0x3555, 0x0400)).toEqual([1, -2, 65504, 0.333251953125, 2 ** -14]);
    expect(fromF16(0x0001, 0x03ff, 0x8001)).toEqual([2 ** -24, 1023 * 2 ** -24, -(2 ** -24)]);
    expect(fromF16(0x7c00, 0xfc00)).toEqual([Infinity, -Infinity]);
    expect(Object.is(fromF16(0x8000)[0], -0)).toBe(true);
    expect(Number.isNaN(fromF16(0x7e00)[0])).toBe(true);
    expect(Number.isNaN(fromF16(0x7c01)[0])).toBe(true);
  });

  it('round-trips every one of the 65536 half bit patterns (NaNs stay NaN)', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const back = float32ToFloat16Array(float16ToFloat32Array(all));
    let mismatches = 0;
    for (let i = 0; i < 65536; i++) {
      const isNaN = (i & 0x7c00) === 0x7c00 && (i & 0x3ff) !== 0;
      if (isNaN ? (back[i]! & 0x7c00) !== 0x7c00 || (back[i]! & 0x3ff) === 0 : back[i] !== i) mismatches++;
    }
    expect(mismatches).toBe(0);
  });
});

describe('BF16 conversion', () => {
  it('encodes float32 to bfloat16 bit patterns computed by hand, rounding to nearest even', () => {
    expect(toBF16(1, -2, 1 / 3, 0, -0)).toEqual([0x3f80, 0xc000, 0x3eab, 0x0000, 0x8000]);
    // 0x3f808000 is halfway between 0x3f80 (even) and 0x3f81; 0x3f818000 between 0x3f81 and 0x3f82 (even).
    expect(toBF16(f32(0x3f808000), f32(0x3f818000), f32(0x3f808001))).toEqual([0x3f80, 0x3f82, 0x3f81]);
    expect(toBF16(Infinity, -Infinity, f32(0x7f7fffff), f32(0x00010000))).toEqual([0x7f80, 0xff80, 0x7f80, 0x0001]);
    expect(toBF16(NaN)).toEqual([0x7fc0]);
  });

  it('decodes bfloat16 bit patterns exactly', () => {
    expect(fromBF16(0x3f80, 0xc000, 0x3eab, 0x7f7f, 0x0001)).toEqual([1, -2, 0.333984375, f32(0x7f7f0000), 2 ** -133]);
    expect(fromBF16(0x7f80, 0xff80)).toEqual([Infinity, -Infinity]);
    expect(Number.isNaN(fromBF16(0x7fc0)[0])).toBe(true);
  });
});

describe('readSafetensors', () => {
  it('reads a file whose bytes were written by hand, independently of the writer', () => {
    const header = '{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"i":{"dtype":"I64","shape":[1,2],"data_offsets":[8,24]},"h":{"dtype":"F16","shape":[1],"data_offsets":[24,26]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[26,28]},"m":{"dtype":"BOOL","shape":[2],"data_offsets":[28,30]}}';
    const data = [
      0x00, 0x00, 0x80, 0x3f, /* 1.0f */ 0x00, 0x00, 0x20, 0xc0, /* -2.5f */
      0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* -3 */ 0x07, 0, 0, 0, 0, 0, 0, 0, /* 7 */
      0x00, 0x3c, /* half 1.0 */ 0x80, 0xbf, /* bf16 -1.0 */ 0x01, 0x00, /* true, false */
    ];
    const file = path.join(dir, 'hand.safetensors');
    writeFileSync(file, handMade(header, data));
    const { tensors, metadata } = readSafetensors(file);
    expect(metadata).toEqual({ format: 'pt' });
    expect([...tensors.keys()]).toEqual(['w', 'i', 'h', 'b', 'm']);
    expect(tensors.get('w')).toEqual({ dtype: 'F32', shape: [2], data: new Float32Array([1, -2.5]) });
    expect(tensors.get('i')).toEqual({ dtype: 'I64', shape: [1, 2], data: new Int32Array([-3, 7]) });
    expect(tensors.get('h')).toEqual({ dtype: 'F16', shape: [1], data: new Float32Array([1]) });
    expect(tensors.get('b')).toEqual({ dtype: 'BF16', shape: [1], data: new Float32Array([-1]) });
    expect(tensors.get('m')).toEqual({ dtype: 'BOOL', shape: [2], data: new Uint8Array([1, 0]) });
    // The same bytes given as a buffer read the same.
    expect(readSafetensors(readFileSync(file)).tensors.get('i')!.data).toEqual(new Int32Array([-3, 7]));
  });

  it('reads F64, I32, U8 and empty tensors, and a header padded with spaces', () => {
    const header = '{"d":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},"n":{"dtype":"I32","shape":[1],"data_offsets":[8,12]},"u":{"dtype":"U8","shape":[2],"data_offsets":[12,14]},"e":{"dtype":"F32","shape":[0,3],"data_offsets":[14,14]}}    ';
    const f64 = [...new Uint8Array(new Float64Array([0.1]).buffer)];
    const bytes = handMade(header, [...f64, 0xfe, 0xff, 0xff, 0xff, 200, 3]);
    const { tensors, metadata } = readSafetensors(bytes);
    expect(metadata).toEqual({});
    expect(tensors.get('d')!.data).toEqual(new Float32Array([0.1]));
    expect(tensors.get('n')!.data).toEqual(new Int32Array([-2]));
    expect(tensors.get('u')!.data).toEqual(new Uint8Array([200, 3]));
    expect(tensors.get('e')).toEqual({ dtype: 'F32', shape: [0, 3], data: new Float32Array(0) });
  });

  const ok = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
  const malformed: [string, () => Uint8Array, RegExp][] = [
    ['a file shorter than 8 bytes', () => new Uint8Array([1, 0, 0]), /truncated: 3 bytes, fewer than the 8-byte header length/],
    ['a header length larger than the file', () => handMade(ok, [0, 0, 0, 0], [200, 0, 0, 0, 0, 0, 0, 0]), /header length 200 is larger than the file \(66 bytes, so at most 58\)/],
    ['a header length over 100 MB', () => handMade(ok, [], [0, 0, 0, 0, 1, 0, 0, 0]), /header length 4294967296 is over the 100000000-byte limit/],
    ['a header that is not JSON', () => handMade('{"a":', []), /the header is not valid UTF-8 JSON/],
    ['a header that is a JSON array', () => handMade('[1,2]', []), /the header is not a JSON object/],
    ['a metadata value that is not a string', () => handMade('{"__metadata__":{"k":1}}', []), /__metadata__.k is 1, not a string/],
    ['offsets past the end of the data (truncated data)', () => handMade(ok, [0, 0]), /tensor "a" has data_offsets \[0, 4\] past the end of the data section \(2 bytes\)/],
    ['overlapping tensors', () => handMade('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}}', [0, 0, 0, 0]), /tensor "b" \(bytes 2–4\) overlaps "a" \(bytes 0–4\)/],
    ['a gap between tensors', () => handMade('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}}', [0, 0, 0]), /the data section has a gap: bytes 1–2 belong to no tensor \(before "b"\)/],
    ['data not starting at offset 0', () => handMade('{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}', [0, 0]), /gap: bytes 0–1 belong to no tensor/],
    ['bytes after the last tensor', () => handMade(ok, [0, 0, 0, 0, 9]), /the data section has 1 bytes after the last tensor/],
    ['a byte length that does not match the shape', () => handMade('{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}', new Array(20).fill(0)), /tensor "a" has 20 bytes \(data_offsets \[0, 20\]\) but shape \[2,3\] of F32 needs 6 × 4 = 24/],
    ['an unsupported dtype', () => handMade('{"q":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}', [0]), /tensor "q" has dtype "F8_E4M3", which is not supported/],
    ['an I16 tensor', () => handMade('{"s":{"dtype":"I16","shape":[1],"data_offsets":[0,2]}}', [0, 0]), /tensor "s" has dtype "I16", which is not supported/],
    ['a negative dimension', () => handMade('{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}', []), /tensor "a" has shape \[-1\], not a list of non-negative integers/],
    ['offsets that are not a pair', () => handMade('{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,0]}}', [0]), /tensor "a" has data_offsets \[1,0\], not \[begin, end\]/],
    ['an I64 value that does not fit in int32', () => handMade('{"big":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}}', [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0, 0]), /tensor "big" \(I64\) holds 2147483648 at index 1, which does not fit in int32/],
    ['a negative I64 value below int32', () => handMade('{"big":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}', [0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff]), /holds -2147483649 at index 0/],
  ];
  for (const [what, bytes, message] of malformed) {
    it(`refuses ${what}, naming the file`, () => {
      const file = path.join(dir, 'bad.safetensors');
      writeFileSync(file, bytes());
      const e = errorOf(() => readSafetensors(file));
      expect(e.message).toMatch(message);
      expect(e.message).toContain(`invalid safetensors file ${file}: `);
      expect(e.retryable).toBe(false);
    });
  }

  it('says which file is missing', () => {
    const file = path.join(dir, 'missing.safetensors');
    expect(errorOf(() => readSafetensors(file)).message).toMatch(new RegExp(`cannot open safetensors file ${file}\\n  ENOENT`));
  });

  it('names a buffer source as such', () => {
    expect(errorOf(() => readSafetensors(new Uint8Array(2))).message).toBe('invalid safetensors file the safetensors bytes: truncated: 2 bytes, fewer than the 8-byte header length');
  });
});

describe('encodeSafetensors / writeSafetensors', () => {
  it('produces these exact bytes: tensors sorted by name, header padded with spaces to a multiple of 8', () => {
    const bytes = encodeSafetensors({ z: { shape: [1], data: new Float32Array([1]) }, a: { shape: [1], data: new Float32Array([-2]), dtype: 'F16' } }, { version: '1' });
    const json = '{"__metadata__":{"version":"1"},"a":{"dtype":"F16","shape":[1],"data_offsets":[0,2]},"z":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}';
    const padded = json + ' '.repeat(Math.ceil(json.length / 8) * 8 - json.length);
    expect(padded.length % 8).toBe(0);
    expect(Array.from(bytes)).toEqual([padded.length, 0, 0, 0, 0, 0, 0, 0, ...[...padded].map((c) => c.charCodeAt(0)), 0x00, 0xc0, 0x00, 0x00, 0x80, 0x3f]);
  });

  it('is deterministic: the same tensors in another key order give the same bytes', () => {
    const a = new Float32Array([1, 2, 3, 4]);
    const b = new Float32Array([5, 6]);
    const one = encodeSafetensors({ x: { shape: [2, 2], data: a }, y: { shape: [2], data: b } }, { p: '1', q: '2' });
    const two = encodeSafetensors({ y: { shape: [2], data: b }, x: { shape: [2, 2], data: a } }, { q: '2', p: '1' });
    expect(Buffer.from(one).equals(Buffer.from(two))).toBe(true);
  });

  it('round-trips F32 exactly and F16/BF16 to their rounded values, with metadata', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 8 - 4;
    const values = Float32Array.from({ length: 1001 }, random);
    const file = path.join(dir, 'model.safetensors');
    writeSafetensors(file, {
      'h.0.attn.c_attn.weight': { shape: [7, 11, 13], data: values },
      'half': { shape: [1001], data: values, dtype: 'F16' },
      'brain': { shape: [1001], data: values, dtype: 'BF16' },
      'odd.after.half': { shape: [3], data: new Float32Array([1, 2, 3]) },
      'empty': { shape: [0], data: new Float32Array(0) },
    }, { format: 'pt', note: 'ünïcödé ✓' });
    const { tensors, metadata } = readSafetensors(file);
    expect(metadata).toEqual({ format: 'pt', note: 'ünïcödé ✓' });
    expect(tensors.get('h.0.attn.c_attn.weight')).toEqual({ dtype: 'F32', shape: [7, 11, 13], data: values });
    expect(tensors.get('half')!.data).toEqual(float16ToFloat32Array(float32ToFloat16Array(values)));
    expect(tensors.get('brain')!.data).toEqual(bfloat16ToFloat32Array(float32ToBfloat16Array(values)));
    expect(tensors.get('odd.after.half')!.data).toEqual(new Float32Array([1, 2, 3]));
    expect(tensors.get('empty')).toEqual({ dtype: 'F32', shape: [0], data: new Float32Array(0) });
    // The file holds what encodeSafetensors answers.
    const encoded = encodeSafetensors({
      'h.0.attn.c_attn.weight': { shape: [7, 11, 13], data: values },
      'half': { shape: [1001], data: values, dtype: 'F16' },
      'brain': { shape: [1001], data: values, dtype: 'BF16' },
      'odd.after.half': { shape: [3], data: new Float32Array([1, 2, 3]) },
      'empty': { shape: [0], data: new Float32Array(0) },
    }, { note: 'ünïcödé ✓', format: 'pt' });
    expect(readFileSync(file).equals(Buffer.from(encoded))).toBe(true);
  });

  it('writes a Float32Array that is a view into a larger buffer', () => {
    const backing = new Float32Array([9, 1, 2, 9]);
    const bytes = encodeSafetensors({ v: { shape: [2], data: backing.subarray(1, 3) }, h: { shape: [2], data: backing.subarray(1, 3), dtype: 'F16' } });
    expect(readSafetensors(bytes).tensors.get('v')!.data).toEqual(new Float32Array([1, 2]));
    expect(readSafetensors(bytes).tensors.get('h')!.data).toEqual(new Float32Array([1, 2]));
  });

  it('refuses a shape that does not match the data, naming the tensor', () => {
    const file = path.join(dir, 'x.safetensors');
    expect(errorOf(() => writeSafetensors(file, { w: { shape: [2, 2], data: new Float32Array(3) } })).message).toBe(`cannot write safetensors file ${file}: tensor "w" has shape [2,2] (4 values) but 3 values`);
    expect(errorOf(() => encodeSafetensors({ __metadata__: { shape: [1], data: new Float32Array(1) } })).message).toBe('cannot write safetensors bytes: "__metadata__" cannot be a tensor name');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('writes atomically: replaces the old file whole and leaves no temp files', () => {
    const file = path.join(dir, 'adapter.safetensors');
    writeSafetensors(file, { a: { shape: [1], data: new Float32Array([1]) } });
    writeSafetensors(file, { b: { shape: [2], data: new Float32Array([2, 3]) } });
    expect(readdirSync(dir)).toEqual(['adapter.safetensors']);
    expect([...readSafetensors(file).tensors.keys()]).toEqual(['b']);
  });

  it('cleans up its temp file when the final rename fails, and leaves the target untouched', () => {
    const target = path.join(dir, 'occupied');
    mkdirSync(path.join(target, 'child'), { recursive: true }); // a non-empty directory cannot be renamed over
    const e = errorOf(() => writeSafetensors(target, { a: { shape: [1], data: new Float32Array([1]) } }));
    expect(e.message).toMatch(new RegExp(`^cannot write safetensors file ${target}\\n  E(ISDIR|NOTEMPTY|EXIST)`));
    expect(readdirSync(dir)).toEqual(['occupied']);
    expect(readdirSync(target)).toEqual(['child']);
  });

  it('reports a folder that does not exist', () => {
    const file = path.join(dir, 'no', 'such', 'x.safetensors');
    expect(errorOf(() => writeSafetensors(file, {})).message).toMatch(/cannot write safetensors file .*x\.safetensors\n {2}ENOENT/);
  });

  it('writes and reads an empty file (no tensors, no metadata)', () => {
    const file = path.join(dir, 'empty.safetensors');
    writeSafetensors(file, {});
    expect(Array.from(readFileSync(file))).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20]);
    expect(readSafetensors(file)).toEqual({ tensors: new Map(), metadata: {} });
  });
});
