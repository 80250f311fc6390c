// Where a training run's gradient sketches live in the content store. At 100,000 examples, 4 checkpoints
// and 1,536 numbers per sketch they are 2.35 GiB: more than one `put` can hash or Node's `readFile` can
// read (2 GiB), and more than the default method needs (DataInf and Grad-Dot read the last checkpoint
// only). So they are stored in parts:
//
//   training-sketch-parts/<manifest hash>  →  a manifest (canonical JSON, format tributary-sketch-manifest-v1):
//       the projection (seed and module shapes), the examples' (contribution, row) in row order, and per
//       checkpoint its step, learning rate, adapter and parts: {rowStart, rows, sha256, size}
//   each part: a safetensors file with one F32 tensor `sketches` of shape (rows, dims), rows
//       [rowStart, rowStart + rows) of one checkpoint, at most MAX_SKETCH_PART_BYTES (a checkpoint that
//       would be larger is cut into equal runs of rows), its metadata naming the run, checkpoint and rows.
//
// A reader fetches the manifest, then only the parts of the checkpoints it scores with. Runs sketched
// before this layout have one file under `training-sketches/<manifest hash>` (influence/sketchFile.ts);
// those are still read (they were at most 2 GiB, or they could not have been stored).
import { z } from 'zod';
import type { Hex } from 'viem';
import { ContentStoreError, sortedJson, type ContentStore } from '../../schema/index.ts';
import { encodeSafetensors, readSafetensors } from '../../serving/index.ts';
import type { SketchSpec } from '../influence/projection.ts';
import { decodeSketchFile, type SketchFileExample } from '../influence/sketchFile.ts';

export const SKETCH_MANIFEST_FORMAT = 'tributary-sketch-manifest-v1';
export const SKETCH_PART_FORMAT = 'tributary-sketch-part-v1';
/** The largest part file: well under what one `put` or `get` handles, and under V8's largest typed array. */
export const MAX_SKETCH_PART_BYTES = 512 * 2 ** 20;

export interface SketchCheckpointInfo {
  step: number;
  /** The learning rate at this checkpoint's step (TracIn's η). */
  learningRate: number;
  adapterHash: Hex;
}

/** What a run's sketches are, without their values. */
export interface TrainingSketchInfo {
  /** The training run (its manifest hash) whose checkpoints were sketched. */
  manifestHash: Hex;
  spec: SketchSpec;
  checkpoints: SketchCheckpointInfo[];
  /** The examples' (contribution, row), in the sketches' row order. */
  examples: SketchFileExample[];
}

export interface StoredTrainingSketches {
  /** SHA-256 of what the run's ref names: the manifest (parts) or the one sketch file (single-file). */
  sha256: string;
  layout: 'parts' | 'single-file';
  info: TrainingSketchInfo;
  /** Checkpoint k's sketches, examples × dims row-major, read from its parts (each checked by its SHA-256). */
  readCheckpoint(k: number): Promise<Float32Array>;
}

export class TrainingSketchFileError extends ContentStoreError {
  override name = 'TrainingSketchFileError';
}

/** The ref naming a run's sketch manifest. */
export function trainingSketchPartsRef(manifestHash: Hex): string {
  return `training-sketch-parts/${manifestHash.toLowerCase()}`;
}

/** The ref of the earlier layout: one sketch file per run. */
export function trainingSketchRef(manifestHash: Hex): string {
  return `training-sketches/${manifestHash.toLowerCase()}`;
}

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
const count = z.number().int().nonnegative();
const manifestSchema = z.strictObject({
  format: z.literal(SKETCH_MANIFEST_FORMAT),
  manifestHash: z.string().regex(/^0x[0-9a-f]{64}$/),
  spec: z.strictObject({
    seed: count,
    dims: z.number().int().positive(),
    modules: z.array(z.strictObject({ name: z.string(), in: count, r: count, out: count, kIn: count, kOut: count, offset: count, size: count })),
  }),
  examples: z.array(z.tuple([z.string().regex(/^(0|[1-9][0-9]*)$/), count])),
  checkpoints: z.array(
    z.strictObject({
      step: count,
      learningRate: z.number(),
      adapterHash: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
      parts: z.array(z.strictObject({ rowStart: count, rows: count, sha256: sha256Hex, size: count })),
    }),
  ),
});
type SketchManifest = z.infer<typeof manifestSchema>;
type SketchPart = SketchManifest['checkpoints'][number]['parts'][number];

export interface TrainingSketchWriterOptions {
  /** The largest part file, in bytes (default MAX_SKETCH_PART_BYTES); tests set it low to get several parts. */
  maxPartBytes?: number;
}

export interface TrainingSketchWriter {
  /** Stores checkpoint k's sketches (examples × dims) as parts; the values can be dropped afterwards. */
  putCheckpoint(k: number, values: Float32Array): Promise<void>;
  /**
   * After every checkpoint: stores the manifest and binds the run's ref to it. Returns what the ref is
   * bound to (an earlier binding wins: the same run sketched twice is the same sketches).
   */
  finish(): Promise<{ sha256: string; parts: number; bytes: number }>;
}

/** Writes a run's sketches in the parts layout, one checkpoint at a time (so only one is in memory). */
export function createTrainingSketchWriter(store: ContentStore, info: TrainingSketchInfo, opts: TrainingSketchWriterOptions = {}): TrainingSketchWriter {
  const n = info.examples.length;
  const dims = info.spec.dims;
  const maxPartBytes = opts.maxPartBytes ?? MAX_SKETCH_PART_BYTES;
  // Equal runs of rows, as few as fit under the limit (the header takes a few hundred bytes of it).
  const rowBytes = dims * 4;
  const partCount = Math.max(1, Math.ceil((n * rowBytes) / Math.max(rowBytes, maxPartBytes - 4096)));
  const rowsPerPart = Math.ceil(n / partCount);
  const parts: (SketchPart[] | undefined)[] = info.checkpoints.map(() => undefined);
  let bytes = 0;
  return {
    async putCheckpoint(k, values) {
      const c = info.checkpoints[k];
      if (!c) throw new TrainingSketchFileError(`run ${info.manifestHash} has ${info.checkpoints.length} checkpoints, not a checkpoint ${k}`);
      if (values.length !== n * dims) throw new TrainingSketchFileError(`checkpoint ${k} of run ${info.manifestHash} has ${values.length} numbers, expected ${n} examples × ${dims}`);
      const list: SketchPart[] = [];
      // Rows [rowStart, rowStart + rows) per part; one empty part for a run without examples.
      for (let rowStart = 0; ; rowStart += rowsPerPart) {
        const rows = Math.min(rowsPerPart, n - rowStart);
        const meta = { format: SKETCH_PART_FORMAT, manifestHash: info.manifestHash.toLowerCase(), checkpoint: k, step: c.step, rowStart, rows };
        const file = encodeSafetensors({ sketches: { shape: [rows, dims], data: values.subarray(rowStart * dims, (rowStart + rows) * dims) } }, { tributary: JSON.stringify(meta) });
        const put = await store.put(file);
        list.push({ rowStart, rows, sha256: put.hash, size: put.size });
        bytes += put.size;
        if (rowStart + rows >= n) break;
      }
      parts[k] = list;
    },
    async finish() {
      const missing = parts.findIndex((p) => p === undefined);
      if (missing >= 0) throw new TrainingSketchFileError(`checkpoint ${missing} of run ${info.manifestHash} was not stored`);
      const manifest: SketchManifest = {
        format: SKETCH_MANIFEST_FORMAT,
        manifestHash: info.manifestHash.toLowerCase(),
        spec: { seed: info.spec.seed, dims, modules: info.spec.modules.map((m) => ({ ...m })) },
        examples: info.examples.map((e) => [e.contributionId.toString(), e.rowIndex]),
        checkpoints: info.checkpoints.map((c, k) => ({ step: c.step, learningRate: c.learningRate, adapterHash: c.adapterHash, parts: parts[k]! })),
      };
      const put = await store.put(new TextEncoder().encode(sortedJson(manifest)));
      const sha256 = await store.bindRef(trainingSketchPartsRef(info.manifestHash), put.hash);
      return { sha256, parts: parts.reduce((s, p) => s + p!.length, 0), bytes: bytes + put.size };
    },
  };
}

/** The run's stored sketches (either layout), or undefined when it has none. Throws TrainingSketchFileError for a manifest that is not one. */
export async function loadTrainingSketches(store: ContentStore, manifestHash: Hex): Promise<StoredTrainingSketches | undefined> {
  const sha256 = await store.getRef(trainingSketchPartsRef(manifestHash));
  if (sha256 !== undefined) return partsLayout(store, manifestHash, sha256);
  const single = await store.getRef(trainingSketchRef(manifestHash));
  if (single !== undefined) return singleFileLayout(store, single);
  return undefined;
}

async function partsLayout(store: ContentStore, manifestHash: Hex, sha256: string): Promise<StoredTrainingSketches> {
  const source = `sketch manifest ${sha256} of run ${manifestHash}`;
  let m: SketchManifest;
  try {
    m = manifestSchema.parse(JSON.parse(new TextDecoder().decode(await store.get(sha256))));
  } catch (e) {
    if (e instanceof ContentStoreError) throw e;
    throw new TrainingSketchFileError(`${source} is not a sketch manifest: ${(e as Error).message.slice(0, 500)}`);
  }
  if (m.manifestHash !== manifestHash.toLowerCase()) throw new TrainingSketchFileError(`${source} is for run ${m.manifestHash}`);
  const n = m.examples.length;
  const dims = m.spec.dims;
  if (m.spec.modules.reduce((s, x) => s + x.size, 0) !== dims) throw new TrainingSketchFileError(`${source}: its modules' sizes do not add up to dims ${dims}`);
  m.checkpoints.forEach((c, k) => {
    // The parts must tile the rows exactly, in order.
    let next = 0;
    for (const p of c.parts) {
      if (p.rowStart !== next || (p.rows === 0 && n > 0)) throw new TrainingSketchFileError(`${source}: checkpoint ${k}'s parts do not cover rows 0..${n} in order (a part starts at ${p.rowStart}, expected ${next})`);
      next += p.rows;
    }
    if (next !== n) throw new TrainingSketchFileError(`${source}: checkpoint ${k}'s parts cover ${next} rows, not the ${n} examples`);
  });
  const info: TrainingSketchInfo = {
    manifestHash: m.manifestHash as Hex,
    spec: m.spec,
    checkpoints: m.checkpoints.map(({ step, learningRate, adapterHash }) => ({ step, learningRate, adapterHash: adapterHash as Hex })),
    examples: m.examples.map(([c, r]) => ({ contributionId: BigInt(c), rowIndex: r })),
  };
  return {
    sha256,
    layout: 'parts',
    info,
    async readCheckpoint(k) {
      const c = m.checkpoints[k];
      if (!c) throw new TrainingSketchFileError(`${source} has ${m.checkpoints.length} checkpoints, not a checkpoint ${k}`);
      const out = new Float32Array(n * dims);
      for (const p of c.parts) {
        const what = `part ${p.sha256} (checkpoint ${k}, rows ${p.rowStart}..${p.rowStart + p.rows}) of ${source}`;
        let t: ReturnType<typeof readSafetensors>;
        let meta: { format?: string; manifestHash?: string; checkpoint?: number; rowStart?: number; rows?: number } | null;
        try {
          t = readSafetensors(await store.get(p.sha256));
          meta = JSON.parse(t.metadata.tributary ?? 'null');
        } catch (e) {
          if (e instanceof ContentStoreError) throw e;
          throw new TrainingSketchFileError(`${what} is not a sketch part: ${(e as Error).message}`);
        }
        const values = t.tensors.get('sketches');
        if (meta?.format !== SKETCH_PART_FORMAT || meta.manifestHash !== m.manifestHash || meta.checkpoint !== k || meta.rowStart !== p.rowStart || meta.rows !== p.rows) {
          throw new TrainingSketchFileError(`${what} describes itself as ${JSON.stringify(meta)}`);
        }
        if (!values || values.dtype !== 'F32' || values.shape[0] !== p.rows || values.shape[1] !== dims) throw new TrainingSketchFileError(`${what} has no F32 tensor "sketches" of shape [${p.rows}, ${dims}]`);
        out.set(values.data as Float32Array, p.rowStart * dims);
      }
      return out;
    },
  };
}

async function singleFileLayout(store: ContentStore, sha256: string): Promise<StoredTrainingSketches> {
  const file = decodeSketchFile(await store.get(sha256), `sketch file ${sha256}`);
  return {
    sha256,
    layout: 'single-file',
    info: { manifestHash: file.manifestHash, spec: file.spec, checkpoints: file.checkpoints.map(({ step, learningRate, adapterHash }) => ({ step, learningRate, adapterHash })), examples: file.examples },
    async readCheckpoint(k) {
      const c = file.checkpoints[k];
      if (!c) throw new TrainingSketchFileError(`sketch file ${sha256} has ${file.checkpoints.length} checkpoints, not a checkpoint ${k}`);
      return c.values;
    },
  };
}
