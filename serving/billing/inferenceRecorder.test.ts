// The recorder on a temp PGlite and a temp chDB: each inference billed (Postgres) and logged (ClickHouse),
// a ClickHouse outage or a crash between the stores repaired by the backfill, and the whole path on anvil:
// record → settle → epoch → privacy redaction.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { keccak256, toHex, zeroAddress, zeroHash, type Hex } from 'viem';
import { startTestDevnet } from '../../contracts/testing/devnet.ts';
import type { Devnet } from '../../contracts/index.ts';
import { CLICKHOUSE_MIGRATIONS, migrate, openClickHouse, openPostgres, type ClickHouseStore, type OperationalDb, type OperationalStore } from '../../schema/index.ts';
import {
  inferenceLogRow,
  inferenceLogRowToJson,
  insertInferenceLog,
  readInferenceLog,
  redactSettledInferences,
  setInferenceEpochs,
  type InferenceLogInput,
} from '../../schema/clickhouse/inferenceLog.ts';
import { enqueueInferenceLogs, pendingInferenceLogs } from '../../schema/postgres/inferenceLogOutbox.ts';
import { UsageRecordMismatchError, countUnbatchedUsage, getUsageRecord, recordUsages } from '../../schema/postgres/usageOutbox.ts';
import { backfillInferenceLog, createInferenceRecorder, recordInference, recordInferences } from './inferenceRecorder.ts';
import type { BillingLogger } from './log.ts';
import { createSettler } from './settler.ts';
import { PAYER, newOperator, setUpBillingChain } from './testing/billingChain.ts';
import { pgliteTemplate, type PgliteTemplate } from '../../schema/postgres/testing/pgliteTemplate.ts';

let dir: string;
let ch: ClickHouseStore | undefined;
let templates: PgliteTemplate;
const stores: OperationalStore[] = [];
let dbs = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-recorder-'));
  templates = pgliteTemplate();
});
afterAll(async () => {
  for (const s of stores) await s.close();
  await ch?.close();
  templates?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh pair of stores: a PGlite database and a ClickHouse database in the file's chDB dir. */
async function freshStores(): Promise<{ db: OperationalDb; ch: ClickHouseClient }> {
  const store = await openPostgres({ dataDir: await templates.freshDataDir() });
  stores.push(store);
  await ch?.close();
  ch = await openClickHouse({ dataDir: dir, database: `recorder_${++dbs}` });
  await migrate(ch, CLICKHOUSE_MIGRATIONS);
  return { db: store.db, ch: ch.client };
}

const sha = (s: string) => `0x${createHash('sha256').update(s, 'utf8').digest('hex')}`;
const T0 = Date.UTC(2026, 5, 1, 12);
let counter = 0;
function inference(over: Partial<InferenceLogInput> = {}): InferenceLogInput {
  const i = ++counter;
  return {
    requestId: keccak256(toHex(`recorder-test ${i}`)),
    modelId: 1n,
    modelVersion: 1n,
    adapterHash: keccak256(toHex('adapter')),
    payer: PAYER.toLowerCase(),
    tokensIn: 10 + (i % 50),
    tokensOut: 5 + (i % 30),
    latencyMs: 80 + i,
    firstTokenMs: 9,
    finishReason: 'stop',
    prompt: `Question ${i}: where do rivers go?`,
    output: `Answer ${i}: to the sea.`,
    createdAt: new Date(T0 + i * 10),
    ...over,
  };
}

const refused = async () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:8123'));
const failingClickHouse = { insert: refused, query: refused, command: refused } as unknown as ClickHouseClient;

function recordingLog(): BillingLogger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (msg: string) => void lines.push(`${level} ${msg}`);
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

async function logCount(client: ClickHouseClient): Promise<number> {
  const rs = await client.query({ query: 'SELECT count() AS n FROM inference_log', format: 'JSONEachRow' });
  return Number((await rs.json<{ n: string }>())[0]!.n);
}

describe('recordInference()', () => {
  it('writes the usage record and the log row, leaving nothing in the outbox', async () => {
    const stores = await freshStores();
    const input = inference();
    expect(await recordInference(stores, input)).toEqual({ billed: true, logged: true });
    expect(await getUsageRecord(stores.db, input.requestId)).toEqual({
      requestId: input.requestId,
      payer: PAYER.toLowerCase(),
      modelId: 1n,
      tokensIn: input.tokensIn,
      tokensOut: input.tokensOut,
      createdAt: input.createdAt,
      batchId: null,
      outcome: null,
    });
    expect(await readInferenceLog(stores.ch)).toEqual([inferenceLogRow(input)]);
    expect(await pendingInferenceLogs(stores.db, { limit: 10 })).toEqual([]);
    // A repeat bills nothing more and logs nothing twice.
    expect(await recordInference(stores, input)).toEqual({ billed: false, logged: true });
    expect(await readInferenceLog(stores.ch)).toEqual([inferenceLogRow(input)]);
    expect(await countUnbatchedUsage(stores.db)).toBe(1);
  });

  it('logs but does not bill an inference without a registered model, without a payer, or with no tokens', async () => {
    const stores = await freshStores();
    const free = [inference({ modelId: 0n, adapterHash: zeroHash }), inference({ payer: zeroAddress }), inference({ tokensIn: 0, tokensOut: 0, finishReason: 'cancelled', firstTokenMs: null })];
    expect(await recordInferences(stores, free)).toEqual({ billed: [], logged: true });
    expect(await countUnbatchedUsage(stores.db)).toBe(0);
    expect((await readInferenceLog(stores.ch)).map((r) => r.requestId)).toEqual(free.map((f) => f.requestId));
  });

  it('refuses a different inference under a recorded request id, writing nothing', async () => {
    const stores = await freshStores();
    const input = inference();
    await recordInference(stores, input);
    const e = await recordInference(stores, { ...input, tokensOut: input.tokensOut + 1, output: 'changed' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UsageRecordMismatchError);
    expect((await readInferenceLog(stores.ch)).map((r) => r.output)).toEqual([input.output]);
    await expect(recordInference(stores, inference({ latencyMs: -5 }))).rejects.toThrow('invalid inference log row: latencyMs must be a non-negative number, got -5');
    expect(await countUnbatchedUsage(stores.db)).toBe(1);
  });
});

describe('crash and outage recovery', () => {
  it('ClickHouse down: the usage is billed, the log waits in the outbox, and the backfill copies it later', async () => {
    const { db, ch: client } = await freshStores();
    const log = recordingLog();
    const items = [inference(), inference()];
    expect(await recordInferences({ db, ch: failingClickHouse, log }, items)).toEqual({ billed: items.map((i) => i.requestId), logged: false });
    expect(log.lines).toEqual(['warn could not write the inference log to ClickHouse; the rows wait in the outbox']);
    expect(await countUnbatchedUsage(db)).toBe(2);
    expect(await logCount(client)).toBe(0);
    expect((await pendingInferenceLogs(db, { limit: 10 })).map((p) => p.requestId)).toEqual(items.map((i) => i.requestId));
    // Still down: the backfill fails and keeps the rows.
    await expect(backfillInferenceLog({ db, ch: failingClickHouse })).rejects.toThrow('ECONNREFUSED');
    expect(await backfillInferenceLog({ db, ch: client, log }, { batchSize: 1 })).toEqual({ copied: 2, alreadyLogged: 0 });
    expect(log.lines.at(-1)).toBe('info copied inference log rows from the outbox to ClickHouse');
    expect(await readInferenceLog(client)).toEqual(items.map(inferenceLogRow));
    expect(await pendingInferenceLogs(db, { limit: 10 })).toEqual([]);
    expect(await backfillInferenceLog({ db, ch: client })).toEqual({ copied: 0, alreadyLogged: 0 });
  });

  it('a crash after the ClickHouse insert, before the outbox was cleared: the backfill sees the rows and copies nothing twice', async () => {
    const { db, ch: client } = await freshStores();
    const rows = [inference(), inference(), inference()].map(inferenceLogRow);
    // What a crash leaves: billed, queued, and two of the three already in ClickHouse.
    await recordUsages(db, rows.map((r) => ({ ...r })));
    await enqueueInferenceLogs(db, rows.map((r) => ({ requestId: r.requestId, row: inferenceLogRowToJson(r) })));
    await insertInferenceLog(client, rows.slice(0, 2));
    expect(await backfillInferenceLog({ db, ch: client })).toEqual({ copied: 1, alreadyLogged: 2 });
    expect(await logCount(client)).toBe(3);
    expect(await readInferenceLog(client)).toEqual(rows);
  });

  it('measures records per second, one at a time and 100 per call', async () => {
    const stores = await freshStores();
    const one = Array.from({ length: 100 }, () => inference());
    let t = performance.now();
    for (const r of one) await recordInference(stores, r);
    const singleRate = one.length / ((performance.now() - t) / 1000);
    const many = Array.from({ length: 2000 }, () => inference());
    t = performance.now();
    for (let i = 0; i < many.length; i += 100) await recordInferences(stores, many.slice(i, i + 100));
    const batchRate = many.length / ((performance.now() - t) / 1000);
    // 2000 inferences ending at once, as concurrent requests do, through the group-commit recorder.
    const recorder = createInferenceRecorder({ ...stores, maxBatch: 200 });
    const burst = Array.from({ length: 2000 }, () => inference());
    t = performance.now();
    const results = await Promise.all(burst.map((r) => recorder.record(r)));
    const groupRate = burst.length / ((performance.now() - t) / 1000);
    // Reported in the README's billing section.
    console.log(
      `recordInference: ${singleRate.toFixed(0)} records/s one at a time, ${batchRate.toFixed(0)} records/s in calls of 100, ${groupRate.toFixed(0)} records/s through createInferenceRecorder (2000 at once)`,
    );
    expect(results.every((r) => r.billed && r.logged)).toBe(true);
    expect(await countUnbatchedUsage(stores.db)).toBe(4100);
    expect(await logCount(stores.ch)).toBe(4100);
    expect(batchRate).toBeGreaterThan(singleRate);
    expect(groupRate).toBeGreaterThan(singleRate);
  });
});

describe('createInferenceRecorder()', () => {
  it('writes inferences that end together in one transaction and one insert per batch', async () => {
    const stores = await freshStores();
    let inserts = 0;
    const counting = Object.create(stores.ch) as ClickHouseClient;
    counting.insert = ((...a: Parameters<ClickHouseClient['insert']>) => ((inserts += 1), stores.ch.insert(...a))) as ClickHouseClient['insert'];
    const recorder = createInferenceRecorder({ db: stores.db, ch: counting, maxBatch: 100, maxDelayMs: 1000 });
    const items = Array.from({ length: 250 }, () => inference());
    const pending = items.map((i) => recorder.record(i));
    // 100 and 200 filled a batch each; the last 50 wait for the delay, or a flush.
    await recorder.flush();
    expect(await Promise.all(pending)).toEqual(items.map(() => ({ billed: true, logged: true })));
    expect(inserts).toBe(3);
    expect(await logCount(stores.ch)).toBe(250);
    expect(await countUnbatchedUsage(stores.db)).toBe(250);
  });

  it('fails only the record that conflicts, reports repeats as not billed, and refuses records once closed', async () => {
    const stores = await freshStores();
    const recorder = createInferenceRecorder({ ...stores, maxDelayMs: 5 });
    const first = inference();
    await recorder.record(first);
    const other = inference();
    const unbilled = inference({ modelId: 0n });
    const [a, b, c, d] = await Promise.allSettled([
      recorder.record(other),
      recorder.record({ ...first, tokensIn: first.tokensIn + 1 }),
      recorder.record(first),
      recorder.record(unbilled),
    ]);
    expect(a).toEqual({ status: 'fulfilled', value: { billed: true, logged: true } });
    expect(b.status).toBe('rejected');
    expect((b as PromiseRejectedResult).reason).toBeInstanceOf(UsageRecordMismatchError);
    expect(c).toEqual({ status: 'fulfilled', value: { billed: false, logged: true } });
    expect(d).toEqual({ status: 'fulfilled', value: { billed: false, logged: true } });
    await expect(recorder.record(inference({ finishReason: 'oops' as never }))).rejects.toThrow('finishReason must be one of stop, length, cancelled');
    await recorder.close();
    await expect(recorder.record(inference())).rejects.toThrow('the inference recorder is closed: no more inferences can be recorded');
    expect(await countUnbatchedUsage(stores.db)).toBe(2);
    // The repeat wrote its log row again (ClickHouse may have lost it): the two copies merge.
    expect(await logCount(stores.ch)).toBe(4);
    expect((await readInferenceLog(stores.ch)).map((r) => r.requestId).sort()).toEqual([first.requestId, other.requestId, unbilled.requestId].sort());
  });
});

describe('on the chain', () => {
  let devnet: Devnet | undefined;
  afterAll(async () => {
    await devnet?.stop();
  });

  it('record → settle → the epoch lands in the log → redaction keeps only the hashes', async () => {
    devnet = await startTestDevnet(join(dir, 'devnet'));
    const { modelId } = await setUpBillingChain(devnet);
    const key = await newOperator(devnet);
    const stores = await freshStores();
    const items = [inference({ modelId }), inference({ modelId }), inference({ modelId: 0n })];
    await recordInferences(stores, items);
    const settler = createSettler({
      db: stores.db,
      chain: devnet,
      operatorKey: key,
      onSettled: async ({ batch }) => void (await setInferenceEpochs(stores.ch, { epoch: batch.epoch, requestIds: batch.settled.map((s) => s.requestId) })),
    });
    const [result] = await settler.drain();
    expect(result!.batch.settled.map((s) => s.requestId)).toEqual(items.slice(0, 2).map((i) => i.requestId));
    const epoch = result!.batch.epoch;
    expect((await readInferenceLog(stores.ch)).map((r) => [r.requestId, r.epoch])).toEqual([
      [items[0]!.requestId, epoch],
      [items[1]!.requestId, epoch],
      [items[2]!.requestId, null],
    ]);
    expect(await redactSettledInferences(stores.ch, { epochs: [epoch] })).toBe(2);
    const after = await readInferenceLog(stores.ch);
    expect(after.map((r) => [r.prompt, r.output, r.promptSha256, r.outputSha256])).toEqual([
      ['', '', sha(items[0]!.prompt), sha(items[0]!.output)],
      ['', '', sha(items[1]!.prompt), sha(items[1]!.output)],
      [items[2]!.prompt, items[2]!.output, sha(items[2]!.prompt), sha(items[2]!.output)],
    ]);
    const ids: Hex[] = after.map((r) => r.requestId);
    expect(ids).toEqual(items.map((i) => i.requestId));
  });
});
