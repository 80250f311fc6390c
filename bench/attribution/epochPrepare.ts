// The epoch benchmark's inputs, written to a folder for the job's own process: what a real epoch finds
// on disk and in its stores when it starts. Timed, but not part of the epoch:
// - the workload (inferences and the training rows' owners: the job reads those from ClickHouse);
// - the span index of the datanet version (built once when a version is published, saved, and loaded by
//   each epoch);
// - the training run's sketches in a content store, as ensureTrainingSketches keeps them (the platform's
//   createTrainingSketchWriter: one checkpoint at a time, in parts of at most 512 MiB, and a manifest):
//   every checkpoint's sketches of every training example. Their values are synthetic (seeded): computing
//   them is training-time work, and the scores' cost does not depend on the values.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Hex } from 'viem';
import { buildSpanCorpus, createTrainingSketchWriter, saveSpanIndex, type SketchSpec } from '../../attribution/index.ts';
import { openFsContentStore } from '../../schema/index.ts';
import { readTokenizer } from '../../serving/index.ts';
import { makeEpochWorkload } from './epochWorkload.ts';
import { seededValues, stopwatch } from './measure.ts';

export interface EpochInputs {
  dir: string;
  modelDir: string;
  backend: string;
  inferences: number;
  examples: number;
  /** Checkpoints sketched (the trainer keeps 4 by default). */
  checkpoints: number;
  spec: SketchSpec;
  /** Seed of checkpoint c's synthetic sketches: sketchSeed + c. */
  sketchSeed: number;
  /** The training run whose sketches are stored (a made-up manifest hash). */
  runManifestHash: Hex;
  /** SHA-256 of the sketch manifest, the part files it names, and their bytes in all (every checkpoint). */
  sketchSha256: string;
  sketchParts: number;
  sketchBytes: number;
  contentRoot: string;
  spanIndexFile: string;
  workloadFile: string;
  /** Inferences per attribute() call (attributeEpoch's chunk) and per gradient pass (sketchExamples' batch). */
  chunk: number;
  batchSize: number;
  /** Also time what runs beside the epoch (the sums as first written, the uncapped batch). Default true. */
  beside?: boolean;
  contributions: number;
  accounts: number;
  spanTokens: number;
}

export interface PreparedEpoch {
  inputs: EpochInputs;
  /** Seconds of each preparation step. */
  seconds: { workload: number; spanIndexBuild: number; spanIndexSave: number; sketches: number };
}

export interface PrepareEpochOptions {
  dir: string;
  modelDir: string;
  backend: string;
  inferences: number;
  examples: number;
  checkpoints: number;
  spec: SketchSpec;
  seed: number;
  chunk: number;
  batchSize: number;
  beside?: boolean;
  log?: (line: string) => void;
}

export async function prepareEpoch(o: PrepareEpochOptions): Promise<PreparedEpoch> {
  const log = o.log ?? (() => {});
  const tokenizer = readTokenizer(o.modelDir);
  log(`workload: ${o.examples} training rows, ${o.inferences} inferences`);
  let lap = stopwatch();
  const w = makeEpochWorkload({ examples: o.examples, inferences: o.inferences, tokenizer, seed: o.seed });
  const workloadFile = path.join(o.dir, 'workload.json');
  writeFileSync(workloadFile, JSON.stringify({ queries: w.queries, owners: w.owners.map((x, i) => [x.contributionId.toString(), w.rows[i]!.rowIndex, x.account, x.owned]) }));
  const workload = lap().wallMs / 1000;

  log(`span index over ${w.tokens} tokens`);
  lap = stopwatch();
  const corpus = buildSpanCorpus(w.rows);
  const spanIndexBuild = lap().wallMs / 1000;
  lap = stopwatch();
  const spanIndexFile = path.join(o.dir, 'version.spans');
  await saveSpanIndex(spanIndexFile, corpus, { bench: 'epoch', seed: o.seed });
  const spanIndexSave = lap().wallMs / 1000;

  log(`training sketches: ${o.checkpoints} checkpoint(s) × ${o.examples} examples × ${o.spec.dims} dims`);
  lap = stopwatch();
  const contentRoot = path.join(o.dir, 'content');
  const content = await openFsContentStore({ root: contentRoot });
  const sketchSeed = o.seed * 1000;
  const runManifestHash = `0x${'5e'.repeat(32)}` as Hex;
  const writer = createTrainingSketchWriter(content, {
    manifestHash: runManifestHash,
    spec: o.spec,
    checkpoints: Array.from({ length: o.checkpoints }, (_, c) => ({ step: (c + 1) * 100, learningRate: 1e-3, adapterHash: `0x${(c + 1).toString(16).padStart(64, '0')}` as Hex })),
    examples: w.rows.map((r) => ({ contributionId: r.contributionId, rowIndex: r.rowIndex })),
  });
  // One checkpoint in memory at a time, as ensureTrainingSketches writes them.
  for (let c = 0; c < o.checkpoints; c++) await writer.putCheckpoint(c, seededValues(o.examples * o.spec.dims, sketchSeed + c));
  const stored = await writer.finish();
  const sketches = lap().wallMs / 1000;

  const inputs: EpochInputs = {
    dir: o.dir,
    modelDir: o.modelDir,
    backend: o.backend,
    inferences: o.inferences,
    examples: o.examples,
    checkpoints: o.checkpoints,
    spec: o.spec,
    sketchSeed,
    runManifestHash,
    sketchSha256: stored.sha256,
    sketchParts: stored.parts,
    sketchBytes: stored.bytes,
    contentRoot,
    spanIndexFile,
    workloadFile,
    chunk: o.chunk,
    batchSize: o.batchSize,
    beside: o.beside ?? true,
    contributions: w.contributions,
    accounts: w.accounts,
    spanTokens: w.tokens,
  };
  writeFileSync(path.join(o.dir, 'inputs.json'), JSON.stringify(inputs));
  return { inputs, seconds: { workload, spanIndexBuild, spanIndexSave, sketches } };
}
