// Records finished inferences in both stores: the usage record that bills it (Postgres, the source of
// truth for what is owed) and the log row (ClickHouse, what attribution and the API read).
//
// Order. The Postgres transaction comes first and holds both the usage record and a copy of the log row
// (inference_log_outbox); then the row goes to ClickHouse; then the copy is deleted. A crash or a
// ClickHouse outage after the transaction loses nothing: backfillInferenceLog() copies whatever is
// left in the outbox (skipping rows ClickHouse already has) and runs at start and after outages. A crash
// before the transaction loses the inference entirely, billing and log alike, never one without the other.
// (ClickHouse first would risk a logged inference that is never billed, and ClickHouse is the store that
// may be rebuilt.) A row can reach ClickHouse twice when a backfill races a recorder; both copies share
// the table's sorting key and merge (ReplacingMergeTree).
//
// Group commit. One ClickHouse insert per inference costs ~15 ms on chDB and makes a data part each;
// createInferenceRecorder() queues the inferences that end close together and writes them with one
// transaction and one insert, each caller's promise settling once its batch is written.
//
// Billing. An inference is billed when it names a registered model (modelId > 0) and a payer (not the
// zero address), and computed something (tokens in or out); others are only logged.
import type { ClickHouseClient } from '@clickhouse/client';
import { zeroAddress, type Hex } from 'viem';
import type { OperationalDb } from '../../schema/index.ts';
import {
  inferenceLogRow,
  inferenceLogRowFromJson,
  inferenceLogRowToJson,
  insertInferenceLog,
  loggedRequestIds,
  type InferenceLogInput,
  type InferenceLogRow,
} from '../../schema/index.ts';
import { clearInferenceLogs, enqueueInferenceLogs, pendingInferenceLogs } from '../../schema/index.ts';
import { recordUsages } from '../../schema/index.ts';
import { TributaryError } from '../../contracts/index.ts';
import { SILENT_BILLING_LOGGER, type BillingLogger } from './log.ts';

export interface InferenceStores {
  /** ClickHouse (chDB or a server): inference_log. */
  ch: ClickHouseClient;
  /** The operational store: usage_records and inference_log_outbox. */
  db: OperationalDb;
  log?: BillingLogger;
}

export interface RecordInferencesReturnType {
  /** Request ids of the usage records written now (billable inferences not recorded before). */
  billed: Hex[];
  /** Whether ClickHouse has the rows now; false: they wait in the outbox for backfillInferenceLog(). */
  logged: boolean;
}

/** Whether an inference is billed (see the header). */
export const isBillable = (r: InferenceLogRow): boolean => r.modelId > 0n && r.payer !== zeroAddress && r.tokensIn + r.tokensOut > 0;

/**
 * Records inferences: usage and outbox copy in one Postgres transaction, then ClickHouse. Throws (writing
 * nothing) on a malformed record or when Postgres fails; a ClickHouse failure is logged and reported as
 * `logged: false`, since the rows are safe in the outbox. Idempotent on request id.
 */
export async function recordInferences(stores: InferenceStores, records: readonly InferenceLogInput[]): Promise<RecordInferencesReturnType> {
  const rows = records.map(inferenceLogRow);
  if (rows.length === 0) return { billed: [], logged: true };
  const billable = rows.filter(isBillable);
  const { createdRequestIds: billed } = await stores.db.transaction(async (tx) => {
    const r = await recordUsages(
      tx,
      billable.map((b) => ({ requestId: b.requestId, payer: b.payer, modelId: b.modelId, tokensIn: b.tokensIn, tokensOut: b.tokensOut, createdAt: b.createdAt })),
    );
    await enqueueInferenceLogs(tx, rows.map((row) => ({ requestId: row.requestId, row: inferenceLogRowToJson(row) })));
    return r;
  });
  try {
    await insertInferenceLog(stores.ch, rows);
  } catch (e) {
    (stores.log ?? SILENT_BILLING_LOGGER).warn('could not write the inference log to ClickHouse; the rows wait in the outbox', {
      inferences: rows.length,
      error: (e instanceof Error ? e.message : String(e)).split('\n')[0],
    });
    return { billed, logged: false };
  }
  await clearInferenceLogs(stores.db, rows.map((r) => r.requestId));
  return { billed, logged: true };
}

/** Records one inference (see recordInferences). */
export async function recordInference(stores: InferenceStores, record: InferenceLogInput): Promise<{ billed: boolean; logged: boolean }> {
  const r = await recordInferences(stores, [record]);
  return { billed: r.billed.length === 1, logged: r.logged };
}

export interface BackfillInferenceLogReturnType {
  /** Rows copied to ClickHouse now. */
  copied: number;
  /** Rows ClickHouse already had (the crash came after the insert, before the outbox was cleared). */
  alreadyLogged: number;
}

/**
 * Copies every row left in the outbox into ClickHouse (those it lacks), then clears them, `batchSize`
 * rows at a time. Throws if ClickHouse or Postgres fails (nothing is lost: run it again).
 */
export async function backfillInferenceLog(stores: InferenceStores, opts: { batchSize?: number } = {}): Promise<BackfillInferenceLogReturnType> {
  const batchSize = opts.batchSize ?? 1000;
  let copied = 0;
  let alreadyLogged = 0;
  for (;;) {
    const pending = await pendingInferenceLogs(stores.db, { limit: batchSize });
    if (pending.length === 0) break;
    const rows = pending.map((p) => inferenceLogRowFromJson(p.row));
    const have = await loggedRequestIds(stores.ch, rows.map((r) => r.requestId));
    const missing = rows.filter((r) => !have.has(r.requestId));
    await insertInferenceLog(stores.ch, missing);
    await clearInferenceLogs(stores.db, pending.map((p) => p.requestId));
    copied += missing.length;
    alreadyLogged += rows.length - missing.length;
  }
  if (copied + alreadyLogged > 0) (stores.log ?? SILENT_BILLING_LOGGER).info('copied inference log rows from the outbox to ClickHouse', { copied, alreadyLogged });
  return { copied, alreadyLogged };
}

export interface InferenceRecorderOptions extends InferenceStores {
  /** Most inferences per write (default 200). */
  maxBatch?: number;
  /** Longest an inference waits for others to share its write (default 20 ms). */
  maxDelayMs?: number;
}

export interface InferenceRecorder {
  /** Queues the inference; resolves once its usage is committed (and its log row written, or queued in the outbox). */
  record(input: InferenceLogInput): Promise<{ billed: boolean; logged: boolean }>;
  /** Writes what is queued now. */
  flush(): Promise<void>;
  /** Writes what is queued and refuses new records. */
  close(): Promise<void>;
}

interface Queued {
  input: InferenceLogInput;
  resolve: (r: { billed: boolean; logged: boolean }) => void;
  reject: (e: unknown) => void;
}

/** A recorder that writes inferences ending close together in one batch (group commit); see the header. */
export function createInferenceRecorder(o: InferenceRecorderOptions): InferenceRecorder {
  const maxBatch = o.maxBatch ?? 200;
  const maxDelayMs = o.maxDelayMs ?? 20;
  let queue: Queued[] = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  let closed = false;

  const writeBatch = async (batch: Queued[]) => {
    try {
      const r = await recordInferences(o, batch.map((q) => q.input));
      const billed = new Set(r.billed);
      for (const q of batch) q.resolve({ billed: billed.has(q.input.requestId.toLowerCase() as Hex), logged: r.logged });
    } catch {
      // One bad record (a request id reused for another inference) must not fail its neighbours: retry
      // one by one, so that only it fails. The batch's transaction was rolled back, so nothing is doubled.
      for (const q of batch) await recordInference(o, q.input).then(q.resolve, q.reject);
    }
  };

  const flush = (): Promise<void> => {
    if (timer) (clearTimeout(timer), (timer = undefined));
    const batch = queue;
    queue = [];
    if (batch.length > 0) writing = writing.then(() => writeBatch(batch));
    return writing;
  };

  return {
    record(input) {
      if (closed) return Promise.reject(new TributaryError('the inference recorder is closed: no more inferences can be recorded'));
      try {
        inferenceLogRow(input); // a malformed record fails alone, now
      } catch (e) {
        return Promise.reject(e);
      }
      return new Promise((resolve, reject) => {
        queue.push({ input, resolve, reject });
        if (queue.length >= maxBatch) void flush();
        else timer ??= setTimeout(() => void flush(), maxDelayMs);
      });
    },
    flush,
    async close() {
      closed = true;
      await flush();
    },
  };
}
