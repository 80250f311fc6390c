// The training job of the ModelFactory back end: a datanet version in, a registered model out. The CLI
// (`tributary train`) runs it, and `up` and the ModelFactory dashboard can run the same function.
//
//   1. Check on-chain that the owner may train on the version (it exists, and a permissioned datanet has
//      granted access), before spending any compute.
//   2. Open the version's rows from ClickHouse (openDatanetVersion: refuses a version that is not
//      indexed, or whose root does not match its accepted contributions).
//   3. Train (trainLora: deterministic for a seed).
//   4. Files, content-addressed and idempotent: the adapter and each checkpoint (PEFT layout, stored in the
//      content store under adapters/<hash> and written out as <adaptersDir>/<hash>/ for serving and
//      attribution), the per-example records, and the training manifest, whose SHA-256 is the manifestHash.
//   5. ClickHouse: the per-example records and the manifest row (ReplacingMergeTree: a second insert of the
//      same run merges away).
//   6. The chain: the model, its training run and its version through ModelRegistry.
//
// The rule that keeps a re-run from registering twice: before registering, the chain's logs are searched
// for a training run recorded by the same owner with the same manifest hash whose model published the
// same adapter hash (findModelRegistration). If there is one, that registration is the answer and
// nothing is sent. The manifest hash covers the base model, the datanet versions, the rows, the
// hyperparameters and seed, the loss curve and every file's hash, so the same job with the same seed
// finds its earlier registration, and anything else is a different run. (A run of an existing model
// that was recorded but whose version was not yet published is completed from that run.) The search
// reads the chain, not the indexed tables, so indexer lag cannot cause a second registration; a
// transaction still pending in the mempool when the process died is not seen, which on an auto-mining
// devnet cannot happen.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Hash, Hex } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { getAddress } from 'viem';
import { ContractRevertError, type ChainContext, type TxResult } from '../../contracts/index.ts';
import {
  checkTrainingAccess,
  DEFAULT_PRICE_IN,
  DEFAULT_PRICE_OUT,
  findModelRegistration,
  findTrainingRuns,
  getModel,
  getModelRegistration,
  publishModelVersion,
  recordTrainingRun,
  registerModel,
  type DatanetVersionRef,
} from '../../contracts/index.ts';
import { openDatanetVersion, sortedJson, type ContentStore } from '../../schema/index.ts';
import { storeAdapterFiles, storedAdapterURI, storeTrainingRun, type TrainingExampleFileRecord } from '../../schema/index.ts';
import { insertTrainingRun } from '../../schema/index.ts';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, adapterHash as adapterHashOf, writeAdapter } from '../adapterFiles.ts';
import type { TensorBackend } from '../backend.ts';
import { MODEL_FILE } from '../checkpoint.ts';
import { toDevice, type HostAdapter } from '../engine/adapterCache.ts';
import { disposeLora } from '../lora.ts';
import { TRIMMED_VOCAB_FILE } from '../tokenizer.ts';
import { TrainingError } from './errors.ts';
import { PROMPT_FORMAT } from './format.ts';
import { HYPERPARAMETER_KEYS, runTrainJob, type TrainingHyperparameters, type TrainJobInput } from './trainJob.ts';
import { trainInWorker } from './trainInWorker.ts';
import type { TrainingRow, TrainProgress } from './trainLora.ts';

export interface RunTrainingContext {
  clickhouse: ClickHouseClient;
  content: ContentStore;
  chain: ChainContext;
  /** Where adapters are written out for serving and attribution: `<adaptersDir>/<adapter hash>/` in PEFT's layout. */
  adaptersDir: string;
}

export type { TrainingHyperparameters } from './trainJob.ts';

export interface RunTrainingParameters extends TrainingHyperparameters {
  /** The model owner's private key: it signs the registration, and must be allowed to train on the datanet. */
  ownerKey: Hex;
  /** The base model's directory (config.json, model.safetensors, and tributary-vocab.json when trimmed). */
  baseModelDir: string;
  datanetId: bigint;
  version: bigint;
  /** The served model's name; default `<base model name>-d<datanet>-v<version>`. */
  name?: string;
  /** Wei per 1000 input tokens; default DEFAULT_PRICE_IN (0.001 OPEN). */
  priceIn?: bigint;
  /** Wei per 1000 output tokens; default DEFAULT_PRICE_OUT (0.002 OPEN). */
  priceOut?: bigint;
  /** Train a new version of this (the owner's) model instead of registering a new model. */
  modelId?: bigint;
  /** Also record each example's loss under every checkpoint (default true; K forward passes over the rows). */
  checkpointLosses?: boolean;
  /**
   * Where the tensor work runs: on this thread (default), or in a worker thread (trainInWorker.ts), which
   * a serving process uses so that its event loop keeps answering. Both give the same bits.
   */
  trainer?: 'inline' | 'worker';
  /** The worker's tensor backend (default wasm); inline, the backend already chosen is used. */
  backend?: TensorBackend;
  onProgress?: (p: RunTrainingProgress) => void;
  signal?: AbortSignal;
}

export type RunTrainingProgress =
  | { phase: 'rows'; rows: number; contributions: number }
  | ({ phase: 'training' } & TrainProgress)
  | { phase: 'storing' }
  | { phase: 'registering' };

/** What trainAndStore needs: the job, and whose access to check (no key: it registers nothing). */
export interface TrainAndStoreParameters extends Omit<RunTrainingParameters, 'ownerKey' | 'name' | 'priceIn' | 'priceOut' | 'onProgress'> {
  /** The model owner: must be allowed to train on the datanet (and own `modelId`). */
  owner: Hex;
  onProgress?: (p: Exclude<RunTrainingProgress, { phase: 'registering' }>) => void;
}

/** What registerTraining needs. */
export type RegisterTrainingParameters = Pick<RunTrainingParameters, 'ownerKey' | 'name' | 'priceIn' | 'priceOut' | 'modelId'>;

/** A stored training run: its files in the content store and the adapters dir, its rows in ClickHouse. */
export interface StoredTraining {
  /** SHA-256 of the adapter's weights file: ModelRegistry's adapterHash. */
  adapterHash: Hex;
  /** `sha256:<adapter manifest sha256>`: where the content store holds it. */
  adapterURI: string;
  /** The adapter written out in PEFT's layout. */
  adapterDir: string;
  /** SHA-256 of the training manifest: ModelRegistry's manifestHash. */
  manifestHash: Hex;
  baseModel: BaseModelIdentity;
  datanets: DatanetVersionRef[];
  rows: number;
  trainRows: number;
  evalRows: number;
  steps: number;
  initialEvalLoss: number | null;
  evalLoss: number | null;
  checkpoints: { step: number; adapterHash: Hex; dir: string }[];
  seconds: number;
}

/** What registerTraining answers: the model, run and version, and the transactions sent. */
export type Registration = Pick<RunTrainingResult, 'modelId' | 'runId' | 'version' | 'name' | 'priceIn' | 'priceOut' | 'alreadyRegistered' | 'runTxHash' | 'transactions'>;

export interface RegistrationTx extends TxResult {
  /** `approve`: the registration fee's approval. */
  action: 'approve' | 'registerModel' | 'recordTrainingRun' | 'publishVersion';
}

/** A stored run (its base model as its id) and its registration. */
export interface RunTrainingResult extends Omit<StoredTraining, 'baseModel'> {
  modelId: bigint;
  runId: bigint;
  /** The model version the adapter was published as (1 for a new model). */
  version: bigint;
  /** The model's name on-chain (for a new model, the one given or the default). */
  name: string;
  /** The base model's id (`<name>@sha256:…`). */
  baseModel: string;
  priceIn: bigint;
  priceOut: bigint;
  /** True: the chain already had this run and version (a re-run); nothing was sent. */
  alreadyRegistered: boolean;
  /** The transaction that recorded the run (this call's or the earlier one's). */
  runTxHash: Hash;
  /** Transactions this call sent, in order (empty when already registered). */
  transactions: RegistrationTx[];
  seconds: number;
}

/** A base model directory's identity: its name and the SHA-256 of its files. */
export interface BaseModelIdentity {
  /** `<name>@sha256:<model.safetensors sha256>`: what the adapter config and ModelRegistry record. */
  id: string;
  name: string;
  modelSha256: string;
  configSha256: string;
  vocabSha256: string | null;
}

async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** The identity of a base model directory (config.json's `tributary_model`, else the folder's name). */
export async function baseModelIdentity(dir: string): Promise<BaseModelIdentity> {
  const configFile = path.join(dir, 'config.json');
  const modelFile = path.join(dir, MODEL_FILE);
  for (const f of [configFile, modelFile]) {
    if (!existsSync(f)) throw new TrainingError(`the base model directory ${dir} has no ${path.basename(f)}`, { details: 'a model directory holds config.json and model.safetensors (see serving/checkpoint.ts)' });
  }
  const raw = JSON.parse(readFileSync(configFile, 'utf8')) as { tributary_model?: unknown };
  const name = typeof raw.tributary_model === 'string' && raw.tributary_model ? raw.tributary_model : path.basename(path.resolve(dir));
  const vocabFile = path.join(dir, TRIMMED_VOCAB_FILE);
  const [modelSha256, configSha256, vocabSha256] = await Promise.all([sha256File(modelFile), sha256File(configFile), existsSync(vocabFile) ? sha256File(vocabFile) : null]);
  return { id: `${name}@sha256:${modelSha256}`, name, modelSha256, configSha256, vocabSha256 };
}

/**
 * Writes an adapter into the content store and out as `<adaptersDir>/<hash>/`, and answers its hash,
 * the manifest SHA-256 and the folder. Writing the same adapter again changes nothing.
 */
async function storeAdapter(ctx: RunTrainingContext, host: HostAdapter): Promise<{ adapterHash: Hex; manifestSha256: string; dir: string }> {
  await mkdir(ctx.adaptersDir, { recursive: true });
  const temp = path.join(ctx.adaptersDir, `.tmp-${randomUUID()}`);
  const adapter = toDevice(host);
  try {
    const hash = await writeAdapter(temp, adapter);
    const stored = await storeAdapterFiles(ctx.content, {
      config: new Uint8Array(await readFile(path.join(temp, ADAPTER_CONFIG_FILE))),
      weights: new Uint8Array(await readFile(path.join(temp, ADAPTER_WEIGHTS_FILE))),
    });
    const dir = path.join(ctx.adaptersDir, hash);
    // A folder left by an earlier run holds the same bytes unless it was damaged: keep it only if intact.
    const intact = existsSync(path.join(dir, ADAPTER_CONFIG_FILE)) && existsSync(path.join(dir, ADAPTER_WEIGHTS_FILE)) && adapterHashOf(dir) === hash;
    if (!intact) {
      await rm(dir, { recursive: true, force: true });
      await rename(temp, dir);
    }
    return { adapterHash: hash, manifestSha256: stored.manifestSha256, dir };
  } finally {
    disposeLora(adapter);
    await rm(temp, { recursive: true, force: true });
  }
}

/**
 * Prices belong to a model, not to a version: a new version of a model cannot set them. Checked before
 * any compute is spent (runTraining, and a caller that trains elsewhere and registers here).
 */
export function checkRegistrationParameters(p: Pick<RegisterTrainingParameters, 'modelId' | 'priceIn' | 'priceOut'>): void {
  if (p.modelId !== undefined && (p.priceIn !== undefined || p.priceOut !== undefined)) {
    throw new TrainingError(`cannot set prices when training a new version of model ${p.modelId}`, { details: 'a new version keeps the model\'s prices; change them with setModelPrices' });
  }
}

export async function runTraining(ctx: RunTrainingContext, p: RunTrainingParameters): Promise<RunTrainingResult> {
  const started = performance.now();
  checkRegistrationParameters(p);
  const { ownerKey, name, priceIn, priceOut, ...job } = p;
  const stored = await trainAndStore(ctx, { ...job, owner: privateKeyToAddress(ownerKey) });
  p.onProgress?.({ phase: 'registering' });
  const registration = await registerTraining(ctx.chain, { ownerKey, name, priceIn, priceOut, modelId: p.modelId }, stored);
  const { seconds: _, baseModel, ...files } = stored;
  return { ...registration, ...files, baseModel: baseModel.id, seconds: (performance.now() - started) / 1000 };
}

/**
 * Steps 1 to 5: checks that `owner` may train on the version (and owns `modelId`), trains, and writes the
 * adapter, checkpoints, records and manifest to the stores. Registers nothing: registerTraining does,
 * with the owner's key (which a process that trains for someone else never holds).
 */
export async function trainAndStore(ctx: RunTrainingContext, p: TrainAndStoreParameters): Promise<StoredTraining> {
  const started = performance.now();
  const owner = getAddress(p.owner);
  const datanets: DatanetVersionRef[] = [{ datanetId: p.datanetId, version: p.version }];
  const what = `datanet ${p.datanetId} version ${p.version}`;
  const seed = p.seed ?? 0;

  // 1. The chain's rules first: a refusal after an hour of training would waste the hour.
  await checkTrainingAccess(ctx.chain, { account: owner, datanets, action: `cannot train on ${what}` });
  if (p.modelId !== undefined) {
    const model = await getModel(ctx.chain, p.modelId, `cannot train a new version of model ${p.modelId}`);
    if (getAddress(model.owner) !== owner) {
      throw new ContractRevertError(`cannot train a new version of model ${p.modelId}: ${owner} is not its owner (${model.owner} is)`, 'NotModelOwner', [p.modelId, owner]);
    }
  }

  // 2. The rows, as the indexer copied them, checked against the published root.
  const version = await openDatanetVersion(ctx.clickhouse, { datanetId: p.datanetId, version: p.version });
  const rows: TrainingRow[] = [];
  for await (const r of version.rows()) rows.push({ contributionId: r.contributionId, rowIndex: r.rowIndex, rowHash: r.rowHash, row: r.row });
  p.onProgress?.({ phase: 'rows', rows: rows.length, contributions: version.contributions.length });
  if (rows.length === 0) {
    throw new TrainingError(`${what} has no rows to train on`, {
      details: `its ${version.contributions.length} accepted contributions have no uploaded rows (or the content store's rows have not been copied into ClickHouse yet)`,
    });
  }

  // 3. Training, and every row's loss under each checkpoint: the tensor work, here or in a worker thread.
  const base = await baseModelIdentity(p.baseModelDir);
  const job: TrainJobInput = {
    baseModelDir: p.baseModelDir,
    baseModelId: base.id,
    rows,
    checkpointLosses: p.checkpointLosses ?? true,
    seed,
    ...pickHyperparameters(p),
  };
  const onTraining = p.onProgress && ((t: TrainProgress) => p.onProgress!({ phase: 'training', ...t }));
  const trained =
    p.trainer === 'worker'
      ? await trainInWorker(job, { backend: p.backend, signal: p.signal, onProgress: onTraining })
      : await runTrainJob(job, { signal: p.signal, onProgress: onTraining });

  // 4. Files: the per-example records, the adapter and its checkpoints, the manifest.
  p.onProgress?.({ phase: 'storing' });
  const trainLoss = new Map(trained.trainExamples.map((e) => [`${e.contributionId}/${e.rowIndex}`, e.loss]));
  const finalLosses = trained.losses.at(-1)!;
  const rowHash = new Map(rows.map((r) => [`${r.contributionId}/${r.rowIndex}`, r.rowHash]));
  const records: TrainingExampleFileRecord[] = trained.examples.map((e, i) => {
    const key = `${e.contributionId}/${e.rowIndex}`;
    const trainedLoss = trainLoss.get(key);
    return {
      contributionId: e.contributionId.toString(),
      rowIndex: e.rowIndex,
      rowHash: rowHash.get(key)!.toLowerCase() as Hex,
      split: trainedLoss === undefined ? 'eval' : 'train',
      tokens: e.tokens,
      truncated: e.truncated,
      loss: trainedLoss ?? finalLosses[i]!,
      checkpointLosses: job.checkpointLosses ? trained.losses.map((l) => l[i]!) : [],
    };
  });

  const final = await storeAdapter(ctx, trained.adapter);
  const checkpoints: { step: number; adapterHash: Hex; manifestSha256: string; dir: string }[] = [];
  for (const c of trained.checkpoints) checkpoints.push({ step: c.step, ...(await storeAdapter(ctx, c.adapter)) });
  const stored = await storeTrainingRun(ctx.content, {
    manifest: {
      format: 'tributary-training-v1',
      baseModel: base,
      datanets: [{ datanetId: p.datanetId.toString(), version: p.version.toString(), root: version.root, contributionCount: version.contributions.length }],
      training: { ...trained.manifest, rowsHash: trained.manifest.rowsHash as Hex, hyperparameters: { ...trained.manifest.hyperparameters } },
      adapter: { adapterHash: final.adapterHash, manifestSha256: final.manifestSha256 },
      checkpoints: checkpoints.map((c) => ({ step: c.step, adapterHash: c.adapterHash, manifestSha256: c.manifestSha256 })),
    },
    examples: records,
  });

  // 5. ClickHouse.
  await insertTrainingRun(ctx.clickhouse, stored);
  return {
    adapterHash: final.adapterHash,
    adapterURI: storedAdapterURI(final.manifestSha256),
    adapterDir: final.dir,
    manifestHash: stored.manifestHash,
    baseModel: base,
    datanets,
    rows: trained.manifest.rows,
    trainRows: trained.manifest.trainRows,
    evalRows: trained.manifest.evalRows,
    steps: trained.manifest.steps,
    initialEvalLoss: trained.manifest.initialEvalLoss,
    evalLoss: trained.manifest.evalLoss,
    checkpoints: checkpoints.map((c) => ({ step: c.step, adapterHash: c.adapterHash, dir: c.dir })),
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * Step 6: registers a stored run on-chain through ModelRegistry, signed by the owner's key: a new model,
 * or a new version of `modelId`. Nothing is sent when the chain already has this run (same owner,
 * manifest and adapter): the earlier registration is the answer.
 */
export async function registerTraining(
  chain: ChainContext,
  p: RegisterTrainingParameters,
  t: Pick<StoredTraining, 'baseModel' | 'datanets' | 'adapterHash' | 'adapterURI' | 'manifestHash'>,
): Promise<Registration> {
  checkRegistrationParameters(p);
  const owner = privateKeyToAddress(p.ownerKey);
  const [d] = t.datanets;
  const name = p.name ?? `${t.baseModel.name}-d${d!.datanetId}-v${d!.version}`;
  const registration = await register(chain, p, { owner, name, base: t.baseModel, datanets: t.datanets, adapterHash: t.adapterHash, adapterURI: t.adapterURI, manifestHash: t.manifestHash });
  return { ...registration, name: registration.name ?? name };
}

/** The hyperparameters the caller set (and only those: trainLora's defaults fill the rest). */
function pickHyperparameters(p: TrainingHyperparameters): TrainingHyperparameters {
  const out: Record<string, unknown> = {};
  // The seed is set apart (runTraining's default is 0).
  for (const k of HYPERPARAMETER_KEYS) if (k !== 'seed' && p[k] !== undefined) out[k] = p[k];
  return out as TrainingHyperparameters;
}

interface Registered {
  modelId: bigint;
  runId: bigint;
  version: bigint;
  name?: string;
  priceIn: bigint;
  priceOut: bigint;
  alreadyRegistered: boolean;
  runTxHash: Hash;
  transactions: RegistrationTx[];
}

async function register(
  chain: ChainContext,
  p: RegisterTrainingParameters,
  r: { owner: Hex; name: string; base: BaseModelIdentity; datanets: DatanetVersionRef[]; adapterHash: Hex; adapterURI: string; manifestHash: Hex },
): Promise<Registered> {
  const earlier = await findModelRegistration(chain, { submitter: r.owner, manifestHash: r.manifestHash, adapterHash: r.adapterHash });
  if (earlier) {
    const [m, registered] = await Promise.all([getModel(chain, earlier.modelId), getModelRegistration(chain, earlier.modelId)]);
    return {
      modelId: earlier.modelId,
      runId: earlier.runId,
      version: earlier.version,
      name: registered?.name,
      priceIn: m.priceIn,
      priceOut: m.priceOut,
      alreadyRegistered: true,
      runTxHash: earlier.runTxHash,
      transactions: [],
    };
  }
  if (p.modelId === undefined) {
    const reg = await registerModel(chain, {
      key: p.ownerKey,
      name: r.name,
      baseModel: r.base.id,
      // Serving reads the prompt format from here; the manifest holds everything else.
      metadataURI: `data:application/json,${encodeURIComponent(sortedJson({ promptFormat: PROMPT_FORMAT, trainingManifest: `sha256:${r.manifestHash.slice(2)}` }))}`,
      priceIn: p.priceIn ?? DEFAULT_PRICE_IN,
      priceOut: p.priceOut ?? DEFAULT_PRICE_OUT,
      adapterHash: r.adapterHash,
      adapterURI: r.adapterURI,
      datanets: r.datanets,
      manifestHash: r.manifestHash,
    });
    const transactions: RegistrationTx[] = [];
    if (reg.approval) transactions.push({ action: 'approve', ...reg.approval });
    transactions.push({ action: 'registerModel', txHash: reg.txHash, blockNumber: reg.blockNumber, gasUsed: reg.gasUsed });
    return { modelId: reg.modelId, runId: reg.runId, version: reg.version, name: reg.name, priceIn: reg.priceIn, priceOut: reg.priceOut, alreadyRegistered: false, runTxHash: reg.txHash, transactions };
  }

  // A new version of an existing model: record the run (unless an earlier attempt did), then publish.
  const modelId = p.modelId;
  const transactions: RegistrationTx[] = [];
  const recorded = (await findTrainingRuns(chain, { submitter: r.owner, manifestHash: r.manifestHash })).find((x) => x.modelId === modelId);
  let runId: bigint;
  let runTxHash: Hash;
  if (recorded) {
    runId = recorded.runId;
    runTxHash = recorded.txHash;
  } else {
    const run = await recordTrainingRun(chain, { key: p.ownerKey, modelId, datanets: r.datanets, manifestHash: r.manifestHash });
    transactions.push({ action: 'recordTrainingRun', txHash: run.txHash, blockNumber: run.blockNumber, gasUsed: run.gasUsed });
    runId = run.runId;
    runTxHash = run.txHash;
  }
  const v = await publishModelVersion(chain, { key: p.ownerKey, modelId, runId, adapterHash: r.adapterHash, adapterURI: r.adapterURI });
  transactions.push({ action: 'publishVersion', txHash: v.txHash, blockNumber: v.blockNumber, gasUsed: v.gasUsed });
  const [m, registered] = await Promise.all([getModel(chain, modelId), getModelRegistration(chain, modelId)]);
  return { modelId, runId, version: v.version, name: registered?.name, priceIn: m.priceIn, priceOut: m.priceOut, alreadyRegistered: false, runTxHash, transactions };
}
