import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTensorBackend } from '../backend.ts';
import { saveModel } from '../checkpoint.ts';
import { disposeModel } from '../gpt2.ts';
import { ModelConfigError } from '../modelConfig.ts';
import { buildTrimmedVocab, writeTrimmedVocab } from '../tokenizer.ts';
import { TrainingAbortedError } from './errors.ts';
import { tinyModel } from './tinyModel.ts';
import { runTrainJob, type TrainJobInput, type TrainJobOutput } from './trainJob.ts';
import { trainInWorker } from './trainInWorker.ts';
import type { TrainProgress } from './trainLora.ts';

const ANIMALS = ['cat', 'dog', 'cow', 'owl', 'bee', 'fox', 'eel', 'elk', 'ant', 'bat', 'yak', 'emu'];
const COLORS = ['red', 'blue', 'green'];
const rows = ANIMALS.map((a, i) => ({
  contributionId: BigInt(1 + (i % 3)),
  rowIndex: Math.floor(i / 3),
  rowHash: `0x${(i + 1).toString(16).padStart(64, '0')}`,
  row: { prompt: `color of ${a}`, completion: COLORS[i % 3]! },
}));

let dir: string;
const input = (over: Partial<TrainJobInput> = {}): TrainJobInput => ({
  baseModelDir: path.join(dir, 'base'),
  baseModelId: 'test-tiny@sha256:00',
  rows,
  checkpointLosses: true,
  rank: 4,
  targets: ['c_attn', 'c_proj'],
  steps: 6,
  batchSize: 4,
  checkpoints: 2,
  seed: 3,
  ...over,
});

/** Every number of an output, in a fixed order: weights bit for bit, losses, the manifest. */
function fingerprint(out: TrainJobOutput) {
  const host = (h: TrainJobOutput['adapter']) => ({ config: h.config, modules: [...h.modules].map(([name, m]) => [name, m.aShape, Array.from(m.a), m.bShape, Array.from(m.b)]) });
  return {
    manifest: out.manifest,
    trainExamples: out.trainExamples,
    examples: out.examples,
    adapter: host(out.adapter),
    checkpoints: out.checkpoints.map((c) => ({ step: c.step, adapter: host(c.adapter) })),
    losses: out.losses.map((l) => Array.from(l)),
  };
}

describe('trainInWorker', () => {
  beforeAll(async () => {
    await useTensorBackend('wasm');
    dir = mkdtempSync(path.join(tmpdir(), 'tributary-train-worker-'));
    const keep = buildTrimmedVocab(rows.map((r) => `Question: ${r.row.prompt}\nAnswer: ${r.row.completion}`), 300);
    const model = tinyModel({ vocabSize: keep.length, nPositions: 48, nEmbd: 32, nLayer: 2, nHead: 2, layerNormEpsilon: 1e-5 }, 1);
    try {
      await saveModel(path.join(dir, 'base'), model, { extraConfig: { tributary_model: 'test-tiny' } });
    } finally {
      disposeModel(model);
    }
    writeTrimmedVocab(path.join(dir, 'base'), keep);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives the same adapter, checkpoints, losses and manifest as training on this thread, bit for bit, with the same progress', async () => {
    const here: TrainProgress[] = [];
    const there: TrainProgress[] = [];
    const inline = await runTrainJob(input(), { onProgress: (p) => here.push(p) });
    const worker = await trainInWorker(input(), { onProgress: (p) => there.push(p) });
    expect(fingerprint(worker)).toEqual(fingerprint(inline));
    expect(worker.checkpoints.map((c) => c.step)).toEqual([3, 6]);
    expect(worker.losses).toHaveLength(2);
    expect(worker.examples).toHaveLength(rows.length);
    const losses = (ps: TrainProgress[]) => ps.map((p) => [p.step, p.loss, p.evalLoss]);
    expect(losses(there)).toEqual(losses(here));
    expect(there.at(-1)!.step).toBe(6);
  }, 60_000);

  it('the worker is kept for the next job, which gives the same bits again', async () => {
    const first = await trainInWorker(input({ steps: 4 }));
    const second = await trainInWorker(input({ steps: 4 }));
    expect(fingerprint(second)).toEqual(fingerprint(first));
  }, 60_000);

  it('an abort ends the worker at once and rejects with TrainingAbortedError', async () => {
    const ac = new AbortController();
    const seen: number[] = [];
    const run = trainInWorker(input({ steps: 400 }), {
      signal: ac.signal,
      onProgress: (p) => {
        seen.push(p.step);
        if (p.step === 2) ac.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(TrainingAbortedError);
    expect(Math.max(...seen)).toBeLessThan(400);
    // An already aborted signal never starts a worker.
    await expect(trainInWorker(input(), { signal: ac.signal })).rejects.toBeInstanceOf(TrainingAbortedError);
  }, 60_000);

  it('an error in the worker comes back as the same error, with the same message, as on this thread', async () => {
    const bad = input({ baseModelDir: path.join(dir, 'missing') });
    const failure = (run: Promise<unknown>) => run.then(() => new Error('it did not fail'), (e: unknown) => e as Error);
    const here = await failure(runTrainJob(bad));
    const there = await failure(trainInWorker(bad));
    expect(here).toBeInstanceOf(ModelConfigError);
    expect(there).toBeInstanceOf(ModelConfigError);
    expect(there.message).toBe(here.message);
    expect(there.message).toContain('missing');
  }, 60_000);
});
