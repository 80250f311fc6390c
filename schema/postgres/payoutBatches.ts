// The payout batch lifecycle: each change of status happens in one transaction with its audit row, and
// only if the batch still has the status the caller saw (optimistic check), so two processes acting on
// the same batch cannot both succeed.
import { and, asc, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import type { OperationalDb } from './connect.ts';
import {
  IllegalTransitionError,
  InvalidValueError,
  PayoutBatchMismatchError,
  PayoutBatchNotFoundError,
  TransitionConflictError,
} from './errors.ts';
import {
  MAX_UINT256,
  payoutBatchEvents,
  payoutBatches,
  type BatchSignature,
  type PayoutBatch,
  type PayoutBatchEvent,
  type PayoutBatchStatus,
} from './tables.ts';

type Hex = `0x${string}`;

/** The legal edges: forward one step at a time; revoked or failed from any status that is not final. */
export const PAYOUT_BATCH_TRANSITIONS: Readonly<Record<PayoutBatchStatus, readonly PayoutBatchStatus[]>> = {
  pending: ['signed', 'revoked', 'failed'],
  signed: ['posted', 'revoked', 'failed'],
  posted: ['confirmed', 'revoked', 'failed'],
  // A confirmed post can still be revoked on chain within its dispute window.
  confirmed: ['revoked', 'failed'],
  revoked: [],
  failed: [],
};

export const canTransition = (from: PayoutBatchStatus, to: PayoutBatchStatus): boolean =>
  PAYOUT_BATCH_TRANSITIONS[from].includes(to);

const bytes32 = /^0x[0-9a-f]{64}$/;
const signatureHex = /^0x[0-9a-f]{130}$/;
const address = /^0x[0-9a-f]{40}$/;

function checkBytes32(name: string, value: string): void {
  if (!bytes32.test(value)) throw new InvalidValueError(`${name} must be 0x and 64 lowercase hex digits, got "${value}"`);
}

function checkUint(name: string, value: bigint, max: bigint): void {
  if (value < 0n || value > max) throw new InvalidValueError(`${name} must be between 0 and ${max}, got ${value}`);
}

const INT8_MAX = 2n ** 63n - 1n;

export interface CreatePayoutBatchParameters {
  epoch: bigint;
  nonce: bigint;
  root: Hex;
  total: bigint;
  scoreFileHash: Hex;
  signerSetVersion: bigint;
  actor?: string;
}

export interface CreatePayoutBatchReturnType {
  batch: PayoutBatch;
  /** False when the same batch already existed (the call was a repeat). */
  created: boolean;
}

/**
 * Records a computed batch as pending, with its audit row. Idempotent on (epoch, nonce): repeating the
 * call returns the stored batch; a different batch under the same (epoch, nonce) is refused.
 */
export async function createPayoutBatch(
  db: OperationalDb,
  p: CreatePayoutBatchParameters,
): Promise<CreatePayoutBatchReturnType> {
  checkUint('epoch', p.epoch, INT8_MAX);
  checkUint('nonce', p.nonce, INT8_MAX);
  checkUint('signerSetVersion', p.signerSetVersion, INT8_MAX);
  checkUint('total', p.total, MAX_UINT256);
  checkBytes32('root', p.root);
  checkBytes32('scoreFileHash', p.scoreFileHash);
  return db.transaction(async (tx) => {
    const [inserted] = await tx
      .insert(payoutBatches)
      .values({
        epoch: p.epoch,
        nonce: p.nonce,
        root: p.root,
        total: p.total,
        scoreFileHash: p.scoreFileHash,
        signerSetVersion: p.signerSetVersion,
      })
      .onConflictDoNothing({ target: [payoutBatches.epoch, payoutBatches.nonce], where: sql`${payoutBatches.status} <> 'failed'` })
      .returning();
    if (inserted) {
      await tx.insert(payoutBatchEvents).values({
        batchId: inserted.id,
        fromStatus: null,
        toStatus: 'pending',
        actor: p.actor ?? null,
        detail: { root: p.root, total: p.total.toString(), scoreFileHash: p.scoreFileHash },
      });
      return { batch: inserted, created: true };
    }
    const existing = await selectBatch(tx, p.epoch, p.nonce);
    if (!existing) throw new PayoutBatchNotFoundError(p.epoch, p.nonce); // only if deleted meanwhile
    const differs = (['root', 'total', 'scoreFileHash', 'signerSetVersion'] as const).filter((k) => existing[k] !== p[k]);
    if (differs.length > 0) throw new PayoutBatchMismatchError(p.epoch, p.nonce, differs);
    return { batch: existing, created: false };
  });
}

export interface TransitionPayoutBatchParameters {
  epoch: bigint;
  nonce: bigint;
  /** The status the caller saw. Omitted: the status read inside the transaction (still checked on write). */
  from?: PayoutBatchStatus;
  to: PayoutBatchStatus;
  /** Required for → signed: the collected EIP-712 signatures. */
  signatures?: BatchSignature[];
  /** Required for → posted: the posting transaction. */
  txHash?: Hex;
  /** Required for → failed: what went wrong. */
  error?: string;
  /** Who made the change; recorded in the audit row. */
  actor?: string;
}

/**
 * Moves a batch to `to` if it still has status `from`, and appends the audit row, in one transaction.
 * Throws IllegalTransitionError for an edge the lifecycle lacks, TransitionConflictError when another
 * transaction changed the status first, PayoutBatchNotFoundError for an unknown batch.
 */
export async function transitionPayoutBatch(db: OperationalDb, p: TransitionPayoutBatchParameters): Promise<PayoutBatch> {
  if (p.from !== undefined && !canTransition(p.from, p.to)) throw new IllegalTransitionError(p.from, p.to, p.epoch, p.nonce);
  const set: PgUpdateSetSource<typeof payoutBatches> = { status: p.to, updatedAt: sql`now()` };
  const detail: Record<string, unknown> = {};
  if (p.to === 'signed') {
    if (!p.signatures || p.signatures.length === 0) throw new InvalidValueError('→ signed needs the signatures');
    for (const s of p.signatures) {
      if (!address.test(s.signer) || !signatureHex.test(s.signature)) {
        throw new InvalidValueError(
          `a signature must be { signer: lowercase 0x address, signature: 0x and 130 lowercase hex digits }, got ${JSON.stringify(s)}`,
        );
      }
    }
    set.signatures = p.signatures;
    detail.signers = p.signatures.map((s) => s.signer);
  }
  if (p.to === 'posted') {
    if (p.txHash === undefined) throw new InvalidValueError('→ posted needs the transaction hash');
    checkBytes32('txHash', p.txHash);
    set.txHash = p.txHash;
    detail.txHash = p.txHash;
  }
  if (p.to === 'failed') {
    if (!p.error) throw new InvalidValueError('→ failed needs the error');
    set.error = p.error;
    detail.error = p.error;
  }
  return db.transaction(async (tx) => {
    let from = p.from;
    if (from === undefined) {
      const current = await selectBatch(tx, p.epoch, p.nonce);
      if (!current) throw new PayoutBatchNotFoundError(p.epoch, p.nonce);
      from = current.status;
      if (!canTransition(from, p.to)) throw new IllegalTransitionError(from, p.to, p.epoch, p.nonce);
    }
    // The optimistic check: the row changes only if its status is still `from`. Under concurrency the
    // second writer waits for the first's row lock, re-reads the row, and updates nothing.
    const [updated] = await tx
      .update(payoutBatches)
      .set(set)
      .where(and(eq(payoutBatches.epoch, p.epoch), eq(payoutBatches.nonce, p.nonce), eq(payoutBatches.status, from)))
      .returning();
    if (!updated) {
      const current = await selectBatch(tx, p.epoch, p.nonce);
      if (!current) throw new PayoutBatchNotFoundError(p.epoch, p.nonce);
      throw new TransitionConflictError(from, current.status, p.to, p.epoch, p.nonce);
    }
    await tx.insert(payoutBatchEvents).values({
      batchId: updated.id,
      fromStatus: from,
      toStatus: p.to,
      actor: p.actor ?? null,
      detail,
    });
    return updated;
  });
}

// Transactions and the database share this query interface.
type Queryable = Pick<OperationalDb, 'select'>;

/** The batch (epoch, nonce): the one that did not fail, else the newest failed one. */
async function selectBatch(q: Queryable, epoch: bigint, nonce: bigint): Promise<PayoutBatch | undefined> {
  const [row] = await q
    .select()
    .from(payoutBatches)
    .where(and(eq(payoutBatches.epoch, epoch), eq(payoutBatches.nonce, nonce)))
    .orderBy(sql`${payoutBatches.status} = 'failed'`, desc(payoutBatches.id))
    .limit(1);
  return row;
}

export async function getPayoutBatch(db: OperationalDb, epoch: bigint, nonce: bigint): Promise<PayoutBatch | undefined> {
  return selectBatch(db, epoch, nonce);
}

export interface ListPayoutBatchesParameters {
  status?: PayoutBatchStatus | readonly PayoutBatchStatus[];
  epoch?: bigint;
}

/** Batches in (epoch, nonce) order, filtered by status (one or several) and epoch. */
export async function listPayoutBatches(db: OperationalDb, p: ListPayoutBatchesParameters = {}): Promise<PayoutBatch[]> {
  const where: SQL[] = [];
  if (p.status !== undefined) {
    const statuses = typeof p.status === 'string' ? [p.status] : [...p.status];
    where.push(inArray(payoutBatches.status, statuses));
  }
  if (p.epoch !== undefined) where.push(eq(payoutBatches.epoch, p.epoch));
  return db
    .select()
    .from(payoutBatches)
    .where(and(...where))
    .orderBy(asc(payoutBatches.epoch), asc(payoutBatches.nonce), asc(payoutBatches.id));
}

/** A batch's audit log, oldest first. */
export async function listPayoutBatchEvents(db: OperationalDb, epoch: bigint, nonce: bigint): Promise<PayoutBatchEvent[]> {
  const batch = await selectBatch(db, epoch, nonce);
  if (!batch) throw new PayoutBatchNotFoundError(epoch, nonce);
  return db
    .select()
    .from(payoutBatchEvents)
    .where(eq(payoutBatchEvents.batchId, batch.id))
    .orderBy(asc(payoutBatchEvents.id));
}
