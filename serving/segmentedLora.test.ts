import { beforeAll, describe, expect, it } from 'vitest';
import { useTensorBackend } from './backend.ts';
import { hasSegmentedLora, segmentedLora, type LoraPiece } from './segmentedLora.ts';
import { tf, type Tensor2D } from './tf.ts';
import { overwriteInPlace } from './wasmOverwrite.ts';
import { maxDiff } from './testing/maxDiff.ts';

/** The same term with plain tf ops, row by row: scale · (x[n]·A)·B, zeros for −1. */
function reference(x: Tensor2D, pieces: LoraPiece[], rows: Int32Array, out: number): Float32Array {
  return tf.tidy(() => {
    const parts = Array.from(rows, (k, n) => {
      const xn = tf.slice(x, [n, 0], [1, -1]);
      return k < 0 ? tf.zeros([1, out]) : tf.mul(tf.matMul(tf.matMul(xn, pieces[k]!.a), pieces[k]!.b), pieces[k]!.scale);
    });
    return tf.concat(parts, 0).dataSync() as Float32Array;
  });
}

describe('segmented LoRA kernel', () => {
  beforeAll(async () => {
    await useTensorBackend('wasm');
  });

  it('gives every row its own adapter term, as plain tf ops do, for ranks of every remainder, rows without one, and any row order', () => {
    expect(hasSegmentedLora()).toBe(true);
    const [inW, out] = [24, 36];
    const ranks = [8, 4, 2, 12, 16, 1]; // the kernel takes rank columns 8 and 4 at a time, then one by one
    const pieces: LoraPiece[] = ranks.map((r, k) => ({
      a: tf.randomNormal([inW, r], 0, 1, 'float32', 10 + k) as Tensor2D,
      b: tf.randomNormal([r, out], 0, 1, 'float32', 20 + k) as Tensor2D,
      scale: 0.5 + k,
    }));
    const rows = Int32Array.from([0, 3, -1, 1, 5, 2, 4, 3, 0, -1, 5]);
    const x = tf.randomNormal([rows.length, inW], 0, 1, 'float32', 7) as Tensor2D;
    const before = tf.memory().numTensors;
    const got = segmentedLora(x, pieces, rows, out);
    expect(got.shape).toEqual([rows.length, out]);
    expect(tf.memory().numTensors).toBe(before + 1);
    const want = reference(x, pieces, rows, out);
    expect(maxDiff(got.dataSync(), want)).toBeLessThan(1e-4);
    // Rows without an adapter are exactly zero.
    expect(Array.from(got.dataSync().subarray(2 * out, 3 * out)).every((v) => v === 0)).toBe(true);
    got.dispose();
    tf.dispose([x, ...pieces.flatMap((p) => [p.a, p.b])]);
  });

  it('refuses pieces that do not fit the module and row indices outside the pieces', () => {
    const x = tf.zeros([2, 4]) as Tensor2D;
    const ok: LoraPiece = { a: tf.zeros([4, 2]) as Tensor2D, b: tf.zeros([2, 3]) as Tensor2D, scale: 1 };
    const wide: LoraPiece = { a: tf.zeros([5, 2]) as Tensor2D, b: tf.zeros([2, 3]) as Tensor2D, scale: 1 };
    expect(() => segmentedLora(x, [ok, wide], Int32Array.from([0, 1]), 3)).toThrow(/piece 1 is \[5, 2\]·\[2, 3\], the module maps 4 → 3/);
    expect(() => segmentedLora(x, [ok], Int32Array.from([0, 1]), 3)).toThrow(/row index 1 is not in \[-1, 1\)/);
    expect(() => segmentedLora(x, [ok], Int32Array.from([0]), 3)).toThrow(/1 row indices for 2 rows/);
    // The pieces are read where they sit, so a freed one must be refused, not read.
    const freed: LoraPiece = { a: tf.zeros([4, 2]) as Tensor2D, b: tf.zeros([2, 3]) as Tensor2D, scale: 1 };
    freed.b.dispose();
    expect(() => segmentedLora(x, [ok, freed], Int32Array.from([0, 1]), 3)).toThrow(/piece 1's B is disposed/);
    // Also one the kernel has already read (and located) once.
    const later: LoraPiece = { a: tf.zeros([4, 2]) as Tensor2D, b: tf.zeros([2, 3]) as Tensor2D, scale: 1 };
    segmentedLora(x, [later], Int32Array.from([0, 0]), 3).dispose();
    later.a.dispose();
    expect(() => segmentedLora(x, [later], Int32Array.from([0, 0]), 3)).toThrow(/piece 0's A is disposed/);
    const skew: LoraPiece = { a: tf.zeros([4, 2]) as Tensor2D, b: tf.zeros([3, 3]) as Tensor2D, scale: 1 };
    expect(() => segmentedLora(x, [skew], Int32Array.from([0, 0]), 3)).toThrow(/piece 0 is \[4, 2\]·\[3, 3\]: A's rank is not B's/);
    tf.dispose([x, ok.a, ok.b, wide.a, wide.b, freed.a, later.b, skew.a, skew.b]);
  });

  it('reads a piece where it sits on every call: weights rewritten in place between calls are the ones used', () => {
    const [inW, r, out] = [8, 4, 12];
    const piece: LoraPiece = { a: tf.randomNormal([inW, r], 0, 1, 'float32', 1) as Tensor2D, b: tf.randomNormal([r, out], 0, 1, 'float32', 2) as Tensor2D, scale: 2 };
    const x = tf.randomNormal([3, inW], 0, 1, 'float32', 3) as Tensor2D;
    const rows = Int32Array.from([0, -1, 0]);
    const first = segmentedLora(x, [piece], rows, out);
    expect(maxDiff(first.dataSync(), reference(x, [piece], rows, out))).toBeLessThan(1e-4);
    const fresh = tf.randomNormal([inW, r], 0, 1, 'float32', 4) as Tensor2D;
    expect(overwriteInPlace(piece.a, fresh.dataSync() as Float32Array)).toBe(true);
    const second = segmentedLora(x, [piece], rows, out);
    const want = reference(x, [{ ...piece, a: fresh }], rows, out);
    expect(maxDiff(second.dataSync(), want)).toBeLessThan(1e-4);
    expect(maxDiff(second.dataSync(), first.dataSync())).toBeGreaterThan(1e-2);
    // A copy of the piece with other tensors reads those, not where the first piece's were.
    const other: LoraPiece = { ...piece, b: tf.randomNormal([r, out], 0, 1, 'float32', 5) as Tensor2D };
    const third = segmentedLora(x, [other], rows, out);
    expect(maxDiff(third.dataSync(), reference(x, [other], rows, out))).toBeLessThan(1e-4);
    tf.dispose([first, second, third, fresh, x, piece.a, piece.b, other.b]);
  });
});
