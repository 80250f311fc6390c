import { beforeAll, describe, expect, it } from 'vitest';
import { createScorer, ScorerError } from '../../attribution/index.ts';
import { tf, useTensorBackend } from '../../serving/index.ts';
import { formatScoring, runScoringBenchmark } from './scoring.ts';
import { tinySketchShape } from './sketchShapes.ts';

beforeAll(async () => {
  await useTensorBackend('wasm');
});

describe('the scoring benchmark', () => {
  it('uses the sketch width training uses: k = 1536 for a rank-8 c_attn adapter on tributary-tiny', () => {
    expect(tinySketchShape().spec.dims).toBe(3 * 8 * (32 + 32));
  });

  it('times every method against the matmul of its own shapes, and frees what it made', async () => {
    const before = tf.memory().numTensors;
    const report = await runScoringBenchmark({ cases: [{ shape: tinySketchShape(), n: 300, methods: ['grad-dot', 'tracin', 'trak', 'datainf'] }], m: 8, rounds: 2, checkpoints: 3 });
    expect(tf.memory().numTensors).toBe(before);
    expect(report.rows.map((r) => [r.method, r.n, r.checkpoints, r.pairs])).toEqual([
      ['grad-dot', 300, 1, 2400],
      ['tracin', 100, 3, 800],
      ['trak', 100, 3, 800],
      ['datainf', 300, 1, 2400],
    ]);
    for (const r of report.rows) {
      expect(r.error).toBeUndefined();
      expect(r.scorer.wallMs).toBeGreaterThan(0);
      expect(r.matmul.wallMs).toBeGreaterThan(0);
      expect(r.fraction).toBeCloseTo(r.matmul.wallMs / r.scorer.wallMs, 10);
      expect(r.scorerPairsPerSecond).toBeCloseTo((r.pairs / r.scorer.wallMs) * 1000, 6);
      expect(r.matmulGflops).toBeCloseTo((2 * 8 * 1536 * r.n) / r.matmul.wallMs / 1e6, 6);
    }
    const text = formatScoring(report);
    expect(text).toMatch(/target \(datainf, the default, ≥ 0\.5 of matmul\) at k 1536: /);
    expect(text.split('\n').filter((l) => l.startsWith('| tributary-tiny'))).toHaveLength(4);
  });

  it('reports a scorer that fails, and goes on with the next method', async () => {
    const report = await runScoringBenchmark({
      cases: [{ shape: tinySketchShape(), n: 64, methods: ['trak', 'grad-dot'] }],
      m: 4,
      rounds: 1,
      checkpoints: 1,
      scorer: (opts) => {
        if (opts.method === 'trak') throw new ScorerError('no trak today');
        return createScorer(opts);
      },
    });
    expect(report.rows[0]!.error).toBe('ScorerError: no trak today');
    expect(report.rows[1]!.error).toBeUndefined();
    expect(formatScoring(report)).toMatch(/\| trak \| 64 × 1 \| failed: ScorerError: no trak today/);
  });
});
