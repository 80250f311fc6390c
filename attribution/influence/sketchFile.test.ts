import { describe, expect, it } from 'vitest';
import { encodeSafetensors } from '../../serving/index.ts';
import { decodeSketchFile, encodeSketchFile, SketchFileError, type SketchFile } from './sketchFile.ts';

const file: SketchFile = {
  manifestHash: `0x${'ab'.repeat(32)}`,
  spec: { seed: 3, dims: 4, modules: [{ name: 'h.0.attn.c_attn', in: 8, r: 1, out: 24, kIn: 2, kOut: 2, offset: 0, size: 4 }] },
  checkpoints: [
    { step: 5, learningRate: 0.004, adapterHash: `0x${'01'.repeat(32)}`, values: Float32Array.from({ length: 12 }, (_, i) => i / 7) },
    { step: 10, learningRate: 0.001, adapterHash: `0x${'02'.repeat(32)}`, values: Float32Array.from({ length: 12 }, (_, i) => -i) },
  ],
  examples: [
    { contributionId: 1n, rowIndex: 0 },
    { contributionId: 1n, rowIndex: 1 },
    { contributionId: 2n ** 200n, rowIndex: 7 },
  ],
};

describe('sketch files', () => {
  it('round-trip every checkpoint matrix, the projection and the examples exactly', () => {
    const bytes = encodeSketchFile(file);
    expect(decodeSketchFile(bytes)).toEqual(file);
    expect(encodeSketchFile(file)).toEqual(bytes);
  });

  it('refuses a matrix of the wrong size, a foreign safetensors file and garbage, naming the source', () => {
    expect(() => encodeSketchFile({ ...file, checkpoints: [{ ...file.checkpoints[0]!, values: new Float32Array(5) }] })).toThrow(/expected 3 examples × 4/);
    const foreign = encodeSafetensors({ w: { shape: [2], data: new Float32Array(2) } }, { format: 'pt' });
    expect(() => decodeSketchFile(foreign, 'x.sketches')).toThrow(SketchFileError);
    expect(() => decodeSketchFile(foreign, 'x.sketches')).toThrow(/x\.sketches is not a valid sketch file: its format is undefined/);
    expect(() => decodeSketchFile(new Uint8Array([1, 2, 3]))).toThrow(SketchFileError);
  });
});
