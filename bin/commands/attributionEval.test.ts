import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { EVAL_METHODS, type EvalReport } from '../../attribution/index.ts';
import { formatReport } from './attributionEval.ts';

const cli = (args: string[]) => spawnSync(process.execPath, ['bin/tributary.mjs', ...args], { encoding: 'utf8', env: { ...process.env }, timeout: 280_000 });

describe('tributary attribution eval', () => {
  it('--quick --json prints one object per method with the documented fields', { timeout: 300_000 }, () => {
    const r = cli(['attribution', 'eval', '--quick', '--subsets', '2', '--seeds', '4', '--workers', '1', '--json']);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    const rows = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(rows.map((x) => x.method)).toEqual([...EVAL_METHODS]);
    for (const row of rows) {
      expect(Object.keys(row).sort()).toEqual(['auc', 'lds', 'method', 'plantedRecall', 'seconds', 'seed']);
      expect(row.seed).toBe(4);
      expect(typeof row.lds).toBe('number');
      expect(row.seconds as number).toBeGreaterThanOrEqual(0);
    }
  });

  it('refuses a malformed seed list before doing any work', () => {
    const r = cli(['attribution', 'eval', '--seeds', '1,x']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('--seeds must be comma-separated non-negative integers, got "1,x"');
  });

  it('formats a report as a table with each target marked met or not met', () => {
    const method = (name: (typeof EVAL_METHODS)[number], lds: number, auc: number, planted: number) => ({ method: name, lds, ldsInterval: [lds - 0.1, lds + 0.1] as [number, number], auc, plantedRecall: planted, seconds: 1.5 });
    const report: EvalReport = {
      seed: 9, rows: 290, flippedRows: 58, queries: 50, plantedQueries: 10, subsets: 50, seedsPerSubset: 2,
      noiseCeiling: { mean: 0.6, low: 0.5, high: 0.7 }, baseLogProb: -19, fullLogProb: -2.5, fullAccuracy: 0.55, seconds: 600,
      methods: [method('random', 0, 0.5, 0.2), method('same-entity rule', 0.35, 0.5, 1), method('span matching', 0.2, 0.6, 0.9), method('combined', 0.4, 0.85, 1)],
    };
    const text = formatReport(report);
    expect(text).toContain('| combined (default) | 0.400 | 0.30 – 0.50 | 0.850 | 1.00 | 1.5 |');
    expect(text).toMatch(/ met +combined LDS: 0\.400/);
    expect(text).toMatch(/ met +combined LDS above every baseline: 0\.050/);
    expect(text).toMatch(/NOT MET +combined mislabeled AUC: 0\.850 \(≥ 0\.9\)/);
  });
});
