import { describe, expect, it } from 'vitest';
import { describeModel, modelBytesOf, modelSource, SHIPPED_MODEL_DIR, TINY_SHAPE } from './model.ts';

describe('modelSource()', () => {
  it('reads a directory, the shipped model by default, and random weights of the tiny shape', () => {
    expect(modelSource(undefined)).toEqual({ kind: 'dir', dir: SHIPPED_MODEL_DIR });
    expect(modelSource('/models/gpt2')).toEqual({ kind: 'dir', dir: '/models/gpt2' });
    expect(modelSource('random')).toEqual({ kind: 'random', config: TINY_SHAPE, seed: 1 });
  });

  it('random:EMBD,LAYERS,HEADS keeps the tiny shape\'s vocabulary and positions and changes width, depth and heads', () => {
    const source = modelSource('random:256,4,4');
    expect(source).toEqual({ kind: 'random', config: { ...TINY_SHAPE, nEmbd: 256, nLayer: 4, nHead: 4 }, seed: 1 });
    expect(describeModel(source)).toBe('random weights (initModel, seed 1; n_embd 256, 4 layers, 4 heads, 256 positions, vocabulary 2048; 3,749,376 parameters)');
    expect(modelBytesOf(source.kind === 'random' ? source.config : TINY_SHAPE)).toBe(3_749_376 * 4);
  });

  it('refuses a malformed shape with the form it expects', () => {
    for (const bad of ['random:256,4', 'random:256,4,3', 'random:0,4,4', 'random:256,four,4', 'random:']) {
      expect(() => modelSource(bad)).toThrow(/expected random:EMBD,LAYERS,HEADS, three positive integers with EMBD a multiple of HEADS/);
    }
  });
});
