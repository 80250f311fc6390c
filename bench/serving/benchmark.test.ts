import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeRandomAdapters } from './adapters.ts';
import { armCommand, type ArmArgs } from './arm.ts';
import { runServingBenchmark, type ServingBenchmarkOptions } from './benchmark.ts';
import { formatReport, formatSetup, summarize } from './report.ts';
import { serveWorkload } from './serveWorkload.ts';
import { makeWorkload } from './workload.ts';

/** A small random model, adapters of rank 2 on c_attn, requests at a given rate (no calibration run). */
const TINY_RUN = {
  model: { kind: 'random', config: { vocabSize: 64, nPositions: 64, nEmbd: 16, nLayer: 1, nHead: 2, layerNormEpsilon: 1e-5 }, seed: 3 },
  alphas: [1],
  rate: 100,
  promptTokens: [2, 5],
  newTokens: [3, 6],
  adapterShape: { rank: 2, alpha: 4, targets: ['c_attn'] },
  maxBatch: 4,
} satisfies Omit<ServingBenchmarkOptions, 'adapters' | 'requests'>;

/** The tokens the workload asks for (every request generates exactly its max_tokens). */
const r0 = (report: { runs: { workload: { newTokens: number } }[] }): number => report.runs[0]!.workload.newTokens;

describe('armCommand()', () => {
  it('runs arms/serve.ts through tsx, or the bundle TRIBUTARY_BENCH_ARM names with plain node', () => {
    expect(armCommand('/tmp/run-1.json', {})).toEqual(['--import', 'tsx', expect.stringMatching(/bench\/serving\/arms\/serve\.ts$/), '/tmp/run-1.json']);
    expect(armCommand('/tmp/run-1.json', { TRIBUTARY_BENCH_ARM: '/opt/bench/serve.mjs' })).toEqual(['/opt/bench/serve.mjs', '/tmp/run-1.json']);
  });
});

describe('runServingBenchmark()', () => {
  it('serves a tiny workload with both arms, each in its own process: every request completes with exactly its tokens', async () => {
    // 3 adapters from disk, 8 requests.
    const report = await runServingBenchmark({ ...TINY_RUN, adapters: [3], requests: 8 });
    expect(report.calibration).toBeNull();
    expect(report.adapterBytes).toBe((16 * 2 + 2 * 48) * 4); // one c_attn: A (16 × 2) and B (2 × 48), float32
    expect(report.runs.map((r) => [r.scheduling, r.workload.adapters, r.workload.alpha, r.requests, r.completed, r.failed])).toEqual([
      ['mixed', 3, 1, 8, 8, 0],
      ['per-adapter', 3, 1, 8, 8, 0],
    ]);
    const [mixed, base] = report.runs as [(typeof report.runs)[0], (typeof report.runs)[0]];
    const asked = mixed.workload.newTokens;
    for (const r of report.runs) {
      expect(r.generatedTokens).toBe(asked);
      expect(r.expectedTokens).toBe(asked);
      expect(r.tensorsLeaked).toBe(0);
      expect(r.tokensPerSecond).toBeGreaterThan(0);
      expect(r.firstTokenMs.p50).toBeGreaterThan(0);
      expect(r.firstTokenMs.p99).toBeGreaterThanOrEqual(r.firstTokenMs.p50);
      expect(r.latencyMs.p50).toBeGreaterThanOrEqual(r.firstTokenMs.p50);
      expect(r.maxRssMiB).toBeGreaterThan(0);
      expect(r.engine.meanDecodeBatch).toBeGreaterThan(0);
      // Every adapter the workload asks for is read from disk once (the host budget holds them all),
      // in the adapter loader's worker thread (the warm-up's reads count too).
      expect(r.cache.host.misses).toBe(r.workload.distinct);
      expect(r.loader).toMatchObject({ onMainThread: 0, pending: 0 });
      expect(r.loader!.inWorker).toBeGreaterThanOrEqual(r.workload.distinct);
    }
    // Mixed uploads each adapter once; the baseline merges them into models instead.
    expect(mixed.cache.device.misses).toBe(mixed.workload.distinct);
    expect(base.cache.device.misses).toBeGreaterThanOrEqual(base.workload.distinct);

    const summary = summarize(report);
    expect(summary.problems).toEqual([]);
    expect(summary.overBaseline).toEqual([{ adapters: 3, alpha: 1, ratio: mixed.tokensPerSecond / base.tokensPerSecond, cpuRatio: mixed.tokensPerCpuSecond / base.tokensPerCpuSecond, met: null, ceiling: null, rounds: null }]);
    const table = formatReport(report, summary);
    expect(table).toContain('| per-adapter (baseline) |');
    expect(table).toContain('(the scaling target applies to 1000 adapters, which this run did not include)');
  }, 90_000);

  it('runs every arm on the tensor backend it is given (cpu here: the tf ops path, which webgpu takes too)', async () => {
    const report = await runServingBenchmark({ ...TINY_RUN, adapters: [2], requests: 6, backend: 'cpu' });
    expect(report.backend).toBe('cpu');
    expect(report.runs.map((r) => [r.scheduling, r.backend, r.completed, r.generatedTokens, r.tensorsLeaked])).toEqual([
      ['mixed', 'cpu', 6, r0(report), 0],
      ['per-adapter', 'cpu', 6, r0(report), 0],
    ]);
    expect(formatSetup(report)).toContain('; tensor backend cpu');
  }, 90_000);

  it('--warm-host reads the workload\'s adapters into the host tier before the clock, and refuses a host budget that cannot hold them', async () => {
    const config = { vocabSize: 64, nPositions: 64, nEmbd: 16, nLayer: 1, nHead: 2, layerNormEpsilon: 1e-5 };
    const dir = mkdtempSync(path.join(tmpdir(), 'tributary-warm-host-'));
    try {
      const written = await writeRandomAdapters(dir, 6, config, { rank: 2, alpha: 4, targets: ['c_attn'] }, 1);
      const requests = makeWorkload({ requests: 12, rate: 200, adapters: 6, alpha: 0.3, promptTokens: [2, 4], newTokens: [2, 4], vocabulary: 64, seed: 2 });
      const distinct = new Set(requests.map((r) => r.adapter)).size;
      const args: ArmArgs = {
        scheduling: 'mixed',
        model: { kind: 'random', config, seed: 3 },
        adaptersDir: dir,
        adapterCount: 6,
        hostBudgetBytes: 6 * written.bytesEach,
        deviceBudgetBytes: 2 * written.bytesEach,
        maxBatch: 2,
        requests,
        warmup: false,
        warmHost: true,
      };
      const r = await serveWorkload(args);
      expect(r.completed).toBe(12);
      expect(r.warmHostAdapters).toBe(distinct);
      expect(r.cache.host.misses).toBe(distinct); // each read once, all before the clock
      await expect(serveWorkload({ ...args, hostBudgetBytes: written.bytesEach })).rejects.toThrow(new RegExp(`holds 1 of the workload's ${distinct} adapters; raise --host-fraction`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
