// inference_log on chDB: rows written and read back exactly, duplicates merged, epochs set from the settler
// or from the indexed InferenceSettled events, and the privacy redaction that keeps only the hashes.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openClickHouse, type ClickHouseStore } from './connect.ts';
import { eventRowTsv, eventTable, insertEventRows } from './eventTables.ts';
import {
  fillInferenceEpochs,
  inferenceLogRow,
  inferenceLogRowFromJson,
  inferenceLogRowToJson,
  insertInferenceLog,
  loggedRequestIds,
  readInferenceLog,
  redactSettledInferences,
  setInferenceEpochs,
  type InferenceLogInput,
} from './inferenceLog.ts';
import { migrate, migrationChecksum } from './migrate.ts';
import { CLICKHOUSE_MIGRATIONS } from './migrations/index.ts';
import { m0005 } from './migrations/0005_inference_log.ts';

// chDB binds one data dir per process: the tests share it, each migrating a database of its own.
let dir: string;
let store: ClickHouseStore;
let n = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-inference-log-'));
});
beforeEach(async () => {
  await store?.close();
  store = await openClickHouse({ dataDir: dir, database: `inference_log_${++n}` });
  await migrate(store, CLICKHOUSE_MIGRATIONS);
});
afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

const rid = (i: number) => `0x${i.toString(16).padStart(64, '0')}`;
const PAYER = `0x${'c3'.repeat(20)}`;
const ADAPTER = `0x${'ad'.repeat(32)}`;
const T0 = Date.UTC(2026, 2, 4, 5, 6, 7, 89);
const sha = (s: string) => `0x${createHash('sha256').update(s, 'utf8').digest('hex')}`;
const input = (i: number, over: Partial<InferenceLogInput> = {}): InferenceLogInput => ({
  requestId: rid(i),
  modelId: 3n,
  modelVersion: 1n,
  adapterHash: ADAPTER,
  payer: PAYER,
  tokensIn: 10 + i,
  tokensOut: 20 + i,
  latencyMs: 150.4,
  firstTokenMs: 12.6,
  finishReason: 'stop',
  prompt: `prompt ${i}`,
  output: `output ${i}`,
  createdAt: new Date(T0 + i * 60_000),
  ...over,
});

describe('inference_log', () => {
  it('pins migration 5: an applied migration never changes', () => {
    expect(CLICKHOUSE_MIGRATIONS.find((m) => m.id === 5)).toBe(m0005);
    expect(migrationChecksum(m0005)).toBe('acebcbf12775e0fbeb7de68b00faf2ad3835a9c4156b1c93d8cd41a60b3a6712');
  });

  it('sorts by model and time in monthly partitions', async () => {
    const rs = await store.client.query({
      query: "SELECT engine, sorting_key, partition_key FROM system.tables WHERE database = {db:String} AND name = 'inference_log'",
      query_params: { db: store.database },
      format: 'JSONEachRow',
    });
    expect(await rs.json()).toEqual([{ engine: 'ReplacingMergeTree', sorting_key: 'model_id, created_at, request_id', partition_key: 'toYYYYMM(created_at)' }]);
  });

  it('stores what the server saw and reads it back exactly, text with tabs, newlines and any script included', async () => {
    const odd = input(2, {
      prompt: 'tab\there\nnew line \\ backslash — ünïcødé 🌊 \0',
      output: '',
      firstTokenMs: null,
      finishReason: 'cancelled',
      modelId: 2n ** 64n - 1n,
      tokensOut: 0,
      requestId: rid(2).replace('0x', '0X').toUpperCase().replace('0X', '0x'),
      epoch: 7n,
    });
    const rows = [inferenceLogRow(input(1)), inferenceLogRow(odd)];
    await insertInferenceLog(store.client, rows);
    expect(rows[1]).toMatchObject({ requestId: rid(2), latencyMs: 150, firstTokenMs: null, promptSha256: sha(odd.prompt), outputSha256: sha(''), epoch: 7n });
    expect(rows[0]).toMatchObject({ latencyMs: 150, firstTokenMs: 13, promptSha256: sha('prompt 1'), outputSha256: sha('output 1'), epoch: null });
    expect(await readInferenceLog(store.client)).toEqual(rows);
    expect(await readInferenceLog(store.client, { modelId: 3n })).toEqual([rows[0]]);
    expect(await readInferenceLog(store.client, { from: new Date(T0 + 60_001) })).toEqual([rows[1]]);
    expect(await readInferenceLog(store.client, { to: new Date(T0 + 60_001) })).toEqual([rows[0]]);
    expect(await readInferenceLog(store.client, { epoch: 7n })).toEqual([rows[1]]);
    expect(await readInferenceLog(store.client, { requestIds: [rid(1), rid(9)] })).toEqual([rows[0]]);
    expect(await loggedRequestIds(store.client, [rid(1), rid(2).toUpperCase().replace('0X', '0x'), rid(3)])).toEqual(new Set([rid(1), rid(2)]));
  });

  it('merges a row inserted twice (a backfill after a crash) into one', async () => {
    const row = inferenceLogRow(input(1));
    await insertInferenceLog(store.client, [row]);
    await insertInferenceLog(store.client, [row]);
    expect(await readInferenceLog(store.client)).toEqual([row]);
    await store.client.command({ query: 'OPTIMIZE TABLE inference_log FINAL' });
    const rs = await store.client.query({ query: 'SELECT count() AS n FROM inference_log', format: 'JSONEachRow' });
    expect(await rs.json()).toEqual([{ n: '1' }]);
  });

  it('refuses a malformed row, saying what is wrong', () => {
    const cases: [Partial<InferenceLogInput>, string][] = [
      [{ requestId: '0x12' }, 'requestId must be 0x and 64 hex digits, got "0x12"'],
      [{ adapterHash: PAYER }, `adapterHash must be 0x and 64 hex digits, got "${PAYER}"`],
      [{ payer: 'bob' }, 'payer must be 0x and 40 hex digits, got "bob"'],
      [{ modelId: -1n }, 'modelId must be an integer from 0 to 18446744073709551615, got -1'],
      [{ tokensIn: 2 ** 32 }, 'tokensIn must be at most 4294967295, got 4294967296'],
      [{ tokensOut: 1.5 }, 'token counts must be integers, got 11 and 1.5'],
      [{ latencyMs: -1 }, 'latencyMs must be a non-negative number, got -1'],
      [{ finishReason: 'timeout' as never }, 'finishReason must be one of stop, length, cancelled, got "timeout"'],
      [{ createdAt: new Date('nope') }, 'createdAt must be a valid Date, got Invalid Date'],
    ];
    for (const [over, message] of cases) expect(() => inferenceLogRow(input(1, over))).toThrow(`invalid inference log row: ${message}`);
  });

  it('round-trips a row through the outbox JSON, and refuses text that no longer matches its hashes', () => {
    const row = inferenceLogRow(input(1, { modelId: 2n ** 64n - 1n, epoch: 3n }));
    const json = JSON.parse(JSON.stringify(inferenceLogRowToJson(row))) as Record<string, unknown>;
    expect(json.modelId).toBe('18446744073709551615');
    expect(inferenceLogRowFromJson(json)).toEqual(row);
    expect(() => inferenceLogRowFromJson({ ...json, prompt: 'edited' })).toThrow(`invalid inference log row: the text of ${rid(1)} does not match its hashes`);
    expect(() => inferenceLogRowFromJson({ ...json, modelId: 5 })).toThrow('invalid inference log row: modelId must be a decimal string in the outbox, got 5');
  });

  it('setInferenceEpochs() sets the epoch of rows that have none', async () => {
    await insertInferenceLog(store.client, [inferenceLogRow(input(1)), inferenceLogRow(input(2)), inferenceLogRow(input(3, { epoch: 1n }))]);
    expect(await setInferenceEpochs(store.client, { epoch: 4n, requestIds: [rid(1), rid(3), rid(8)] })).toBe(1);
    expect(await setInferenceEpochs(store.client, { epoch: 5n, requestIds: [rid(1)] })).toBe(0);
    expect(await setInferenceEpochs(store.client, { epoch: 5n, requestIds: [] })).toBe(0);
    expect((await readInferenceLog(store.client)).map((r) => [r.requestId, r.epoch])).toEqual([
      [rid(1), 4n],
      [rid(2), null],
      [rid(3), 1n],
    ]);
  });

  // ClickHouse compares an IN set of Strings against FixedString(32) without the trailing zero bytes, so an
  // id ending in 0x00 (1 in 256) went missing until the set was made of FixedString(32) too.
  it('finds and updates request ids that end in a zero byte', async () => {
    const zeroEnded = `0x${'ee'.repeat(31)}00`;
    await insertInferenceLog(store.client, [inferenceLogRow(input(1, { requestId: zeroEnded }))]);
    expect(await loggedRequestIds(store.client, [zeroEnded])).toEqual(new Set([zeroEnded]));
    expect((await readInferenceLog(store.client, { requestIds: [zeroEnded] })).map((r) => r.requestId)).toEqual([zeroEnded]);
    expect(await setInferenceEpochs(store.client, { epoch: 9n, requestIds: [zeroEnded] })).toBe(1);
  });

  it('fillInferenceEpochs() takes the epochs from the indexed InferenceSettled events, ignoring cancelled ones', async () => {
    await insertInferenceLog(store.client, [1, 2, 3, 4].map((i) => inferenceLogRow(input(i))));
    const table = eventTable('InferenceRouter', 'InferenceSettled');
    const settled = (i: number, epoch: bigint, block: number, sign: 1 | -1 = 1) =>
      eventRowTsv(
        table,
        { blockNumber: block, blockHash: `0x${block.toString(16).padStart(64, '0')}`, timestampMs: T0, logIndex: i, transactionHash: `0x${'ee'.repeat(32)}`, address: `0x${'11'.repeat(20)}` },
        { requestId: rid(i), modelId: 3n, payer: PAYER, epoch, batchNumber: 1n, modelOwner: PAYER, tokensIn: 1n, tokensOut: 1n, fee: 10n, ownerAmount: 5n, poolAmount: 4n, treasuryAmount: 1n },
        sign,
      );
    // 1 and 2 in epoch 6, 3 in epoch 9; 4 was settled in a block a reorg removed.
    await insertEventRows(store.client, table, [settled(1, 6n, 10), settled(2, 6n, 10), settled(3, 9n, 11), settled(4, 9n, 12), settled(4, 9n, 12, -1)]);
    expect(await fillInferenceEpochs(store.client)).toBe(3);
    expect(await fillInferenceEpochs(store.client)).toBe(0);
    expect((await readInferenceLog(store.client)).map((r) => [r.requestId, r.epoch])).toEqual([
      [rid(1), 6n],
      [rid(2), 6n],
      [rid(3), 9n],
      [rid(4), null],
    ]);
  });

  it('redactSettledInferences() blanks the text of the given settled epochs and keeps the hashes', async () => {
    const rows = [
      inferenceLogRow(input(1, { epoch: 1n })),
      inferenceLogRow(input(2)),
      inferenceLogRow(input(3, { epoch: 2n })),
      inferenceLogRow(input(4, { epoch: 3n })),
      inferenceLogRow(input(5)),
    ];
    await insertInferenceLog(store.client, rows);
    // Epochs set by a lightweight update are seen by the mutation.
    await setInferenceEpochs(store.client, { epoch: 1n, requestIds: [rid(2)] });
    expect(await redactSettledInferences(store.client, { epochs: [1n] })).toBe(2);
    expect(await redactSettledInferences(store.client, { epochs: [1n] })).toBe(0);
    expect(await redactSettledInferences(store.client, { epochs: [] })).toBe(0);
    expect(await redactSettledInferences(store.client, { beforeEpoch: 3n })).toBe(1);
    const after = await readInferenceLog(store.client);
    expect(after.map((r) => [r.requestId, r.epoch, r.prompt, r.output, r.promptSha256, r.outputSha256])).toEqual([
      [rid(1), 1n, '', '', sha('prompt 1'), sha('output 1')],
      [rid(2), 1n, '', '', sha('prompt 2'), sha('output 2')],
      [rid(3), 2n, '', '', sha('prompt 3'), sha('output 3')],
      [rid(4), 3n, 'prompt 4', 'output 4', sha('prompt 4'), sha('output 4')],
      [rid(5), null, 'prompt 5', 'output 5', sha('prompt 5'), sha('output 5')],
    ]);
    // Everything else of a redacted row is unchanged.
    expect({ ...after[0], prompt: rows[0]!.prompt, output: rows[0]!.output }).toEqual(rows[0]);
    const rs = await store.client.query({
      query: "SELECT count() AS pending FROM system.mutations WHERE database = {db:String} AND table = 'inference_log' AND NOT is_done",
      query_params: { db: store.database },
      format: 'JSONEachRow',
    });
    expect(await rs.json()).toEqual([{ pending: '0' }]);
  });
});
