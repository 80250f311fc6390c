import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTensorBackend } from '../../serving/index.ts';
import { evalConfig } from './evalConfig.ts';
import { RetrainError, runRetrainPool } from './retrainPool.ts';
import { EVAL_METHODS, halfSubsets, runEval } from './runEval.ts';
import { checkTargets } from './targets.ts';

const BASE = fileURLToPath(new URL('../../serving/models/tributary-tiny', import.meta.url));

beforeAll(async () => {
  await useTensorBackend('wasm');
});

describe('halfSubsets', () => {
  it('draws M sorted subsets of exactly ⌊n/2⌋ distinct rows, reproducibly', () => {
    const s = halfSubsets(11, 5, 3);
    expect(s).toEqual(halfSubsets(11, 5, 3));
    for (const sub of s) {
      expect(sub).toHaveLength(5);
      expect(new Set(sub).size).toBe(5);
      expect([...sub].sort((a, b) => a - b)).toEqual(sub);
    }
    expect(new Set(s.map((x) => x.join())).size).toBeGreaterThan(1);
  });
});

describe('runEval (quick)', () => {
  it('retrains subsets in child processes and reports every method on the same ground truth', { timeout: 300_000 }, async () => {
    const stages: string[] = [];
    let lastProgress = [0, 0];
    const config = { ...evalConfig(3, { quick: true }), subsets: 4 };
    const r = await runEval({ config, baseModelDir: BASE, workers: 2, onStage: (s) => stages.push(s), onProgress: (d, t) => (lastProgress = [d, t]) });
    expect(lastProgress).toEqual([8, 8]);
    expect(stages[0]).toMatch(/retraining 4 subsets × 2 seeds/);
    expect(r.methods.map((m) => m.method)).toEqual([...EVAL_METHODS]);
    expect(r.rows).toBe(6 * 6 + 2 * 5);
    expect(r.queries).toBe(12);
    // Training on the rows raised the queries' target log-probability.
    expect(r.fullLogProb).toBeGreaterThan(r.baseLogProb);
    for (const m of r.methods) {
      expect(m.lds).toBeGreaterThanOrEqual(-1);
      expect(m.lds).toBeLessThanOrEqual(1);
      expect(m.ldsInterval[0]).toBeLessThanOrEqual(m.lds);
      expect(m.ldsInterval[1]).toBeGreaterThanOrEqual(m.lds);
      expect(m.auc).toBeGreaterThanOrEqual(0);
      expect(m.auc).toBeLessThanOrEqual(1);
    }
    // The rule credits only the planted village's rows, all written by its planter.
    expect(r.methods.find((m) => m.method === 'same-entity rule')!.plantedRecall).toBe(1);
    expect(Number.isFinite(r.noiseCeiling.mean)).toBe(true);
    expect(checkTargets(r).map((t) => t.name)).toHaveLength(4);
  });

  it('fails with the worker’s error when a retraining process dies', { timeout: 60_000 }, async () => {
    const config = evalConfig(1, { quick: true });
    await expect(
      runRetrainPool({ baseModelDir: '/nonexistent/model', task: config.task, training: config.training, workers: 1, jobs: [{ subset: 0, seed: 1, rows: [0, 1] }] }),
    ).rejects.toThrow(RetrainError);
  });
});
