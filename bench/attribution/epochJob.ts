// The epoch benchmark's job: one epoch's attribution of `inferences` inferences over a training run of
// `examples` examples, stage by stage along the epoch job's own code paths (attributeEpoch.ts and
// modelAttribution.ts), timed per stage. It runs in its own process (epoch.ts starts it with the inputs
// prepareEpoch wrote), so that its peak memory is the epoch's.
//
// What runs is the platform's code: the training run's sketches read from the content store
// (loadTrainingSketches, only the checkpoint the default method scores with), createScorerAsync with the default
// method, sketchExamplesAsync on the base model for each chunk of inferences, the scorer, findSpans on the loaded
// span index, combineSignals, the per-contribution sums (createIndexedSums), quantizeWeights (with its
// default cap per inference), flagNegativeContributions, buildPayoutBatch, and storePayoutBatchFiles into
// the content store. Two pieces are copies, because attribute() itself needs ClickHouse: turning an
// inference into an example (its queryExample) and the span loop. Beside the epoch, not in its total: the
// per-contribution sums as first written (contributionSums.ts, the side-by-side check that both agree), a
// second signer's verification of the stored batch, and the same batch without the cap per inference
// (every positive contribution: millions of score-file lines), built, stored and verified. Not measured:
// the ClickHouse reads and writes (attribution_scores gets one row per inference and contribution) and the
// chain.
import { readFileSync } from 'node:fs';
import type { Address, Hex } from 'viem';
import {
  buildPayoutBatch,
  checkpointsToRead,
  combineSignals,
  createProjection,
  createScorerAsync,
  DEFAULT_INFLUENCE_METHOD,
  DEFAULT_MAX_ENTRIES_PER_INFERENCE,
  DEFAULT_SPAN_WEIGHT,
  EVAL_SPAN_OPTIONS,
  flagNegativeContributions,
  loadPayoutBatchFiles,
  loadTrainingSketches,
  openSpanIndex,
  quantizeWeights,
  sketchExamplesAsync,
  storePayoutBatchFiles,
  verifyPayoutBatch,
  type AttributedSpan,
  type AttributionQuery,
  type ComputedPayoutBatch,
  type ContributionAttribution,
  type InferenceAttribution,
  type InferencePool,
  type ScoreEntry,
} from '../../attribution/index.ts';
import { openFsContentStore, type ContentStore } from '../../schema/index.ts';
import { createLora, disposeLora, disposeModel, loadModel, readTokenizer, tf, tokensToExample, useTensorBackend, type TensorBackend, type Tokenizer } from '../../serving/index.ts';
import { createIndexedSums, sumsAsWritten } from './contributionSums.ts';
import type { EpochInputs } from './epochPrepare.ts';
import type { RowOwner } from './epochWorkload.ts';
import { peakRssMiB, timed, type Lap } from './measure.ts';
import { BENCH_LORA } from './sketchShapes.ts';

/** The epoch's stages, in order. */
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
  'store batch files',
] as const;
export type EpochStage = (typeof EPOCH_STAGES)[number];
/** Timed beside the epoch, not part of its total. */
export const ALT_STAGES = ['sums (as first written)', 'verify stored batch', 'uncapped: quantize', 'uncapped: payout batch', 'uncapped: store', 'uncapped: verify'] as const;
export type AltStage = (typeof ALT_STAGES)[number];

/** One payout batch as the job built it: its score file and what its verification found. */
export interface BatchFacts {
  scoreEntries: number;
  scoreFileBytes: number;
  scoreFileParts: number;
  scoreFileHash: string;
  root: string;
  accountsPaid: number;
  /** The rebuild from the stored files matched the batch (verifyPayoutBatch). */
  verified: boolean;
}

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
    flags: number;
    /** Sketch parts read for the scorer, and their checkpoints. */
    sketchCheckpointsRead: number;
    maxEntriesPerInference: number;
  };
  /** The epoch's batch (score entries capped per inference) and the same batch uncapped; null when it failed. */
  batch: BatchFacts | null;
  uncapped: BatchFacts | null;
  /** The indexed sums equal the ones as first written, for every inference (bit for bit). */
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
  const stages = Object.fromEntries([...EPOCH_STAGES, ...ALT_STAGES].map((s) => [s, lap0()])) as EpochJobResult['stages'];
  const { queries, owners: rawOwners } = JSON.parse(readFileSync(inputs.workloadFile, 'utf8')) as { queries: AttributionQuery[]; owners: [string, number, Address, boolean][] };
  const owners: RowOwner[] = rawOwners.map(([c, , account, owned]) => ({ contributionId: BigInt(c), account, owned }));
  // Training example i's (contribution, row), as modelAttribution maps span occurrences to examples.
  const rowOf = new Map(rawOwners.map(([c, row], i) => [`${c}/${row}`, i]));
  const n = owners.length;
  // Stands for loadCheckpointAdapter: the gradients' cost depends on the adapter's shape, not its values.
  const model = loadModel(inputs.modelDir);
  const tokenizer = readTokenizer(inputs.modelDir);
  const adapter = createLora(model.config, { ...BENCH_LORA, targets: [...BENCH_LORA.targets], seed: 3, randomB: 0.02 });
  const projection = createProjection(inputs.spec);
  const content = await openFsContentStore({ root: inputs.contentRoot });

  // ---- Opening the training run (openModelAttribution): its sketches, the scorer, the span index.
  log('loading the training sketches');
  const { checkpoints, read } = await timed(stages['load training sketches'], async () => {
    const stored = await loadTrainingSketches(content, inputs.runManifestHash);
    if (!stored) throw new Error(`no sketches of run ${inputs.runManifestHash} in ${inputs.contentRoot}`);
    if (stored.info.examples.length !== n) throw new Error(`the stored sketches list ${stored.info.examples.length} examples, the workload ${n}`);
    const read = checkpointsToRead(DEFAULT_INFLUENCE_METHOD, stored.info.checkpoints.length);
    const checkpoints = [];
    for (const c of read) checkpoints.push({ ...stored.info.checkpoints[c]!, values: await stored.readCheckpoint(c) });
    return { checkpoints, read };
  });
  log('scorer setup');
  const scorer = await timed(stages['scorer setup'], () => createScorerAsync({ method: DEFAULT_INFLUENCE_METHOD, spec: inputs.spec, n, checkpoints }));
  checkpoints.length = 0;
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
    const sketched = await timed(stages['query sketching'], async () => {
      const out: Float32Array[] = [];
      for (const _ of scorer.checkpointsUsed) out.push((await sketchExamplesAsync({ model, adapter, projection, examples, padId: tokenizer.eosToken, batchSize: inputs.batchSize })).values);
      return out;
    });
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
    const contributions = await timed(stages['sums per contribution'], () => part.map((_, q) => indexedSums(q, influence, spanScores, combined)));
    if (inputs.beside !== false) {
      const asWritten = await timed(stages['sums (as first written)'], () => part.map((_, q) => sumsAsWritten(q, n, owners, influence, spanScores, combined)));
      sumsAgree &&= contributions.every((list, q) => sameSums(list, asWritten[q]!));
    }
    part.forEach((query, q) => attributed.push({ requestId: query.requestId, contributions: contributions[q]!, spans: spans[q]! }));
    if ((start / inputs.chunk) % 10 === 0) log(`  ${Math.min(queries.length, start + m)} of ${queries.length} inferences`);
  }
  scorer.dispose();
  projection.dispose();
  disposeLora(adapter);
  disposeModel(model);

  // ---- The batch (attributeEpoch step 4) and its files (the batch driver stores them before recording it).
  const pools: InferencePool[] = queries.map((q, i) => ({ requestId: q.requestId as Hex, epoch: 1n, poolAmount: 10n ** 15n + BigInt(i) * 7919n }));
  const quantize = (maxEntries: number) =>
    attributed.flatMap((a) =>
      quantizeWeights(
        a.contributions.map((c) => ({ contributionId: c.contributionId, account: c.account, score: c.score })),
        { maxEntries },
      ).map((w) => ({ requestId: a.requestId, ...w })),
    );
  log(`quantizing weights (at most ${DEFAULT_MAX_ENTRIES_PER_INFERENCE} contributions per inference)`);
  const entries: ScoreEntry[] = await timed(stages['quantize weights'], () => quantize(DEFAULT_MAX_ENTRIES_PER_INFERENCE));
  log(`flags; payout batch over ${entries.length} score entries`);
  const flags = await timed(stages.flags, () => flagNegativeContributions(attributed));
  const batch = await batchArm(content, entries, pools, { build: stages['payout batch'], store: stages['store batch files'], verify: stages['verify stored batch'] }, log);

  // ---- The same epoch without the cap: every contribution with a positive score gets a line.
  let uncapped: BatchFacts | null = null;
  if (inputs.beside !== false) {
    log('the same batch without the cap per inference');
    let uncappedEntries: ScoreEntry[] | undefined = await timed(stages['uncapped: quantize'], () => quantize(Infinity));
    uncapped = await batchArm(content, uncappedEntries, pools, { build: stages['uncapped: payout batch'], store: stages['uncapped: store'], verify: stages['uncapped: verify'] }, log);
    uncappedEntries = undefined;
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
      flags: flags.length,
      sketchCheckpointsRead: read.length,
      maxEntriesPerInference: DEFAULT_MAX_ENTRIES_PER_INFERENCE,
    },
    batch,
    uncapped,
    sumsAgree,
    maxRssMiB: peakRssMiB(),
    tensorsLeft: tf.memory().numTensors - tensors0,
  };
}

/**
 * Builds a batch from `entries`, stores its files, and verifies it as a second signer would: from the
 * stored score file (read back in parts) and the pools. A failing step is recorded on its stage and ends
 * the arm (null).
 */
async function batchArm(
  content: ContentStore,
  entries: readonly ScoreEntry[],
  pools: readonly InferencePool[],
  laps: { build: Lap & { error?: string }; store: Lap & { error?: string }; verify: Lap & { error?: string } },
  log: (line: string) => void,
): Promise<BatchFacts | null> {
  const step = async <T>(lap: Lap & { error?: string }, name: string, f: () => Promise<T> | T): Promise<T | undefined> => {
    try {
      return await timed(lap, f);
    } catch (e) {
      lap.error = message(e);
      log(`  ${name} failed: ${lap.error}`);
      return undefined;
    }
  };
  // Built and stored in a scope of its own, so that the verifier starts from the stored files alone, as a
  // second signer does, and the batch's parts can be collected meanwhile.
  const buildAndStore = async (): Promise<BatchFacts | null> => {
    const batch: ComputedPayoutBatch | undefined = await step(laps.build, 'payout batch', () => buildPayoutBatch({ scores: { epoch: 1n, entries }, pools, previous: [], fromEpoch: 1n }));
    if (!batch) return null;
    log(`  score file: ${entries.length} entries, ${batch.scoreFileSize} bytes in ${batch.scoreFile.length} parts; root ${batch.root}`);
    if (!(await step(laps.store, 'storing the batch files', () => storePayoutBatchFiles(content, batch)))) return null;
    return {
      scoreEntries: entries.length,
      scoreFileBytes: batch.scoreFileSize,
      scoreFileParts: batch.scoreFile.length,
      scoreFileHash: batch.scoreFileHash,
      root: batch.root,
      accountsPaid: batch.allocation.amounts.length,
      verified: false,
    };
  };
  const facts = await buildAndStore();
  if (!facts) return null;
  const verified = await step(laps.verify, 'verifying the stored batch', async () => {
    const files = await loadPayoutBatchFiles(content, 1n, facts.root as Hex);
    if (!files) throw new Error(`no stored files for root ${facts.root}`);
    const v = verifyPayoutBatch({
      scores: await files.readScoreFile({ checkHash: false }), // the rebuild hashes it and compares
      pools,
      previous: [],
      fromEpoch: 1n,
      claimed: { epoch: 1n, root: files.root, total: files.total, scoreFileHash: files.scoreFileHash, cumulativeTotal: files.cumulativeTotal },
    });
    if (!v.ok) throw v.error;
    return true;
  });
  facts.verified = verified === true;
  return facts;
}

export const EPOCH_RESULT_PREFIX = 'EPOCH_RESULT ';

// As a child process: `node --import tsx epochJob.ts <dir>/inputs.json` prints one result line.
// The file name is checked too: bundled with epoch.ts (see its runChild), import.meta.url is the bundle's.
if (import.meta.url === `file://${process.argv[1]}` && /epochJob\.[cm]?[jt]s$/.test(process.argv[1]!)) {
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
