import { describe, expect, it } from 'vitest';
import { useTensorBackend } from './backend.ts';
import { tf } from './tf.ts';
import { wasmSimd } from './wasmSimd.ts';

/** A memory with seeded floats in it, and the functions on it. */
function setup() {
  const memory = new WebAssembly.Memory({ initial: 4 }); // 65,536 floats
  const h = new Float32Array(memory.buffer);
  for (let i = 0; i < 60_000; i++) h[i] = Math.sin(i * 1.3) * 1.5;
  return { simd: wasmSimd(memory)!, h };
}

describe('wasm SIMD loops', () => {
  it('loraRow computes scale · (x·A)·B for ranks of 4, 8 and 12 (two- and one-accumulator chunks)', () => {
    const { simd, h } = setup();
    const [X, A, B, Y, T] = [0, 1000, 5000, 20_000, 30_000];
    for (const [inW, r, out] of [
      [24, 12, 20],
      [96, 8, 288],
      [8, 4, 4],
    ] as const) {
      simd.loraRow(4 * X, inW, 4 * A, r, 4 * B, out, 0.5, 4 * Y, 4 * T);
      for (let o = 0; o < out; o++) {
        let want = 0;
        for (let j = 0; j < r; j++) {
          let t = 0;
          for (let i = 0; i < inW; i++) t += h[X + i]! * h[A + i * r + j]!;
          want += 0.5 * t * h[B + j * out + o]!;
        }
        expect(Math.abs(h[Y + o]! - want), `in ${inW}, r ${r}, out ${out}, column ${o}`).toBeLessThan(1e-4);
      }
    }
  });

  it('scores and weighted compute attention dot products and weighted sums', () => {
    const { simd, h } = setup();
    const [L, D, Q, K, P, V, Y] = [7, 16, 0, 400, 40_000, 800, 41_000];
    simd.scores(4 * Q, 4 * K, L, D, 0.25, 4 * P);
    for (let j = 0; j < L; j++) {
      let want = 0;
      for (let d = 0; d < D; d++) want += h[Q + d]! * h[K + j * D + d]!;
      expect(Math.abs(h[P + j]! - 0.25 * want)).toBeLessThan(1e-5);
    }
    simd.weighted(4 * P, 4 * V, L, D, 0.5, 4 * Y);
    for (let d = 0; d < D; d++) {
      let want = 0;
      for (let j = 0; j < L; j++) want += h[P + j]! * h[V + j * D + d]!;
      expect(Math.abs(h[Y + d]! - 0.5 * want)).toBeLessThan(1e-5);
    }
  });

  it("is made on tfjs-wasm's own memory, and not on a shared one or on something else", async () => {
    await useTensorBackend('wasm');
    const memory = (tf.backend() as unknown as { wasm: { asm: { memory: unknown } } }).wasm.asm.memory;
    expect(wasmSimd(memory)).toBeDefined();
    expect(wasmSimd(new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true }))).toBeUndefined();
    expect(wasmSimd(undefined)).toBeUndefined();
  });
});
