import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readTokenizer } from '../../serving/index.ts';
import { ALT_STAGES, EPOCH_STAGES } from './epochJob.ts';
import { formatEpoch, runEpochBenchmark } from './epoch.ts';
import { makeEpochWorkload } from './epochWorkload.ts';
import { BASE_MODEL_DIR } from './sketchShapes.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('the epoch benchmark', () => {
  it('makes inferences of realistic length, and training rows of contributions of which copies earn nothing', () => {
    const tokenizer = readTokenizer(BASE_MODEL_DIR);
    const w = makeEpochWorkload({ examples: 450, inferences: 40, tokenizer, seed: 5 });
    expect(w.rows).toHaveLength(450);
    expect(w.contributions).toBe(5);
    expect(w.accounts).toBe(3);
    expect(w.owners.filter((o) => !o.owned)).toHaveLength(3); // rows 199, 299, 399: copies of earlier contributions' rows
    expect(w.tokens).toBe(w.rows.reduce((s, r) => s + r.tokens.length, 0));
    for (const q of w.queries) {
      const out = tokenizer.encode(q.output).length;
      expect(out).toBeGreaterThanOrEqual(16); // 32–64 tokens, re-tokenized from text
      expect(out).toBeLessThanOrEqual(96);
      expect(tokenizer.encode(q.prompt).length).toBeGreaterThan(0);
    }
  });

  it('runs an epoch through every stage in a child process, stores and verifies its batch, with the job’s sums matched by the first ones', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tributary-bench-epoch-test-'));
    dirs.push(dir);
    const report = await runEpochBenchmark({ dir, backend: 'wasm', inferences: 24, examples: 300, checkpoints: 2, chunk: 16, batchSize: 8, seed: 2 });
    const { job } = report;
    for (const s of [...EPOCH_STAGES, ...ALT_STAGES]) {
      expect(job.stages[s].error, s).toBeUndefined();
      expect(job.stages[s].wallMs).toBeGreaterThanOrEqual(0);
    }
    expect(job.stages['query sketching'].wallMs).toBeGreaterThan(0);
    expect(job.stages['store batch files'].wallMs).toBeGreaterThan(0);
    expect(job.total.wallMs).toBeCloseTo(EPOCH_STAGES.reduce((t, s) => t + job.stages[s].wallMs, 0), 6);
    expect(job.counts).toMatchObject({ inferences: 24, examples: 300, attributedContributions: 24 * 3, sketchCheckpointsRead: 1, maxEntriesPerInference: 64 });
    expect(report.prepared.sketchParts).toBe(2); // one part per checkpoint at this size
    expect(job.batch).toMatchObject({ accountsPaid: 2, verified: true });
    expect(job.batch!.scoreEntries).toBeGreaterThan(0);
    expect(job.batch!.root).toMatch(/^0x[0-9a-f]{64}$/);
    // Three contributions per inference: the cap of 64 changes nothing, so both batches are the same.
    expect(job.uncapped).toEqual(job.batch);
    expect(job.sumsAgree).toBe(true);
    expect(job.tensorsLeft).toBe(0);
    expect(report.extrapolated!.scoring).toBeCloseTo((job.stages.scoring.wallMs / 1000) * ((10_000 * 100_000) / (24 * 300)), 6);
    const text = formatEpoch(report);
    expect(text).toMatch(/24 inferences .* over 300 training examples in 3 contributions of 2 accounts; method datainf, k = 1536/);
    expect(text).toMatch(/\| \*\*epoch total\*\* .* \(linear extrapolation, not measured\)/);
    expect(text).toMatch(/^batch: \d+ score entries, score file [0-9.]+ MiB in 1 parts, 2 accounts paid, verified from the stored files: match/m);
  }, 90_000);
});
