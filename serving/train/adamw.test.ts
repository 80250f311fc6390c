import { beforeAll, describe, expect, it } from 'vitest';
import { useTensorBackend } from '../backend.ts';
import { tf, type Variable } from '../tf.ts';
import { createAdamW } from './adamw.ts';

/** AdamW written out by hand in float64 for one parameter vector. */
function handAdamW(p0: number[], grads: number[][], o: { lr: number; b1: number; b2: number; eps: number; wd: number; clip?: number }): number[] {
  let p = [...p0];
  let m = p.map(() => 0);
  let v = p.map(() => 0);
  grads.forEach((g0, i) => {
    const t = i + 1;
    const norm = Math.sqrt(g0.reduce((s, x) => s + x * x, 0));
    const c = o.clip === undefined ? 1 : Math.min(1, o.clip / (norm + 1e-6));
    const g = g0.map((x) => x * c);
    m = m.map((mi, j) => o.b1 * mi + (1 - o.b1) * g[j]!);
    v = v.map((vi, j) => o.b2 * vi + (1 - o.b2) * g[j]! ** 2);
    p = p.map((pi, j) => pi - o.lr * (m[j]! / (1 - o.b1 ** t) / (Math.sqrt(v[j]! / (1 - o.b2 ** t)) + o.eps) + o.wd * pi));
  });
  return p;
}

describe('AdamW', () => {
  beforeAll(async () => {
    await useTensorBackend('wasm');
  });

  it('matches a hand-computed two-step update of a scalar (bias correction, decoupled decay)', () => {
    const p = tf.variable(tf.scalar(1));
    const opt = createAdamW(new Map<string, Variable>([['p', p]]), { weightDecay: 0.1 });
    const g1 = tf.scalar(0.5);
    opt.step({ p: g1 }, 0.1);
    // Step 1: m̂ = g, v̂ = g², so the Adam step is 1 (less ε); decay adds 0.1·p: p = 1 − 0.1·(1 + 0.1) = 0.89.
    expect(p.dataSync()[0]).toBeCloseTo(0.89, 6);
    const g2 = tf.scalar(-0.3);
    opt.step({ p: g2 }, 0.1);
    // Step 2 by hand: m = 0.015, v = 0.00033975, m̂ = 0.015/0.19, v̂ = 0.00033975/0.001999.
    const mHat = 0.015 / 0.19;
    const vHat = 0.00033975 / 0.001999;
    const want = 0.89 - 0.1 * (mHat / (Math.sqrt(vHat) + 1e-8) + 0.1 * 0.89);
    expect(want).toBeCloseTo(0.861950, 5);
    expect(p.dataSync()[0]).toBeCloseTo(want, 6);
    // (The hand value rounds step 1 to 0.89; ε moves it by 2e-9.)
    expect(handAdamW([1], [[0.5], [-0.3]], { lr: 0.1, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.1 })[0]).toBeCloseTo(want, 8);
    expect(opt.steps).toBe(2);
    opt.dispose();
    tf.dispose([p, g1, g2]);
  });

  it('clips the global norm over all parameters before the moments see the gradient', () => {
    const a = tf.variable(tf.tensor1d([1, -2]));
    const b = tf.variable(tf.tensor1d([0.5]));
    const opt = createAdamW(new Map<string, Variable>([['a', a], ['b', b]]), { beta1: 0.8, beta2: 0.99, weightDecay: 0.01, clipNorm: 1 });
    const grads = [
      [3, 4, 12], // norm 13: clipped to 1
      [0.3, 0, -0.4], // norm 0.5: left alone
    ];
    const norms: number[] = [];
    for (const g of grads) {
      const ga = tf.tensor1d(g.slice(0, 2));
      const gb = tf.tensor1d(g.slice(2));
      norms.push(opt.step({ a: ga, b: gb }, 0.05).gradNorm);
      tf.dispose([ga, gb]);
    }
    expect(norms[0]).toBeCloseTo(13, 5);
    expect(norms[1]).toBeCloseTo(0.5, 6);
    const want = handAdamW([1, -2, 0.5], grads, { lr: 0.05, b1: 0.8, b2: 0.99, eps: 1e-8, wd: 0.01, clip: 1 });
    const got = [...a.dataSync(), ...b.dataSync()];
    got.forEach((x, i) => expect(x).toBeCloseTo(want[i]!, 6));
    // Without clipping the second step would differ: the clipped first gradient left smaller moments.
    const unclipped = handAdamW([1, -2, 0.5], grads, { lr: 0.05, b1: 0.8, b2: 0.99, eps: 1e-8, wd: 0.01 });
    expect(Math.abs(unclipped[0]! - want[0]!)).toBeGreaterThan(1e-3);
    opt.dispose();
    tf.dispose([a, b]);
  });

  it('allocates nothing that outlives a step', () => {
    const p = tf.variable(tf.ones([4, 3]));
    const opt = createAdamW(new Map<string, Variable>([['p', p]]), { weightDecay: 0.1, clipNorm: 1 });
    const g = tf.fill([4, 3], 0.25);
    opt.step({ p: g }, 0.01);
    const after1 = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) opt.step({ p: g }, 0.01);
    expect(tf.memory().numTensors).toBe(after1);
    opt.dispose();
    tf.dispose([p, g]);
  });

  it('refuses bad settings and a missing gradient, naming them', () => {
    const p = tf.variable(tf.scalar(1));
    expect(() => createAdamW(new Map([['p', p]]), { beta1: 1 })).toThrow(/beta1 must be in \[0, 1\), got 1/);
    expect(() => createAdamW(new Map([['p', p]]), { clipNorm: 0 })).toThrow(/clipNorm must be positive, got 0/);
    const opt = createAdamW(new Map([['p', p]]));
    expect(() => opt.step({}, 0.1)).toThrow(/no gradient for parameter p/);
    opt.dispose();
    p.dispose();
  });
});
