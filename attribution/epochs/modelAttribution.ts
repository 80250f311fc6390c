// One training run made ready to attribute inferences to: its training examples' sketches (from the
// content store, computed if missing), a scorer over them with the platform's method, the checkpoints
// whose query sketches the scorer needs, the span indexes of its datanet versions, and who owns each
// example's row. `attribute` sketches an inference's (prompt, output) the way training rows were
// sketched, scores it against every example in one matrix product, adds span evidence, and sums per
// contribution.
//
// Credit goes to rows the run trained on (train split) and that their contribution owns: a copied row
// (owned = false) earns nothing, as DESIGN.md says, and a held-out row did not shape the model.
import type { Address, Hex } from 'viem';
import { openDatanetVersion, type DatanetVersion } from '../../schema/index.ts';
import { disposeLora, disposeModel, loadModel, readTokenizer, tokensToExample, type LoraAdapter, type Tokenizer } from '../../serving/index.ts';
import { createProjection } from '../influence/projection.ts';
import { createScorerAsync, type CheckpointTrainSketches, type InfluenceMethod } from '../influence/scorers.ts';
import { combineSignals, DEFAULT_INFLUENCE_METHOD, DEFAULT_SPAN_WEIGHT } from '../influence/combine.ts';
import { sketchExamplesAsync } from '../influence/sketch.ts';
import { versionSpanIndex } from '../spans/versionSpanIndex.ts';
import type { SpanIndex } from '../spans/spanIndex.ts';
import { EVAL_SPAN_OPTIONS } from '../eval/runEval.ts';
import { createIndexedSums } from './contributionSums.ts';
import { ensureTrainingSketches, loadCheckpointAdapter, TrainingSketchError, type TrainingSketchContext, type TrainingSketches } from './trainingSketches.ts';

export interface ModelAttributionContext extends TrainingSketchContext {
  /** Where span indexes are kept (one file per datanet version and tokenizer). */
  spanIndexDir: string;
}

export interface AttributionQuery {
  requestId: Hex;
  /** The text the model was given, and what it wrote (as the inference log holds them). */
  prompt: string;
  output: string;
  /** 'stop': the model ended the output itself, so its end-of-text token is part of what it wrote. */
  finishReason: string;
}

export interface ContributionAttribution {
  contributionId: bigint;
  account: Address;
  /** Training rows of the contribution that carry credit. */
  rows: number;
  /** Gradient influence summed over those rows (the method's units). */
  influence: number;
  /** Output tokens found verbatim in those rows, summed over spans and rows. */
  spanTokens: number;
  /** Influence and span evidence combined (combineSignals), summed over the rows: what the weights follow. */
  score: number;
}

export interface AttributedSpan {
  contributionId: bigint;
  rowIndex: number;
  /** Offset and length in the output's tokens. */
  start: number;
  length: number;
  text: string;
}

export interface InferenceAttribution {
  requestId: Hex;
  contributions: ContributionAttribution[];
  spans: AttributedSpan[];
}

export interface ModelAttribution {
  manifestHash: Hex;
  method: InfluenceMethod;
  /** Training examples scored against (the run's train split). */
  examples: number;
  attribute(queries: readonly AttributionQuery[]): Promise<InferenceAttribution[]>;
  dispose(): void;
}

export interface OpenModelAttributionOptions {
  method?: InfluenceMethod;
  spanWeight?: number;
  /** Inferences per gradient pass (default 16). */
  batchSize?: number;
}

/** Opens a training run for attribution; dispose() frees its tensors. */
export async function openModelAttribution(ctx: ModelAttributionContext, manifestHash: Hex, opts: OpenModelAttributionOptions = {}): Promise<ModelAttribution> {
  const method = opts.method ?? DEFAULT_INFLUENCE_METHOD;
  const spanWeight = opts.spanWeight ?? DEFAULT_SPAN_WEIGHT;
  const sketches = await ensureTrainingSketches(ctx, manifestHash);
  const n = sketches.records.length;
  // Each version is opened (and its root checked) once, for the row owners and for its span index.
  const versions = await Promise.all(sketches.datanets.map((d) => openDatanetVersion(ctx.clickhouse, d)));
  const owners = await rowOwners(versions, sketches);
  const tokenizer = readTokenizer(ctx.baseModelDir);
  const spanIndexes: SpanIndex[] = [];
  for (const version of versions) spanIndexes.push(await versionSpanIndex({ version, tokenizer, tokenizerKey: sketches.tokenizerKey, dir: ctx.spanIndexDir }));
  // Only the checkpoints the method scores with are read: at 100k examples each is 600 MB.
  const read = checkpointsToRead(method, sketches.file.checkpoints.length);
  const checkpoints: (CheckpointTrainSketches & { adapterHash: Hex })[] = [];
  for (const c of read) checkpoints.push({ ...sketches.file.checkpoints[c]!, values: await sketches.readCheckpoint(c) });
  const scorer = await createScorerAsync({ method, spec: sketches.file.spec, n, checkpoints });
  checkpoints.length = 0; // the scorer holds them on the backend now
  const model = loadModel(ctx.baseModelDir);
  const projection = createProjection(sketches.file.spec);
  const adapters = new Map<number, LoraAdapter>();
  try {
    // scorer.checkpointsUsed indexes the checkpoints given to it: read[j] in the run.
    for (const j of scorer.checkpointsUsed) adapters.set(j, await loadCheckpointAdapter(ctx, sketches.file.checkpoints[read[j]!]!.adapterHash));
  } catch (e) {
    for (const a of adapters.values()) disposeLora(a);
    scorer.dispose();
    projection.dispose();
    disposeModel(model);
    throw e;
  }
  const rowOf = new Map(sketches.records.map((r, i) => [`${r.contributionId}/${r.rowIndex}`, i]));
  const sums = createIndexedSums(owners);
  const maxTokens = sketches.maxTokens ?? model.config.nPositions;

  return {
    manifestHash,
    method,
    examples: n,
    async attribute(queries) {
      const m = queries.length;
      if (m === 0) return [];
      const examples = queries.map((q) => queryExample(q, tokenizer, maxTokens));
      // Read back asynchronously throughout, so the job runs on webgpu too.
      const sketched: Float32Array[] = [];
      for (const c of scorer.checkpointsUsed) {
        sketched.push((await sketchExamplesAsync({ model, adapter: adapters.get(c)!, projection, examples, padId: tokenizer.eosToken, ...(opts.batchSize ? { batchSize: opts.batchSize } : {}) })).values);
      }
      const influence = await scorer.scoreAsync(sketched, m);
      const spanScores = new Float32Array(m * n);
      const spans: AttributedSpan[][] = queries.map(() => []);
      for (let q = 0; q < m; q++) {
        const output = examples[q]!.outputTokens;
        for (const index of spanIndexes) {
          const match = await index.findSpans(output, EVAL_SPAN_OPTIONS);
          for (const span of match.spans) {
            const text = tokenizer.decode(output.slice(span.start, span.start + span.length));
            for (const o of span.occurrences) {
              const i = rowOf.get(`${o.contributionId}/${o.rowIndex}`);
              if (i === undefined || !owners[i]!.owned) continue;
              spanScores[q * n + i]! += span.length;
              spans[q]!.push({ contributionId: o.contributionId, rowIndex: o.rowIndex, start: span.start, length: span.length, text });
            }
          }
        }
      }
      const combined = combineSignals(influence, spanScores, m, n, spanWeight);
      return queries.map((query, q) => ({ requestId: query.requestId, contributions: sums(q, influence, spanScores, combined), spans: spans[q]! }));
    },
    dispose() {
      for (const a of adapters.values()) disposeLora(a);
      adapters.clear();
      scorer.dispose();
      projection.dispose();
      disposeModel(model);
    },
  };
}

/**
 * The checkpoints a method scores with (scorers.ts): grad-dot and datainf the last one, tracin and trak
 * every one.
 */
export function checkpointsToRead(method: InfluenceMethod, checkpoints: number): number[] {
  if (checkpoints < 1) throw new TrainingSketchError('the run has no sketched checkpoints');
  return method === 'grad-dot' || method === 'datainf' ? [checkpoints - 1] : Array.from({ length: checkpoints }, (_, c) => c);
}

/** An inference as an example: the prompt's tokens, then the output's (and its end-of-text when the model stopped itself). */
function queryExample(q: AttributionQuery, tokenizer: Tokenizer, maxTokens: number) {
  const outputTokens = tokenizer.encode(q.output);
  const target = q.finishReason === 'stop' ? [...outputTokens, tokenizer.eosToken] : outputTokens;
  if (target.length === 0) throw new TrainingSketchError(`inference ${q.requestId} has an empty output: nothing to attribute`);
  return { ...tokensToExample(tokenizer.encode(q.prompt), target, maxTokens), outputTokens };
}

/** Per training example (sketch order): the contribution that owns its row, its account, and whether it owns it. */
async function rowOwners(versions: readonly DatanetVersion[], sketches: TrainingSketches): Promise<{ contributionId: bigint; account: Address; owned: boolean }[]> {
  const at = new Map(sketches.records.map((r, i) => [`${r.contributionId}/${r.rowIndex}`, i]));
  const out: ({ contributionId: bigint; account: Address; owned: boolean } | undefined)[] = new Array(sketches.records.length);
  for (const version of versions) {
    for await (const r of version.rows()) {
      const i = at.get(`${r.contributionId}/${r.rowIndex}`);
      if (i !== undefined) out[i] = { contributionId: r.contributionId, account: r.contributor, owned: r.owned };
    }
  }
  const missing = out.findIndex((o) => o === undefined);
  if (missing >= 0) throw new TrainingSketchError(`training example ${sketches.records[missing]!.contributionId}/${sketches.records[missing]!.rowIndex} of run ${sketches.manifestHash} is not in its datanet versions`);
  return out as { contributionId: bigint; account: Address; owned: boolean }[];
}

