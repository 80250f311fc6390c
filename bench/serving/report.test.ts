import { describe, expect, it } from 'vitest';
import type { ServingBenchmarkReport, ServingRun } from './benchmark.ts';
import { formatReport, summarize } from './report.ts';

// Only what summarize and formatReport read; the numbers are made up.
function run(adapters: number, alpha: number | null, scheduling: ServingRun['scheduling'], tokensPerSecond: number, repeat = 0): ServingRun {
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
    repeat,
  } as unknown as ServingRun;
}

describe('summarize()', () => {
  it('gives both ratios against their targets, and the ceiling the baseline itself sets on mixed ÷ per-adapter', () => {
    const report = {
      runs: [run(1, null, 'mixed', 900), run(1, null, 'per-adapter', 1000), run(100, 1, 'mixed', 750), run(100, 1, 'per-adapter', 250), run(1000, 1, 'mixed', 720), run(1000, 1, 'per-adapter', 100)],
    } as unknown as ServingBenchmarkReport;
    const s = summarize(report);
    expect(s.scaling).toEqual([
      { alpha: 1, adapters: 100, ratio: 750 / 900, cpuRatio: 750 / 900, met: null, rounds: null },
      { alpha: 1, adapters: 1000, ratio: 0.8, cpuRatio: 0.8, met: true, rounds: null },
    ]);
    expect(s.overBaseline).toEqual([
      { adapters: 1, alpha: null, ratio: 0.9, cpuRatio: 0.9, met: null, ceiling: 1, rounds: null },
      { adapters: 100, alpha: 1, ratio: 3, cpuRatio: 3, met: false, ceiling: 4, rounds: null },
      { adapters: 1000, alpha: 1, ratio: 7.2, cpuRatio: 7.2, met: true, ceiling: 10, rounds: null },
    ]);
    const text = formatReport(report, s);
    expect(text).toContain('mixed / per-adapter, 100 adapters, alpha 1: 3.00× (per CPU-s 3.00×)  (target ≥ 4: NOT met, 25% short); ceiling here 4.00× (the baseline with 1 adapter ÷ with 100)');
    expect(text).toContain('mixed, 1000 adapters / 1 adapter, alpha 1: 0.80× (per CPU-s 0.80×)  (target ≥ 0.8: met)');
  });

  it('with --repeat, gives each ratio of the medians and its range round by round, pairing the runs of one round', () => {
    // Round 1 ran on a slower machine than rounds 0 and 2: the ratio within each round stays 0.8, 0.75, 0.7.
    const report = {
      runs: [
        [1, null, 'mixed', [1000, 600, 1100]],
        [1000, 1, 'mixed', [800, 450, 770]],
      ].flatMap(([n, alpha, arm, rates]) => (rates as number[]).map((r, k) => run(n as number, alpha as number | null, arm as ServingRun['scheduling'], r, k))),
    } as unknown as ServingBenchmarkReport;
    const s = summarize(report);
    expect(s.scaling).toHaveLength(1);
    expect(s.scaling[0]!.ratio).toBeCloseTo(770 / 1000); // medians: 770 ÷ 1000
    expect(s.scaling[0]!.rounds).toEqual({ min: 0.7, max: 0.8, count: 3 });
    expect(formatReport(report, s)).toContain('mixed, 1000 adapters / 1 adapter, alpha 1: 0.77× (per CPU-s 0.77×; 0.70–0.80× round by round over 3 rounds)  (target ≥ 0.8: NOT met, 4% short)');
  });
});
