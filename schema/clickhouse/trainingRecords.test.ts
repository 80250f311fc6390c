// The training tables (migration 6) on chDB: a stored run copied in and read back exactly, by manifest
// hash and by on-chain run id, idempotent inserts, re-syncing from the content store, and the schema as
// TRAINING_RELATIONS documents it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hex } from 'viem';
import { openFsContentStore, type FsContentStore } from '../content/fsStore.ts';
import { storeAdapterFiles, storeTrainingRun, type StoredTrainingRun, type TrainingExampleFileRecord } from '../content/trainingFiles.ts';
import { openClickHouse, type ClickHouseStore } from './connect.ts';
import { eventRowTsv, eventTable, insertEventRows } from './eventTables.ts';
import { migrate, migrationChecksum } from './migrate.ts';
import { CLICKHOUSE_MIGRATIONS } from './migrations/index.ts';
import { m0006 } from './migrations/0006_training.ts';
import { insertTrainingRun, readTrainingManifest, syncTrainingRecords, trainingExamples, trainingRunManifestHash, TRAINING_RELATIONS, type TrainingExampleRow } from './trainingRecords.ts';

let dir: string;
let ch: ClickHouseStore;
let store: FsContentStore;
let run: StoredTrainingRun;
let finalHash: Hex;
let checkpointHash: Hex;

const enc = (s: string) => new TextEncoder().encode(s);
const rows = async <T = Record<string, unknown>>(s: ClickHouseStore, query: string, query_params: Record<string, unknown> = {}) =>
  (await s.client.query({ query, query_params, format: 'JSONEachRow' })).json<T>();

// Losses as a float32 trainer produces them: exact in Float64, not short decimals.
const f32 = (x: number) => Math.fround(x);
const EXAMPLES: TrainingExampleFileRecord[] = [
  { contributionId: '2', rowIndex: 0, rowHash: `0x${'a1'.repeat(32)}`, split: 'train', tokens: 9, truncated: false, loss: f32(0.1), checkpointLosses: [f32(1.7), f32(0.1)] },
  { contributionId: '2', rowIndex: 1, rowHash: `0x${'a2'.repeat(32)}`, split: 'eval', tokens: 11, truncated: true, loss: f32(2.3), checkpointLosses: [f32(2.9), f32(2.3)] },
  { contributionId: '2', rowIndex: 2, rowHash: `0x${'a3'.repeat(32)}`, split: 'train', tokens: 4, truncated: false, loss: f32(1e-7), checkpointLosses: [f32(3.25), f32(1e-7)] },
  { contributionId: '115792089237316195423570985008687907853269984665640564039457584007913129639935', rowIndex: 0, rowHash: `0x${'a4'.repeat(32)}`, split: 'train', tokens: 2, truncated: false, loss: 0, checkpointLosses: [0, 0] },
];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-training-records-'));
  ch = await openClickHouse({ dataDir: dir, database: 'training_a' });
  await migrate(ch, CLICKHOUSE_MIGRATIONS);
  store = await openFsContentStore({ root: join(dir, 'content') });
  const final = await storeAdapterFiles(store, { config: enc('{}'), weights: enc('final') });
  const ck = await storeAdapterFiles(store, { config: enc('{}'), weights: enc('checkpoint') });
  finalHash = final.adapterHash;
  checkpointHash = ck.adapterHash;
  run = await storeTrainingRun(store, {
    manifest: {
      format: 'tributary-training-v1',
      baseModel: { id: `tiny@sha256:${'1'.repeat(64)}`, name: 'tiny', modelSha256: '1'.repeat(64), configSha256: '2'.repeat(64), vocabSha256: '3'.repeat(64) },
      datanets: [{ datanetId: '5', version: '2', root: `0x${'c'.repeat(64)}`, contributionCount: 1 }],
      training: {
        rowsHash: `0x${'d'.repeat(64)}`,
        rows: 4,
        trainRows: 3,
        evalRows: 1,
        truncatedRows: 1,
        hyperparameters: { rank: 4, alpha: 8, targets: ['c_attn'], promptFormat: "it's\ttabbed" },
        seed: 42,
        steps: 3,
        checkpointSteps: [2, 3],
        lossCurve: [{ step: 1, loss: f32(3.1) }, { step: 2, loss: f32(2.2), evalLoss: f32(2.9) }, { step: 3, loss: f32(0.7), evalLoss: f32(2.3) }],
        initialEvalLoss: f32(3.3),
        evalLoss: f32(2.3),
      },
      adapter: { adapterHash: final.adapterHash, manifestSha256: final.manifestSha256 },
      checkpoints: [
        { step: 2, adapterHash: ck.adapterHash, manifestSha256: ck.manifestSha256 },
        { step: 3, adapterHash: final.adapterHash, manifestSha256: final.manifestSha256 },
      ],
    },
    examples: EXAMPLES,
  });
});

afterAll(async () => {
  await ch?.close();
  rmSync(dir, { recursive: true, force: true });
});

const expectedRows = (): TrainingExampleRow[] =>
  EXAMPLES.map((e) => ({
    manifestHash: run.manifestHash,
    contributionId: BigInt(e.contributionId),
    rowIndex: e.rowIndex,
    rowHash: e.rowHash,
    adapterHash: finalHash,
    split: e.split,
    tokens: e.tokens,
    truncated: e.truncated,
    loss: e.loss,
    checkpointLosses: e.checkpointLosses,
  }));

const collect = async <T>(g: AsyncGenerator<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const x of g) out.push(x);
  return out;
};

describe('insertTrainingRun()', () => {
  it('copies the manifest and every example, read back exactly (Float64 losses, UInt256 ids)', async () => {
    expect(await insertTrainingRun(ch.client, run)).toEqual({ examples: 4 });
    expect(await readTrainingManifest(ch.client, run.manifestHash)).toEqual({
      manifestHash: run.manifestHash,
      adapterHash: finalHash,
      adapterManifestSha256: run.manifest.adapter.manifestSha256,
      baseModel: `tiny@sha256:${'1'.repeat(64)}`,
      datanets: [{ datanetId: 5n, version: 2n }],
      rowsHash: `0x${'d'.repeat(64)}`,
      rowCount: 4,
      trainRowCount: 3,
      evalRowCount: 1,
      truncatedRowCount: 1,
      seed: 42n,
      steps: 3,
      hyperparameters: { rank: 4, alpha: 8, targets: ['c_attn'], promptFormat: "it's\ttabbed" },
      lossCurve: [{ step: 1, loss: f32(3.1) }, { step: 2, loss: f32(2.2) }, { step: 3, loss: f32(0.7) }],
      evalCurve: [{ step: 2, evalLoss: f32(2.9) }, { step: 3, evalLoss: f32(2.3) }],
      initialEvalLoss: f32(3.3),
      evalLoss: f32(2.3),
      checkpoints: [{ step: 2, adapterHash: checkpointHash }, { step: 3, adapterHash: finalHash }],
      examplesSha256: run.manifest.examples.sha256,
    });
    expect(await readTrainingManifest(ch.client, `0x${'0'.repeat(64)}`)).toBeUndefined();
    expect(await collect(trainingExamples(ch.client, { manifestHash: run.manifestHash }))).toEqual(expectedRows());
  });

  it('pages in (contribution, row) order, filters by split, and merges a second insert of the same run', async () => {
    await insertTrainingRun(ch.client, run);
    expect(await collect(trainingExamples(ch.client, { manifestHash: run.manifestHash }, { pageSize: 1 }))).toEqual(expectedRows());
    expect((await collect(trainingExamples(ch.client, { manifestHash: run.manifestHash }, { split: 'eval' }))).map((r) => r.rowIndex)).toEqual([1]);
    expect(await rows(ch, 'SELECT count() AS n FROM training_examples FINAL')).toEqual([{ n: '4' }]);
    expect(await rows(ch, 'SELECT count() AS n FROM training_manifests FINAL')).toEqual([{ n: '1' }]);
  });

  it('finds a run by its on-chain run id through the indexed training_runs view', async () => {
    const pos = { blockNumber: 10n, blockHash: `0x${'b'.repeat(64)}` as Hex, timestampMs: Date.UTC(2025, 0, 1), logIndex: 0, transactionHash: `0x${'e'.repeat(64)}` as Hex, address: `0x${'f'.repeat(40)}` as Hex };
    const table = eventTable('ModelRegistry', 'TrainingRunRecorded');
    await insertEventRows(ch.client, table, [
      eventRowTsv(table, pos, { runId: 7n, modelId: 3n, submitter: `0x${'9'.repeat(40)}`, datanetIds: [5n], datanetVersions: [2n], manifestHash: run.manifestHash }),
    ]);
    expect(await trainingRunManifestHash(ch.client, 7n)).toBe(run.manifestHash);
    expect(await collect(trainingExamples(ch.client, { runId: 7n }))).toEqual(expectedRows());
    expect(await collect(trainingExamples(ch.client, { runId: 8n }))).toEqual([]);
  });
});

describe('syncTrainingRecords()', () => {
  it('copies the runs a ClickHouse database lacks from the content store, once', async () => {
    const fresh = await openClickHouse({ dataDir: dir, database: 'training_b' });
    try {
      await migrate(fresh, CLICKHOUSE_MIGRATIONS);
      expect(await syncTrainingRecords(fresh.client, store)).toEqual({ runs: 1, copied: 1 });
      expect(await syncTrainingRecords(fresh.client, store)).toEqual({ runs: 1, copied: 0 });
      expect(await collect(trainingExamples(fresh.client, { manifestHash: run.manifestHash }))).toEqual(expectedRows());
      expect(await readTrainingManifest(fresh.client, run.manifestHash)).toEqual(await readTrainingManifest(ch.client, run.manifestHash));
    } finally {
      await fresh.close();
    }
  });
});

describe('migration 6', () => {
  it('creates the tables TRAINING_RELATIONS documents, with their engines and sort keys', async () => {
    const names = TRAINING_RELATIONS.map((r) => r.name);
    const applied = await rows<{ table: string; name: string; type: string }>(
      ch,
      `SELECT table, name, type FROM system.columns WHERE database = {db:String} AND table IN {names:Array(String)} AND default_kind != 'EPHEMERAL' ORDER BY table, position`,
      { db: ch.database, names },
    );
    const actual: Record<string, string[]> = {};
    for (const c of applied) (actual[c.table] ??= []).push(`${c.name} ${c.type}`);
    expect(actual).toEqual(Object.fromEntries([...TRAINING_RELATIONS].sort((a, b) => (a.name < b.name ? -1 : 1)).map((r) => [r.name, r.columns.map((c) => `${c.name} ${c.chType}`)])));
    for (const r of TRAINING_RELATIONS) for (const c of r.columns) if (/FixedString/.test(c.chType)) expect(c.hex, `${r.name}.${c.name}`).toBe(true);
    const tables = await rows(ch, `SELECT name, engine, sorting_key FROM system.tables WHERE database = {db:String} AND name IN {names:Array(String)} ORDER BY name`, { db: ch.database, names });
    expect(tables).toEqual([
      { name: 'training_examples', engine: 'ReplacingMergeTree', sorting_key: 'manifest_hash, contribution_id, row_index' },
      { name: 'training_manifests', engine: 'ReplacingMergeTree', sorting_key: 'manifest_hash' },
    ]);
  });

  // Databases that applied migration 6 refuse a changed one at start: put a change in a new migration.
  it('is pinned: an applied migration never changes', () => {
    expect(CLICKHOUSE_MIGRATIONS.find((m) => m.id === 6)).toBe(m0006);
    expect(migrationChecksum(m0006)).toBe('d581a87db4e12727ff9e1496dbf044dbfd3aa3b86999eecb0a089a1c43ff5339');
  });
});
