// How LoRA adapters and training runs sit in the content store, beside the contributed files: the
// off-chain truth that ModelRegistry's hashes point to, and what ClickHouse's training tables are
// rebuilt from (clickhouse/trainingRecords.ts).
//
// An adapter is two objects, its adapter_config.json and adapter_model.safetensors (PEFT's layout), and an
// adapter manifest (canonical JSON) naming both; the ref `adapters/<adapterHash>` names the manifest.
// The adapter hash is the SHA-256 of the weights file, as 0x-hex: what ModelRegistry records, and the
// weights file's own name in the store. The first manifest bound to an adapter hash stays.
//
// A training run is three kinds of objects: the adapter and each checkpoint (as adapters), the
// per-example records (one canonical JSON line per example, in (contribution, row) order), and the
// training manifest (canonical JSON) naming all of them. The manifest's SHA-256, as 0x-hex, is the
// manifestHash registered on-chain; the ref `training-runs/<manifestHash>` lists it for re-syncing. Each
// piece is stored before what names it, so a crash leaves unreferenced objects at most, and storing the
// same run again stores nothing new.
import { z } from 'zod';
import type { Hex } from 'viem';
import { ContentStoreError } from './errors.ts';
import { sortedJson } from './sortedJson.ts';
import { contentKey, type ContentStore } from './store.ts';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const hash0x = z
  .string()
  .regex(/^0x[0-9a-f]{64}$/)
  .transform((v) => v as Hex);
const decimal = z.string().regex(/^(0|[1-9][0-9]*)$/);
const count = z.number().int().nonnegative();
const finite = z.number().finite();
const file = z.strictObject({ sha256, size: count });

// ------------------------------------------------------------------ adapters

export const ADAPTER_CONFIG_NAME = 'adapter_config.json';
export const ADAPTER_WEIGHTS_NAME = 'adapter_model.safetensors';

export const adapterManifestSchema = z.strictObject({
  format: z.literal('tributary-adapter-v1'),
  /** SHA-256 of the weights file, 0x-hex. */
  adapterHash: hash0x,
  files: z.strictObject({ [ADAPTER_CONFIG_NAME]: file, [ADAPTER_WEIGHTS_NAME]: file }),
});

export type AdapterManifest = z.infer<typeof adapterManifestSchema>;

export interface StoredAdapter {
  adapterHash: Hex;
  /** SHA-256 of the adapter manifest: its name in the store. */
  manifestSha256: string;
  manifest: AdapterManifest;
  /** False when this adapter hash was stored before (the earlier manifest is the one answered). */
  created: boolean;
}

export interface LoadedAdapter extends Omit<StoredAdapter, 'created'> {
  config: Uint8Array;
  weights: Uint8Array;
}

/** The ref under which an adapter hash's manifest is bound. */
export function adapterRef(adapterHash: Hex): string {
  return `adapters/${adapterHash.toLowerCase()}`;
}

/** Where an adapter stored here can be found: `sha256:<adapter manifest sha256>` (the adapterURI registered on-chain). */
export function storedAdapterURI(manifestSha256: string): string {
  return `sha256:${manifestSha256}`;
}

/** Stores an adapter's two files and their manifest, and binds `adapters/<adapterHash>`. */
export async function storeAdapterFiles(store: ContentStore, files: { config: Uint8Array; weights: Uint8Array }): Promise<StoredAdapter> {
  const adapterHash = `0x${contentKey(files.weights)}` as Hex;
  const existing = await store.getRef(adapterRef(adapterHash));
  if (existing !== undefined) return { adapterHash, manifestSha256: existing, manifest: await readAdapterManifest(store, adapterHash, existing), created: false };
  const weights = await store.put(files.weights);
  const config = await store.put(files.config);
  const manifest: AdapterManifest = {
    format: 'tributary-adapter-v1',
    adapterHash,
    files: { [ADAPTER_CONFIG_NAME]: { sha256: config.hash, size: config.size }, [ADAPTER_WEIGHTS_NAME]: { sha256: weights.hash, size: weights.size } },
  };
  const put = await store.put(new TextEncoder().encode(sortedJson(manifest)));
  const bound = await store.bindRef(adapterRef(adapterHash), put.hash);
  if (bound === put.hash) return { adapterHash, manifestSha256: put.hash, manifest, created: true };
  const earlier = await readAdapterManifest(store, adapterHash, bound);
  return { adapterHash, manifestSha256: bound, manifest: earlier, created: false };
}

/** The stored adapter with this hash, files checked against its manifest; undefined when none is bound. */
export async function loadAdapterFiles(store: ContentStore, adapterHash: Hex): Promise<LoadedAdapter | undefined> {
  const manifestSha256 = await store.getRef(adapterRef(adapterHash));
  if (manifestSha256 === undefined) return undefined;
  const manifest = await readAdapterManifest(store, adapterHash, manifestSha256);
  const config = await store.get(manifest.files[ADAPTER_CONFIG_NAME].sha256);
  const weights = await store.get(manifest.files[ADAPTER_WEIGHTS_NAME].sha256);
  return { adapterHash: manifest.adapterHash, manifestSha256, manifest, config, weights };
}

async function readAdapterManifest(store: ContentStore, adapterHash: Hex, manifestSha256: string): Promise<AdapterManifest> {
  let manifest: AdapterManifest;
  try {
    manifest = adapterManifestSchema.parse(JSON.parse(new TextDecoder().decode(await store.get(manifestSha256))));
  } catch (e) {
    if (e instanceof ContentStoreError) throw e;
    throw new ContentStoreError(`stored adapter ${adapterHash} is inconsistent: manifest ${manifestSha256} is not an adapter manifest (${(e as Error).message})`);
  }
  if (manifest.adapterHash !== adapterHash.toLowerCase() || manifest.files[ADAPTER_WEIGHTS_NAME].sha256 !== adapterHash.slice(2).toLowerCase()) {
    throw new ContentStoreError(`stored adapter ${adapterHash} is inconsistent: its manifest ${manifestSha256} describes ${manifest.adapterHash}`);
  }
  return manifest;
}

// ------------------------------------------------------------- training runs

export const TRAINING_SPLITS = ['train', 'eval'] as const;
export type TrainingSplit = (typeof TRAINING_SPLITS)[number];

/** One example's record: a line of the examples file. */
export const trainingExampleSchema = z.strictObject({
  /** Decimal string. */
  contributionId: decimal,
  rowIndex: count,
  /** keccak256 of the row's canonical encoding, as the datanet version listed it. */
  rowHash: hash0x,
  split: z.enum(TRAINING_SPLITS),
  /** Tokens of the example as trained (after truncation). */
  tokens: count,
  truncated: z.boolean(),
  /** Mean loss over its target tokens under the final adapter. */
  loss: finite,
  /** The same under each checkpoint, in the manifest's checkpoint order. */
  checkpointLosses: z.array(finite),
});

export type TrainingExampleFileRecord = z.infer<typeof trainingExampleSchema>;

const lossPoint = z.strictObject({ step: z.number().int().positive(), loss: finite, evalLoss: finite.optional() });

export const trainingManifestSchema = z.strictObject({
  format: z.literal('tributary-training-v1'),
  baseModel: z.strictObject({
    /** What ModelRegistry records as the base model: `<name>@sha256:<model.safetensors sha256>`. */
    id: z.string().min(1),
    name: z.string().min(1),
    modelSha256: sha256,
    configSha256: sha256,
    /** The trimmed vocabulary file, when the model has one (else GPT-2's full BPE). */
    vocabSha256: sha256.nullable(),
  }),
  datanets: z
    .array(z.strictObject({ datanetId: decimal, version: decimal, root: hash0x, contributionCount: count }))
    .min(1),
  /** What the trainer reported: rows hash, counts, hyperparameters, seed, loss curve, eval losses. Extra keys are kept. */
  training: z.looseObject({
    rowsHash: hash0x,
    rows: count,
    trainRows: count,
    evalRows: count,
    truncatedRows: count,
    hyperparameters: z.record(z.string(), z.unknown()),
    seed: count,
    steps: count,
    checkpointSteps: z.array(count),
    lossCurve: z.array(lossPoint),
    initialEvalLoss: finite.nullable(),
    evalLoss: finite.nullable(),
  }),
  adapter: z.strictObject({ adapterHash: hash0x, manifestSha256: sha256 }),
  checkpoints: z.array(z.strictObject({ step: z.number().int().positive(), adapterHash: hash0x, manifestSha256: sha256 })),
  examples: z.strictObject({ sha256, size: count, count }),
});

export type TrainingManifestFile = z.infer<typeof trainingManifestSchema>;

export interface StoredTrainingRun {
  /** SHA-256 of the manifest's canonical JSON, 0x-hex: the manifestHash registered on-chain. */
  manifestHash: Hex;
  manifest: TrainingManifestFile;
  examples: TrainingExampleFileRecord[];
  /** False when the same run was stored before. */
  created: boolean;
}

/** The ref that lists a stored training run. */
export function trainingRunRef(manifestHash: Hex): string {
  return `training-runs/${manifestHash.toLowerCase()}`;
}

/**
 * Stores a run's example records, then its manifest (with `examples` filled in), and binds
 * `training-runs/<manifestHash>`. The adapter and checkpoints must already be stored (storeAdapterFiles).
 */
export async function storeTrainingRun(
  store: ContentStore,
  run: { manifest: Omit<TrainingManifestFile, 'examples'>; examples: readonly TrainingExampleFileRecord[] },
): Promise<StoredTrainingRun> {
  const examples = run.examples.map((e) => trainingExampleSchema.parse(e));
  const lines = examples.map((e) => `${sortedJson(e)}\n`).join('');
  const examplesFile = await store.put(new TextEncoder().encode(lines));
  const manifest = trainingManifestSchema.parse({ ...run.manifest, examples: { sha256: examplesFile.hash, size: examplesFile.size, count: examples.length } });
  const named = [manifest.adapter, ...manifest.checkpoints];
  for (const a of named) {
    if (!(await store.has(a.manifestSha256))) throw new ContentStoreError(`training manifest names adapter ${a.adapterHash} (manifest ${a.manifestSha256}), which the store does not hold: store it first`);
  }
  const put = await store.put(new TextEncoder().encode(sortedJson(manifest)));
  const manifestHash = `0x${put.hash}` as Hex;
  await store.bindRef(trainingRunRef(manifestHash), put.hash);
  return { manifestHash, manifest, examples, created: put.created };
}

/**
 * The stored training run with this manifest hash, its example records checked against the manifest;
 * undefined when the store does not hold it. Throws ContentStoreError when something stored is wrong.
 */
export async function loadTrainingRun(store: ContentStore, manifestHash: Hex): Promise<Omit<StoredTrainingRun, 'created'> | undefined> {
  const key = manifestHash.slice(2).toLowerCase();
  if (!(await store.has(key))) return undefined;
  const bad = (why: string) => new ContentStoreError(`stored training run ${manifestHash} is inconsistent: ${why}`);
  let manifest: TrainingManifestFile;
  try {
    manifest = trainingManifestSchema.parse(JSON.parse(new TextDecoder().decode(await store.get(key))));
  } catch (e) {
    if (e instanceof ContentStoreError) throw e;
    throw bad(`it is not a training manifest (${(e as Error).message})`);
  }
  const text = new TextDecoder().decode(await store.get(manifest.examples.sha256));
  const lines = text.split('\n');
  if (lines.pop() !== '') throw bad('its examples file does not end with a newline');
  let examples: TrainingExampleFileRecord[];
  try {
    examples = lines.map((l) => trainingExampleSchema.parse(JSON.parse(l)));
  } catch (e) {
    throw bad(`its examples file holds a line that is not an example record (${(e as Error).message})`);
  }
  if (examples.length !== manifest.examples.count) throw bad(`the manifest says ${manifest.examples.count} examples, the file has ${examples.length}`);
  return { manifestHash: `0x${key}` as Hex, manifest, examples };
}

/** The manifest hashes of every training run listed in the store, sorted. */
export async function listTrainingRuns(store: ContentStore): Promise<Hex[]> {
  return (await store.listRefs('training-runs')).map((ref) => ref.slice('training-runs/'.length) as Hex);
}
