// The usage outbox: every billable inference is a row of usage_records, written before anything else
// happens to it, and the settler drains the rows into numbered batches that mirror the operator's
// `InferenceRouter.settle(number, items)` calls. Claiming a batch is one transaction, so a record is in at
// most one live batch, and an operator has at most one pending batch: after a crash the settler resumes
// that batch (and the chain's lastBatch tells whether it already went through) instead of making another.
import { and, asc, count, eq, inArray, isNull, ne, sql } from 'drizzle-orm';
import type { OperationalDb } from './connect.ts';
import { InvalidValueError, OperationalStoreError } from './errors.ts';
import { usageBatches, usageRecords, type UsageBatch, type UsageRecord } from './tables.ts';

type Hex = `0x${string}`;

/** A record stored under this request id has other contents: recording it again is not a repeat. */
export class UsageRecordMismatchError extends OperationalStoreError {
  override name = 'UsageRecordMismatchError';
  constructor(
    readonly requestId: Hex,
    readonly fields: string[],
  ) {
    super(`usage record ${requestId} already exists with a different ${fields.join(', ')}`, {
      details: 'a request id names one inference: a different inference needs a new request id',
    });
  }
}

/** No live (pending or settled) batch with this operator and number. */
export class UsageBatchNotFoundError extends OperationalStoreError {
  override name = 'UsageBatchNotFoundError';
  constructor(
    readonly operator: Hex,
    readonly number: bigint,
  ) {
    super(`no usage batch ${number} of operator ${operator}`);
  }
}

/** The batch is not in a state that allows the change (settling a failed batch, failing a settled one…). */
export class UsageBatchStateError extends OperationalStoreError {
  override name = 'UsageBatchStateError';
}

const INT8_MAX = 2n ** 63n - 1n;
const UINT32_MAX = 4_294_967_295;

function hex(name: string, value: unknown, digits: number): Hex {
  const re = digits === 64 ? /^0x[0-9a-fA-F]{64}$/ : /^0x[0-9a-fA-F]{40}$/;
  if (typeof value !== 'string' || !re.test(value)) throw new InvalidValueError(`${name} must be 0x and ${digits} hex digits, got "${String(value)}"`);
  return value.toLowerCase() as Hex;
}

/** One billable inference. */
export interface UsageItemInput {
  /** bytes32 (any case; stored lowercase). */
  requestId: string;
  payer: string;
  modelId: bigint;
  tokensIn: number;
  tokensOut: number;
  /** When the inference was served. */
  createdAt: Date;
}

type CheckedItem = Pick<UsageRecord, 'requestId' | 'payer' | 'modelId' | 'tokensIn' | 'tokensOut' | 'createdAt'>;

function checkItem(p: UsageItemInput): CheckedItem {
  const requestId = hex('requestId', p.requestId, 64);
  const payer = hex('payer', p.payer, 40);
  if (typeof p.modelId !== 'bigint' || p.modelId < 0n || p.modelId > INT8_MAX) {
    throw new InvalidValueError(`modelId must be an integer from 0 to ${INT8_MAX}, got ${String(p.modelId)}`);
  }
  for (const k of ['tokensIn', 'tokensOut'] as const) {
    if (!Number.isInteger(p[k]) || p[k] < 0 || p[k] > UINT32_MAX) throw new InvalidValueError(`${k} must be an integer from 0 to ${UINT32_MAX}, got ${String(p[k])}`);
  }
  if (!(p.createdAt instanceof Date) || Number.isNaN(p.createdAt.getTime())) throw new InvalidValueError(`createdAt must be a valid Date, got ${String(p.createdAt)}`);
  return { requestId, payer, modelId: p.modelId, tokensIn: p.tokensIn, tokensOut: p.tokensOut, createdAt: p.createdAt };
}

function differences(stored: CheckedItem, given: CheckedItem): string[] {
  const out: string[] = [];
  if (stored.payer !== given.payer) out.push('payer');
  if (stored.modelId !== given.modelId) out.push('modelId');
  if (stored.tokensIn !== given.tokensIn) out.push('tokensIn');
  if (stored.tokensOut !== given.tokensOut) out.push('tokensOut');
  if (stored.createdAt.getTime() !== given.createdAt.getTime()) out.push('createdAt');
  return out;
}

export interface RecordUsagesReturnType {
  /** Records written now; the others were already there, identical. */
  created: number;
  /** Their request ids (lowercase). */
  createdRequestIds: Hex[];
}

/**
 * Records billable inferences, idempotently on request id: an identical record already stored is left as it
 * is; a different one under the same id is refused with UsageRecordMismatchError (and nothing is written).
 */
export async function recordUsages(db: OperationalDb, items: readonly UsageItemInput[]): Promise<RecordUsagesReturnType> {
  const checked = items.map(checkItem);
  if (checked.length === 0) return { created: 0, createdRequestIds: [] };
  const ids = new Set<string>();
  for (const c of checked) {
    if (ids.has(c.requestId)) throw new InvalidValueError(`request id ${c.requestId} appears twice in one call`);
    ids.add(c.requestId);
  }
  return db.transaction(async (tx) => {
    const inserted = await tx.insert(usageRecords).values(checked).onConflictDoNothing({ target: usageRecords.requestId }).returning({ requestId: usageRecords.requestId });
    if (inserted.length < checked.length) {
      const fresh = new Set(inserted.map((r) => r.requestId));
      const repeats = checked.filter((c) => !fresh.has(c.requestId));
      const stored = await tx.select().from(usageRecords).where(inArray(usageRecords.requestId, repeats.map((r) => r.requestId)));
      const byId = new Map(stored.map((s) => [s.requestId, s]));
      for (const r of repeats) {
        const s = byId.get(r.requestId);
        const diff = s ? differences(s, r) : ['record (it vanished meanwhile)'];
        if (diff.length > 0) throw new UsageRecordMismatchError(r.requestId, diff);
      }
    }
    return { created: inserted.length, createdRequestIds: inserted.map((r) => r.requestId) };
  });
}

export interface RecordUsageReturnType {
  /** False when the same record was already stored (the call was a repeat). */
  created: boolean;
  record: UsageRecord;
}

/** Records one billable inference (see recordUsages) and returns the stored row. */
export async function recordUsage(db: OperationalDb, item: UsageItemInput): Promise<RecordUsageReturnType> {
  const { created } = await recordUsages(db, [item]);
  const record = await getUsageRecord(db, item.requestId);
  if (!record) throw new OperationalStoreError(`usage record ${item.requestId} was written but cannot be read back`, { retryable: true });
  return { created: created === 1, record };
}

export async function getUsageRecord(db: OperationalDb, requestId: string): Promise<UsageRecord | undefined> {
  const [r] = await db.select().from(usageRecords).where(eq(usageRecords.requestId, hex('requestId', requestId, 64)));
  return r;
}

/** Records not in any batch yet (what the next claims will take). */
export async function countUnbatchedUsage(db: OperationalDb): Promise<number> {
  const [r] = await db.select({ n: count() }).from(usageRecords).where(isNull(usageRecords.batchId));
  return r?.n ?? 0;
}

// ------------------------------------------------------------------ batches

export interface ClaimBatchParameters {
  operator: string;
  /** Most records in a new batch. */
  maxItems: number;
  /**
   * The lowest number a new batch may take: the chain's lastBatch(operator) + 1. Without it the next
   * number follows the store's own last batch; with it, numbers the chain has already used (by another
   * store, or before a restore from backup) are skipped.
   */
  minNumber?: bigint;
}

export interface ClaimedBatch {
  batch: UsageBatch;
  /** The batch's records, oldest first: the order they are sent in. */
  items: UsageRecord[];
  /** True when this is the operator's pending batch from an earlier claim (perhaps already sent). */
  resumed: boolean;
}

const batchItems = (tx: OperationalDb, batchId: bigint) =>
  tx.select().from(usageRecords).where(eq(usageRecords.batchId, batchId)).orderBy(asc(usageRecords.createdAt), asc(usageRecords.requestId));

/**
 * In one transaction: returns the operator's pending batch if there is one (resumed), else puts up to
 * `maxItems` of the oldest unbatched records into a new pending batch numbered after the operator's last
 * live batch (and at least `minNumber`). Undefined when there is nothing to bill.
 */
export async function claimBatch(db: OperationalDb, p: ClaimBatchParameters): Promise<ClaimedBatch | undefined> {
  const operator = hex('operator', p.operator, 40);
  if (!Number.isInteger(p.maxItems) || p.maxItems < 1) throw new InvalidValueError(`maxItems must be a positive integer, got ${String(p.maxItems)}`);
  if (p.minNumber !== undefined && (typeof p.minNumber !== 'bigint' || p.minNumber < 1n || p.minNumber > INT8_MAX)) {
    throw new InvalidValueError(`minNumber must be an integer from 1 to ${INT8_MAX}, got ${String(p.minNumber)}`);
  }
  return db.transaction(async (tx) => {
    // Claims of one operator take turns (processes sharing a PostgreSQL server); other operators' do not wait.
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${`tributary.usage_batches:${operator}`}))`);
    const [pending] = await tx.select().from(usageBatches).where(and(eq(usageBatches.operator, operator), eq(usageBatches.status, 'pending')));
    if (pending) return { batch: pending, items: await batchItems(tx, pending.id), resumed: true };

    const candidates = await tx
      .select({ requestId: usageRecords.requestId })
      .from(usageRecords)
      .where(isNull(usageRecords.batchId))
      .orderBy(asc(usageRecords.createdAt), asc(usageRecords.requestId))
      .limit(p.maxItems)
      .for('update', { skipLocked: true });
    if (candidates.length === 0) return undefined;

    const [last] = await tx
      .select({ n: sql<string | null>`max(${usageBatches.number})` })
      .from(usageBatches)
      .where(and(eq(usageBatches.operator, operator), ne(usageBatches.status, 'failed')));
    const next = (last?.n == null ? 0n : BigInt(last.n)) + 1n;
    const number = p.minNumber !== undefined && p.minNumber > next ? p.minNumber : next;
    const [batch] = await tx.insert(usageBatches).values({ operator, number, itemCount: candidates.length }).returning();
    await tx
      .update(usageRecords)
      .set({ batchId: batch!.id })
      .where(inArray(usageRecords.requestId, candidates.map((c) => c.requestId)));
    return { batch: batch!, items: await batchItems(tx, batch!.id), resumed: false };
  });
}

/** The operator's live (pending or settled) batch with this number. */
export async function getUsageBatch(db: OperationalDb, p: { operator: string; number: bigint }): Promise<UsageBatch | undefined> {
  const operator = hex('operator', p.operator, 40);
  const [b] = await db
    .select()
    .from(usageBatches)
    .where(and(eq(usageBatches.operator, operator), eq(usageBatches.number, p.number), ne(usageBatches.status, 'failed')));
  return b;
}

/** Every batch of the operator, failed ones included, oldest first. */
export async function listUsageBatches(db: OperationalDb, p: { operator: string }): Promise<UsageBatch[]> {
  const operator = hex('operator', p.operator, 40);
  return db.select().from(usageBatches).where(eq(usageBatches.operator, operator)).orderBy(asc(usageBatches.id));
}

/** The records of a batch (by its row id), oldest first. */
export async function usageBatchItems(db: OperationalDb, batchId: bigint): Promise<UsageRecord[]> {
  return batchItems(db, batchId);
}

export interface MarkBatchSettledParameters {
  operator: string;
  number: bigint;
  txHash: string;
  /** Request ids of the batch that the chain rejected (InferenceRejected); the rest settled. */
  rejected: readonly string[];
}

/**
 * Marks the pending batch settled in `txHash`, each record settled or rejected. Repeating the call with
 * the same transaction hash is a no-op; a rejected id outside the batch, another hash for a settled
 * batch, or a failed batch are refused (UsageBatchStateError) and nothing changes.
 */
export async function markBatchSettled(db: OperationalDb, p: MarkBatchSettledParameters): Promise<UsageBatch> {
  const operator = hex('operator', p.operator, 40);
  const txHash = hex('txHash', p.txHash, 64);
  const rejected = [...new Set(p.rejected.map((r) => hex('rejected request id', r, 64)))];
  return db.transaction(async (tx) => {
    const [b] = await tx
      .select()
      .from(usageBatches)
      .where(and(eq(usageBatches.operator, operator), eq(usageBatches.number, p.number), ne(usageBatches.status, 'failed')))
      .for('update');
    if (!b) throw new UsageBatchNotFoundError(operator, p.number);
    if (b.status === 'settled') {
      if (b.txHash === txHash) return b;
      throw new UsageBatchStateError(`usage batch ${p.number} of ${operator} was already settled in ${b.txHash}, not ${txHash}`);
    }
    if (rejected.length > 0) {
      const found = await tx
        .select({ requestId: usageRecords.requestId })
        .from(usageRecords)
        .where(and(eq(usageRecords.batchId, b.id), inArray(usageRecords.requestId, rejected)));
      if (found.length !== rejected.length) {
        const inBatch = new Set(found.map((f) => f.requestId));
        const stray = rejected.filter((r) => !inBatch.has(r));
        throw new UsageBatchStateError(`usage batch ${p.number} of ${operator} has no record ${stray.join(', ')}`, {
          details: 'only records of the batch can be rejected in it',
        });
      }
    }
    await tx
      .update(usageRecords)
      .set({ outcome: rejected.length > 0 ? sql`CASE WHEN ${inArray(usageRecords.requestId, rejected)} THEN 'rejected'::usage_outcome ELSE 'settled'::usage_outcome END` : 'settled' })
      .where(eq(usageRecords.batchId, b.id));
    const [settled] = await tx
      .update(usageBatches)
      .set({ status: 'settled', txHash, error: null, updatedAt: sql`now()` })
      .where(eq(usageBatches.id, b.id))
      .returning();
    return settled!;
  });
}

/**
 * Marks the pending batch failed with `error` (what the chain said) and puts its records back among the
 * unbatched, so the next claim bills them again under the same number, which the chain never used.
 */
export async function markBatchFailed(db: OperationalDb, p: { operator: string; number: bigint; error: string }): Promise<UsageBatch> {
  const operator = hex('operator', p.operator, 40);
  return db.transaction(async (tx) => {
    const [b] = await tx
      .select()
      .from(usageBatches)
      .where(and(eq(usageBatches.operator, operator), eq(usageBatches.number, p.number), ne(usageBatches.status, 'failed')))
      .for('update');
    if (!b) throw new UsageBatchNotFoundError(operator, p.number);
    if (b.status !== 'pending') throw new UsageBatchStateError(`usage batch ${p.number} of ${operator} is ${b.status}: only a pending batch can fail`);
    await tx.update(usageRecords).set({ batchId: null }).where(eq(usageRecords.batchId, b.id));
    const [failed] = await tx
      .update(usageBatches)
      .set({ status: 'failed', error: p.error, updatedAt: sql`now()` })
      .where(eq(usageBatches.id, b.id))
      .returning();
    return failed!;
  });
}
