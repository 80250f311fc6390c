// Inference log rows waiting for ClickHouse. The recorder writes them in the transaction that records the
// inference's usage, inserts them into ClickHouse, then clears them here; whatever a crash leaves behind is
// copied by backfillInferenceLog. The payload is opaque here: schema/clickhouse/inferenceLog.ts defines it.
import { asc, inArray } from 'drizzle-orm';
import type { OperationalDb } from './connect.ts';
import { InvalidValueError } from './errors.ts';
import { inferenceLogOutbox } from './tables.ts';

type Hex = `0x${string}`;

export interface PendingInferenceLog {
  requestId: Hex;
  row: Record<string, unknown>;
  createdAt: Date;
}

function requestId(v: string): Hex {
  if (!/^0x[0-9a-fA-F]{64}$/.test(v)) throw new InvalidValueError(`requestId must be 0x and 64 hex digits, got "${v}"`);
  return v.toLowerCase() as Hex;
}

/** Queues log rows (a row already queued under the same request id is kept as it is). */
export async function enqueueInferenceLogs(db: OperationalDb, rows: readonly { requestId: string; row: Record<string, unknown> }[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insert(inferenceLogOutbox)
    .values(rows.map((r) => ({ requestId: requestId(r.requestId), row: r.row })))
    .onConflictDoNothing({ target: inferenceLogOutbox.requestId });
}

/** The oldest queued rows, at most `limit`. */
export async function pendingInferenceLogs(db: OperationalDb, p: { limit: number }): Promise<PendingInferenceLog[]> {
  if (!Number.isInteger(p.limit) || p.limit < 1) throw new InvalidValueError(`limit must be a positive integer, got ${String(p.limit)}`);
  const rows = await db.select().from(inferenceLogOutbox).orderBy(asc(inferenceLogOutbox.createdAt), asc(inferenceLogOutbox.requestId)).limit(p.limit);
  return rows.map((r) => ({ requestId: r.requestId, row: r.row, createdAt: r.createdAt }));
}

/** Drops queued rows that ClickHouse now has. */
export async function clearInferenceLogs(db: OperationalDb, requestIds: readonly string[]): Promise<void> {
  if (requestIds.length === 0) return;
  await db.delete(inferenceLogOutbox).where(inArray(inferenceLogOutbox.requestId, requestIds.map(requestId)));
}
