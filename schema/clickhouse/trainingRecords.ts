// The queryable copy of training runs (migration 6: training_manifests, training_examples), written from
// a run's files in the content store (content/trainingFiles.ts), the source of truth: the trainer inserts
// right after storing the files, and syncTrainingRecords() copies whatever ClickHouse lacks (a crash
// between the two, a wiped ClickHouse). Readers find a run's examples by its manifest hash, or by its
// on-chain run id through the indexed `training_runs` view.
import { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Hex } from 'viem';
import { sortedJson } from '../content/sortedJson.ts';
import type { ContentStore } from '../content/store.ts';
import { listTrainingRuns, loadTrainingRun, type StoredTrainingRun, type TrainingSplit } from '../content/trainingFiles.ts';
import { ContentStoreError } from '../content/errors.ts';
import type { DerivedColumn, DerivedRelation } from './derived.ts';
import { tsvString } from './tsv.ts';

/** A stored training run: its manifest and example records (what loadTrainingRun answers). */
export type TrainingRunFiles = Omit<StoredTrainingRun, 'created'>;

export interface TrainingExampleRow {
  manifestHash: Hex;
  contributionId: bigint;
  rowIndex: number;
  rowHash: Hex;
  adapterHash: Hex;
  split: TrainingSplit;
  tokens: number;
  truncated: boolean;
  /** Mean loss over its target tokens under the final adapter. */
  loss: number;
  /** The same under each checkpoint, in checkpoint order (TrainingManifestRow.checkpoints). */
  checkpointLosses: number[];
}

export interface TrainingManifestRow {
  manifestHash: Hex;
  adapterHash: Hex;
  /** SHA-256 of the adapter manifest in the content store (the adapterURI is `sha256:` + this). */
  adapterManifestSha256: string;
  baseModel: string;
  datanets: { datanetId: bigint; version: bigint }[];
  rowsHash: Hex;
  rowCount: number;
  trainRowCount: number;
  evalRowCount: number;
  truncatedRowCount: number;
  seed: bigint;
  steps: number;
  hyperparameters: Record<string, unknown>;
  /** The training loss at every step. */
  lossCurve: { step: number; loss: number }[];
  /** The held-out loss where it was measured. */
  evalCurve: { step: number; evalLoss: number }[];
  initialEvalLoss: number | null;
  evalLoss: number | null;
  checkpoints: { step: number; adapterHash: Hex }[];
  /** SHA-256 of the examples file in the content store. */
  examplesSha256: string;
}

const MANIFEST_COLUMNS = [
  'manifest_hash_hex', 'adapter_hash_hex', 'adapter_manifest_sha256_hex', 'base_model', 'datanet_ids', 'datanet_versions', 'rows_hash_hex',
  'row_count', 'train_row_count', 'eval_row_count', 'truncated_row_count', 'seed', 'steps', 'hyperparameters', 'loss_steps', 'losses',
  'eval_steps', 'eval_losses', 'initial_eval_loss', 'eval_loss', 'checkpoint_steps', 'checkpoint_adapter_hashes_hex', 'examples_sha256_hex',
] as const;
const EXAMPLE_COLUMNS = [
  'manifest_hash_hex', 'contribution_id', 'row_index', 'row_hash_hex', 'adapter_hash_hex', 'split', 'tokens', 'truncated', 'loss', 'checkpoint_losses',
] as const;

const array = (xs: readonly (number | string)[]) => `[${xs.join(',')}]`;
const quotedArray = (xs: readonly string[]) => `[${xs.map((x) => `'${x}'`).join(',')}]`;
const nullable = (x: number | null) => (x === null ? '\\N' : String(x));
const unhexed = (h: string) => h.replace(/^0x/, '').toLowerCase();

function insertTsv(client: ClickHouseClient, table: string, columns: readonly [string, ...string[]], text: string): Promise<unknown> {
  return client.insert({ table, columns: [...columns] as [string, ...string[]], format: 'TabSeparated', values: Readable.from([text], { objectMode: false }) });
}

/**
 * Inserts a stored run's example rows, then its manifest row (the row that says the run is complete).
 * Inserting the same run again changes nothing once merged (ReplacingMergeTree; read with FINAL).
 */
export async function insertTrainingRun(client: ClickHouseClient, run: TrainingRunFiles): Promise<{ examples: number }> {
  const m = run.manifest;
  const manifestHash = unhexed(run.manifestHash);
  const adapterHash = unhexed(m.adapter.adapterHash);
  const lines = run.examples.map((e) =>
    [
      manifestHash, e.contributionId, e.rowIndex, unhexed(e.rowHash), adapterHash, e.split, e.tokens, e.truncated ? 'true' : 'false', e.loss, array(e.checkpointLosses),
    ].join('\t') + '\n',
  );
  // Batches keep one insert body well under chDB's and the server's limits for a large run.
  for (let i = 0; i < lines.length; i += 20_000) await insertTsv(client, 'training_examples', EXAMPLE_COLUMNS, lines.slice(i, i + 20_000).join(''));

  const t = m.training;
  const evals = t.lossCurve.filter((p) => p.evalLoss !== undefined);
  const row = [
    manifestHash,
    adapterHash,
    m.adapter.manifestSha256,
    tsvString(m.baseModel.id),
    array(m.datanets.map((d) => d.datanetId)),
    array(m.datanets.map((d) => d.version)),
    unhexed(t.rowsHash),
    t.rows,
    t.trainRows,
    t.evalRows,
    t.truncatedRows,
    t.seed,
    t.steps,
    tsvString(sortedJson(t.hyperparameters)),
    array(t.lossCurve.map((p) => p.step)),
    array(t.lossCurve.map((p) => p.loss)),
    array(evals.map((p) => p.step)),
    array(evals.map((p) => p.evalLoss!)),
    nullable(t.initialEvalLoss),
    nullable(t.evalLoss),
    array(m.checkpoints.map((c) => c.step)),
    quotedArray(m.checkpoints.map((c) => unhexed(c.adapterHash))),
    m.examples.sha256,
  ];
  await insertTsv(client, 'training_manifests', MANIFEST_COLUMNS, `${row.join('\t')}\n`);
  return { examples: lines.length };
}

const q = async <T>(client: ClickHouseClient, query: string, query_params: Record<string, unknown>) =>
  (await client.query({ query, query_params, format: 'JSONEachRow' })).json<T>();

const hexOf = (col: string) => `concat('0x', lower(hex(${col})))`;

/** The manifest row of a training run, or undefined when ClickHouse has none. */
export async function readTrainingManifest(client: ClickHouseClient, manifestHash: Hex): Promise<TrainingManifestRow | undefined> {
  const [r] = await q<{
    manifest_hash: Hex; adapter_hash: Hex; adapter_manifest_sha256: string; base_model: string; datanet_ids: string[]; datanet_versions: string[];
    rows_hash: Hex; row_count: number; train_row_count: number; eval_row_count: number; truncated_row_count: number; seed: string; steps: number;
    hyperparameters: string; loss_steps: number[]; losses: number[]; eval_steps: number[]; eval_losses: number[]; initial_eval_loss: number | null;
    eval_loss: number | null; checkpoint_steps: number[]; checkpoint_adapter_hashes: Hex[]; examples_sha256: string;
  }>(
    client,
    `SELECT ${hexOf('manifest_hash')} AS manifest_hash, ${hexOf('adapter_hash')} AS adapter_hash, lower(hex(adapter_manifest_sha256)) AS adapter_manifest_sha256,
            base_model, arrayMap(x -> toString(x), datanet_ids) AS datanet_ids, arrayMap(x -> toString(x), datanet_versions) AS datanet_versions,
            ${hexOf('rows_hash')} AS rows_hash, row_count, train_row_count, eval_row_count, truncated_row_count, toString(seed) AS seed, steps,
            hyperparameters, loss_steps, losses, eval_steps, eval_losses, initial_eval_loss, eval_loss, checkpoint_steps,
            arrayMap(x -> ${hexOf('x')}, checkpoint_adapter_hashes) AS checkpoint_adapter_hashes, lower(hex(examples_sha256)) AS examples_sha256
     FROM (SELECT * FROM training_manifests FINAL WHERE manifest_hash = unhex({h:String}))`,
    { h: unhexed(manifestHash) },
  );
  if (!r) return undefined;
  return {
    manifestHash: r.manifest_hash,
    adapterHash: r.adapter_hash,
    adapterManifestSha256: r.adapter_manifest_sha256,
    baseModel: r.base_model,
    datanets: r.datanet_ids.map((id, i) => ({ datanetId: BigInt(id), version: BigInt(r.datanet_versions[i]!) })),
    rowsHash: r.rows_hash,
    rowCount: r.row_count,
    trainRowCount: r.train_row_count,
    evalRowCount: r.eval_row_count,
    truncatedRowCount: r.truncated_row_count,
    seed: BigInt(r.seed),
    steps: r.steps,
    hyperparameters: JSON.parse(r.hyperparameters) as Record<string, unknown>,
    lossCurve: r.loss_steps.map((step, i) => ({ step, loss: r.losses[i]! })),
    evalCurve: r.eval_steps.map((step, i) => ({ step, evalLoss: r.eval_losses[i]! })),
    initialEvalLoss: r.initial_eval_loss,
    evalLoss: r.eval_loss,
    checkpoints: r.checkpoint_steps.map((step, i) => ({ step, adapterHash: r.checkpoint_adapter_hashes[i]! })),
    examplesSha256: r.examples_sha256,
  };
}

/** The manifest hash an on-chain training run recorded (from the indexed `training_runs` view), or undefined. */
export async function trainingRunManifestHash(client: ClickHouseClient, runId: bigint): Promise<Hex | undefined> {
  const [r] = await q<{ manifest_hash: Hex }>(client, `SELECT ${hexOf('manifest_hash')} AS manifest_hash FROM training_runs WHERE run_id = {run:UInt256}`, {
    run: runId.toString(),
  });
  return r?.manifest_hash;
}

export type TrainingExamplesOf = { manifestHash: Hex } | { runId: bigint };

/**
 * A training run's examples in (contribution, row) order, read a page at a time (keyset pages, so memory
 * stays at one page). A run id is resolved through the indexed `training_runs` view; a run that is not
 * indexed, or whose records ClickHouse lacks, yields nothing.
 */
export async function* trainingExamples(client: ClickHouseClient, of: TrainingExamplesOf, options: { pageSize?: number; split?: TrainingSplit } = {}): AsyncGenerator<TrainingExampleRow> {
  const manifestHash = 'manifestHash' in of ? of.manifestHash : await trainingRunManifestHash(client, of.runId);
  if (manifestHash === undefined) return;
  const pageSize = options.pageSize ?? 5000;
  let after = { id: '0', index: -1 };
  for (;;) {
    const page = await q<{
      manifest_hash: Hex; contribution_id: string; row_index: number; row_hash: Hex; adapter_hash: Hex; split: TrainingSplit; tokens: number;
      truncated: boolean; loss: number; checkpoint_losses: number[];
    }>(
      client,
      `SELECT ${hexOf('manifest_hash')} AS manifest_hash, toString(contribution_id) AS contribution_id, row_index, ${hexOf('row_hash')} AS row_hash,
              ${hexOf('adapter_hash')} AS adapter_hash, split, tokens, truncated, loss, checkpoint_losses
       FROM (SELECT * FROM training_examples FINAL
             WHERE manifest_hash = unhex({h:String}) AND (contribution_id, row_index) > ({after_id:UInt256}, {after_index:Int64})
               AND ({split:String} = '' OR split = {split:String})
             ORDER BY contribution_id, row_index
             LIMIT {limit:UInt32})`,
      { h: unhexed(manifestHash), after_id: after.id, after_index: after.index, split: options.split ?? '', limit: pageSize },
    );
    for (const r of page) {
      yield {
        manifestHash: r.manifest_hash,
        contributionId: BigInt(r.contribution_id),
        rowIndex: r.row_index,
        rowHash: r.row_hash,
        adapterHash: r.adapter_hash,
        split: r.split,
        tokens: r.tokens,
        truncated: Boolean(r.truncated),
        loss: r.loss,
        checkpointLosses: r.checkpoint_losses,
      };
    }
    if (page.length < pageSize) return;
    const last = page.at(-1)!;
    after = { id: last.contribution_id, index: last.row_index };
  }
}

export interface SyncTrainingRecordsResult {
  /** Training runs in the content store. */
  runs: number;
  /** Of those, the ones copied now because ClickHouse lacked them. */
  copied: number;
}

/** Copies into ClickHouse every training run in the content store that it lacks. */
export async function syncTrainingRecords(client: ClickHouseClient, store: ContentStore): Promise<SyncTrainingRecordsResult> {
  const have = new Set((await q<{ h: Hex }>(client, `SELECT DISTINCT ${hexOf('manifest_hash')} AS h FROM training_manifests`, {})).map((r) => r.h));
  const runs = await listTrainingRuns(store);
  let copied = 0;
  for (const manifestHash of runs) {
    if (have.has(manifestHash)) continue;
    const run = await loadTrainingRun(store, manifestHash);
    if (!run) throw new ContentStoreError(`the ref training-runs/${manifestHash} names a training manifest that the store does not hold`);
    await insertTrainingRun(client, run);
    copied++;
  }
  return { runs: runs.length, copied };
}

// ------------------------------------------------------------------ documentation

const HASH = 'FixedString(32)';
const col = (name: string, chType: string, doc: string): DerivedColumn => ({ name, chType, doc });
const bin = (name: string, chType: string, doc: string): DerivedColumn => ({ name, chType, hex: true, doc });

/** The relations of migration 6, documented as derived.ts documents the others (spread into DERIVED_RELATIONS). */
export const TRAINING_RELATIONS: readonly DerivedRelation[] = [
  {
    name: 'training_manifests',
    kind: 'table',
    engine: 'ReplacingMergeTree',
    key: ['manifest_hash'],
    purpose: "One row per training run's manifest (a copy of the content store's training-runs/<manifest hash>); join training_runs on manifest_hash; read with FINAL",
    columns: [
      bin('manifest_hash', HASH, 'SHA-256 of the training manifest: what the on-chain TrainingRunRecorded carries'),
      bin('adapter_hash', HASH, "SHA-256 of the adapter's weights file: what ModelVersionPublished carries"),
      bin('adapter_manifest_sha256', HASH, "SHA-256 of the adapter's manifest in the content store (adapterURI sha256:<this>)"),
      col('base_model', 'String', 'the base model: <name>@sha256:<model.safetensors sha256>'),
      col('datanet_ids', 'Array(UInt64)', 'datanets trained on, pairwise with datanet_versions'),
      col('datanet_versions', 'Array(UInt64)', 'the version of each datanet'),
      bin('rows_hash', HASH, 'SHA-256 over the sorted (contribution, row index, row hash) lines of every row used'),
      col('row_count', 'UInt32', 'rows used, train and eval'),
      col('train_row_count', 'UInt32', 'rows trained on'),
      col('eval_row_count', 'UInt32', 'rows held out for the eval loss'),
      col('truncated_row_count', 'UInt32', 'rows cut to fit the longest example'),
      col('seed', 'UInt64', 'the seed: the same rows, hyperparameters and seed give the same adapter'),
      col('steps', 'UInt32', 'optimizer steps'),
      col('hyperparameters', 'String', 'the hyperparameters as canonical JSON (rank, alpha, targets, batch size, learning rate, schedule…)'),
      col('loss_steps', 'Array(UInt32)', 'steps of the loss curve'),
      col('losses', 'Array(Float64)', 'training loss at each of loss_steps'),
      col('eval_steps', 'Array(UInt32)', 'steps where the held-out loss was measured'),
      col('eval_losses', 'Array(Float64)', 'held-out loss at each of eval_steps'),
      col('initial_eval_loss', 'Nullable(Float64)', 'held-out loss before training; NULL without an eval split'),
      col('eval_loss', 'Nullable(Float64)', 'held-out loss of the final adapter; NULL without an eval split'),
      col('checkpoint_steps', 'Array(UInt32)', 'steps of the K checkpoints (the last is the final adapter)'),
      bin('checkpoint_adapter_hashes', 'Array(FixedString(32))', "each checkpoint's adapter hash (content store: adapters/<hash>)"),
      bin('examples_sha256', HASH, 'SHA-256 of the per-example records file in the content store'),
    ],
  },
  {
    name: 'training_examples',
    kind: 'table',
    engine: 'ReplacingMergeTree',
    key: ['manifest_hash', 'contribution_id', 'row_index'],
    purpose: "One row per example of a training run (train and eval split): its loss under the final adapter and each checkpoint; read with FINAL",
    columns: [
      bin('manifest_hash', HASH, 'the training run (training_runs.manifest_hash)'),
      col('contribution_id', 'UInt256', 'the contribution the row belongs to'),
      col('row_index', 'UInt32', 'the row within the contribution, from 0'),
      bin('row_hash', HASH, "keccak256 of the row's canonical encoding"),
      bin('adapter_hash', HASH, 'the adapter the run produced'),
      col('split', 'LowCardinality(String)', "'train' (trained on) or 'eval' (held out)"),
      col('tokens', 'UInt32', 'tokens of the example as trained (after truncation)'),
      col('truncated', 'Bool', 'true: cut to fit the longest example'),
      col('loss', 'Float64', 'mean loss over its target tokens under the final adapter'),
      col('checkpoint_losses', 'Array(Float64)', 'the same under each checkpoint, in checkpoint_steps order'),
    ],
  },
];
