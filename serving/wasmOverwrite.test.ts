import { beforeAll, describe, expect, it } from 'vitest';
import { useTensorBackend } from './backend.ts';
import { tf, type Tensor2D } from './tf.ts';
import { canOverwriteInPlace, overwriteInPlace } from './wasmOverwrite.ts';

describe('overwriteInPlace (wasm)', () => {
  beforeAll(async () => {
    await useTensorBackend('wasm');
  });

  it('rewrites a tensor where it sits, and every later op sees the new values, a matmul that already used it as weights included', () => {
    expect(canOverwriteInPlace()).toBe(true);
    const w = tf.randomNormal([8, 4], 0, 1, 'float32', 1) as Tensor2D;
    const x = tf.ones([3, 8]) as Tensor2D;
    const before = tf.matMul(x, w); // the backend packs w's values for this product, and keeps them
    const tensors = tf.memory().numTensors;
    const ones = new Float32Array(32).fill(1);
    expect(overwriteInPlace(w, ones)).toBe(true);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(Array.from(w.dataSync())).toEqual(Array.from(ones));
    const after = tf.matMul(x, w);
    expect(Array.from(after.dataSync())).toEqual(new Array(12).fill(8));
    expect(Array.from(before.dataSync())).not.toEqual(new Array(12).fill(8));
    // And again, the product above having packed the new values.
    expect(overwriteInPlace(w, new Float32Array(32).fill(2))).toBe(true);
    const again = tf.matMul(x, w);
    expect(Array.from(again.dataSync())).toEqual(new Array(12).fill(16));
    tf.dispose([w, x, before, after, again]);
  });

  it('changes nothing and answers false for a tensor of another size, another dtype or one already freed', () => {
    const w = tf.zeros([2, 2]);
    expect(overwriteInPlace(w, new Float32Array(3).fill(1))).toBe(false);
    expect(Array.from(w.dataSync())).toEqual([0, 0, 0, 0]);
    const ints = tf.zeros([4], 'int32');
    expect(overwriteInPlace(ints, new Float32Array(4).fill(1))).toBe(false);
    w.dispose();
    expect(overwriteInPlace(w, new Float32Array(4).fill(1))).toBe(false);
    ints.dispose();
  });
});
