// `tributary attribute --epoch N`: one epoch from settled inferences to a confirmed payout batch.
//
//   1. Only after the epoch has ended (the chain's clock), and only for the epoch right after the newest
//      posted batch: a batch covers the epochs since the previous one (their pools all roll into it), and
//      an epoch already posted answers its batch without doing anything.
//   2. The pools of the epochs' settled inferences from ClickHouse (the indexed InferenceSettled events),
//      checked against each epoch's pool on chain, so an indexer that is behind makes the job wait
//      instead of leaving inferences out.
//   3. Each inference's text from the serving log and the training run behind its adapter; each run's
//      training examples' sketches (computed once, kept in the content store); each inference sketched
//      and scored against them with the platform's method, plus span evidence, summed per contribution.
//   4. The canonical score file (fixed-point weights of the largest positive scores, at most
//      maxEntriesPerInference per inference), the allocation by largest remainder, cumulative leaves on top
//      of the previous batch's, the Merkle root.
//   5. Scores, spans, flags and rewards into ClickHouse; then the batch driver signs, posts and confirms
//      (crash-safe through Postgres: a re-run recomputes the same batch, byte for byte, and resumes it).
import type { ClickHouseClient } from '@clickhouse/client';
import type { Hex } from 'viem';
import { TributaryError, getEpochClock, getEpochEnd, getEpochPool, getPostedBatch, getSettlementState, type ChainContext } from '../../contracts/index.ts';
import type { ContentStore } from '../../schema/index.ts';
import type { AccountAmount } from '../payouts/allocate.ts';
import { loadPayoutBatchFiles } from '../payouts/batchFiles.ts';
import type { BatchDriver, DriveResult } from '../payouts/batchDriver.ts';
import { buildPayoutBatch } from '../payouts/buildBatch.ts';
import type { PayoutLeaf } from '../payouts/cumulativeLeaves.ts';
import { quantizeWeights } from '../payouts/quantizeWeights.ts';
import type { ScoreEntry } from '../payouts/scoreFile.ts';
import { recordEpochAttribution } from './attributionTables.ts';
import { epochInferences, type UnattributedReason } from './epochInferences.ts';
import { flagNegativeContributions, type ContributionFlag } from './flags.ts';
import { indexedPools } from './indexedPools.ts';
import { openModelAttribution, type InferenceAttribution, type ModelAttributionContext, type OpenModelAttributionOptions } from './modelAttribution.ts';

export class AttributeEpochError extends TributaryError {
  override name = 'AttributeEpochError';
}

export interface AttributeEpochContext extends ModelAttributionContext {
  clickhouse: ClickHouseClient;
  content: ContentStore;
  chain: ChainContext;
  driver: BatchDriver;
}

export type AttributeEpochProgress =
  | { phase: 'pools'; inferences: number; attributable: number }
  | { phase: 'sketching-run'; manifestHash: Hex }
  | { phase: 'scoring'; done: number; total: number }
  | { phase: 'posting'; root: Hex };

export interface AttributeEpochOptions extends OpenModelAttributionOptions {
  epoch: bigint;
  /** Inferences scored per call (default 64): bounds the tensors of one matrix product. */
  chunk?: number;
  /**
   * Contributions credited per inference at most, those with the largest positive scores, their weights
   * renormalised (default DEFAULT_MAX_ENTRIES_PER_INFERENCE, 64; quantizeWeights). Bounds the score file.
   */
  maxEntriesPerInference?: number;
  onProgress?: (p: AttributeEpochProgress) => void;
}

export interface AttributeEpochResult {
  epoch: bigint;
  fromEpoch: bigint;
  /** True: the epoch's batch was on chain already; nothing was computed. */
  alreadyPosted: boolean;
  root: Hex;
  scoreFileHash: Hex | undefined;
  inferences: number;
  attributed: number;
  unattributed: { requestId: Hex; reason: UnattributedReason | 'no positive attribution' }[];
  poolTotal: bigint;
  total: bigint;
  rolledOver: bigint;
  amounts: AccountAmount[];
  flags: ContributionFlag[];
  drive: DriveResult | undefined;
  seconds: number;
}

export async function attributeEpoch(ctx: AttributeEpochContext, opts: AttributeEpochOptions): Promise<AttributeEpochResult> {
  const started = performance.now();
  const { epoch } = opts;
  if (epoch < 1n) throw new AttributeEpochError(`epoch must be 1 or later, got ${epoch}`);

  // 1. The clock and the batches already posted.
  const clock = await getEpochClock(ctx.chain);
  if (clock.currentEpoch <= epoch) {
    const ends = await getEpochEnd(ctx.chain, epoch);
    throw new AttributeEpochError(`epoch ${epoch} has not ended yet (the current epoch is ${clock.currentEpoch}); it ends at ${new Date(Number(ends) * 1000).toISOString()}`, {
      details: 'an epoch is attributed only after it ends, so that every inference of it is settled',
      retryable: true,
    });
  }
  const state = await getSettlementState(ctx.chain);
  if (state.lastPostedEpoch >= epoch) {
    const posted = await getPostedBatch(ctx.chain, epoch);
    if (!posted) {
      throw new AttributeEpochError(`epoch ${epoch} is covered by the batch of epoch ${state.lastPostedEpoch}, posted already`, {
        details: 'a batch covers every epoch since the previous batch',
      });
    }
    return {
      epoch, fromEpoch: epoch, alreadyPosted: true, root: posted.root, scoreFileHash: posted.scoreFileHash, inferences: 0, attributed: 0, unattributed: [],
      poolTotal: 0n, total: posted.total, rolledOver: 0n, amounts: [], flags: [], drive: undefined, seconds: (performance.now() - started) / 1000,
    };
  }
  const fromEpoch = state.lastPostedEpoch + 1n;

  // 2. Pools, complete.
  const pools = await indexedPools(ctx.clickhouse, { fromEpoch, toEpoch: epoch });
  await checkIndexedPools(ctx.chain, pools, fromEpoch, epoch);

  // 3. Attribution, one training run at a time.
  const { attributable, unattributable } = await epochInferences(ctx.clickhouse, pools);
  opts.onProgress?.({ phase: 'pools', inferences: pools.length, attributable: attributable.length });
  const byRun = new Map<Hex, typeof attributable>();
  for (const inf of attributable) {
    const list = byRun.get(inf.manifestHash);
    if (list) list.push(inf);
    else byRun.set(inf.manifestHash, [inf]);
  }
  const attributed: (InferenceAttribution & { modelId: bigint })[] = [];
  const chunk = opts.chunk ?? 64;
  for (const [manifestHash, list] of byRun) {
    opts.onProgress?.({ phase: 'sketching-run', manifestHash });
    const model = await openModelAttribution(ctx, manifestHash, opts);
    try {
      for (let i = 0; i < list.length; i += chunk) {
        const part = list.slice(i, i + chunk);
        const scored = await model.attribute(part);
        scored.forEach((s, k) => attributed.push({ ...s, modelId: part[k]!.modelId }));
        opts.onProgress?.({ phase: 'scoring', done: attributed.length, total: attributable.length });
      }
    } finally {
      model.dispose();
    }
  }

  // 4. The batch.
  const entries: ScoreEntry[] = attributed.flatMap((a) =>
    quantizeWeights(
      a.contributions.map((c) => ({ contributionId: c.contributionId, account: c.account, score: c.score })),
      { maxEntries: opts.maxEntriesPerInference },
    ).map((w) => ({ requestId: a.requestId, ...w })),
  );
  const previous = await previousLeaves(ctx, state.lastPostedEpoch);
  const batch = buildPayoutBatch({ scores: { epoch, entries }, pools, previous, fromEpoch });
  const flags = flagNegativeContributions(attributed);

  // 5. ClickHouse, then the chain.
  await recordEpochAttribution(ctx.clickhouse, { epoch, inferences: attributed, entries, batch, flags });
  opts.onProgress?.({ phase: 'posting', root: batch.root });
  const drive = await ctx.driver.drive(batch);
  const reasons = new Map(unattributable.map((u) => [u.requestId, u.reason]));
  return {
    epoch,
    fromEpoch,
    alreadyPosted: false,
    root: batch.root,
    scoreFileHash: batch.scoreFileHash,
    inferences: pools.length,
    attributed: batch.allocation.attributedInferences,
    unattributed: batch.allocation.unattributed.map((requestId) => ({ requestId, reason: reasons.get(requestId) ?? 'no positive attribution' })),
    poolTotal: batch.allocation.poolTotal,
    total: batch.total,
    rolledOver: batch.allocation.rolledOver,
    amounts: batch.allocation.amounts,
    flags,
    drive,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Refuses pools that do not add up to what the chain put into each epoch's pool: the indexer is behind. */
async function checkIndexedPools(chain: ChainContext, pools: readonly { epoch: bigint; poolAmount: bigint }[], fromEpoch: bigint, toEpoch: bigint): Promise<void> {
  const indexed = new Map<bigint, bigint>();
  for (const p of pools) indexed.set(p.epoch, (indexed.get(p.epoch) ?? 0n) + p.poolAmount);
  for (let e = fromEpoch; e <= toEpoch; e++) {
    const onChain = await getEpochPool(chain, e);
    const have = indexed.get(e) ?? 0n;
    if (have !== onChain) {
      throw new AttributeEpochError(`ClickHouse holds ${have} wei of settled inferences for epoch ${e}, but its pool on chain is ${onChain} wei`, {
        details: 'the indexer has not caught up with the chain yet; run again once it has (`tributary up` or `tributary index`)',
        retryable: true,
      });
    }
  }
}

/** The cumulative leaves of the newest posted batch, from its files in the content store. */
async function previousLeaves(ctx: AttributeEpochContext, lastPostedEpoch: bigint): Promise<PayoutLeaf[]> {
  if (lastPostedEpoch === 0n) return [];
  const posted = await getPostedBatch(ctx.chain, lastPostedEpoch);
  if (!posted) throw new AttributeEpochError(`the chain says epoch ${lastPostedEpoch} was posted last, but has no batch for it`);
  const files = await loadPayoutBatchFiles(ctx.content, lastPostedEpoch, posted.root);
  if (!files) {
    throw new AttributeEpochError(`the files of epoch ${lastPostedEpoch}'s batch (root ${posted.root}) are not in the content store`, {
      details: 'the next batch builds on its cumulative leaves; restore the content store (payout-batches/…) from a backup or another attributor',
    });
  }
  return files.leaves;
}
