// The tensor work of one training run (runTraining's steps 3 and 4): load the base model, train the LoRA
// adapter (trainLora), and measure every row's loss under each checkpoint. Its answer is plain data
// (host arrays, numbers, the manifest), so the same function runs on the caller's thread or in a worker
// thread (trainInWorker.ts) and comes back by postMessage; everything that touches the stores and the
// chain stays with the caller.
import type { TensorBackend } from '../backend.ts';
import { loadModel } from '../checkpoint.ts';
import type { HostAdapter, HostModule } from '../engine/adapterCache.ts';
import { disposeModel } from '../gpt2.ts';
import { adapterHook, disposeLora, type LoraAdapter } from '../lora.ts';
import { readTokenizer } from '../tokenizer.ts';
import { exampleLosses } from './exampleLosses.ts';
import { toExample } from './format.ts';
import { trainLora, type TrainingExampleRecord, type TrainingManifest, type TrainingRow, type TrainLoraOptions, type TrainProgress } from './trainLora.ts';

/** The hyperparameters a caller may set: trainLora's own options, each with its default there. */
export const HYPERPARAMETER_KEYS = ['rank', 'alpha', 'targets', 'steps', 'epochs', 'batchSize', 'learningRate', 'weightDecay', 'warmupSteps', 'evalFraction', 'maxTokens', 'seed', 'checkpoints'] as const;
export type TrainingHyperparameters = Pick<TrainLoraOptions, (typeof HYPERPARAMETER_KEYS)[number]>;

export interface TrainJobInput extends TrainingHyperparameters {
  /** config.json, model.safetensors (and tributary-vocab.json when trimmed). */
  baseModelDir: string;
  /** The base model's identity (baseModelIdentity(dir).id), recorded in the adapter config and manifest. */
  baseModelId: string;
  rows: TrainingRow[];
  /** Each row's loss under every checkpoint (true), or under the final adapter only. */
  checkpointLosses: boolean;
}

export interface TrainJobOutput {
  manifest: TrainingManifest;
  /** Every training row's loss under the final adapter, canonical order. */
  trainExamples: TrainingExampleRecord[];
  adapter: HostAdapter;
  /** K snapshots; the last is at the final step. */
  checkpoints: { step: number; adapter: HostAdapter }[];
  /** The rows in canonical (contribution, row) order, as trained: tokens after truncation. */
  examples: { contributionId: bigint; rowIndex: number; tokens: number; truncated: boolean }[];
  /** Per checkpoint measured (each, or the last only), every row's loss, in the order of `examples`. */
  losses: Float32Array[];
}

export interface TrainJobOptions {
  onProgress?: (p: TrainProgress) => void;
  signal?: AbortSignal;
}

const canonical = (a: TrainingRow, b: TrainingRow) => (a.contributionId < b.contributionId ? -1 : a.contributionId > b.contributionId ? 1 : a.rowIndex - b.rowIndex);

async function toHostAdapter(adapter: LoraAdapter): Promise<HostAdapter> {
  const modules = new Map<string, HostModule>();
  for (const [name, w] of adapter.modules) {
    modules.set(name, {
      a: (await w.a.data()) as Float32Array,
      aShape: [w.a.shape[0], w.a.shape[1]],
      b: (await w.b.data()) as Float32Array,
      bShape: [w.b.shape[0], w.b.shape[1]],
    });
  }
  return { config: adapter.config, modules };
}

/** The buffers of an output's weights, for postMessage's transfer list. */
export function trainJobTransfers(out: TrainJobOutput): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const host of [out.adapter, ...out.checkpoints.map((c) => c.adapter)]) {
    for (const m of host.modules.values()) {
      buffers.add(m.a.buffer as ArrayBuffer);
      buffers.add(m.b.buffer as ArrayBuffer);
    }
  }
  for (const l of out.losses) buffers.add(l.buffer as ArrayBuffer);
  return [...buffers];
}

/** Trains on this thread, with the tensor backend already chosen (useTensorBackend). */
export async function runTrainJob(input: TrainJobInput, opts: TrainJobOptions = {}): Promise<TrainJobOutput> {
  const tokenizer = readTokenizer(input.baseModelDir);
  const model = loadModel(input.baseModelDir);
  let result: Awaited<ReturnType<typeof trainLora>> | undefined;
  try {
    result = await trainLora({
      model,
      tokenizer,
      examples: input.rows,
      baseModel: input.baseModelId,
      rank: input.rank,
      alpha: input.alpha,
      targets: input.targets,
      steps: input.steps,
      epochs: input.epochs,
      batchSize: input.batchSize,
      learningRate: input.learningRate,
      weightDecay: input.weightDecay,
      warmupSteps: input.warmupSteps,
      evalFraction: input.evalFraction,
      maxTokens: input.maxTokens,
      seed: input.seed ?? 0,
      checkpoints: input.checkpoints,
      signal: opts.signal,
      onProgress: opts.onProgress,
    });
    const trained = result;
    // Each row's loss under each checkpoint (the last checkpoint is the final adapter, so this gives the
    // held-out rows' final losses too).
    const hp = trained.manifest.hyperparameters;
    const ordered = [...input.rows].sort(canonical);
    const examples = ordered.map((r) => toExample(r.row, tokenizer, hp.maxTokens));
    const measured = input.checkpointLosses ? trained.checkpoints : trained.checkpoints.slice(-1);
    const losses = measured.map((c) => exampleLosses(model, adapterHook(c.adapter), examples, hp.batchSize, tokenizer.eosToken).losses);
    const checkpoints: TrainJobOutput['checkpoints'] = [];
    for (const c of trained.checkpoints) checkpoints.push({ step: c.step, adapter: await toHostAdapter(c.adapter) });
    return {
      manifest: trained.manifest,
      trainExamples: trained.trainExamples,
      adapter: await toHostAdapter(trained.adapter),
      checkpoints,
      examples: ordered.map((r, i) => ({ contributionId: r.contributionId, rowIndex: r.rowIndex, tokens: examples[i]!.tokens.length, truncated: examples[i]!.truncated })),
      losses,
    };
  } finally {
    if (result) {
      disposeLora(result.adapter);
      // The last checkpoint may share nothing with `adapter` (snapshots are clones): free every one.
      for (const c of result.checkpoints) disposeLora(c.adapter);
    }
    disposeModel(model);
  }
}

/** What the worker is sent. */
export interface TrainWorkerRequest {
  input: TrainJobInput;
  backend: TensorBackend;
}
