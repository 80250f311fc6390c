import { beforeAll, describe, expect, it } from 'vitest';
import { useTensorBackend } from '../backend.ts';
import { disposeModel } from '../gpt2.ts';
import { createLora, disposeLora, loraScale } from '../lora.ts';
import type { Gpt2Config } from '../modelConfig.ts';
import { tf } from '../tf.ts';
import type { TokenExample } from './format.ts';
import { perExampleGradients, perExampleGradientsLoop } from './perExampleGradients.ts';
import { seededRandom } from './shuffle.ts';
import { tinyModel } from './tinyModel.ts';

const TINY: Gpt2Config = { vocabSize: 29, nPositions: 24, nEmbd: 16, nLayer: 2, nHead: 2, layerNormEpsilon: 1e-5 };

/** ‖a − b‖ / ‖b‖. */
const relErr = (a: Float32Array, b: Float32Array) => {
  let d = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i]! - b[i]!) ** 2;
    n += b[i]! ** 2;
  }
  return Math.sqrt(d / n);
};

/** Random examples of different lengths whose masks cover a suffix, plus a few holes. */
function randomPairs(n: number, seed: number): TokenExample[] {
  const r = seededRandom(seed);
  return Array.from({ length: n }, () => {
    const len = 4 + Math.floor(r() * 14);
    const tokens = Array.from({ length: len }, () => Math.floor(r() * TINY.vocabSize));
    const start = Math.floor(r() * (len - 2));
    const lossMask = Array.from({ length: len - 1 }, (_, i) => (i >= start && r() > 0.2 ? 1 : 0));
    lossMask[len - 2] = 1;
    return { tokens, lossMask };
  });
}

describe('perExampleGradients', () => {
  beforeAll(async () => {
    await useTensorBackend('wasm');
  });

  it('batched, each example gets the gradient a backward pass of its own gives', () => {
    const model = tinyModel(TINY, 1);
    // Random B too, so that dA is not zero; three module shapes (16→48, 16→64, 16→16 and 64→16).
    const adapter = createLora(TINY, { r: 3, alpha: 6, targets: ['c_attn', 'c_fc', 'c_proj'], seed: 2, randomB: 0.2 });
    const pairs = randomPairs(7, 3);
    const before = tf.memory().numTensors;
    const fast = perExampleGradients({ model, adapter, pairs, batchSize: 3 });
    expect(tf.memory().numTensors).toBe(before);
    const slow = perExampleGradientsLoop({ model, adapter, pairs });
    expect(tf.memory().numTensors).toBe(before);
    expect([...fast.modules.keys()]).toEqual([...adapter.modules.keys()]);
    expect(fast.modules.size).toBe(8);
    expect(relErr(fast.losses, slow.losses)).toBeLessThan(1e-6);
    for (const [name, g] of fast.modules) {
      const ref = slow.modules.get(name)!;
      expect([g.dA.length, g.dB.length]).toEqual([7 * g.r * g.in, 7 * g.out * g.r]);
      expect(relErr(g.dA, ref.dA)).toBeLessThan(1e-5);
      expect(relErr(g.dB, ref.dB)).toBeLessThan(1e-5);
      // Per example too, not only overall.
      for (let n = 0; n < 7; n++) {
        const sa = g.r * g.in;
        expect(relErr(g.dA.subarray(n * sa, (n + 1) * sa), ref.dA.subarray(n * sa, (n + 1) * sa))).toBeLessThan(1e-5);
      }
    }
    // And differently batched, the same numbers.
    const one = perExampleGradients({ model, adapter, pairs, batchSize: 1 });
    for (const [name, g] of one.modules) expect(relErr(g.dB, fast.modules.get(name)!.dB)).toBeLessThan(1e-5);
    disposeLora(adapter);
    disposeModel(model);
  });

  it('masked tokens contribute nothing: an all-masked example has zero gradient, and masked tails can be anything', () => {
    const model = tinyModel(TINY, 4);
    const adapter = createLora(TINY, { r: 2, alpha: 4, targets: ['c_attn'], seed: 5, randomB: 0.2 });
    const pairs: TokenExample[] = [
      { tokens: [1, 2, 3, 4, 5, 6], lossMask: [0, 1, 1, 0, 0] }, // predicts 3 and 4 only
      { tokens: [1, 2, 3, 4, 27, 11], lossMask: [0, 1, 1, 0, 0] }, // a different masked tail
      { tokens: [1, 2, 3, 4], lossMask: [0, 1, 1] }, // the tail cut off
      { tokens: [7, 8, 9, 10], lossMask: [0, 0, 0] }, // nothing counts
    ];
    const g = perExampleGradients({ model, adapter, pairs, batchSize: 4 });
    expect(g.losses[3]).toBe(0);
    expect(Array.from(g.counts)).toEqual([2, 2, 2, 0]);
    for (const m of g.modules.values()) {
      const sa = m.r * m.in;
      const sb = m.out * m.r;
      const A = (n: number) => Array.from(m.dA.subarray(n * sa, (n + 1) * sa));
      const B = (n: number) => Array.from(m.dB.subarray(n * sb, (n + 1) * sb));
      expect(A(3).every((x) => x === 0) && B(3).every((x) => x === 0)).toBe(true);
      expect(A(1)).toEqual(A(0)); // bit-identical: the tail never reaches a counted prediction
      expect(B(1)).toEqual(B(0));
      expect(relErr(m.dA.subarray(2 * sa, 3 * sa), m.dA.subarray(0, sa))).toBeLessThan(1e-6);
      expect(relErr(m.dB.subarray(2 * sb, 3 * sb), m.dB.subarray(0, sb))).toBeLessThan(1e-6);
      expect(B(0).some((x) => x !== 0)).toBe(true);
    }
    disposeLora(adapter);
    disposeModel(model);
  });

  it('returns each layer’s inputs and output gradients, from which the LoRA gradients follow', () => {
    const model = tinyModel(TINY, 6);
    const adapter = createLora(TINY, { r: 2, alpha: 2, targets: ['h.1.attn.c_attn'], seed: 7, randomB: 0.2 });
    const pairs = randomPairs(3, 8);
    const g = perExampleGradients({ model, adapter, pairs, batchSize: 2, withActivations: true });
    const m = g.modules.get('h.1.attn.c_attn')!;
    const T = g.positions;
    expect(T).toBe(Math.max(...pairs.map((p) => p.tokens.length - 1)));
    expect(Array.from(g.lengths)).toEqual(pairs.map((p) => p.tokens.length - 1));
    expect([m.x!.length, m.delta!.length]).toEqual([3 * T * m.in, 3 * T * m.out]);
    const a = Array.from(adapter.modules.get('h.1.attn.c_attn')!.a.dataSync()); // Aᵀ, (in, r)
    const b = Array.from(adapter.modules.get('h.1.attn.c_attn')!.b.dataSync()); // Bᵀ, (r, out)
    const s = loraScale(adapter.config);
    for (let n = 0; n < 3; n++) {
      const len = g.lengths[n]!;
      const x = (t: number, i: number) => m.x![(n * T + t) * m.in + i]!;
      const d = (t: number, o: number) => m.delta![(n * T + t) * m.out + o]!;
      // Zero beyond the example's length.
      for (let t = len; t < T; t++) for (let i = 0; i < m.in; i++) expect(x(t, i)).toBe(0);
      // dB[o][k] = s Σ_t δ[t][o] (x[t]·Aᵀ)[k];  dA[k][i] = s Σ_t (δ[t]·B)[k] x[t][i]
      const dB = new Float64Array(m.out * m.r);
      const dA = new Float64Array(m.r * m.in);
      for (let t = 0; t < len; t++) {
        const xa = Array.from({ length: m.r }, (_, k) => Array.from({ length: m.in }, (_, i) => x(t, i) * a[i * m.r + k]!).reduce((p, q) => p + q, 0));
        const dBk = Array.from({ length: m.r }, (_, k) => Array.from({ length: m.out }, (_, o) => d(t, o) * b[k * m.out + o]!).reduce((p, q) => p + q, 0));
        for (let o = 0; o < m.out; o++) for (let k = 0; k < m.r; k++) dB[o * m.r + k]! += s * d(t, o) * xa[k]!;
        for (let k = 0; k < m.r; k++) for (let i = 0; i < m.in; i++) dA[k * m.in + i]! += s * dBk[k]! * x(t, i);
      }
      expect(relErr(m.dB.subarray(n * m.out * m.r, (n + 1) * m.out * m.r), Float32Array.from(dB))).toBeLessThan(1e-5);
      expect(relErr(m.dA.subarray(n * m.r * m.in, (n + 1) * m.r * m.in), Float32Array.from(dA))).toBeLessThan(1e-5);
    }
    disposeLora(adapter);
    disposeModel(model);
  });

  it('says when the adapter does not fit the model', () => {
    const model = tinyModel(TINY, 9);
    const other = createLora({ ...TINY, nLayer: 3 }, { r: 2, alpha: 2, targets: ['h.2.attn.c_attn'], seed: 1 });
    const before = tf.memory().numTensors;
    expect(() => perExampleGradients({ model, adapter: other, pairs: randomPairs(2, 1) })).toThrow(/module h.2.attn.c_attn is not a module of this model/);
    expect(tf.memory().numTensors).toBe(before);
    disposeLora(other);
    disposeModel(model);
  });
});
