// The operational store's tables: state that needs transactions (API keys, the payout batch lifecycle,
// jobs). drizzle-kit generates the SQL migrations in ./migrations from this file; after changing it, run
// `npx drizzle-kit generate --config schema/postgres/drizzle.config.ts` and check the new files in.
import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  customType,
  date,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

/** 2**256 - 1: the largest amount a uint256 (and so any amount of OPEN in wei) can hold. */
export const MAX_UINT256 = 2n ** 256n - 1n;

/**
 * A uint256 amount of wei: `numeric(78, 0)` in SQL (78 digits hold 2**256 - 1), a bigint in TypeScript.
 * It crosses the driver as a decimal string, never as a JS number, so no digit is ever rounded.
 */
export const uint256 = customType<{ data: bigint; driverData: string }>({
  dataType: () => 'numeric(78, 0)',
  toDriver: (value) => value.toString(),
  fromDriver: (value) => BigInt(value),
});

type Hex = `0x${string}`;

export const API_KEY_ROLES = ['public', 'contributor', 'auditor', 'operator'] as const;
export const apiKeyRole = pgEnum('api_key_role', API_KEY_ROLES);

/** An API key's secret is shown once at creation; the table keeps only its SHA-256. */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** SHA-256 of the secret, lowercase hex (64 characters). */
    keyHash: text('key_hash').notNull().unique(),
    /** The secret's first characters, enough to recognise a key in a list; not enough to use it. */
    prefix: text('prefix').notNull(),
    role: apiKeyRole('role').notNull(),
    /** The address whose usage and earnings the key may act for; lowercase 0x-hex. */
    payerAddress: text('payer_address').$type<Hex>(),
    label: text('label').notNull().default(''),
    /** The EIP-712 digest of the payer's signed grant that created the key: one key per grant. */
    grantDigest: text('grant_digest').$type<Hex>().unique(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [
    index('api_keys_prefix_idx').on(t.prefix),
    check('api_keys_grant_digest_hex', sql`${t.grantDigest} ~ '^0x[0-9a-f]{64}$'`),
    check('api_keys_key_hash_hex', sql`${t.keyHash} ~ '^[0-9a-f]{64}$'`),
    check('api_keys_payer_address_hex', sql`${t.payerAddress} ~ '^0x[0-9a-f]{40}$'`),
  ],
);

export const PAYOUT_BATCH_STATUSES = ['pending', 'signed', 'posted', 'confirmed', 'revoked', 'failed'] as const;
export const payoutBatchStatus = pgEnum('payout_batch_status', PAYOUT_BATCH_STATUSES);

/** One EIP-712 signature over a payout batch, by one member of the signer set. */
export interface BatchSignature {
  signer: Hex;
  signature: Hex;
}

/**
 * A payout batch from computation to the chain: pending (computed) → signed (threshold reached) →
 * posted (transaction sent) → confirmed (mined); revoked or failed from any non-final status.
 * (epoch, nonce) is the batch's identity on chain, so it is unique here too among batches that did not
 * fail: a failed batch never reached the chain, so its nonce is still free there and a recomputed batch
 * takes it.
 */
export const payoutBatches = pgTable(
  'payout_batches',
  {
    id: bigint('id', { mode: 'bigint' }).primaryKey().generatedAlwaysAsIdentity(),
    epoch: bigint('epoch', { mode: 'bigint' }).notNull(),
    nonce: bigint('nonce', { mode: 'bigint' }).notNull(),
    status: payoutBatchStatus('status').notNull().default('pending'),
    /** Merkle root of the cumulative (account, totalEarnedSoFar) leaves. */
    root: text('root').$type<Hex>().notNull(),
    /** Wei paid by this batch; numeric(78, 0) so that any uint256 fits exactly. */
    total: uint256('total').notNull(),
    /** keccak256 of the canonical score file the allocation was computed from. */
    scoreFileHash: text('score_file_hash').$type<Hex>().notNull(),
    /** The signer-set version the EIP-712 signatures are made for (part of the signed struct). */
    signerSetVersion: bigint('signer_set_version', { mode: 'bigint' }).notNull(),
    signatures: jsonb('signatures').$type<BatchSignature[]>().notNull().default([]),
    txHash: text('tx_hash').$type<Hex>(),
    error: text('error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('payout_batches_epoch_nonce').on(t.epoch, t.nonce).where(sql`${t.status} <> 'failed'`),
    index('payout_batches_status_idx').on(t.status),
    check('payout_batches_epoch_nonce_nonnegative', sql`${t.epoch} >= 0 AND ${t.nonce} >= 0`),
    check('payout_batches_root_hex', sql`${t.root} ~ '^0x[0-9a-f]{64}$'`),
    check('payout_batches_score_file_hash_hex', sql`${t.scoreFileHash} ~ '^0x[0-9a-f]{64}$'`),
    check('payout_batches_tx_hash_hex', sql`${t.txHash} ~ '^0x[0-9a-f]{64}$'`),
    check(
      'payout_batches_total_uint256',
      sql`${t.total} >= 0 AND ${t.total} <= 115792089237316195423570985008687907853269984665640564039457584007913129639935`,
    ),
  ],
);

/**
 * The audit log of payout batch status changes: one row per change, written in the same transaction as
 * the change. Append-only: a trigger (migration 0001) refuses UPDATE, DELETE and TRUNCATE.
 */
export const payoutBatchEvents = pgTable(
  'payout_batch_events',
  {
    id: bigint('id', { mode: 'bigint' }).primaryKey().generatedAlwaysAsIdentity(),
    batchId: bigint('batch_id', { mode: 'bigint' })
      .notNull()
      .references(() => payoutBatches.id),
    /** Null for the row that records the batch's creation. */
    fromStatus: payoutBatchStatus('from_status'),
    toStatus: payoutBatchStatus('to_status').notNull(),
    /** Who made the change (a process, an operator key's label); free text. */
    actor: text('actor'),
    /** What came with the change: the transaction hash, the error, the signers. */
    detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('payout_batch_events_batch_idx').on(t.batchId, t.id)],
);

export const JOB_STATUSES = ['queued', 'running', 'done', 'failed'] as const;
export const jobStatus = pgEnum('job_status', JOB_STATUSES);

/** Background work that must survive a restart (used from later issues on). */
export const jobs = pgTable(
  'jobs',
  {
    id: bigint('id', { mode: 'bigint' }).primaryKey().generatedAlwaysAsIdentity(),
    kind: text('kind').notNull(),
    payload: jsonb('payload').$type<unknown>().notNull().default({}),
    status: jobStatus('status').notNull().default('queued'),
    attempts: integer('attempts').notNull().default(0),
    runAfter: timestamp('run_after', { withTimezone: true }).notNull().defaultNow(),
    lockedBy: text('locked_by'),
    lockedAt: timestamp('locked_at', { withTimezone: true }),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  // The queue's one query: the next queued job of a kind whose time has come.
  (t) => [index('jobs_queue_idx').on(t.status, t.kind, t.runAfter)],
);

/**
 * Bytes each address uploaded per UTC day (the contribution upload quota). A reservation adds to the day's
 * row only while the sum stays within the limit, in one statement, so concurrent uploads cannot overshoot.
 */
export const uploadQuotas = pgTable(
  'upload_quotas',
  {
    /** Lowercase 0x-hex. */
    address: text('address').$type<Hex>().notNull(),
    /** The UTC day, YYYY-MM-DD. */
    day: date('day', { mode: 'string' }).notNull(),
    bytes: bigint('bytes', { mode: 'bigint' }).notNull(),
    uploads: integer('uploads').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.address, t.day] }),
    check('upload_quotas_address_hex', sql`${t.address} ~ '^0x[0-9a-f]{40}$'`),
    check('upload_quotas_nonnegative', sql`${t.bytes} >= 0 AND ${t.uploads} >= 0`),
  ],
);

export type ApiKeyRole = (typeof API_KEY_ROLES)[number];
export type PayoutBatchStatus = (typeof PAYOUT_BATCH_STATUSES)[number];
export type JobStatus = (typeof JOB_STATUSES)[number];
export type PayoutBatch = typeof payoutBatches.$inferSelect;
export type PayoutBatchEvent = typeof payoutBatchEvents.$inferSelect;
export type Job = typeof jobs.$inferSelect;
export type UploadQuota = typeof uploadQuotas.$inferSelect;

// ------------------------------------------------------------ usage billing

export const USAGE_BATCH_STATUSES = ['pending', 'settled', 'failed'] as const;
export const usageBatchStatus = pgEnum('usage_batch_status', USAGE_BATCH_STATUSES);

export const USAGE_OUTCOMES = ['settled', 'rejected'] as const;
export const usageOutcome = pgEnum('usage_outcome', USAGE_OUTCOMES);

/**
 * A batch of usage that one operator settles with `InferenceRouter.settle(number, items)`. The chain's
 * `lastBatch(operator)` is the truth; this row is the operator's side of it: pending (claimed, perhaps
 * sent) → settled (on chain, in tx_hash) or failed (refused by the chain for a reason other than
 * ordering, see `error`; its records went back to being unbatched and its number is free again).
 * At most one batch per operator is pending, and (operator, number) is unique among batches that did not fail.
 */
export const usageBatches = pgTable(
  'usage_batches',
  {
    id: bigint('id', { mode: 'bigint' }).primaryKey().generatedAlwaysAsIdentity(),
    /** The operator's address, lowercase 0x-hex. */
    operator: text('operator').$type<Hex>().notNull(),
    /** The number `settle` is called with: 1, 2, 3… per operator. */
    number: bigint('number', { mode: 'bigint' }).notNull(),
    status: usageBatchStatus('status').notNull().default('pending'),
    itemCount: integer('item_count').notNull(),
    txHash: text('tx_hash').$type<Hex>(),
    error: text('error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('usage_batches_operator_number').on(t.operator, t.number).where(sql`${t.status} <> 'failed'`),
    uniqueIndex('usage_batches_one_pending').on(t.operator).where(sql`${t.status} = 'pending'`),
    check('usage_batches_operator_hex', sql`${t.operator} ~ '^0x[0-9a-f]{40}$'`),
    check('usage_batches_number_positive', sql`${t.number} >= 1`),
    check('usage_batches_item_count_positive', sql`${t.itemCount} >= 1`),
    check('usage_batches_tx_hash_hex', sql`${t.txHash} ~ '^0x[0-9a-f]{64}$'`),
    check('usage_batches_settled_tx', sql`${t.status} <> 'settled' OR ${t.txHash} IS NOT NULL`),
  ],
);

/**
 * One billable inference: the outbox the settler drains into `usage_batches`, and so the source of truth
 * for what is owed until the chain has it. Unbatched while batch_id is null; outcome is set when its
 * batch settles (rejected: the chain emitted InferenceRejected and nothing moved for it).
 */
export const usageRecords = pgTable(
  'usage_records',
  {
    /** bytes32, lowercase 0x-hex: the id of the inference in the serving log and on chain. */
    requestId: text('request_id').$type<Hex>().primaryKey(),
    /** Lowercase 0x-hex. */
    payer: text('payer').$type<Hex>().notNull(),
    /** uint64 on chain; at most 2**63 - 1 here. */
    modelId: bigint('model_id', { mode: 'bigint' }).notNull(),
    /** uint32 on chain, which int4 cannot hold. */
    tokensIn: bigint('tokens_in', { mode: 'number' }).notNull(),
    tokensOut: bigint('tokens_out', { mode: 'number' }).notNull(),
    /** When the inference was served. */
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    batchId: bigint('batch_id', { mode: 'bigint' }).references(() => usageBatches.id),
    outcome: usageOutcome('outcome'),
  },
  (t) => [
    // The claim's query: the oldest unbatched records.
    index('usage_records_unbatched_idx').on(t.createdAt, t.requestId).where(sql`${t.batchId} IS NULL`),
    index('usage_records_batch_idx').on(t.batchId),
    check('usage_records_request_id_hex', sql`${t.requestId} ~ '^0x[0-9a-f]{64}$'`),
    check('usage_records_payer_hex', sql`${t.payer} ~ '^0x[0-9a-f]{40}$'`),
    check('usage_records_model_id_nonnegative', sql`${t.modelId} >= 0`),
    check('usage_records_tokens_uint32', sql`${t.tokensIn} BETWEEN 0 AND 4294967295 AND ${t.tokensOut} BETWEEN 0 AND 4294967295`),
    check('usage_records_outcome_batched', sql`${t.outcome} IS NULL OR ${t.batchId} IS NOT NULL`),
  ],
);

/**
 * Inference log rows written here in the transaction that records their usage, and deleted once ClickHouse
 * has them: a crash between the two stores leaves the row here for `backfillInferenceLog` to copy. Holds
 * prompt and output text only for that short while.
 */
export const inferenceLogOutbox = pgTable(
  'inference_log_outbox',
  {
    requestId: text('request_id').$type<Hex>().primaryKey(),
    /** The ClickHouse row as JSON (schema/clickhouse/inferenceLog.ts: inferenceLogRowToJson). */
    row: jsonb('row').$type<Record<string, unknown>>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('inference_log_outbox_created_idx').on(t.createdAt), check('inference_log_outbox_request_id_hex', sql`${t.requestId} ~ '^0x[0-9a-f]{64}$'`)],
);

export type UsageBatchStatus = (typeof USAGE_BATCH_STATUSES)[number];
export type UsageOutcome = (typeof USAGE_OUTCOMES)[number];
export type UsageBatch = typeof usageBatches.$inferSelect;
export type UsageRecord = typeof usageRecords.$inferSelect;

/** Every table, for drizzle's typed instance and relational queries. */
export const operationalTables = {
  apiKeys,
  payoutBatches,
  payoutBatchEvents,
  jobs,
  uploadQuotas,
  usageBatches,
  usageRecords,
  inferenceLogOutbox,
  apiKeyRole,
  payoutBatchStatus,
  jobStatus,
  usageBatchStatus,
  usageOutcome,
};
