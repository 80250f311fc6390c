import { beforeAll, describe, expect, it } from 'vitest';
import { tf, useTensorBackend } from '../../serving/index.ts';
import { createRandom } from '../eval/random.ts';
import type { SketchSpec } from './projection.ts';
import { createScorer, createScorerAsync, ScorerError, type InfluenceMethod } from './scorers.ts';

beforeAll(async () => {
  await useTensorBackend('wasm');
});

// Two modules of sizes 3 and 4: a 7-dim sketch.
const spec: SketchSpec = {
  seed: 0,
  dims: 7,
  modules: [
    { name: 'a', in: 3, r: 1, out: 3, kIn: 3, kOut: 3, offset: 0, size: 3 },
    { name: 'b', in: 2, r: 2, out: 2, kIn: 1, kOut: 1, offset: 3, size: 4 },
  ],
};

const rand = (seed: number, len: number) => {
  const r = createRandom(seed);
  return Float32Array.from({ length: len }, () => r.next() * 2 - 1);
};
const dot = (x: Float32Array, i: number, y: Float32Array, j: number, from = 0, to = spec.dims) => {
  let s = 0;
  for (let d = from; d < to; d++) s += x[i * spec.dims + d]! * y[j * spec.dims + d]!;
  return s;
};

/** Solves (A + λI)x = b by Gaussian elimination: an independent reference for TRAK. */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r;
    [M[c], M[p]] = [M[p]!, M[c]!];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r]![c]! / M[c]![c]!;
      for (let k = c; k <= n; k++) M[r]![k]! -= f * M[c]![k]!;
    }
  }
  return M.map((row, i) => row[n]! / row[i]!);
}

function reference(method: InfluenceMethod, train: Float32Array[], queries: Float32Array[], lrs: number[], n: number, m: number): number[] {
  const k = spec.dims;
  const out: number[] = [];
  for (let q = 0; q < m; q++) {
    for (let i = 0; i < n; i++) {
      const last = train.length - 1;
      if (method === 'grad-dot') out.push(dot(queries[0]!, q, train[last]!, i));
      else if (method === 'tracin') out.push(train.reduce((s, t, c) => s + lrs[c]! * dot(queries[c]!, q, t, i), 0));
      else if (method === 'trak') {
        let s = 0;
        train.forEach((phi, c) => {
          const F: number[][] = Array.from({ length: k }, (_, a) => Array.from({ length: k }, (_, b) => {
            let v = 0;
            for (let j = 0; j < n; j++) v += phi[j * k + a]! * phi[j * k + b]!;
            return v;
          }));
          let trace = 0;
          for (let a = 0; a < k; a++) trace += F[a]![a]!;
          const lambda = (0.1 * trace) / Math.min(n, k);
          for (let a = 0; a < k; a++) F[a]![a]! += lambda;
          const x = solve(F, Array.from({ length: k }, (_, d) => phi[i * k + d]!));
          for (let d = 0; d < k; d++) s += queries[c]![q * k + d]! * x[d]!;
        });
        out.push(s);
      } else {
        const phi = train[0]!;
        let s = 0;
        for (const mod of spec.modules) {
          const a = mod.offset;
          const b = mod.offset + mod.size;
          const norms = Array.from({ length: n }, (_, j) => dot(phi, j, phi, j, a, b));
          const lambda = (0.1 * norms.reduce((x, y) => x + y, 0)) / n;
          let v = dot(queries[0]!, q, phi, i, a, b) / lambda;
          for (let j = 0; j < n; j++) v -= (dot(queries[0]!, q, phi, j, a, b) * dot(phi, j, phi, i, a, b)) / (lambda + norms[j]!) / (n * lambda);
          s += v;
        }
        out.push(s);
      }
    }
  }
  return out;
}

describe('createScorer', () => {
  const lrs = [0.003, 0.002, 0.0005];
  for (const n of [4, 11]) {
    // n = 4 < 7 dims takes TRAK's dual (n × n) path, n = 11 the primal (k × k) one.
    for (const method of ['grad-dot', 'tracin', 'trak', 'datainf'] as const) {
      it(`${method} equals the per-pair formula (${n} training examples)`, () => {
        const m = 3;
        const trainSk = lrs.map((_, c) => rand(10 + c + n, n * spec.dims));
        const querySk = lrs.map((_, c) => rand(20 + c + n, m * spec.dims));
        const scorer = createScorer({ method, spec, n, checkpoints: trainSk.map((values, c) => ({ step: c + 1, learningRate: lrs[c]!, values })) });
        const given = scorer.checkpointsUsed.map((c) => querySk[c]!);
        const got = scorer.score(given, m);
        const used = scorer.checkpointsUsed.map((c) => trainSk[c]!);
        const want = reference(method, used, given, scorer.checkpointsUsed.map((c) => lrs[c]!), n, m);
        scorer.dispose();
        expect(got.length).toBe(m * n);
        want.forEach((w, j) => expect(got[j]).toBeCloseTo(w, Math.abs(w) > 10 ? 2 : 4));
      });
    }
  }

  it('refuses sketches of the wrong size and unknown methods', () => {
    const values = rand(1, 3 * spec.dims);
    expect(() => createScorer({ method: 'grad-dot', spec, n: 4, checkpoints: [{ step: 1, learningRate: 1, values }] })).toThrow(/expected 4 examples × 7 dims/);
    expect(() => createScorer({ method: 'nope' as InfluenceMethod, spec, n: 3, checkpoints: [{ step: 1, learningRate: 1, values }] })).toThrow(ScorerError);
    const scorer = createScorer({ method: 'tracin', spec, n: 3, checkpoints: [{ step: 1, learningRate: 1, values }, { step: 2, learningRate: 1, values }] });
    expect(() => scorer.score([rand(2, spec.dims)], 1)).toThrow(/needs query sketches at 2 checkpoint/);
    scorer.dispose();
  });
});

describe('selfInfluence', () => {
  it('is the diagonal of scoring the training sketches against themselves, for every method', () => {
    const n = 300; // more than one chunk of 256
    const values = rand(77, n * spec.dims);
    const values2 = rand(78, n * spec.dims);
    for (const method of ['grad-dot', 'tracin', 'trak', 'datainf'] as const) {
      const scorer = createScorer({ method, spec, n, checkpoints: [{ step: 1, learningRate: 0.5, values }, { step: 2, learningRate: 0.25, values: values2 }] });
      const self = scorer.selfInfluence();
      const own = scorer.checkpointsUsed.map((c) => [values, values2][c]!);
      const full = scorer.score(own, n);
      scorer.dispose();
      for (const i of [0, 1, 255, 256, 299]) expect(self[i]).toBeCloseTo(full[i * n + i]!, 3);
    }
  });
});

describe('createScorerAsync and scoreAsync', () => {
  it('give the same scores as the synchronous path, for every method, and free every tensor on dispose', async () => {
    const n = 5;
    const m = 2;
    const checkpoints = [0.5, 0.25].map((learningRate, c) => ({ step: c + 1, learningRate, values: rand(90 + c, n * spec.dims) }));
    const queries = [rand(95, m * spec.dims), rand(96, m * spec.dims)];
    const before = tf.memory().numTensors;
    for (const method of ['grad-dot', 'tracin', 'trak', 'datainf'] as const) {
      const sync = createScorer({ method, spec, n, checkpoints });
      const async = await createScorerAsync({ method, spec, n, checkpoints });
      const given = sync.checkpointsUsed.map((c) => queries[c]!);
      const want = Array.from(sync.score(given, m));
      expect(Array.from(await sync.scoreAsync(given, m))).toEqual(want);
      expect(Array.from(await async.scoreAsync(given, m))).toEqual(want);
      sync.dispose();
      async.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
