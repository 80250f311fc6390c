// A run's sketches in the content store: one checkpoint at a time, cut into parts of at most
// maxPartBytes, read back exactly and only for the checkpoints asked for; the earlier one-file layout is
// still read; a manifest or part that does not describe the run is refused.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hex } from 'viem';
import { openFsContentStore, sortedJson, type ContentStore } from '../../schema/index.ts';
import { encodeSafetensors } from '../../serving/index.ts';
import { encodeSketchFile } from '../influence/sketchFile.ts';
import type { SketchSpec } from '../influence/projection.ts';
import {
  createTrainingSketchWriter,
  loadTrainingSketches,
  trainingSketchPartsRef,
  trainingSketchRef,
  TrainingSketchFileError,
  type TrainingSketchInfo,
} from './trainingSketchFiles.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const freshStore = () => {
  const root = mkdtempSync(join(tmpdir(), 'tributary-sketch-files-'));
  dirs.push(root);
  return openFsContentStore({ root });
};

const RUN = `0x${'ab'.repeat(32)}` as Hex;
const spec: SketchSpec = { seed: 1, dims: 24, modules: [{ name: 'h.0.attn.c_attn', in: 8, r: 2, out: 8, kIn: 4, kOut: 8, offset: 0, size: 24 }] };
const n = 1000;
const info: TrainingSketchInfo = {
  manifestHash: RUN,
  spec,
  checkpoints: [1, 2, 3].map((c) => ({ step: c * 10, learningRate: 1e-3 / c, adapterHash: `0x${c.toString(16).padStart(64, '0')}` as Hex })),
  examples: Array.from({ length: n }, (_, i) => ({ contributionId: BigInt(1 + (i % 7)), rowIndex: i })),
};
const valuesOf = (k: number) => Float32Array.from({ length: n * spec.dims }, (_, i) => Math.sin(i * 0.37 + k) * (k + 1));

/** A store that records which hashes were read whole. */
function counting(store: ContentStore): { store: ContentStore; got: string[] } {
  const got: string[] = [];
  return { store: { ...store, get: (h) => (got.push(h), store.get(h)) }, got };
}

async function written(store: ContentStore, maxPartBytes: number) {
  const w = createTrainingSketchWriter(store, info, { maxPartBytes });
  for (const k of [2, 0, 1]) await w.putCheckpoint(k, valuesOf(k)); // any order
  return w.finish();
}

describe('createTrainingSketchWriter() / loadTrainingSketches()', () => {
  it('cuts each checkpoint into equal runs of rows under maxPartBytes and reads any checkpoint back exactly', async () => {
    const store = await freshStore();
    // 1000 rows × 96 bytes = 96,000 bytes per checkpoint: 3 parts of 334 rows (≤ 40,000 bytes each).
    const done = await written(store, 40_000);
    expect(done.parts).toBe(9);
    expect(await store.getRef(trainingSketchPartsRef(RUN))).toBe(done.sha256);
    const manifest = JSON.parse(new TextDecoder().decode(await store.get(done.sha256)));
    expect(manifest.checkpoints.map((c: { parts: { rowStart: number; rows: number; size: number }[] }) => c.parts.map((p) => [p.rowStart, p.rows]))).toEqual(
      Array.from({ length: 3 }, () => [[0, 334], [334, 334], [668, 332]]),
    );
    for (const c of manifest.checkpoints) for (const p of c.parts) expect(p.size).toBeLessThanOrEqual(40_000);

    const { store: spy, got } = counting(store);
    const loaded = (await loadTrainingSketches(spy, RUN))!;
    expect(loaded.layout).toBe('parts');
    expect(loaded.sha256).toBe(done.sha256);
    expect(loaded.info).toEqual(info);
    expect(got).toEqual([done.sha256]); // the manifest only, until a checkpoint is asked for
    expect(await loaded.readCheckpoint(2)).toEqual(valuesOf(2));
    expect(got.slice(1)).toEqual(manifest.checkpoints[2].parts.map((p: { sha256: string }) => p.sha256));
    expect(await loaded.readCheckpoint(0)).toEqual(valuesOf(0));
    await expect(loaded.readCheckpoint(3)).rejects.toThrow('has 3 checkpoints, not a checkpoint 3');
  });

  it('keeps a checkpoint that fits in one part whole, and gives a run without sketches undefined', async () => {
    const store = await freshStore();
    expect(await loadTrainingSketches(store, RUN)).toBeUndefined();
    const done = await written(store, 512 * 2 ** 20);
    expect(done.parts).toBe(3);
    expect(await (await loadTrainingSketches(store, RUN))!.readCheckpoint(1)).toEqual(valuesOf(1));
  });

  it('refuses a checkpoint of the wrong size, and a manifest before every checkpoint is stored', async () => {
    const store = await freshStore();
    const w = createTrainingSketchWriter(store, info);
    await expect(w.putCheckpoint(0, new Float32Array(5))).rejects.toThrow(`checkpoint 0 of run ${RUN} has 5 numbers, expected 1000 examples × 24`);
    await w.putCheckpoint(0, valuesOf(0));
    await expect(w.finish()).rejects.toThrow(`checkpoint 1 of run ${RUN} was not stored`);
    expect(await store.getRef(trainingSketchPartsRef(RUN))).toBeUndefined();
  });

  it('still reads a run sketched in the earlier layout: one file under training-sketches/<run>', async () => {
    const store = await freshStore();
    const file = { ...info, checkpoints: info.checkpoints.map((c, k) => ({ ...c, values: valuesOf(k) })) };
    const put = await store.put(encodeSketchFile(file));
    await store.bindRef(trainingSketchRef(RUN), put.hash);
    const loaded = (await loadTrainingSketches(store, RUN))!;
    expect([loaded.layout, loaded.sha256]).toEqual(['single-file', put.hash]);
    expect(loaded.info).toEqual(info);
    expect(await loaded.readCheckpoint(2)).toEqual(valuesOf(2));
  });

  it('refuses a manifest whose parts do not cover the rows, and a part that describes other rows', async () => {
    const store = await freshStore();
    const done = await written(store, 40_000);
    const manifest = JSON.parse(new TextDecoder().decode(await store.get(done.sha256)));

    const gap = structuredClone(manifest);
    gap.checkpoints[1].parts.splice(1, 1);
    const other = await freshStore();
    for (const c of manifest.checkpoints) for (const p of c.parts) await other.put(await store.get(p.sha256));
    await other.bindRef(trainingSketchPartsRef(RUN), (await other.put(new TextEncoder().encode(sortedJson(gap)))).hash);
    const err = await loadTrainingSketches(other, RUN).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrainingSketchFileError);
    expect((err as Error).message).toMatch(/checkpoint 1's parts do not cover rows 0\.\.1000 in order \(a part starts at 668, expected 334\)/);

    // A part of checkpoint 0 put where checkpoint 1's first part belongs: same shape, other metadata.
    const swapped = structuredClone(manifest);
    swapped.checkpoints[1].parts[0] = manifest.checkpoints[0].parts[0];
    const third = await freshStore();
    for (const c of manifest.checkpoints) for (const p of c.parts) await third.put(await store.get(p.sha256));
    await third.bindRef(trainingSketchPartsRef(RUN), (await third.put(new TextEncoder().encode(sortedJson(swapped)))).hash);
    const loaded = (await loadTrainingSketches(third, RUN))!;
    await expect(loaded.readCheckpoint(1)).rejects.toThrow(/describes itself as .*"checkpoint":0/);

    // Bytes that are not a part at all.
    const junk = structuredClone(manifest);
    const notPart = await third.put(encodeSafetensors({ other: { shape: [1], data: new Float32Array(1) } }));
    junk.checkpoints[2].parts[0].sha256 = notPart.hash;
    const fourth = await freshStore();
    await fourth.put(await third.get(notPart.hash));
    await fourth.bindRef(trainingSketchPartsRef(RUN), (await fourth.put(new TextEncoder().encode(sortedJson(junk)))).hash);
    await expect((await loadTrainingSketches(fourth, RUN))!.readCheckpoint(2)).rejects.toThrow(/describes itself as null/);

    const notManifest = await freshStore();
    await notManifest.bindRef(trainingSketchPartsRef(RUN), (await notManifest.put(new TextEncoder().encode('{"format":"x"}'))).hash);
    await expect(loadTrainingSketches(notManifest, RUN)).rejects.toThrow(/is not a sketch manifest/);
  });
});
