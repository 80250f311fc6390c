// Adapters and training runs in the content store: content-addressed, idempotent, checked on load.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hex } from 'viem';
import { ContentStoreError } from './errors.ts';
import { openFsContentStore, type FsContentStore } from './fsStore.ts';
import { sortedJson } from './sortedJson.ts';
import {
  adapterRef,
  listTrainingRuns,
  loadAdapterFiles,
  loadTrainingRun,
  storeAdapterFiles,
  storedAdapterURI,
  storeTrainingRun,
  trainingRunRef,
  type TrainingExampleFileRecord,
  type TrainingManifestFile,
} from './trainingFiles.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

let dir: string;
let store: FsContentStore;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-training-files-'));
  store = await openFsContentStore({ root: join(dir, 'content') });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const WEIGHTS = enc('weights-bytes');
const CONFIG = enc('{"r":4}');

describe('storeAdapterFiles() / loadAdapterFiles()', () => {
  it('stores both files under their SHA-256, names them in a manifest and binds adapters/<weights sha256>', async () => {
    const s = await storeAdapterFiles(store, { config: CONFIG, weights: WEIGHTS });
    const adapterHash = `0x${sha(WEIGHTS)}` as Hex;
    const manifest = {
      format: 'tributary-adapter-v1',
      adapterHash,
      files: { 'adapter_config.json': { sha256: sha(CONFIG), size: CONFIG.length }, 'adapter_model.safetensors': { sha256: sha(WEIGHTS), size: WEIGHTS.length } },
    };
    expect(s).toEqual({ adapterHash, manifestSha256: sha(sortedJson(manifest)), manifest, created: true });
    expect(await store.getRef(adapterRef(adapterHash))).toBe(s.manifestSha256);
    expect(storedAdapterURI(s.manifestSha256)).toBe(`sha256:${s.manifestSha256}`);
    const loaded = await loadAdapterFiles(store, adapterHash);
    expect(loaded).toEqual({ adapterHash, manifestSha256: s.manifestSha256, manifest, config: CONFIG, weights: WEIGHTS });

    // Again: nothing new. The same weights with another config keep the first manifest.
    expect(await storeAdapterFiles(store, { config: CONFIG, weights: WEIGHTS })).toEqual({ ...s, created: false });
    expect(await storeAdapterFiles(store, { config: enc('{"r":8}'), weights: WEIGHTS })).toEqual({ ...s, created: false });
    expect(await loadAdapterFiles(store, `0x${'ab'.repeat(32)}`)).toBeUndefined();
  });
});

async function adapter(label: string) {
  const s = await storeAdapterFiles(store, { config: CONFIG, weights: enc(label) });
  return { adapterHash: s.adapterHash, manifestSha256: s.manifestSha256 };
}

function manifestFor(final: { adapterHash: Hex; manifestSha256: string }, checkpoint: { adapterHash: Hex; manifestSha256: string }): Omit<TrainingManifestFile, 'examples'> {
  return {
    format: 'tributary-training-v1',
    baseModel: { id: `tiny@sha256:${'1'.repeat(64)}`, name: 'tiny', modelSha256: '1'.repeat(64), configSha256: '2'.repeat(64), vocabSha256: null },
    datanets: [{ datanetId: '3', version: '1', root: `0x${'c'.repeat(64)}`, contributionCount: 2 }],
    training: {
      baseModel: 'tiny', // an extra key the trainer reports: kept
      rowsHash: `0x${'d'.repeat(64)}`,
      rows: 3,
      trainRows: 2,
      evalRows: 1,
      truncatedRows: 0,
      hyperparameters: { rank: 4, targets: ['c_attn'] },
      seed: 7,
      steps: 2,
      checkpointSteps: [1, 2],
      lossCurve: [{ step: 1, loss: 2.5, evalLoss: 2.75 }, { step: 2, loss: 1.25, evalLoss: 2.5 }],
      initialEvalLoss: 3,
      evalLoss: 2.5,
    },
    adapter: final,
    checkpoints: [
      { step: 1, ...checkpoint },
      { step: 2, ...final },
    ],
  };
}

const EXAMPLES: TrainingExampleFileRecord[] = [
  { contributionId: '1', rowIndex: 0, rowHash: `0x${'e'.repeat(64)}`, split: 'train', tokens: 9, truncated: false, loss: 0.5, checkpointLosses: [1.5, 0.5] },
  { contributionId: '1', rowIndex: 1, rowHash: `0x${'f'.repeat(64)}`, split: 'eval', tokens: 11, truncated: true, loss: 2.5, checkpointLosses: [2.75, 2.5] },
  { contributionId: '12', rowIndex: 0, rowHash: `0x${'0'.repeat(63)}1`, split: 'train', tokens: 3, truncated: false, loss: 0.125, checkpointLosses: [0.25, 0.125] },
];

describe('storeTrainingRun() / loadTrainingRun()', () => {
  it("stores the examples file and the manifest, whose SHA-256 is the run's manifest hash, and loads them back", async () => {
    const final = await adapter('final');
    const ck = await adapter('checkpoint-1');
    const m = manifestFor(final, ck);
    const run = await storeTrainingRun(store, { manifest: m, examples: EXAMPLES });
    const lines = EXAMPLES.map((e) => `${sortedJson(e)}\n`).join('');
    const full = { ...m, examples: { sha256: sha(lines), size: enc(lines).length, count: 3 } };
    expect(run.manifest).toEqual(full);
    expect(run.manifestHash).toBe(`0x${sha(sortedJson(full))}`);
    expect(run.created).toBe(true);
    expect(await store.getRef(trainingRunRef(run.manifestHash))).toBe(run.manifestHash.slice(2));
    expect(await loadTrainingRun(store, run.manifestHash)).toEqual({ manifestHash: run.manifestHash, manifest: full, examples: EXAMPLES });
    expect(await listTrainingRuns(store)).toEqual([run.manifestHash]);

    // The same run again: the same hash, nothing new.
    const again = await storeTrainingRun(store, { manifest: m, examples: EXAMPLES });
    expect(again).toEqual({ ...run, created: false });
    expect(await loadTrainingRun(store, `0x${'9'.repeat(64)}`)).toBeUndefined();
  });

  it('refuses a manifest naming an adapter the store lacks, and bad records, storing no manifest', async () => {
    const final = await adapter('final');
    const missing = { adapterHash: `0x${'7'.repeat(64)}` as Hex, manifestSha256: '8'.repeat(64) };
    await expect(storeTrainingRun(store, { manifest: manifestFor(final, missing), examples: EXAMPLES })).rejects.toThrow(
      `training manifest names adapter ${missing.adapterHash} (manifest ${missing.manifestSha256}), which the store does not hold: store it first`,
    );
    const bad = { ...EXAMPLES[0]!, loss: Number.NaN };
    await expect(storeTrainingRun(store, { manifest: manifestFor(final, final), examples: [bad] })).rejects.toThrow(/loss/);
    expect(await listTrainingRuns(store)).toEqual([]);
  });

  it('says which run is inconsistent when its examples file does not match the manifest', async () => {
    const final = await adapter('final');
    const run = await storeTrainingRun(store, { manifest: manifestFor(final, final), examples: EXAMPLES });
    // Replace the examples file's bytes with fewer lines stored under their own hash, and point a manifest at them.
    const short = enc(`${sortedJson(EXAMPLES[0])}\n`);
    const put = await store.put(short);
    const forged = { ...run.manifest, examples: { sha256: put.hash, size: short.length, count: 3 } };
    const forgedPut = await store.put(enc(sortedJson(forged)));
    const e = await loadTrainingRun(store, `0x${forgedPut.hash}`).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ContentStoreError);
    expect((e as Error).message).toBe(`stored training run 0x${forgedPut.hash} is inconsistent: the manifest says 3 examples, the file has 1`);
    // A corrupted object is caught by the store's own check.
    const path = store.pathOf(run.manifest.examples.sha256);
    chmodSync(path, 0o644);
    writeFileSync(path, 'tampered');
    await expect(loadTrainingRun(store, run.manifestHash)).rejects.toThrow(/is corrupt/);
  });
});
