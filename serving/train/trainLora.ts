// LoRA fine-tuning of a frozen base model on a datanet version's rows: the ModelFactory back end.
//
// The run is a pure function of its inputs and seed, down to the bit: rows are put in canonical
// (contribution, row) order first, so the caller's order does not matter; the eval split and every
// epoch's batch order come from seeded permutations (shuffle.ts); LoRA A is initialised from the seed;
// the wasm backend computes in a fixed order. Attribution relies on this: its checkpoints, per-example
// losses and the manifest can be reproduced by anyone holding the rows.
//
// Only the LoRA weights are tf.Variables and only they get gradients (tf.variableGrads with that list);
// the base model's tensors are constants. Batches are right-padded to their longest example with the
// padding masked out of the loss (batch.ts). Nothing is written here: the caller stores the adapter,
// the checkpoints, the manifest and the per-example records where it keeps them.
import { createHash } from 'node:crypto';
import type { Row } from '../../schema/index.ts';
import { forward, type Gpt2Model, type LinearHook } from '../gpt2.ts';
import { adapterHook, createLora, disposeLora, loraScale, type LoraAdapter, type LoraConfig, type LoraWeights } from '../lora.ts';
import { tf, type Tensor2D, type Variable } from '../tf.ts';
import type { Tokenizer } from '../tokenizer.ts';
import { createAdamW, type AdamW } from './adamw.ts';
import { padBatch } from './batch.ts';
import { TrainingAbortedError, TrainingError } from './errors.ts';
import { exampleLosses } from './exampleLosses.ts';
import { PROMPT_FORMAT, toExample, type Example } from './format.ts';
import { maskedCrossEntropy } from './loss.ts';
import { warmupCosine } from './schedule.ts';
import { mixSeed, seededPermutation } from './shuffle.ts';

/** One row of training data (a DatanetVersionRow fits). */
export interface TrainingRow {
  contributionId: bigint;
  rowIndex: number;
  /** The row's hash as the datanet version lists it (0x…); only hashed into the manifest. */
  rowHash: string;
  row: Row;
}

export interface TrainProgress {
  /** Optimizer steps done (1 … steps). */
  step: number;
  steps: number;
  /** This step's batch loss. */
  loss: number;
  /** The held-out loss, on the steps where it was measured. */
  evalLoss?: number;
  learningRate: number;
  /** Real (unpadded) tokens trained on per second of wall time so far. */
  tokensPerSecond: number;
  etaSeconds: number;
}

export interface TrainLoraOptions {
  /** The frozen base model. */
  model: Gpt2Model;
  tokenizer: Pick<Tokenizer, 'encode' | 'eosToken'>;
  examples: readonly TrainingRow[];
  /** The base model's name or hash, recorded in the adapter config and the manifest. Default ''. */
  baseModel?: string;
  /** LoRA rank r. Default 8. */
  rank?: number;
  /** LoRA alpha (scale alpha / r). Default 2·rank. */
  alpha?: number;
  /** Modules to adapt, as PEFT's target_modules. Default ['c_attn']. */
  targets?: string[];
  /** Optimizer steps. Give steps or epochs, not both; default 1 epoch. */
  steps?: number;
  epochs?: number;
  /** Default 8. */
  batchSize?: number;
  /** Peak learning rate. Default 1e-3. */
  learningRate?: number;
  /** Learning rate the cosine decays to. Default 0. */
  minLearningRate?: number;
  /** AdamW's decoupled weight decay. Default 0. */
  weightDecay?: number;
  /** Linear warmup steps. Default 5% of the steps (at most 100). */
  warmupSteps?: number;
  /** Global gradient-norm clip. Default 1. */
  clipNorm?: number;
  /** Longest example in tokens; longer ones are truncated (format.ts). Default: the model's positions. */
  maxTokens?: number;
  /** Share of rows held out for the eval loss. Default 0.1; at least one row when there are two or more; 0: none. */
  evalFraction?: number;
  /** Also measure the eval loss every this many steps (it is always measured at each checkpoint). */
  evalEvery?: number;
  /** Default 0. */
  seed?: number;
  /** K snapshots of the LoRA weights at evenly spaced steps, the last being the final step. Default 4. */
  checkpoints?: number;
  onProgress?: (p: TrainProgress) => void;
  signal?: AbortSignal;
}

export interface TrainLoraHyperparameters {
  rank: number;
  alpha: number;
  targets: string[];
  steps: number;
  epochs: number | null;
  batchSize: number;
  learningRate: number;
  minLearningRate: number;
  schedule: 'linear-warmup-cosine';
  warmupSteps: number;
  optimizer: 'adamw';
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  clipNorm: number;
  maxTokens: number;
  evalFraction: number;
  checkpoints: number;
  promptFormat: string;
}

export interface LossPoint {
  step: number;
  loss: number;
  evalLoss?: number;
}

/** What a training run used and produced, in JSON-safe values (no bigints), for the manifest file and its hash. */
export interface TrainingManifest {
  baseModel: string;
  /** sha256 (0x…) over the sorted lines `${contributionId}\t${rowIndex}\t${rowHash}\n` of every row used (train and eval). */
  rowsHash: string;
  rows: number;
  trainRows: number;
  evalRows: number;
  truncatedRows: number;
  hyperparameters: TrainLoraHyperparameters;
  seed: number;
  steps: number;
  checkpointSteps: number[];
  lossCurve: LossPoint[];
  initialEvalLoss: number | null;
  evalLoss: number | null;
}

export interface TrainingExampleRecord {
  contributionId: bigint;
  rowIndex: number;
  /** Tokens of the example as trained (after truncation). */
  tokens: number;
  /** Its mean loss over its target tokens under the final adapter. */
  loss: number;
  truncated: boolean;
}

export interface TrainLoraResult {
  adapter: LoraAdapter;
  /** K snapshots; the last is at the final step and equals `adapter`. */
  checkpoints: { step: number; adapter: LoraAdapter }[];
  lossCurve: LossPoint[];
  /** Held-out loss before training and after it; undefined without an eval set. */
  initialEvalLoss?: number;
  evalLoss?: number;
  /** Every training row's loss under the final adapter, in canonical (contribution, row) order. */
  trainExamples: TrainingExampleRecord[];
  /** The held-out rows, canonical order. */
  evalExamples: { contributionId: bigint; rowIndex: number }[];
  manifest: TrainingManifest;
}

interface Prepared extends Example {
  source: TrainingRow;
}

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPSILON = 1e-8;

export async function trainLora(opts: TrainLoraOptions): Promise<TrainLoraResult> {
  const { model, tokenizer } = opts;
  const cfg = model.config;
  const rank = opts.rank ?? 8;
  const alpha = opts.alpha ?? 2 * rank;
  const targets = opts.targets ?? ['c_attn'];
  const batchSize = opts.batchSize ?? 8;
  const learningRate = opts.learningRate ?? 1e-3;
  const minLearningRate = opts.minLearningRate ?? 0;
  const weightDecay = opts.weightDecay ?? 0;
  const clipNorm = opts.clipNorm ?? 1;
  const maxTokens = opts.maxTokens ?? cfg.nPositions;
  const evalFraction = opts.evalFraction ?? 0.1;
  const seed = opts.seed ?? 0;
  const K = opts.checkpoints ?? 4;
  const baseModel = opts.baseModel ?? '';

  const positiveInt = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) throw new TrainingError(`${name} must be a positive integer, got ${v}`);
  };
  positiveInt('rank', rank);
  positiveInt('batch size', batchSize);
  positiveInt('checkpoints', K);
  if (!Number.isInteger(seed) || seed < 0) throw new TrainingError(`seed must be a non-negative integer, got ${seed}`);
  if (!(alpha > 0)) throw new TrainingError(`alpha must be positive, got ${alpha}`);
  if (!(learningRate > 0)) throw new TrainingError(`learning rate must be positive, got ${learningRate}`);
  if (!(evalFraction >= 0 && evalFraction < 1)) throw new TrainingError(`eval fraction must be in [0, 1), got ${evalFraction}`);
  if (!Number.isInteger(maxTokens) || maxTokens < 2 || maxTokens > cfg.nPositions) {
    throw new TrainingError(`maxTokens must be an integer in [2, ${cfg.nPositions}] (the model's positions), got ${maxTokens}`);
  }
  if (!Number.isInteger(tokenizer.eosToken) || tokenizer.eosToken < 0 || tokenizer.eosToken >= cfg.vocabSize) {
    throw new TrainingError(`the tokenizer's EOS token ${tokenizer.eosToken} is outside the model's vocabulary of ${cfg.vocabSize}`);
  }
  if (opts.steps !== undefined && opts.epochs !== undefined) throw new TrainingError('give steps or epochs, not both');
  if (opts.examples.length === 0) throw new TrainingError('there are no rows to train on', { details: 'the datanet version has no accepted rows with content' });

  // Canonical order, then tokens.
  const rows = [...opts.examples].sort((x, y) => (x.contributionId < y.contributionId ? -1 : x.contributionId > y.contributionId ? 1 : x.rowIndex - y.rowIndex));
  for (let i = 1; i < rows.length; i++) {
    if (rows[i]!.contributionId === rows[i - 1]!.contributionId && rows[i]!.rowIndex === rows[i - 1]!.rowIndex) {
      throw new TrainingError(`row ${rows[i]!.rowIndex} of contribution ${rows[i]!.contributionId} is given twice`);
    }
  }
  const prepared: Prepared[] = rows.map((source) => {
    const ex = toExample(source.row, tokenizer, maxTokens);
    const bad = ex.tokens.find((t) => !Number.isInteger(t) || t < 0 || t >= cfg.vocabSize);
    if (bad !== undefined) {
      throw new TrainingError(`row ${source.rowIndex} of contribution ${source.contributionId} has token ${bad}, outside the model's vocabulary of ${cfg.vocabSize}`, {
        details: 'the tokenizer does not belong to this model',
      });
    }
    return { ...ex, source };
  });

  // The held-out split.
  const n = prepared.length;
  const nEval = evalFraction > 0 && n >= 2 ? Math.min(n - 1, Math.max(1, Math.round(n * evalFraction))) : 0;
  const isEval = new Uint8Array(n);
  for (const i of seededPermutation(n, mixSeed(seed, 1)).slice(0, nEval)) isEval[i] = 1;
  const train = prepared.filter((_, i) => !isEval[i]);
  const held = prepared.filter((_, i) => isEval[i]);

  const batchesPerEpoch = Math.ceil(train.length / batchSize);
  let steps: number;
  if (opts.steps !== undefined) {
    positiveInt('steps', opts.steps);
    steps = opts.steps;
  } else {
    const epochs = opts.epochs ?? 1;
    positiveInt('epochs', epochs);
    steps = epochs * batchesPerEpoch;
  }
  const warmupSteps = opts.warmupSteps ?? Math.min(100, Math.floor(steps * 0.05));
  const lrAt = warmupCosine({ peak: learningRate, warmupSteps, totalSteps: steps, floor: minLearningRate });
  const checkpointSteps = [...new Set(Array.from({ length: K }, (_, k) => Math.round(((k + 1) * steps) / K)))].filter((s) => s >= 1);
  const evalEvery = opts.evalEvery;
  if (evalEvery !== undefined) positiveInt('evalEvery', evalEvery);

  // LoRA weights as variables; the initial tensors from createLora are handed over and freed.
  const init = createLora(cfg, { r: rank, alpha, targets, seed, baseModel });
  const config: LoraConfig = init.config;
  const scale = loraScale(config);
  const vars = new Map<string, { a: Variable; b: Variable }>();
  const named = new Map<string, Variable>();
  for (const [module, w] of init.modules) {
    const a = tf.variable(w.a, true);
    const b = tf.variable(w.b, true);
    w.a.dispose();
    w.b.dispose();
    vars.set(module, { a, b });
    named.set(`${module}.lora_A`, a);
    named.set(`${module}.lora_B`, b);
  }
  const varList = [...named.values()];
  const hook: LinearHook = {
    delta(module, x) {
      const w = vars.get(module);
      return w ? (tf.mul(tf.matMul(tf.matMul(x, w.a), w.b), scale) as Tensor2D) : null;
    },
  };
  const snapshot = (): LoraAdapter => ({
    config: { ...config, target_modules: [...config.target_modules] },
    modules: new Map<string, LoraWeights>([...vars].map(([m, w]) => [m, { a: tf.clone(w.a) as Tensor2D, b: tf.clone(w.b) as Tensor2D }])),
  });
  const padId = tokenizer.eosToken;
  const evaluate = (): number | undefined => (held.length ? exampleLosses(model, hook, held, batchSize, padId).mean : undefined);

  const checkpoints: { step: number; adapter: LoraAdapter }[] = [];
  const lossCurve: LossPoint[] = [];
  let adapter: LoraAdapter | undefined;
  let finished = false;
  let optimizer: AdamW | undefined;
  try {
    const opt = (optimizer = createAdamW(named, { beta1: BETA1, beta2: BETA2, epsilon: EPSILON, weightDecay, clipNorm }));
    const initialEvalLoss = evaluate();
    const started = performance.now();
    let tokensSeen = 0;
    let epoch = 0;
    let order: number[] = [];
    let cursor = 0;
    for (let step = 1; step <= steps; step++) {
      if (opts.signal?.aborted) throw new TrainingAbortedError(`training was cancelled at step ${step - 1} of ${steps}`, { cause: opts.signal.reason });
      if (cursor >= order.length) {
        order = seededPermutation(train.length, mixSeed(seed, 2, epoch++));
        cursor = 0;
      }
      const chunk = order.slice(cursor, cursor + batchSize).map((i) => train[i]!);
      cursor += batchSize;
      const batch = padBatch(chunk, padId);
      const lr = lrAt(step - 1);
      const loss = tf.tidy(() => {
        const targetsT = tf.tensor2d(batch.targets, [chunk.length, batch.length], 'int32') as Tensor2D;
        const maskT = tf.tensor2d(batch.mask, [chunk.length, batch.length], 'float32') as Tensor2D;
        const { value, grads } = tf.variableGrads(() => maskedCrossEntropy(forward(model, batch.inputs, { hook }).logits, targetsT, maskT).loss, varList);
        const byName: Record<string, tf.Tensor> = {};
        for (const [name, v] of named) byName[name] = grads[v.name]!;
        opt.step(byName, lr);
        return value.dataSync()[0]!;
      });
      tokensSeen += batch.realTokens;
      if (!Number.isFinite(loss)) {
        throw new TrainingError(`the training loss became ${loss} at step ${step}`, { details: `try a smaller learning rate than ${learningRate}` });
      }
      const isCheckpoint = checkpointSteps.includes(step);
      const evalLoss = isCheckpoint || (evalEvery !== undefined && step % evalEvery === 0) ? evaluate() : undefined;
      if (isCheckpoint) checkpoints.push({ step, adapter: snapshot() });
      const point: LossPoint = evalLoss === undefined ? { step, loss } : { step, loss, evalLoss };
      lossCurve.push(point);
      const elapsed = (performance.now() - started) / 1000;
      opts.onProgress?.({
        ...point,
        steps,
        learningRate: lr,
        tokensPerSecond: elapsed > 0 ? tokensSeen / elapsed : 0,
        etaSeconds: (elapsed / step) * (steps - step),
      });
      // Let the event loop run (progress output, cancellation, the HTTP server in the same process).
      await new Promise<void>((resolve) => setImmediate(resolve));
    }

    adapter = snapshot();
    const evalLoss = held.length ? lossCurve.at(-1)!.evalLoss : undefined;
    const finalHook = adapterHook(adapter);
    const trainLosses = exampleLosses(model, finalHook, train, batchSize, padId).losses;
    const trainExamples = train.map((e, i) => ({
      contributionId: e.source.contributionId,
      rowIndex: e.source.rowIndex,
      tokens: e.tokens.length,
      loss: trainLosses[i]!,
      truncated: e.truncated,
    }));
    const rowsHash = hashRows(rows);
    const hyperparameters: TrainLoraHyperparameters = {
      rank,
      alpha,
      targets: [...targets],
      steps,
      epochs: opts.steps === undefined ? (opts.epochs ?? 1) : null,
      batchSize,
      learningRate,
      minLearningRate,
      schedule: 'linear-warmup-cosine',
      warmupSteps,
      optimizer: 'adamw',
      beta1: BETA1,
      beta2: BETA2,
      epsilon: EPSILON,
      weightDecay,
      clipNorm,
      maxTokens,
      evalFraction,
      checkpoints: K,
      promptFormat: PROMPT_FORMAT,
    };
    const result: TrainLoraResult = {
      adapter,
      checkpoints,
      lossCurve,
      ...(initialEvalLoss === undefined ? {} : { initialEvalLoss }),
      ...(evalLoss === undefined ? {} : { evalLoss }),
      trainExamples,
      evalExamples: held.map((e) => ({ contributionId: e.source.contributionId, rowIndex: e.source.rowIndex })),
      manifest: {
        baseModel,
        rowsHash,
        rows: n,
        trainRows: train.length,
        evalRows: held.length,
        truncatedRows: prepared.filter((e) => e.truncated).length,
        hyperparameters,
        seed,
        steps,
        checkpointSteps: checkpoints.map((c) => c.step),
        lossCurve,
        initialEvalLoss: initialEvalLoss ?? null,
        evalLoss: evalLoss ?? null,
      },
    };
    finished = true;
    return result;
  } finally {
    optimizer?.dispose();
    for (const v of varList) v.dispose();
    if (!finished) {
      for (const c of checkpoints) disposeLora(c.adapter);
      if (adapter) disposeLora(adapter);
    }
  }
}

/** sha256 over the rows' (contributionId, rowIndex, rowHash) lines, rows already in canonical order. */
export function hashRows(rows: readonly Pick<TrainingRow, 'contributionId' | 'rowIndex' | 'rowHash'>[]): string {
  const sorted = [...rows].sort((x, y) => (x.contributionId < y.contributionId ? -1 : x.contributionId > y.contributionId ? 1 : x.rowIndex - y.rowIndex));
  const h = createHash('sha256');
  for (const r of sorted) h.update(`${r.contributionId}\t${r.rowIndex}\t${r.rowHash.toLowerCase()}\n`);
  return `0x${h.digest('hex')}`;
}
