// The serving log (migration 5: inference_log): one row per inference with its text, timings and the
// model version that answered. Rows are written by serving's recorder (through the Postgres outbox, so a
// crash never loses one), get their attribution epoch once the chain has settled them, and lose their
// text, keeping its SHA-256, when a privacy setting asks for it after the epoch is settled.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import { ClickHouseStoreError } from './errors.ts';
import { live } from './migrations/sql.ts';
import { tsvDateTime64, tsvString } from './tsv.ts';
import type { DerivedColumn, DerivedRelation } from './derived.ts';

type Hex = `0x${string}`;

export const FINISH_REASONS = ['stop', 'length', 'cancelled'] as const;
export type FinishReason = (typeof FINISH_REASONS)[number];

/** What the server knows about one inference when it ends. */
export interface InferenceLogInput {
  /** bytes32, the id the router's events carry. */
  requestId: string;
  modelId: bigint;
  modelVersion: bigint;
  /** bytes32 hash of the adapter that answered (the on-chain adapterHash of that model version). */
  adapterHash: string;
  payer: string;
  tokensIn: number;
  tokensOut: number;
  /** From arrival to the last token. Rounded to whole milliseconds. */
  latencyMs: number;
  /** From arrival to the first token; null when none came. */
  firstTokenMs: number | null;
  finishReason: FinishReason;
  prompt: string;
  output: string;
  createdAt: Date;
  /** The attribution epoch, when already known (normally set later, once settled). */
  epoch?: bigint | null;
}

/** A row of inference_log, hex lowercase, hashes computed. */
export interface InferenceLogRow {
  requestId: Hex;
  modelId: bigint;
  modelVersion: bigint;
  adapterHash: Hex;
  payer: Hex;
  tokensIn: number;
  tokensOut: number;
  latencyMs: number;
  firstTokenMs: number | null;
  finishReason: FinishReason;
  prompt: string;
  output: string;
  /** SHA-256 of the prompt's UTF-8 bytes: kept when the text is redacted. */
  promptSha256: Hex;
  outputSha256: Hex;
  createdAt: Date;
  epoch: bigint | null;
}

const UINT32_MAX = 4_294_967_295;
const UINT64_MAX = 2n ** 64n - 1n;

const sha256 = (text: string): Hex => `0x${createHash('sha256').update(text, 'utf8').digest('hex')}`;

function bad(message: string): ClickHouseStoreError {
  return new ClickHouseStoreError(`invalid inference log row: ${message}`);
}

function hexOf(name: string, v: unknown, digits: 40 | 64): Hex {
  const re = digits === 64 ? /^0x[0-9a-fA-F]{64}$/ : /^0x[0-9a-fA-F]{40}$/;
  if (typeof v !== 'string' || !re.test(v)) throw bad(`${name} must be 0x and ${digits} hex digits, got "${String(v)}"`);
  return v.toLowerCase() as Hex;
}

function uint(name: string, v: unknown, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw bad(`${name} must be a non-negative number, got ${String(v)}`);
  const r = Math.round(v);
  if (r > max) throw bad(`${name} must be at most ${max}, got ${v}`);
  return r;
}

function uint64(name: string, v: unknown): bigint {
  if (typeof v !== 'bigint' || v < 0n || v > UINT64_MAX) throw bad(`${name} must be an integer from 0 to ${UINT64_MAX}, got ${String(v)}`);
  return v;
}

/** Checks an inference and computes its text hashes. Throws ClickHouseStoreError saying what is wrong. */
export function inferenceLogRow(i: InferenceLogInput): InferenceLogRow {
  if (!FINISH_REASONS.includes(i.finishReason)) throw bad(`finishReason must be one of ${FINISH_REASONS.join(', ')}, got "${String(i.finishReason)}"`);
  if (typeof i.prompt !== 'string' || typeof i.output !== 'string') throw bad('prompt and output must be strings');
  if (!(i.createdAt instanceof Date) || Number.isNaN(i.createdAt.getTime())) throw bad(`createdAt must be a valid Date, got ${String(i.createdAt)}`);
  if (i.tokensIn !== Math.trunc(i.tokensIn) || i.tokensOut !== Math.trunc(i.tokensOut)) throw bad(`token counts must be integers, got ${i.tokensIn} and ${i.tokensOut}`);
  return {
    requestId: hexOf('requestId', i.requestId, 64),
    modelId: uint64('modelId', i.modelId),
    modelVersion: uint64('modelVersion', i.modelVersion),
    adapterHash: hexOf('adapterHash', i.adapterHash, 64),
    payer: hexOf('payer', i.payer, 40),
    tokensIn: uint('tokensIn', i.tokensIn, UINT32_MAX),
    tokensOut: uint('tokensOut', i.tokensOut, UINT32_MAX),
    latencyMs: uint('latencyMs', i.latencyMs, UINT32_MAX),
    firstTokenMs: i.firstTokenMs === null ? null : uint('firstTokenMs', i.firstTokenMs, UINT32_MAX),
    finishReason: i.finishReason,
    prompt: i.prompt,
    output: i.output,
    promptSha256: sha256(i.prompt),
    outputSha256: sha256(i.output),
    createdAt: new Date(i.createdAt.getTime()),
    epoch: i.epoch === undefined || i.epoch === null ? null : uint64('epoch', i.epoch),
  };
}

/** The row as plain JSON (bigints as decimal strings, the time as ms), for the Postgres outbox. */
export function inferenceLogRowToJson(r: InferenceLogRow): Record<string, unknown> {
  return {
    ...r,
    modelId: r.modelId.toString(),
    modelVersion: r.modelVersion.toString(),
    createdAt: r.createdAt.getTime(),
    epoch: r.epoch === null ? null : r.epoch.toString(),
  };
}

/** Reads back what inferenceLogRowToJson wrote (checking it again, hashes included). */
export function inferenceLogRowFromJson(j: Record<string, unknown>): InferenceLogRow {
  const big = (name: string, v: unknown) => {
    if (typeof v !== 'string' || !/^\d+$/.test(v)) throw bad(`${name} must be a decimal string in the outbox, got ${JSON.stringify(v)}`);
    return BigInt(v);
  };
  const row = inferenceLogRow({
    requestId: j.requestId as string,
    modelId: big('modelId', j.modelId),
    modelVersion: big('modelVersion', j.modelVersion),
    adapterHash: j.adapterHash as string,
    payer: j.payer as string,
    tokensIn: j.tokensIn as number,
    tokensOut: j.tokensOut as number,
    latencyMs: j.latencyMs as number,
    firstTokenMs: j.firstTokenMs as number | null,
    finishReason: j.finishReason as FinishReason,
    prompt: j.prompt as string,
    output: j.output as string,
    createdAt: new Date(j.createdAt as number),
    epoch: j.epoch === null || j.epoch === undefined ? null : big('epoch', j.epoch),
  });
  if (row.promptSha256 !== j.promptSha256 || row.outputSha256 !== j.outputSha256) throw bad(`the text of ${row.requestId} does not match its hashes`);
  return row;
}

const COLUMNS = [
  'request_id_hex', 'model_id', 'model_version', 'adapter_hash_hex', 'payer_hex', 'tokens_in', 'tokens_out', 'latency_ms',
  'first_token_ms', 'finish_reason', 'prompt', 'output', 'prompt_sha256_hex', 'output_sha256_hex', 'created_at', 'epoch',
] as const;

const tsvLine = (r: InferenceLogRow): string =>
  [
    r.requestId.slice(2), r.modelId, r.modelVersion, r.adapterHash.slice(2), r.payer.slice(2), r.tokensIn, r.tokensOut, r.latencyMs,
    r.firstTokenMs === null ? '\\N' : r.firstTokenMs, tsvString(r.finishReason), tsvString(r.prompt), tsvString(r.output),
    r.promptSha256.slice(2), r.outputSha256.slice(2), tsvDateTime64(r.createdAt.getTime()), r.epoch === null ? '\\N' : r.epoch,
  ].join('\t') + '\n';

/** Inserts rows (TabSeparated, one insert). A row inserted twice merges into one (ReplacingMergeTree). */
export async function insertInferenceLog(client: ClickHouseClient, rows: readonly InferenceLogRow[]): Promise<void> {
  if (rows.length === 0) return;
  await client.insert({
    table: 'inference_log',
    columns: [...COLUMNS],
    format: 'TabSeparated',
    values: Readable.from([rows.map(tsvLine).join('')], { objectMode: false }),
  });
}

/** Of `requestIds`, those inference_log has. */
export async function loggedRequestIds(client: ClickHouseClient, requestIds: readonly string[]): Promise<Set<Hex>> {
  if (requestIds.length === 0) return new Set();
  const ids = requestIds.map((r) => hexOf('requestId', r, 64).slice(2));
  const rs = await client.query({
    query: `SELECT DISTINCT concat('0x', lower(hex(request_id))) AS id FROM inference_log
            WHERE request_id IN (SELECT toFixedString(unhex(arrayJoin({ids:Array(String)})), 32))`,
    query_params: { ids },
    format: 'JSONEachRow',
  });
  return new Set((await rs.json<{ id: Hex }>()).map((r) => r.id));
}

export interface ReadInferenceLogParameters {
  modelId?: bigint;
  /** created_at ≥ from. */
  from?: Date;
  /** created_at < to. */
  to?: Date;
  epoch?: bigint;
  requestIds?: readonly string[];
  /** Default 1000. */
  limit?: number;
}

interface RawRow {
  request_id_hex: Hex;
  model_id: string;
  model_version: string;
  adapter_hash_hex: Hex;
  payer_hex: Hex;
  tokens_in: number;
  tokens_out: number;
  latency_ms: number;
  first_token_ms: number | null;
  finish_reason: FinishReason;
  prompt: string;
  output: string;
  prompt_sha256_hex: Hex;
  output_sha256_hex: Hex;
  created_ms: string;
  epoch: string | null;
}

// Aliases differ from the column names: ClickHouse lets WHERE see SELECT aliases, which would shadow them.
const hexCol = (c: string) => `concat('0x', lower(hex(${c}))) AS ${c}_hex`;

/** Inferences matching every given filter, by time then request id, each once (FINAL). */
export async function readInferenceLog(client: ClickHouseClient, p: ReadInferenceLogParameters = {}): Promise<InferenceLogRow[]> {
  const where: string[] = [];
  const params: Record<string, unknown> = { limit: p.limit ?? 1000 };
  if (p.modelId !== undefined) (where.push('model_id = {modelId:UInt64}'), (params.modelId = uint64('modelId', p.modelId)));
  if (p.from !== undefined) (where.push("created_at >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')"), (params.from = p.from.getTime()));
  if (p.to !== undefined) (where.push("created_at < fromUnixTimestamp64Milli({to:Int64}, 'UTC')"), (params.to = p.to.getTime()));
  if (p.epoch !== undefined) (where.push('epoch = {epoch:UInt64}'), (params.epoch = uint64('epoch', p.epoch)));
  if (p.requestIds !== undefined) {
    where.push('request_id IN (SELECT toFixedString(unhex(arrayJoin({ids:Array(String)})), 32))');
    params.ids = p.requestIds.map((r) => hexOf('requestId', r, 64).slice(2));
  }
  const rs = await client.query({
    query: `SELECT ${hexCol('request_id')}, model_id, model_version, ${hexCol('adapter_hash')}, ${hexCol('payer')}, tokens_in, tokens_out,
                   latency_ms, first_token_ms, finish_reason, prompt, output, ${hexCol('prompt_sha256')}, ${hexCol('output_sha256')},
                   toUnixTimestamp64Milli(created_at) AS created_ms, epoch
            FROM inference_log FINAL
            ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
            ORDER BY created_at, request_id
            LIMIT {limit:UInt32}`,
    query_params: params,
    format: 'JSONEachRow',
  });
  return (await rs.json<RawRow>()).map((r) => ({
    requestId: r.request_id_hex,
    modelId: BigInt(r.model_id),
    modelVersion: BigInt(r.model_version),
    adapterHash: r.adapter_hash_hex,
    payer: r.payer_hex,
    tokensIn: Number(r.tokens_in),
    tokensOut: Number(r.tokens_out),
    latencyMs: Number(r.latency_ms),
    firstTokenMs: r.first_token_ms === null ? null : Number(r.first_token_ms),
    finishReason: r.finish_reason,
    prompt: r.prompt,
    output: r.output,
    promptSha256: r.prompt_sha256_hex,
    outputSha256: r.output_sha256_hex,
    createdAt: new Date(Number(r.created_ms)),
    epoch: r.epoch === null ? null : BigInt(r.epoch),
  }));
}

// ------------------------------------------------------------------ epochs

/**
 * Sets the attribution epoch of inferences whose batch settled (a lightweight UPDATE: a small patch, not a
 * rewrite). Rows that already have an epoch keep it. Returns how many rows got one.
 */
export async function setInferenceEpochs(client: ClickHouseClient, p: { epoch: bigint; requestIds: readonly string[] }): Promise<number> {
  if (p.requestIds.length === 0) return 0;
  const params = { epoch: uint64('epoch', p.epoch), ids: p.requestIds.map((r) => hexOf('requestId', r, 64).slice(2)) };
  const match = 'epoch IS NULL AND request_id IN (SELECT toFixedString(unhex(arrayJoin({ids:Array(String)})), 32))';
  const n = await countWhere(client, match, params);
  if (n > 0) await client.command({ query: `UPDATE inference_log SET epoch = {epoch:UInt64} WHERE ${match}`, query_params: params });
  return n;
}

const SETTLED = live('ev_inference_router_inference_settled', ['request_id', 'epoch']);

/**
 * Fills in the epoch of every logged inference that the indexer has seen settled (the InferenceSettled
 * events in ClickHouse), for rows the settler's own update missed (a crash in between, another process).
 * Returns how many rows got an epoch.
 */
export async function fillInferenceEpochs(client: ClickHouseClient): Promise<number> {
  const rs = await client.query({
    query: `SELECT toString(s.epoch) AS epoch FROM ${SETTLED} AS s
            WHERE s.request_id IN (SELECT request_id FROM inference_log WHERE epoch IS NULL)
            GROUP BY s.epoch ORDER BY s.epoch`,
    format: 'JSONEachRow',
  });
  let filled = 0;
  for (const { epoch } of await rs.json<{ epoch: string }>()) {
    const params = { epoch: uint64('epoch', BigInt(epoch)) };
    const match = `epoch IS NULL AND request_id IN (SELECT request_id FROM ${SETTLED} WHERE epoch = {epoch:UInt64})`;
    const n = await countWhere(client, match, params);
    if (n > 0) await client.command({ query: `UPDATE inference_log SET epoch = {epoch:UInt64} WHERE ${match}`, query_params: params });
    filled += n;
  }
  return filled;
}

async function countWhere(client: ClickHouseClient, where: string, params: Record<string, unknown>): Promise<number> {
  const rs = await client.query({ query: `SELECT uniqExact(request_id) AS n FROM inference_log WHERE ${where}`, query_params: params, format: 'JSONEachRow' });
  const [r] = await rs.json<{ n: string | number }>();
  return Number(r?.n ?? 0);
}

// --------------------------------------------------------------- redaction

/** Which settled epochs to redact: a list, or every epoch below a number. */
export type RedactSettledInferencesParameters = { epochs: readonly bigint[] } | { beforeEpoch: bigint };

/**
 * Replaces the prompt and output text of inferences in the given settled epochs by '' and keeps their
 * SHA-256. The caller decides which epochs are settled (their payout past its dispute window); rows whose
 * epoch is not known yet are never touched. Runs as a mutation (ALTER TABLE … UPDATE) and waits for it,
 * so the text is rewritten out of the table's parts, not hidden. Returns how many inferences were redacted.
 */
export async function redactSettledInferences(client: ClickHouseClient, p: RedactSettledInferencesParameters): Promise<number> {
  let epochMatch: string;
  const params: Record<string, unknown> = {};
  if ('epochs' in p) {
    if (p.epochs.length === 0) return 0;
    epochMatch = 'epoch IN {epochs:Array(UInt64)}';
    params.epochs = p.epochs.map((e) => uint64('epoch', e));
  } else {
    epochMatch = 'epoch < {before:UInt64}';
    params.before = uint64('beforeEpoch', p.beforeEpoch);
  }
  const match = `epoch IS NOT NULL AND ${epochMatch} AND (prompt != '' OR output != '')`;
  const n = await countWhere(client, match, params);
  if (n === 0) return 0;
  await client.command({
    query: `ALTER TABLE inference_log UPDATE prompt = '', output = '' WHERE ${match}`,
    query_params: params,
    // 2: wait until every replica has rewritten its parts (a single server or chDB: this one).
    clickhouse_settings: { mutations_sync: '2' },
  });
  return n;
}

// ------------------------------------------------------------------ documentation

const col = (name: string, chType: string, doc: string): DerivedColumn => ({ name, chType, doc });
const bin = (name: string, chType: string, doc: string): DerivedColumn => ({ name, chType, hex: true, doc });

/** Migration 5's table, documented as derived.ts documents the others (spread into DERIVED_RELATIONS). */
export const INFERENCE_LOG_RELATION: DerivedRelation = {
  name: 'inference_log',
  kind: 'table',
  engine: 'ReplacingMergeTree',
  key: ['model_id', 'created_at', 'request_id'],
  purpose: 'One row per inference the server answered, as the server saw it (the chain has what was billed); read with FINAL or LIMIT 1 BY request_id',
  columns: [
    bin('request_id', 'FixedString(32)', "the inference's id, as the router's events carry it"),
    col('model_id', 'UInt64', 'the model'),
    col('model_version', 'UInt64', 'the model version that answered'),
    bin('adapter_hash', 'FixedString(32)', "SHA-256 of the adapter's weights"),
    bin('payer', 'FixedString(20)', 'the payer billed'),
    col('tokens_in', 'UInt32', 'prompt tokens'),
    col('tokens_out', 'UInt32', 'generated tokens'),
    col('latency_ms', 'UInt32', 'from arrival to the last token'),
    col('first_token_ms', 'Nullable(UInt32)', 'from arrival to the first token; NULL when none came'),
    col('finish_reason', 'LowCardinality(String)', "'stop', 'length' or 'cancelled'"),
    col('prompt', 'String', 'the prompt text (blanked after the dispute window when privacy asks)'),
    col('output', 'String', 'the generated text (likewise)'),
    bin('prompt_sha256', 'FixedString(32)', 'SHA-256 of the prompt, kept when the text is blanked'),
    bin('output_sha256', 'FixedString(32)', 'SHA-256 of the output, likewise'),
    col('created_at', "DateTime64(3, 'UTC')", 'when the request arrived'),
    col('epoch', 'Nullable(UInt64)', 'the attribution epoch whose pool got the fee; NULL until settled on chain'),
  ],
};

// ------------------------------------------------------------ settled epochs

/**
 * The attribution epochs whose payout is final at `now`: each has a posted, unrevoked batch past its
 * dispute window (claimable), so its inferences no longer need their text. Ascending. `now` is wall-clock
 * time; a chain whose clock runs ahead (anvil after evm_increaseTime) makes batches claimable later here
 * than on chain, never sooner.
 */
export async function claimableEpochs(client: ClickHouseClient, nowMs = Date.now()): Promise<bigint[]> {
  const rs = await client.query({
    query: `SELECT DISTINCT toString(epoch) AS e FROM payout_batches
            WHERE status = 'posted' AND claimable_at <= fromUnixTimestamp64Milli({now:Int64}) ORDER BY epoch`,
    query_params: { now: nowMs },
    format: 'JSONEachRow',
  });
  return (await rs.json<{ e: string }>()).map((r) => BigInt(r.e));
}
