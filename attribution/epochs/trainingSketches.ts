// Gradient sketches of a training run, computed once after training (the `train` verb and the demo call
// this right after registering) and kept in the content store one checkpoint at a time, in parts named by
// a manifest bound to `training-sketch-parts/<manifest hash>` (trainingSketchFiles.ts; runs sketched
// earlier have one file under `training-sketches/<manifest hash>`, still read), with a row in ClickHouse's
// `training_sketches` (migration 7) pointing at the manifest. Every example of the train split is sketched
// at every checkpoint of the run, with the rows tokenized exactly as the trainer saw them (the run's
// maxTokens), so an inference's sketch under the same checkpoint is comparable by a dot product. The
// projection's seed and shapes are in the manifest, so the epoch job recreates the same projection for
// inferences.
//
// The files are the truth; the ClickHouse row is rewritten from them when missing (ensureTrainingSketches).
// Only a checkpoint's values are ever in memory at once, while computing and while reading: a reader asks
// for the checkpoints it scores with (readCheckpoint).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Hex } from 'viem';
import { TributaryError } from '../../contracts/index.ts';
import { loadAdapterFiles, loadTrainingRun, openDatanetVersion, type ContentStore, type TrainingExampleFileRecord } from '../../schema/index.ts';
import {
  baseModelIdentity,
  disposeLora,
  disposeModel,
  loadModel,
  parseAdapterConfig,
  parseHostAdapter,
  readAdapter,
  readTokenizer,
  toExample,
  toDeviceAdapter,
  warmupCosine,
  type Gpt2Model,
  type LoraAdapter,
  type TensorBackend,
  type Tokenizer,
} from '../../serving/index.ts';
import { createProjection, sketchSpec, type SketchSpec } from '../influence/projection.ts';
import { sketchExamplesAsync } from '../influence/sketch.ts';
import { sketchInWorker } from './sketchInWorker.ts';
import { createTrainingSketchWriter, loadTrainingSketches, type StoredTrainingSketches, type TrainingSketchInfo, type TrainingSketchWriterOptions } from './trainingSketchFiles.ts';

export { trainingSketchRef, trainingSketchPartsRef } from './trainingSketchFiles.ts';

/** The projection every training run is sketched with (width 32 per module side, as the evaluation used). */
export const TRAINING_SKETCH_SEED = 1;
export const TRAINING_SKETCH_WIDTH = 32;

export class TrainingSketchError extends TributaryError {
  override name = 'TrainingSketchError';
}

export interface TrainingSketchContext {
  clickhouse: ClickHouseClient;
  content: ContentStore;
  /** The base model's directory: it must be the run's base model (checked by its hash). */
  baseModelDir: string;
  /** Where the trainer wrote adapters out (`<adaptersDir>/<hash>/`); read when present, else the content store. */
  adaptersDir?: string;
}

export interface SketchProgress {
  checkpoint: number;
  checkpoints: number;
  done: number;
  total: number;
}

export interface SketchTrainingRunOptions extends TrainingSketchWriterOptions {
  onProgress?: (p: SketchProgress) => void;
  /** Examples per gradient pass (default 16). */
  batchSize?: number;
  /**
   * Compute the sketches in a worker thread (trainingSketchWorker.ts), which opens the file content store
   * at `contentRoot` (ctx.content's root) itself; the rows are read and the ClickHouse row written here.
   * A serving process uses this so that its event loop keeps answering.
   */
  worker?: { contentRoot: string; backend?: TensorBackend };
}

export interface TrainingSketches {
  manifestHash: Hex;
  /** SHA-256 of the sketch manifest in the content store (of the one sketch file, for a run sketched before parts). */
  sketchSha256: string;
  /** How they are stored: parts named by a manifest, or one file (runs sketched earlier). */
  layout: StoredTrainingSketches['layout'];
  /** The projection, the checkpoints and the examples; the values are read per checkpoint. */
  file: TrainingSketchInfo;
  /** Checkpoint k's sketches, examples × dims row-major (k indexes file.checkpoints). */
  readCheckpoint(k: number): Promise<Float32Array>;
  /** The train-split records, in the file's example order. */
  records: TrainingExampleFileRecord[];
  /** The datanet versions the run trained on. */
  datanets: { datanetId: bigint; version: bigint }[];
  /** The run's token limit per example: inferences are cut the same way. */
  maxTokens: number | undefined;
  /** Names the run's vocabulary (the trimmed vocabulary's SHA-256, or gpt2): span indexes are per vocabulary. */
  tokenizerKey: string;
  /** False when the file was there already. */
  created: boolean;
}

const key = (contributionId: bigint | string, rowIndex: number) => `${contributionId}/${rowIndex}`;

/** The run's train-split records in canonical (contribution, row) order: the sketch file's example order. */
function trainRecords(examples: readonly TrainingExampleFileRecord[]): TrainingExampleFileRecord[] {
  return examples
    .filter((e) => e.split === 'train')
    .sort((a, b) => {
      const ca = BigInt(a.contributionId);
      const cb = BigInt(b.contributionId);
      return ca < cb ? -1 : ca > cb ? 1 : a.rowIndex - b.rowIndex;
    });
}

/** A checkpoint (or any adapter) of a run, from the adapters folder when written out there, else the content store. */
export async function loadCheckpointAdapter(ctx: Pick<TrainingSketchContext, 'content' | 'adaptersDir'>, adapterHash: Hex): Promise<LoraAdapter> {
  const dir = ctx.adaptersDir && path.join(ctx.adaptersDir, adapterHash);
  if (dir && existsSync(dir)) return readAdapter(dir);
  const stored = await loadAdapterFiles(ctx.content, adapterHash);
  if (!stored) throw new TrainingSketchError(`checkpoint adapter ${adapterHash} is not in the content store`, { details: 'the training run names it; was the data dir copied without its content folder?' });
  const source = `stored adapter ${adapterHash}`;
  return toDeviceAdapter(parseHostAdapter(parseAdapterConfig(new TextDecoder().decode(stored.config), source), stored.weights, source));
}

/**
 * The run's sketches: from the content store when they were computed before, else computed now (one
 * gradient pass per batch of examples per checkpoint), stored, and recorded in ClickHouse.
 */
export async function ensureTrainingSketches(ctx: TrainingSketchContext, manifestHash: Hex, opts: SketchTrainingRunOptions = {}): Promise<TrainingSketches> {
  const run = await loadTrainingRun(ctx.content, manifestHash);
  if (!run) throw new TrainingSketchError(`training run ${manifestHash} is not in the content store`);
  const records = trainRecords(run.examples);
  const hp = run.manifest.training.hyperparameters as { maxTokens?: number; learningRate?: number; minLearningRate?: number; warmupSteps?: number; steps?: number };
  const about = {
    records,
    datanets: run.manifest.datanets.map((d) => ({ datanetId: BigInt(d.datanetId), version: BigInt(d.version) })),
    maxTokens: hp.maxTokens,
    tokenizerKey: run.manifest.baseModel.vocabSha256 ?? 'gpt2',
  };
  const existing = await loadTrainingSketches(ctx.content, manifestHash);
  if (existing !== undefined) return found(ctx, manifestHash, existing, about, records, false);

  const manifest = run.manifest;
  const base = await baseModelIdentity(ctx.baseModelDir);
  if (base.id !== manifest.baseModel.id) {
    throw new TrainingSketchError(`training run ${manifestHash} was trained on ${manifest.baseModel.id}, but the base model in ${ctx.baseModelDir} is ${base.id}`, {
      details: 'set BASE_MODEL_DIR to the run\'s base model',
    });
  }
  const tokenizer = readTokenizer(ctx.baseModelDir);
  const model = loadModel(ctx.baseModelDir);
  try {
    const examples = await trainingTokens(ctx.clickhouse, manifest.datanets, records, tokenizer, hp.maxTokens ?? model.config.nPositions);
    const lrAt =
      hp.learningRate !== undefined && hp.steps !== undefined
        ? warmupCosine({ peak: hp.learningRate, warmupSteps: hp.warmupSteps ?? 0, totalSteps: hp.steps, floor: hp.minLearningRate ?? 0 })
        : () => 0;
    // The checkpoint after `step` updates was last moved by update index step − 1.
    const checkpoints = manifest.checkpoints.map((x) => ({ step: x.step, learningRate: lrAt(x.step - 1), adapterHash: x.adapterHash as Hex }));
    const job: SketchJob = { manifestHash, checkpoints, examples, records, batchSize: opts.batchSize, maxPartBytes: opts.maxPartBytes };
    if (opts.worker) await sketchInWorker({ ...job, contentRoot: opts.worker.contentRoot, adaptersDir: ctx.adaptersDir, baseModelDir: ctx.baseModelDir, backend: opts.worker.backend ?? 'wasm' }, opts.onProgress);
    else await sketchCheckpoints(ctx, model, tokenizer, job, opts.onProgress);
    const stored = await loadTrainingSketches(ctx.content, manifestHash);
    if (!stored) throw new TrainingSketchError(`the sketches of training run ${manifestHash} were stored but their ref is missing`);
    return found(ctx, manifestHash, stored, about, records, true);
  } finally {
    disposeModel(model);
  }
}

/** Checks stored sketches against the run's examples, (re)writes the ClickHouse row, and returns them. */
async function found(
  ctx: TrainingSketchContext,
  manifestHash: Hex,
  stored: StoredTrainingSketches,
  about: Omit<TrainingSketches, 'manifestHash' | 'sketchSha256' | 'layout' | 'file' | 'readCheckpoint' | 'created'>,
  records: readonly TrainingExampleFileRecord[],
  created: boolean,
): Promise<TrainingSketches> {
  const ex = stored.info.examples;
  if (ex.length !== records.length || ex.some((e, i) => key(e.contributionId, e.rowIndex) !== key(records[i]!.contributionId, records[i]!.rowIndex))) {
    throw new TrainingSketchError(`the stored sketches of training run ${manifestHash} (${stored.sha256}) do not list the run's ${records.length} training examples`);
  }
  await recordTrainingSketches(ctx.clickhouse, manifestHash, stored.sha256, stored.info);
  return { manifestHash, sketchSha256: stored.sha256, layout: stored.layout, file: stored.info, readCheckpoint: stored.readCheckpoint, ...about, created };
}

/** What sketching a run's checkpoints needs, as plain data (it may be posted to a worker thread). */
export interface SketchJob {
  manifestHash: Hex;
  checkpoints: { step: number; learningRate: number; adapterHash: Hex }[];
  examples: ReturnType<typeof toExample>[];
  records: TrainingExampleFileRecord[];
  batchSize?: number;
  maxPartBytes?: number;
}

/** Sketches every checkpoint in turn and stores each as soon as it is done (trainingSketchFiles.ts), then the manifest. */
export async function sketchCheckpoints(
  store: Pick<TrainingSketchContext, 'content' | 'adaptersDir'>,
  model: Gpt2Model,
  tokenizer: Pick<Tokenizer, 'eosToken'>,
  job: SketchJob,
  onProgress?: (p: SketchProgress) => void,
): Promise<void> {
  const { manifestHash, checkpoints, examples, records } = job;
  if (checkpoints.length === 0) throw new TrainingSketchError(`training run ${manifestHash} has no checkpoints to sketch`);
  let writer: ReturnType<typeof createTrainingSketchWriter> | undefined;
  let spec: SketchSpec | undefined;
  for (const [k, c] of checkpoints.entries()) {
    const adapter = await loadCheckpointAdapter(store, c.adapterHash);
    try {
      if (!spec || !writer) {
        spec = sketchSpec(adapter, { seed: TRAINING_SKETCH_SEED, width: TRAINING_SKETCH_WIDTH });
        const info: TrainingSketchInfo = {
          manifestHash,
          spec,
          checkpoints,
          examples: records.map((r) => ({ contributionId: BigInt(r.contributionId), rowIndex: r.rowIndex })),
        };
        writer = createTrainingSketchWriter(store.content, info, { maxPartBytes: job.maxPartBytes });
      }
      const projection = createProjection(spec);
      try {
        const s = await sketchExamplesAsync({
          model,
          adapter,
          projection,
          examples,
          padId: tokenizer.eosToken,
          ...(job.batchSize ? { batchSize: job.batchSize } : {}),
          onProgress: (done, total) => onProgress?.({ checkpoint: k + 1, checkpoints: checkpoints.length, done, total }),
        });
        await writer.putCheckpoint(k, s.values);
      } finally {
        projection.dispose();
      }
    } finally {
      disposeLora(adapter);
    }
  }
  await writer!.finish();
}

/** The train-split rows' tokens, read from the run's datanet versions (which refuse a root mismatch). */
async function trainingTokens(
  client: ClickHouseClient,
  datanets: readonly { datanetId: string; version: string }[],
  records: readonly TrainingExampleFileRecord[],
  tokenizer: Tokenizer,
  maxTokens: number,
): Promise<ReturnType<typeof toExample>[]> {
  const wanted = new Map(records.map((r, i) => [key(r.contributionId, r.rowIndex), { i, rowHash: r.rowHash.toLowerCase() }]));
  const out: (ReturnType<typeof toExample> | undefined)[] = new Array(records.length);
  for (const d of datanets) {
    const version = await openDatanetVersion(client, { datanetId: BigInt(d.datanetId), version: BigInt(d.version) });
    for await (const r of version.rows()) {
      const w = wanted.get(key(r.contributionId, r.rowIndex));
      if (!w) continue;
      if (r.rowHash.toLowerCase() !== w.rowHash) throw new TrainingSketchError(`row ${r.rowIndex} of contribution ${r.contributionId} has hash ${r.rowHash} in datanet ${d.datanetId} version ${d.version}, but the training run recorded ${w.rowHash}`);
      out[w.i] = toExample(r.row, tokenizer, maxTokens);
    }
  }
  const missing = out.findIndex((e) => e === undefined);
  if (missing >= 0) throw new TrainingSketchError(`training example ${records[missing]!.contributionId}/${records[missing]!.rowIndex} is not among its datanet versions' rows in ClickHouse`);
  return out as ReturnType<typeof toExample>[];
}

/** Writes the run's `training_sketches` row (ReplacingMergeTree: writing it again changes nothing). */
async function recordTrainingSketches(client: ClickHouseClient, manifestHash: Hex, sketchSha256: string, file: TrainingSketchInfo): Promise<void> {
  const line = [manifestHash.slice(2).toLowerCase(), sketchSha256, file.spec.seed, file.spec.dims, file.examples.length, `[${file.checkpoints.map((c) => c.step).join(',')}]`, new Date().toISOString().slice(0, 23).replace('T', ' ')].join('\t');
  await client.insert({
    table: 'training_sketches',
    columns: ['manifest_hash_hex', 'sketch_sha256_hex', 'projection_seed', 'dims', 'example_count', 'checkpoint_steps', 'created_at'],
    format: 'TabSeparated',
    values: Readable.from([`${line}\n`], { objectMode: false }),
  });
}
