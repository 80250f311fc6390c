// `tributary attribution eval`: measures how well each attribution method predicts what retraining
// without some of the data actually does (the linear datamodeling score), whether it finds mislabeled
// rows (AUC), and whether it credits a planted fact to the one contributor who wrote it.
//
// 1. Generate the task (task.ts) and train the attributed adapter on every row, saving checkpoints.
// 2. Sketch every training row and query at every checkpoint, and score with each method.
// 3. Retrain on M random half-subsets with several seeds each (child processes, retrainPool.ts), and
//    record each query's target log-probability: the ground truth.
// 4. Per method: LDS = mean over queries of Spearman(Σ_{i∈subset} score(q, i), log p(target | subset model)),
//    with a bootstrap interval over queries; AUC for the flipped rows of −(each row's score on all the
//    held-out queries, every query scaled to unit spread), as DataInf evaluates detection (influence on
//    clean validation data; a mislabeled row works against it); planted recall = share of planted-fact queries whose
//    positive attribution goes more than half to the planting contributor.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadModel, readTokenizer, tf, toExample, type Tokenizer } from '../../serving/index.ts';
import { createProjection, sketchSpec } from '../influence/projection.ts';
import { createScorer, type InfluenceMethod } from '../influence/scorers.ts';
import { combineSignals, DEFAULT_INFLUENCE_METHOD } from '../influence/combine.ts';
import { buildSpanCorpus } from '../spans/spanCorpus.ts';
import { findSpans } from '../spans/findSpans.ts';
import { sketchExamples } from '../influence/sketch.ts';
import type { EvalConfig } from './evalConfig.ts';
import { auc, bootstrapMean, spearman, type MeanInterval } from './metrics.ts';
import { createRandom } from './random.ts';
import { disposeRun, queryLogProbs, trainOn } from './retrain.ts';
import { runRetrainPool } from './retrainPool.ts';
import type { WorkerLine } from './retrainWorker.ts';
import { generateEvalTask, type EvalTask } from './task.ts';

export const EVAL_METHODS = ['random', 'same-entity rule', 'grad-dot', 'tracin', 'datainf', 'trak', 'span matching', 'combined'] as const;
export type EvalMethod = (typeof EVAL_METHODS)[number];

export interface MethodResult {
  method: EvalMethod;
  lds: number;
  ldsInterval: [number, number];
  auc: number;
  plantedRecall: number;
  /** Wall time of the method's own work: its sketches (shared ones counted in full) and scoring. */
  seconds: number;
}

export interface EvalReport {
  seed: number;
  rows: number;
  flippedRows: number;
  queries: number;
  plantedQueries: number;
  subsets: number;
  seedsPerSubset: number;
  /** Mean over queries of Spearman between two training seeds' log-probabilities on the same subsets. */
  noiseCeiling: MeanInterval;
  /** Mean target log-probability of the queries under the base model, and under the adapter trained on every row. */
  baseLogProb: number;
  fullLogProb: number;
  /** Share of queries whose most probable label (of the task's labels) is right under the full adapter. */
  fullAccuracy: number;
  methods: MethodResult[];
  seconds: number;
}

export interface RunEvalOptions {
  config: EvalConfig;
  baseModelDir: string;
  workers: number;
  onStage?: (stage: string) => void;
  onProgress?: (done: number, total: number) => void;
  /**
   * A file keeping the retrained subsets' log-probabilities, reused when the task, training and subsets
   * are the same (re-scoring methods without retraining). Default: none.
   */
  groundTruthCache?: string;
}

export async function runEval(opts: RunEvalOptions): Promise<EvalReport> {
  const started = performance.now();
  const { config } = opts;
  const task = generateEvalTask(config.task);
  const n = task.rows.length;
  const m = task.queries.length;
  const model = loadModel(opts.baseModelDir);
  const tokenizer = readTokenizer(opts.baseModelDir);
  const ctx = { model, tokenizer, task, training: config.training };

  // Ground truth first (child processes), overlapping nothing else: two cores are all there is.
  opts.onStage?.(`retraining ${config.subsets} subsets × ${config.seedsPerSubset} seeds`);
  const subsets = halfSubsets(n, config.subsets, config.task.seed);
  const jobs = subsets.flatMap((rows, s) => Array.from({ length: config.seedsPerSubset }, (_, k) => ({ subset: s, seed: 1000 + s * config.seedsPerSubset + k, rows })));
  const cacheKey = JSON.stringify({ task: config.task, training: config.training, subsets: config.subsets, seeds: config.seedsPerSubset, base: opts.baseModelDir });
  const cached = opts.groundTruthCache && existsSync(opts.groundTruthCache) ? (JSON.parse(readFileSync(opts.groundTruthCache, 'utf8')) as { key: string; lines: WorkerLine[] }) : undefined;
  const lines =
    cached?.key === cacheKey
      ? cached.lines
      : await runRetrainPool({ baseModelDir: opts.baseModelDir, task: config.task, training: config.training, jobs, workers: opts.workers, ...(opts.onProgress ? { onResult: (_l, d, t) => opts.onProgress!(d, t) } : {}) });
  if (opts.groundTruthCache && cached?.key !== cacheKey) writeFileSync(opts.groundTruthCache, JSON.stringify({ key: cacheKey, lines }));
  const perSeed = Array.from({ length: config.seedsPerSubset }, () => Array.from({ length: config.subsets }, () => new Float64Array(m)));
  for (const line of lines) perSeed[line.seed - 1000 - line.subset * config.seedsPerSubset]![line.subset] = Float64Array.from(line.logProbs);
  const truth = Array.from({ length: config.subsets }, (_, s) => Float64Array.from({ length: m }, (_, q) => perSeed.reduce((acc, seed) => acc + seed[s]![q]!, 0) / config.seedsPerSubset));
  const ceiling = Array.from({ length: m }, (_, q) => spearman(perSeed[0]!.map((v) => v[q]!), perSeed[1 % config.seedsPerSubset]!.map((v) => v[q]!)));

  // The attributed run.
  opts.onStage?.('training the attributed adapter on every row');
  const lrAt = new Map<number, number>();
  const full = await trainOn(ctx, task.rows.map((_, i) => i), config.fullSeed, (step, lr) => lrAt.set(step, lr));
  const baseLogProb = mean(queryLogProbs(ctx));
  const fullLogProb = mean(queryLogProbs(ctx, full.adapter));
  const fullAccuracy = labelAccuracy(ctx.model, tokenizer, task, full.adapter);

  // Sketches at every checkpoint.
  opts.onStage?.(`sketching ${n} rows and ${m} queries at ${full.checkpoints.length} checkpoints`);
  const spec = sketchSpec(full.adapter, { seed: config.projectionSeed, width: config.sketchWidth });
  const projection = createProjection(spec);
  const trainExamples = task.rows.map((r) => toExample(r.row, tokenizer, model.config.nPositions));
  const queryExamples = task.queries.map((q) => toExample(q.row, tokenizer, model.config.nPositions));
  const sketchSeconds: number[] = [];
  const sketches = full.checkpoints.map((c) => {
    const t0 = performance.now();
    const train = sketchExamples({ model, adapter: c.adapter, projection, examples: trainExamples, padId: tokenizer.eosToken });
    const query = sketchExamples({ model, adapter: c.adapter, projection, examples: queryExamples, padId: tokenizer.eosToken });
    sketchSeconds.push((performance.now() - t0) / 1000);
    return { step: c.step, learningRate: lrAt.get(c.step) ?? 0, values: train.values, queries: query.values };
  });
  projection.dispose();
  disposeRun(full);

  opts.onStage?.('scoring');
  const masks = tf.tensor2d(
    Float32Array.from({ length: config.subsets * n }, (_, k) => (subsets[Math.floor(k / n)]!.includes(k % n) ? 1 : 0)),
    [config.subsets, n],
  );
  const methods: MethodResult[] = [];
  const computed = new Map<EvalMethod, { scores: Float32Array; seconds: number }>();
  for (const method of EVAL_METHODS) {
    const t0 = performance.now();
    let scores: Float32Array;
    let extra = 0;
    if (method === 'span matching') {
      scores = spanScores(task, trainExamples.map((e) => e.tokens), queryExamples.map((e) => e.tokens));
    } else if (method === 'combined') {
      const infl = computed.get(DEFAULT_INFLUENCE_METHOD)!;
      const span = computed.get('span matching')!;
      scores = combineSignals(infl.scores, span.scores, m, n, config.spanWeight);
      extra = infl.seconds + span.seconds;
    } else if (method === 'random') {
      const rnd = createRandom(config.task.seed + 7);
      scores = Float32Array.from({ length: m * n }, () => rnd.next() - 0.5);
    } else if (method === 'same-entity rule') {
      scores = Float32Array.from({ length: m * n }, (_, k) => (task.rows[k % n]!.entity === task.queries[Math.floor(k / n)]!.entity ? 1 : 0));
    } else {
      const scorer = createScorer({ method: method as InfluenceMethod, spec, n, checkpoints: sketches });
      scores = scorer.score(scorer.checkpointsUsed.map((c) => sketches[c]!.queries), m);
      extra = scorer.checkpointsUsed.reduce((s, c) => s + sketchSeconds[c]!, 0);
      scorer.dispose();
    }
    computed.set(method, { scores, seconds: (performance.now() - t0) / 1000 + extra });
    const lds = ldsOf(scores, masks, truth, m, n);
    methods.push({
      method,
      lds: lds.mean,
      ldsInterval: [lds.low, lds.high],
      auc: mislabeledAuc(scores, task, m, n),
      plantedRecall: plantedRecall(scores, task, m, n),
      seconds: (performance.now() - t0) / 1000 + extra,
    });
  }
  masks.dispose();
  return {
    seed: config.task.seed,
    rows: n,
    flippedRows: task.rows.filter((r) => r.flipped).length,
    queries: m,
    plantedQueries: task.queries.filter((q) => q.plantedBy !== undefined).length,
    subsets: config.subsets,
    seedsPerSubset: config.seedsPerSubset,
    noiseCeiling: bootstrapMean(ceiling, { seed: 1 }),
    baseLogProb,
    fullLogProb,
    fullAccuracy,
    methods,
    seconds: (performance.now() - started) / 1000,
  };
}

function mean(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]!;
  return s / v.length;
}

/** M random subsets of exactly ⌊n/2⌋ rows each, sorted, from the task seed. */
export function halfSubsets(n: number, M: number, seed: number): number[][] {
  const rnd = createRandom(seed * 7919 + 13);
  const all = Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: M }, () => rnd.shuffle(all).slice(0, Math.floor(n / 2)).sort((a, b) => a - b));
}

/** Per query, Spearman over subsets between the summed scores of the subset's rows and the retrained log-probability. */
function ldsOf(scores: Float32Array, masks: tf.Tensor2D, truth: Float64Array[], m: number, n: number): MeanInterval {
  const predicted = tf.tidy(() => tf.matMul(masks, tf.tensor2d(scores, [m, n]), false, true).dataSync() as Float32Array); // (M, m)
  const M = truth.length;
  const per = Array.from({ length: m }, (_, q) =>
    spearman(
      Float64Array.from({ length: M }, (_, s) => predicted[s * m + q]!),
      Float64Array.from({ length: M }, (_, s) => truth[s]![q]!),
    ),
  );
  return bootstrapMean(per, { seed: 2 });
}

/** Span evidence per (query, row): the length of every kept span, added to each row it occurs in. */
export const EVAL_SPAN_OPTIONS = { minLength: 4, maxFrequency: 64, maxOccurrences: 1_000_000 };

function spanScores(task: EvalTask, rowTokens: number[][], queryTokens: number[][]): Float32Array {
  const n = task.rows.length;
  const corpus = buildSpanCorpus(task.rows.map((r, i) => ({ contributionId: r.contributionId, rowIndex: r.rowIndex, contributor: task.contributors[r.contributor]!, owned: true, tokens: rowTokens[i]! })));
  const rowOf = new Map(task.rows.map((r) => [`${r.contributionId}:${r.rowIndex}`, r.index]));
  const out = new Float32Array(queryTokens.length * n);
  queryTokens.forEach((tokens, q) => {
    for (const span of findSpans(corpus, tokens, EVAL_SPAN_OPTIONS).spans) {
      for (const o of span.occurrences) out[q * n + rowOf.get(`${o.contributionId}:${o.rowIndex}`)!]! += span.length;
    }
  });
  return out;
}

/** Each query's scores scaled to unit standard deviation, so every query weighs the same. */
function scaledRows(scores: Float32Array, m: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let q = 0; q < m; q++) {
    let s = 0;
    let ss = 0;
    for (let i = 0; i < n; i++) {
      s += scores[q * n + i]!;
      ss += scores[q * n + i]! ** 2;
    }
    const sd = Math.sqrt(Math.max(ss / n - (s / n) ** 2, 0)) || 1;
    for (let i = 0; i < n; i++) out[q * n + i] = scores[q * n + i]! / sd;
  }
  return out;
}

function mislabeledAuc(scores: Float32Array, task: EvalTask, m: number, n: number): number {
  const scaled = scaledRows(scores, m, n);
  const harm = Float64Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (let q = 0; q < m; q++) s -= scaled[q * n + i]!;
    return s;
  });
  return auc(harm, task.rows.map((r) => r.flipped));
}

function plantedRecall(scores: Float32Array, task: EvalTask, m: number, n: number): number {
  const planted = task.queries.filter((q) => q.plantedBy !== undefined);
  if (!planted.length) return Number.NaN;
  let hits = 0;
  for (const q of planted) {
    const mass = new Float64Array(task.contributors.length);
    for (let i = 0; i < n; i++) mass[task.rows[i]!.contributor]! += Math.max(0, scores[q.index * n + i]!);
    const total = mass.reduce((s, x) => s + x, 0);
    if (total > 0 && mass[q.plantedBy!]! / total > 0.5) hits++;
  }
  return hits / planted.length;
}

/** Share of queries whose label (among the task's labels) is the most probable under the adapter. */
function labelAccuracy(model: Parameters<typeof queryLogProbs>[0]['model'], tokenizer: Tokenizer, task: EvalTask, adapter: Parameters<typeof queryLogProbs>[1]): number {
  let right = 0;
  for (const q of task.queries) {
    const variant: EvalTask = { ...task, queries: task.labels.map((label, index) => ({ index, entity: q.entity, row: { text: q.row.text, label } })) };
    const lp = queryLogProbs({ model, tokenizer, task: variant }, adapter);
    if (task.labels[lp.indexOf(Math.max(...lp))] === q.row.label) right++;
  }
  return right / task.queries.length;
}
