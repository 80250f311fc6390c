import { describe, expect, it } from 'vitest';
import type { ServingBenchmarkReport, ServingRun } from './benchmark.ts';
import { formatReport, summarize } from './report.ts';

// Only what summarize and formatReport read; the numbers are made up.
function run(adapters: number, alpha: number | null, scheduling: ServingRun['scheduling'], tokensPerSecond: number): ServingRun {
  return {
    scheduling,
    requests: 10,
    completed: 10,
    failed: 0,
    generatedTokens: 100,
    expectedTokens: 100,
    tensorsLeaked: 0,
    tokensPerSecond,
    tokensPerCpuSecond: tokensPerSecond / 2,
    seconds: 100 / tokensPerSecond,
    firstTokenMs: { p50: 10, p99: 20, max: 20 },
    latencyMs: { p50: 30, p99: 40, max: 40 },
    maxRssMiB: 300,
    engine: { steps: 10, decodeSteps: 10, prefills: 2, meanDecodeBatch: 8, baseMatmuls: 120, meanStepMs: 5 },
    cache: { host: { misses: adapters, evictions: 0 }, device: { misses: adapters, evictions: 0 } },
    workload: { adapters, alpha, requests: 10, newTokens: 100, promptTokens: 50, distinct: adapters, topShare: 1, arrivalSeconds: 0.1 },
    repeat: 0,
  } as unknown as ServingRun;
}

describe('summarize()', () => {
  it('gives both ratios against their targets, and the ceiling the baseline itself sets on mixed ÷ per-adapter', () => {
    const report = {
      runs: [run(1, null, 'mixed', 900), run(1, null, 'per-adapter', 1000), run(100, 1, 'mixed', 750), run(100, 1, 'per-adapter', 250), run(1000, 1, 'mixed', 720), run(1000, 1, 'per-adapter', 100)],
    } as unknown as ServingBenchmarkReport;
    const s = summarize(report);
    expect(s.scaling).toEqual([
      { alpha: 1, adapters: 100, ratio: 750 / 900, cpuRatio: 750 / 900, met: null },
      { alpha: 1, adapters: 1000, ratio: 0.8, cpuRatio: 0.8, met: true },
    ]);
    expect(s.overBaseline).toEqual([
      { adapters: 1, alpha: null, ratio: 0.9, cpuRatio: 0.9, met: null, ceiling: 1 },
      { adapters: 100, alpha: 1, ratio: 3, cpuRatio: 3, met: false, ceiling: 4 },
      { adapters: 1000, alpha: 1, ratio: 7.2, cpuRatio: 7.2, met: true, ceiling: 10 },
    ]);
    const text = formatReport(report, s);
    expect(text).toContain('mixed / per-adapter, 100 adapters, alpha 1: 3.00× (per CPU-s 3.00×)  (target ≥ 4: NOT met, 25% short); ceiling here 4.00× (the baseline with 1 adapter ÷ with 100)');
    expect(text).toContain('mixed, 1000 adapters / 1 adapter, alpha 1: 0.80× (per CPU-s 0.80×)  (target ≥ 0.8: met)');
  });
});
