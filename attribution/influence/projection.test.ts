import { beforeAll, describe, expect, it } from 'vitest';
import { createLora, disposeLora, disposeModel, initModel, perExampleGradients, tf, useTensorBackend, type Gpt2Config, type PerExampleGradients } from '../../serving/index.ts';
import { createRandom } from '../eval/random.ts';
import { createProjection, sketchSpec, SketchSpecError } from './projection.ts';
import { sketchExamples, sketchExamplesAsync } from './sketch.ts';

const TINY: Gpt2Config = { vocabSize: 29, nPositions: 24, nEmbd: 16, nLayer: 2, nHead: 2, layerNormEpsilon: 1e-5 };

beforeAll(async () => {
  await useTensorBackend('wasm');
});

/** Random gradients for an adapter's module shapes (N examples). */
function randomGrads(spec: ReturnType<typeof sketchSpec>, N: number, seed: number): PerExampleGradients {
  const r = createRandom(seed);
  const fill = (len: number) => Float32Array.from({ length: len }, () => r.next() * 2 - 1);
  return {
    losses: new Float32Array(N),
    counts: new Int32Array(N),
    positions: 0,
    lengths: new Int32Array(N),
    modules: new Map(spec.modules.map((m) => [m.name, { in: m.in, r: m.r, out: m.out, dA: fill(N * m.r * m.in), dB: fill(N * m.out * m.r) }])),
  };
}

const adapterFor = (r: number, targets: string[]) => createLora(TINY, { r, alpha: 2 * r, targets, seed: 1, randomB: 0.1 });

describe('sketchSpec and createProjection', () => {
  it('keeps a side exact when it is no wider than the projection, in a documented layout', () => {
    const adapter = adapterFor(2, ['c_attn']);
    const spec = sketchSpec(adapter, { seed: 1, width: 1000 });
    expect(spec.modules.map((m) => [m.name, m.kIn, m.kOut, m.offset, m.size])).toEqual([
      ['h.0.attn.c_attn', 16, 48, 0, 2 * (16 + 48)],
      ['h.1.attn.c_attn', 16, 48, 128, 128],
    ]);
    const grads = randomGrads(spec, 3, 5);
    const p = createProjection(spec);
    const sk = p.project(grads);
    p.dispose();
    // Example 1, module 0: dA as is (r × in), then dB transposed (r × out).
    const g = grads.modules.get('h.0.attn.c_attn')!;
    const row = sk.subarray(spec.dims, 2 * spec.dims);
    expect(Array.from(row.subarray(0, 32))).toEqual(Array.from(g.dA.subarray(32, 64)));
    for (let o = 0; o < 48; o++) for (let k = 0; k < 2; k++) expect(row[32 + k * 48 + o]).toBe(g.dB[96 + o * 2 + k]);
    disposeLora(adapter);
  });

  it('projected sketches keep inner products between gradients (seeded, reproducible)', () => {
    const adapter = adapterFor(4, ['c_attn', 'c_proj']);
    const exact = sketchSpec(adapter, { seed: 1, width: 1000 });
    const spec = sketchSpec(adapter, { seed: 7, width: 12 });
    expect(spec.dims).toBeLessThan(exact.dims / 2);
    const grads = randomGrads(spec, 12, 9);
    // Correlated pairs: example 2j+1 = example 2j + noise, so inner products vary widely.
    for (const g of grads.modules.values()) {
      for (const arr of [g.dA, g.dB]) {
        const w = arr.length / 12;
        for (let j = 0; j < 6; j++) for (let d = 0; d < w; d++) arr[(2 * j + 1) * w + d] = arr[2 * j * w + d]! + 0.5 * arr[(2 * j + 1) * w + d]!;
      }
    }
    const pe = createProjection(exact);
    const full = pe.project(grads);
    pe.dispose();
    const pp = createProjection(spec);
    const a = pp.project(grads);
    const b = pp.project(grads);
    pp.dispose();
    expect(Array.from(a)).toEqual(Array.from(b));
    const ip = (x: Float32Array, d: number, i: number, j: number) => {
      let s = 0;
      for (let k = 0; k < d; k++) s += x[i * d + k]! * x[j * d + k]!;
      return s;
    };
    const xs: number[] = [];
    const ys: number[] = [];
    for (let i = 0; i < 12; i++) for (let j = i; j < 12; j++) {
      xs.push(ip(full, exact.dims, i, j));
      ys.push(ip(a, spec.dims, i, j));
    }
    const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
    const mx = mean(xs);
    const my = mean(ys);
    let sxy = 0;
    let sxx = 0;
    let syy = 0;
    xs.forEach((x, k) => {
      sxy += (x - mx) * (ys[k]! - my);
      sxx += (x - mx) ** 2;
      syy += (ys[k]! - my) ** 2;
    });
    expect(sxy / Math.sqrt(sxx * syy)).toBeGreaterThan(0.95);
    disposeLora(adapter);
  });

  it('refuses gradients of another adapter and bad options', () => {
    const adapter = adapterFor(2, ['c_attn']);
    expect(() => sketchSpec(adapter, { seed: -1 })).toThrow(SketchSpecError);
    expect(() => sketchSpec(adapter, { seed: 1, width: 0 })).toThrow(/width must be a positive integer, got 0/);
    const spec = sketchSpec(adapter, { seed: 1 });
    const other = sketchSpec(adapterFor(4, ['c_attn']), { seed: 1 });
    const p = createProjection(spec);
    expect(() => p.project(randomGrads(other, 2, 1))).toThrow(/rank 4 in the gradients/);
    p.dispose();
    disposeLora(adapter);
  });

  it('sketchExamples projects each example’s own gradient, a chunk at a time, read synchronously or not', async () => {
    const model = initModel(TINY, 3);
    const adapter = adapterFor(2, ['c_attn']);
    const r = createRandom(4);
    const examples = Array.from({ length: 5 }, () => {
      const len = 4 + r.int(6);
      return { tokens: Array.from({ length: len }, () => r.int(TINY.vocabSize)), lossMask: Array.from({ length: len - 1 }, () => 1) };
    });
    const spec = sketchSpec(adapter, { seed: 2, width: 8 });
    const p = createProjection(spec);
    const before = tf.memory().numTensors;
    const progress: number[] = [];
    const sk = sketchExamples({ model, adapter, projection: p, examples, batchSize: 2, onProgress: (d) => progress.push(d) });
    expect(tf.memory().numTensors).toBe(before);
    const later = await sketchExamplesAsync({ model, adapter, projection: p, examples, batchSize: 3 });
    expect(tf.memory().numTensors).toBe(before);
    const whole = p.project(perExampleGradients({ model, adapter, pairs: examples, batchSize: 5 }));
    p.dispose();
    expect(progress).toEqual([2, 4, 5]);
    expect(sk.rows).toBe(5);
    sk.values.forEach((v, i) => expect(v).toBeCloseTo(whole[i]!, 4));
    later.values.forEach((v, i) => expect(v).toBeCloseTo(whole[i]!, 4));
    later.losses.forEach((l, i) => expect(l).toBeCloseTo(sk.losses[i]!, 5));
    expect([...later.counts]).toEqual([...sk.counts]);
    expect(sk.losses.every((l) => l > 0)).toBe(true);
    disposeLora(adapter);
    disposeModel(model);
  });
});
