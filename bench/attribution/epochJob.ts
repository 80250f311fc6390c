// The epoch benchmark's job: one epoch's attribution of `inferences` inferences over a training run of
// `examples` examples, stage by stage along the epoch job's own code paths (attributeEpoch.ts and
// modelAttribution.ts), timed per stage. It runs in its own process (epoch.ts starts it with the inputs
// prepareEpoch wrote), so that its peak memory is the epoch's.
//
// What runs is the platform's code: the sketch file read from the content store and decoded, createScorer
// with the default method, sketchExamples on the base model for each chunk of inferences, the scorer,
// findSpans on the loaded span index, combineSignals, quantizeWeights, flagNegativeContributions and
// buildPayoutBatch. Two pieces are copies, because attribute() itself needs ClickHouse: turning an
// inference into an example (its queryExample) and the span and per-contribution loops (contributionSums.ts
// also times a faster version of the latter side by side). Not measured: the ClickHouse reads and writes
// (attribution_scores gets one row per inference and contribution) and the chain.
import { readFileSync } from 'node:fs';
import type { Address, Hex } from 'viem';
import {
  allocateBatch,
  buildPayoutBatch,
  buildPayoutTree,
  combineSignals,
  createProjection,
  createScorer,
  cumulativeLeaves,
  decodeSketchFile,
  DEFAULT_INFLUENCE_METHOD,
  DEFAULT_SPAN_WEIGHT,
  EVAL_SPAN_OPTIONS,
  flagNegativeContributions,
  openSpanIndex,
  quantizeWeights,
  sketchExamples,
  type AttributedSpan,
  type AttributionQuery,
  type ContributionAttribution,
  type InferenceAttribution,
  type InferencePool,
  type ScoreEntry,
} from '../../attribution/index.ts';
import { openFsContentStore } from '../../schema/index.ts';
import { createLora, disposeLora, disposeModel, loadModel, readTokenizer, tf, tokensToExample, useTensorBackend, type TensorBackend, type Tokenizer } from '../../serving/index.ts';
import { createIndexedSums, sumsAsWritten } from './contributionSums.ts';
import type { EpochInputs } from './epochPrepare.ts';
import type { RowOwner } from './epochWorkload.ts';
import { peakRssMiB, seededValues, stopwatch, timed, type Lap } from './measure.ts';
import { BENCH_LORA } from './sketchShapes.ts';

/** The epoch's stages, in order. `sums (indexed)` is the alternative arm, not part of the epoch's total. */
export const EPOCH_STAGES = [
  'load training sketches',
  'scorer setup',
  'span index load',
  'query sketching',
  'scoring',
  'span matching',
  'combine',
  'sums per contribution',
  'quantize weights',
  'flags',
  'payout batch',
] as const;
export type EpochStage = (typeof EPOCH_STAGES)[number];
export type AltStage = 'sums (indexed)' | 'allocation + tree only';

export interface EpochJobResult {
  stages: Record<EpochStage | AltStage, Lap & { error?: string }>;
  /** Σ of the epoch's stages (EPOCH_STAGES). */
  total: Lap;
  counts: {
    inferences: number;
    examples: number;
    queryTokens: number;
    keptSpans: number;
    spanCredits: number;
    attributedContributions: number;
    scoreEntries: number;
    accountsPaid: number;
    flags: number;
    root: string | null;
  };
  /** The indexed sums equal the job's own, for every inference (bit for bit). */
  sumsAgree: boolean;
  maxRssMiB: number;
  tensorsLeft: number;
}

const lap0 = (): Lap => ({ wallMs: 0, cpuMs: 0 });
const message = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}`.slice(0, 300) : String(e));

/** Both lists hold the same contributions with the same numbers, exactly. */
function sameSums(a: readonly ContributionAttribution[], b: readonly ContributionAttribution[]): boolean {
  return a.length === b.length && a.every((x, j) => {
    const y = b[j]!;
    return x.contributionId === y.contributionId && x.account === y.account && x.rows === y.rows && x.influence === y.influence && x.spanTokens === y.spanTokens && x.score === y.score;
  });
}

/** modelAttribution.ts's queryExample: the prompt's tokens, then the output's (and end-of-text when the model stopped itself). */
function queryExample(q: AttributionQuery, tokenizer: Tokenizer, maxTokens: number) {
  const outputTokens = tokenizer.encode(q.output);
  const target = q.finishReason === 'stop' ? [...outputTokens, tokenizer.eosToken] : outputTokens;
  return { ...tokensToExample(tokenizer.encode(q.prompt), target, maxTokens), outputTokens };
}

export async function runEpochJob(inputs: EpochInputs, log: (line: string) => void = () => {}): Promise<EpochJobResult> {
  await useTensorBackend(inputs.backend as TensorBackend);
  const tensors0 = tf.memory().numTensors;
  const stages = Object.fromEntries([...EPOCH_STAGES, 'sums (indexed)', 'allocation + tree only'].map((s) => [s, lap0()])) as EpochJobResult['stages'];
  const { queries, owners: rawOwners } = JSON.parse(readFileSync(inputs.workloadFile, 'utf8')) as { queries: AttributionQuery[]; owners: [string, number, Address, boolean][] };
  const owners: RowOwner[] = rawOwners.map(([c, , account, owned]) => ({ contributionId: BigInt(c), account, owned }));
  // Training example i's (contribution, row), as modelAttribution maps span occurrences to examples.
  const rowOf = new Map(rawOwners.map(([c, row], i) => [`${c}/${row}`, i]));
  const n = owners.length;
  const k = inputs.spec.dims;
  // Stands for loadCheckpointAdapter: the gradients' cost depends on the adapter's shape, not its values.
  const model = loadModel(inputs.modelDir);
  const tokenizer = readTokenizer(inputs.modelDir);
  const adapter = createLora(model.config, { ...BENCH_LORA, targets: [...BENCH_LORA.targets], seed: 3, randomB: 0.02 });
  const projection = createProjection(inputs.spec);

  // ---- Opening the training run (openModelAttribution): its sketches, the scorer, the span index.
  log('loading the training sketches');
  let values: Float32Array;
  try {
    values = await timed(stages['load training sketches'], async () => {
      const content = await openFsContentStore({ root: inputs.contentRoot });
      const file = decodeSketchFile(await content.get(inputs.sketchHash), `sketch file ${inputs.sketchHash}`);
      return file.checkpoints.at(-1)!.values; // the default method scores at the last checkpoint
    });
  } catch (e) {
    stages['load training sketches'].error = message(e);
    log(`  failed (${stages['load training sketches'].error}); using the same synthetic values made here`);
    values = seededValues(n * k, inputs.sketchSeed + inputs.checkpoints - 1);
  }
  log('scorer setup');
  const scorer = await timed(stages['scorer setup'], () =>
    createScorer({ method: DEFAULT_INFLUENCE_METHOD, spec: inputs.spec, n, checkpoints: [{ step: inputs.checkpoints * 100, learningRate: 1e-3, values }] }),
  );
  log('span index load');
  const index = await timed(stages['span index load'], async () => {
    const ix = await openSpanIndex(inputs.spanIndexFile);
    await ix.load();
    return ix;
  });
  const indexedSums = createIndexedSums(owners);

  // ---- attribute(), a chunk of inferences at a time (attributeEpoch's loop).
  const attributed: InferenceAttribution[] = [];
  let queryTokens = 0;
  let keptSpans = 0;
  let spanCredits = 0;
  let sumsAgree = true;
  const maxTokens = model.config.nPositions;
  for (let start = 0; start < queries.length; start += inputs.chunk) {
    const part = queries.slice(start, start + inputs.chunk);
    const m = part.length;
    const examples = await timed(stages['query sketching'], () => part.map((q) => queryExample(q, tokenizer, maxTokens)));
    const sketched = await timed(stages['query sketching'], () =>
      scorer.checkpointsUsed.map(() => sketchExamples({ model, adapter, projection, examples, padId: tokenizer.eosToken, batchSize: inputs.batchSize }).values),
    );
    for (const e of examples) queryTokens += e.tokens.length;
    const influence = await timed(stages.scoring, () => scorer.scoreAsync(sketched, m));
    const spanScores = new Float32Array(m * n);
    const spans: AttributedSpan[][] = part.map(() => []);
    await timed(stages['span matching'], async () => {
      for (let q = 0; q < m; q++) {
        const output = examples[q]!.outputTokens;
        const match = await index.findSpans(output, EVAL_SPAN_OPTIONS);
        keptSpans += match.spans.length;
        for (const span of match.spans) {
          const text = tokenizer.decode(output.slice(span.start, span.start + span.length));
          for (const o of span.occurrences) {
            const i = rowOf.get(`${o.contributionId}/${o.rowIndex}`);
            if (i === undefined || !owners[i]!.owned) continue;
            spanScores[q * n + i]! += span.length;
            spanCredits++;
            spans[q]!.push({ contributionId: o.contributionId, rowIndex: o.rowIndex, start: span.start, length: span.length, text });
          }
        }
      }
    });
    const combined = await timed(stages.combine, () => combineSignals(influence, spanScores, m, n, DEFAULT_SPAN_WEIGHT));
    const contributions = await timed(stages['sums per contribution'], () => part.map((_, q) => sumsAsWritten(q, n, owners, influence, spanScores, combined)));
    const alt = await timed(stages['sums (indexed)'], () => part.map((_, q) => indexedSums(q, influence, spanScores, combined)));
    sumsAgree &&= contributions.every((list, q) => sameSums(list, alt[q]!));
    part.forEach((query, q) => attributed.push({ requestId: query.requestId, contributions: contributions[q]!, spans: spans[q]! }));
    if ((start / inputs.chunk) % 10 === 0) log(`  ${Math.min(queries.length, start + m)} of ${queries.length} inferences`);
  }
  scorer.dispose();
  projection.dispose();
  disposeLora(adapter);
  disposeModel(model);

  // ---- The batch (attributeEpoch step 4).
  log('quantizing weights');
  const entries: ScoreEntry[] = await timed(stages['quantize weights'], () =>
    attributed.flatMap((a) => quantizeWeights(a.contributions.map((c) => ({ contributionId: c.contributionId, account: c.account, score: c.score }))).map((w) => ({ requestId: a.requestId, ...w }))),
  );
  log(`flags; payout batch over ${entries.length} score entries`);
  const flags = await timed(stages.flags, () => flagNegativeContributions(attributed));
  const pools: InferencePool[] = queries.map((q, i) => ({ requestId: q.requestId as Hex, epoch: 1n, poolAmount: 10n ** 15n + BigInt(i) * 7919n }));
  let root: string | null = null;
  let accountsPaid = 0;
  try {
    const batch = await timed(stages['payout batch'], () => buildPayoutBatch({ scores: { epoch: 1n, entries }, pools, previous: [], fromEpoch: 1n }));
    root = batch.root;
    accountsPaid = batch.allocation.amounts.length;
  } catch (e) {
    stages['payout batch'].error = message(e);
    log(`  failed (${stages['payout batch'].error}); timing the allocation and the Merkle tree without the score file`);
    const tree = await timed(stages['allocation + tree only'], () => {
      const allocation = allocateBatch({ scores: { epoch: 1n, entries }, pools, fromEpoch: 1n });
      accountsPaid = allocation.amounts.length;
      return buildPayoutTree(cumulativeLeaves([], allocation.amounts));
    });
    root = tree.root;
  }

  const total = EPOCH_STAGES.reduce((t, s) => ({ wallMs: t.wallMs + stages[s].wallMs, cpuMs: t.cpuMs + stages[s].cpuMs }), lap0());
  return {
    stages,
    total,
    counts: {
      inferences: queries.length,
      examples: n,
      queryTokens,
      keptSpans,
      spanCredits,
      attributedContributions: attributed.reduce((s, a) => s + a.contributions.length, 0),
      scoreEntries: entries.length,
      accountsPaid,
      flags: flags.length,
      root,
    },
    sumsAgree,
    maxRssMiB: peakRssMiB(),
    tensorsLeft: tf.memory().numTensors - tensors0,
  };
}

export const EPOCH_RESULT_PREFIX = 'EPOCH_RESULT ';

// As a child process: `node --import tsx epochJob.ts <dir>/inputs.json` prints one result line.
if (import.meta.url === `file://${process.argv[1]}`) {
  const inputs = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as EpochInputs;
  try {
    const result = await runEpochJob(inputs, (line) => process.stderr.write(`${line}\n`));
    process.stdout.write(`${EPOCH_RESULT_PREFIX}${JSON.stringify(result)}\n`);
    process.exit(0);
  } catch (e) {
    process.stderr.write(`the epoch job failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  }
}
