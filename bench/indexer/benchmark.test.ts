import { describe, expect, it } from 'vitest';
import { runBenchmark } from './benchmark.ts';
import { summarize } from './report.ts';

describe('runBenchmark()', () => {
  it('runs the three arms on a tiny sparse chain: each sees every event, and both storing arms store the same rows', async () => {
    // 12 transactions of 1–5 events, one a block: a BatchSettled each, and 21 InferenceSettled in all.
    const [report] = await runBenchmark({
      workloads: [{ name: 'sparse', txs: 12, eventsOf: (i) => 1 + (i % 5), packing: 'one-per-block' }],
      arms: ['source', 'baseline', 'ours'],
    });
    expect(report!.chain).toMatchObject({ workload: 'sparse', txs: 12, events: 33, blocks: 12 });
    expect(report!.runs.map((r) => [r.arm, r.events])).toEqual([
      ['source', 33],
      ['baseline', 33],
      ['ours', 33],
    ]);
    const rows = { ev_inference_router_batch_settled: 12, ev_inference_router_inference_settled: 21 };
    expect(report!.runs.find((r) => r.arm === 'baseline')!.rows).toEqual(rows);
    expect(report!.runs.find((r) => r.arm === 'ours')!.rows).toEqual(rows);
    expect(summarize(report!).problems).toEqual([]);
  });
});
