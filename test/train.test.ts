// LoRA training end to end on a real anvil, chDB and content store: a datanet's contributions uploaded,
// accepted and published, indexed; runTraining trains on the version, stores the adapter, checkpoints,
// per-example records and manifest, registers the model on-chain; the indexer then shows the model and
// its training run. Running the same job again registers nothing; a missing or forbidden version is
// refused before any training.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEventLogs } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { ANVIL_KEYS, ContractRevertError, ModelRegistryAbi, type Devnet } from '../contracts/index.ts';
import type { ClickHouseStore, FsContentStore } from '../schema/index.ts';
import { loadAdapterFiles, loadTrainingRun } from '../schema/content/trainingFiles.ts';
import { readTrainingManifest, trainingExamples } from '../schema/clickhouse/trainingRecords.ts';
import type { Indexer } from '../indexer/index.ts';
import { tf } from '../serving/tf.ts';
import { runTraining, type RunTrainingContext, type RunTrainingParameters, type RunTrainingProgress } from '../serving/train/runTraining.ts';
import { startTrainingWorld, type TrainingWorld } from './trainingWorld.ts';

const BUILDER = ANVIL_KEYS[8]; // model owner

let world: TrainingWorld;
let dir: string;
let devnet: Devnet;
let ch: ClickHouseStore;
let content: FsContentStore;
let indexer: Indexer;
let ctx: RunTrainingContext;
let baseDir: string;
let datanetId: bigint;
let closedId: bigint;

beforeAll(async () => {
  world = await startTrainingWorld('tributary-train-');
  ({ dir, devnet, ch, content, indexer, ctx, baseDir, datanetId, closedId } = world);
});

afterAll(async () => {
  await world?.close();
});

const indexed = () => world.indexed();

const rows = async <T = Record<string, unknown>>(query: string, query_params: Record<string, unknown> = {}) =>
  (await ch.client.query({ query, query_params, format: 'JSONEachRow' })).json<T>();
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const modelCount = () => devnet.conn.publicClient.readContract({ address: devnet.deployment.contracts.ModelRegistry, abi: ModelRegistryAbi, functionName: 'modelCount' });

const job = (over: Partial<RunTrainingParameters> = {}): RunTrainingParameters => ({
  ownerKey: BUILDER,
  baseModelDir: baseDir,
  datanetId,
  version: 1n,
  rank: 4,
  alpha: 8,
  steps: 24,
  batchSize: 8,
  learningRate: 3e-3,
  evalFraction: 0.2,
  seed: 3,
  checkpoints: 3,
  name: 'colors',
  ...over,
});

describe('runTraining()', () => {
  let first: Awaited<ReturnType<typeof runTraining>>;

  it('trains on the version, stores the adapter, checkpoints, records and manifest, and registers the model', async () => {
    const tensorsBefore = tf.memory().numTensors;
    const progress: RunTrainingProgress[] = [];
    first = await runTraining(ctx, job({ onProgress: (p) => progress.push(p) }));

    // Progress: the rows, every step, then storing and registering.
    expect(progress[0]).toEqual({ phase: 'rows', rows: 20, contributions: 2 });
    expect(progress.filter((p) => p.phase === 'training').map((p) => (p as { step: number }).step)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    expect(progress.slice(-2)).toEqual([{ phase: 'storing' }, { phase: 'registering' }]);
    expect(tf.memory().numTensors).toBe(tensorsBefore);

    expect(first).toMatchObject({
      modelId: 1n,
      runId: 1n,
      version: 1n,
      name: 'colors',
      datanets: [{ datanetId, version: 1n }],
      rows: 20,
      trainRows: 16,
      evalRows: 4,
      steps: 24,
      priceIn: 10n ** 15n,
      priceOut: 2n * 10n ** 15n,
      alreadyRegistered: false,
    });
    expect(first.baseModel).toMatch(/^test-tiny@sha256:[0-9a-f]{64}$/);
    expect(first.evalLoss!).toBeLessThan(first.initialEvalLoss!);
    expect(first.transactions.map((t) => t.action)).toEqual(['registerModel']);

    // The adapter: written out in PEFT's layout under its hash, and in the content store.
    const weights = readFileSync(join(first.adapterDir, 'adapter_model.safetensors'));
    expect(first.adapterDir).toBe(join(dir, 'adapters', first.adapterHash));
    expect(`0x${sha(weights)}`).toBe(first.adapterHash);
    expect(JSON.parse(readFileSync(join(first.adapterDir, 'adapter_config.json'), 'utf8'))).toMatchObject({ peft_type: 'LORA', r: 4, lora_alpha: 8, base_model_name_or_path: first.baseModel });
    const stored = await loadAdapterFiles(content, first.adapterHash);
    expect(stored!.weights).toEqual(new Uint8Array(weights));
    expect(first.adapterURI).toBe(`sha256:${stored!.manifestSha256}`);
    // K = 3 checkpoints, each stored and written out; the last is the final adapter.
    expect(first.checkpoints.map((c) => c.step)).toEqual([8, 16, 24]);
    expect(first.checkpoints.at(-1)!.adapterHash).toBe(first.adapterHash);
    for (const c of first.checkpoints) {
      expect(existsSync(join(c.dir, 'adapter_model.safetensors'))).toBe(true);
      expect(await loadAdapterFiles(content, c.adapterHash)).toBeDefined();
    }
    expect(new Set(first.checkpoints.map((c) => c.adapterHash)).size).toBe(3);

    // The manifest: its SHA-256 is the manifest hash, and it names everything above.
    const run = (await loadTrainingRun(content, first.manifestHash))!;
    expect(`0x${sha(await content.get(first.manifestHash.slice(2)))}`).toBe(first.manifestHash);
    expect(run.manifest).toMatchObject({
      format: 'tributary-training-v1',
      baseModel: { id: first.baseModel, name: 'test-tiny' },
      datanets: [{ datanetId: datanetId.toString(), version: '1', contributionCount: 2 }],
      training: { rows: 20, trainRows: 16, evalRows: 4, seed: 3, steps: 24, checkpointSteps: [8, 16, 24], hyperparameters: { rank: 4, alpha: 8, targets: ['c_attn'], batchSize: 8 } },
      adapter: { adapterHash: first.adapterHash },
      examples: { count: 20 },
    });
    expect(run.manifest.checkpoints.map((c) => c.adapterHash)).toEqual(first.checkpoints.map((c) => c.adapterHash));

    // On-chain: the registration carries the manifest hash, the adapter hash and the datanet version.
    const receipt = await devnet.conn.publicClient.getTransactionReceipt({ hash: first.runTxHash });
    const [runEv] = parseEventLogs({ abi: ModelRegistryAbi, logs: receipt.logs, eventName: 'TrainingRunRecorded', strict: true });
    const [verEv] = parseEventLogs({ abi: ModelRegistryAbi, logs: receipt.logs, eventName: 'ModelVersionPublished', strict: true });
    expect(runEv!.args).toMatchObject({ runId: 1n, modelId: 1n, submitter: privateKeyToAddress(BUILDER), datanetIds: [datanetId], datanetVersions: [1n], manifestHash: first.manifestHash });
    expect(verEv!.args).toMatchObject({ modelId: 1n, version: 1n, runId: 1n, adapterHash: first.adapterHash, adapterURI: first.adapterURI });

    // ClickHouse: one record per row (train and eval), finite losses, one loss per checkpoint.
    const records = [];
    for await (const r of trainingExamples(ch.client, { manifestHash: first.manifestHash })) records.push(r);
    expect(records).toHaveLength(20);
    expect(records.filter((r) => r.split === 'train')).toHaveLength(16);
    expect(new Set(records.map((r) => r.contributionId))).toEqual(new Set([1n, 2n]));
    for (const r of records) {
      expect(Number.isFinite(r.loss) && r.loss > 0).toBe(true);
      expect(r.checkpointLosses).toHaveLength(3);
      expect(r.tokens).toBeGreaterThan(5);
      expect(r.adapterHash).toBe(first.adapterHash);
    }
    // A training row's record under the final checkpoint agrees with the trainer's own final loss.
    for (const r of records.filter((x) => x.split === 'train')) expect(r.checkpointLosses[2]).toBeCloseTo(r.loss, 4);
    // Rows were learnt: the final losses of the training rows are below the first checkpoint's.
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const trainRecs = records.filter((r) => r.split === 'train');
    expect(mean(trainRecs.map((r) => r.loss))).toBeLessThan(mean(trainRecs.map((r) => r.checkpointLosses[0]!)));
    expect(await readTrainingManifest(ch.client, first.manifestHash)).toMatchObject({ adapterHash: first.adapterHash, rowCount: 20, seed: 3n, steps: 24 });
  });

  it('appears in the indexed models and training runs, and its examples are found by run id', async () => {
    await indexed();
    expect(
      await rows(
        `SELECT toString(model_id) AS model_id, name, base_model, concat('0x', lower(hex(latest_adapter_hash))) AS adapter, latest_adapter_uri AS uri, toString(training_run_count) AS runs
         FROM (SELECT * FROM models WHERE model_id = 1)`,
      ),
    ).toEqual([{ model_id: '1', name: 'colors', base_model: first.baseModel, adapter: first.adapterHash, uri: first.adapterURI, runs: '1' }]);
    expect(
      await rows(`SELECT toString(run_id) AS run_id, concat('0x', lower(hex(manifest_hash))) AS manifest, arrayMap(x -> toString(x), datanet_ids) AS datanets FROM training_runs`),
    ).toEqual([{ run_id: '1', manifest: first.manifestHash, datanets: [datanetId.toString()] }]);
    let n = 0;
    for await (const r of trainingExamples(ch.client, { runId: 1n })) {
      expect(r.manifestHash).toBe(first.manifestHash);
      n++;
    }
    expect(n).toBe(20);
  });

  it('running the same job again gives the same adapter and manifest and registers nothing', async () => {
    const before = await modelCount();
    const nonce = await devnet.conn.publicClient.getTransactionCount({ address: privateKeyToAddress(BUILDER) });
    // The served name is not part of the run: asking for another one finds the same registration.
    const again = await runTraining(ctx, job({ name: 'another-name' }));
    expect(again).toMatchObject({
      name: 'colors',
      modelId: 1n,
      runId: 1n,
      version: 1n,
      adapterHash: first.adapterHash,
      manifestHash: first.manifestHash,
      adapterDir: first.adapterDir,
      alreadyRegistered: true,
      runTxHash: first.runTxHash,
      transactions: [],
    });
    expect(await modelCount()).toBe(before);
    expect(await devnet.conn.publicClient.getTransactionCount({ address: privateKeyToAddress(BUILDER) })).toBe(nonce);
    expect(await rows('SELECT count() AS n FROM training_examples FINAL')).toEqual([{ n: '20' }]);
  });

  it('with the tensor work in a worker thread, the same job gives the same adapter, checkpoints and manifest', async () => {
    const progress: RunTrainingProgress[] = [];
    const inWorker = await runTraining(ctx, job({ trainer: 'worker', onProgress: (p) => progress.push(p) }));
    expect(inWorker).toMatchObject({ adapterHash: first.adapterHash, manifestHash: first.manifestHash, checkpoints: first.checkpoints, alreadyRegistered: true, transactions: [] });
    expect(progress.filter((p) => p.phase === 'training').length).toBe(first.steps);
  });

  it('trains a new version of an existing model; another seed gives another adapter', async () => {
    const v2 = await runTraining(ctx, job({ modelId: 1n, seed: 4, name: undefined }));
    expect(v2).toMatchObject({ modelId: 1n, runId: 2n, version: 2n, name: 'colors', alreadyRegistered: false });
    expect(v2.adapterHash).not.toBe(first.adapterHash);
    expect(v2.manifestHash).not.toBe(first.manifestHash);
    expect(v2.transactions.map((t) => t.action)).toEqual(['recordTrainingRun', 'publishVersion']);
    expect(await modelCount()).toBe(1n);
  });

  it('a failure after the files and records are written (before the chain) leaves a run that a re-run registers once', async () => {
    const before = await modelCount();
    // The chain refuses to sign: everything up to registering has happened.
    const broken = { ...ctx, chain: { ...devnet, conn: { ...devnet.conn, wallet: () => { throw new Error('the wallet is unreachable'); } } } };
    await expect(runTraining(broken, job({ seed: 5, name: 'crashy' }))).rejects.toThrow('the wallet is unreachable');
    expect(await modelCount()).toBe(before);
    const [orphan] = await rows<{ h: string }>("SELECT concat('0x', lower(hex(manifest_hash))) AS h FROM training_manifests FINAL WHERE seed = 5");
    expect(orphan).toBeDefined();
    const examplesBefore = await rows('SELECT count() AS n FROM training_examples FINAL');

    const done = await runTraining(ctx, job({ seed: 5, name: 'crashy' }));
    expect(done).toMatchObject({ manifestHash: orphan!.h, alreadyRegistered: false, modelId: before + 1n });
    expect(await modelCount()).toBe(before + 1n);
    expect(await rows('SELECT count() AS n FROM training_examples FINAL')).toEqual(examplesBefore);
    expect((await runTraining(ctx, job({ seed: 5 }))).alreadyRegistered).toBe(true);
    expect(await modelCount()).toBe(before + 1n);
  });

  it('refuses a missing version, a permissioned datanet without a grant, and a bad base model, before training', async () => {
    const progress: RunTrainingProgress[] = [];
    const missing = await runTraining(ctx, job({ version: 9n, onProgress: (p) => progress.push(p) })).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ContractRevertError);
    expect((missing as Error).message.split('\n')[0]).toBe(`cannot train on datanet ${datanetId} version 9: datanet ${datanetId} has no published version 9`);
    const noDatanet = await runTraining(ctx, job({ datanetId: 99n })).catch((e: unknown) => e);
    expect((noDatanet as Error).message.split('\n')[0]).toBe('cannot train on datanet 99 version 1: datanet 99 does not exist');
    const builder = privateKeyToAddress(BUILDER);
    const closed = await runTraining(ctx, job({ datanetId: closedId })).catch((e: unknown) => e);
    expect((closed as Error).message.split('\n')[0]).toBe(
      `cannot train on datanet ${closedId} version 1: ${builder} may not train on datanet ${closedId}: it is permissioned and its owner has not granted this address access (the owner can run \`tributary datanet grant ${closedId} ${builder}\`)`,
    );
    expect(progress).toEqual([]);
    await expect(runTraining(ctx, job({ baseModelDir: join(dir, 'nowhere') }))).rejects.toThrow(`the base model directory ${join(dir, 'nowhere')} has no config.json`);
  });
});
