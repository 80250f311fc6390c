// A training run's gradient sketches as one file in the content store: a safetensors file with one F32
// tensor per checkpoint, `checkpoint.<k>` of shape (examples, dims), and in its metadata the projection
// (seed and module shapes, enough to recreate it), the checkpoints' steps and learning rates, and the
// examples' (contribution, row) in row order. ClickHouse's `training_sketches` table references the file
// by hash; the scorer loads the matrices straight into tensors.
import { encodeSafetensors, readSafetensors, type SafetensorsInput } from '../../serving/index.ts';
import type { SketchSpec } from './projection.ts';

export const SKETCH_FILE_FORMAT = 'tributary-sketches-v1';

export interface SketchFileExample {
  contributionId: bigint;
  rowIndex: number;
}

export interface SketchFile {
  /** The training run (its manifest hash) whose checkpoints were sketched. */
  manifestHash: `0x${string}`;
  spec: SketchSpec;
  checkpoints: { step: number; learningRate: number; adapterHash: `0x${string}`; values: Float32Array }[];
  examples: SketchFileExample[];
}

export class SketchFileError extends Error {
  override name = 'SketchFileError';
}

export function encodeSketchFile(f: SketchFile): Uint8Array {
  const n = f.examples.length;
  const tensors: Record<string, SafetensorsInput> = {};
  f.checkpoints.forEach((c, k) => {
    if (c.values.length !== n * f.spec.dims) throw new SketchFileError(`checkpoint ${k} has ${c.values.length} numbers, expected ${n} examples × ${f.spec.dims}`);
    tensors[`checkpoint.${k}`] = { dtype: 'F32', shape: [n, f.spec.dims], data: c.values };
  });
  const meta = {
    format: SKETCH_FILE_FORMAT,
    manifestHash: f.manifestHash,
    spec: f.spec,
    checkpoints: f.checkpoints.map(({ step, learningRate, adapterHash }) => ({ step, learningRate, adapterHash })),
    examples: f.examples.map((e) => [e.contributionId.toString(), e.rowIndex]),
  };
  return encodeSafetensors(tensors, { tributary: JSON.stringify(meta) });
}

export function decodeSketchFile(bytes: Uint8Array, source = 'sketch file'): SketchFile {
  const bad = (why: string) => new SketchFileError(`${source} is not a valid sketch file: ${why}`);
  let contents: ReturnType<typeof readSafetensors>;
  try {
    contents = readSafetensors(bytes);
  } catch (e) {
    throw bad((e as Error).message);
  }
  let meta: { format: string; manifestHash: `0x${string}`; spec: SketchSpec; checkpoints: { step: number; learningRate: number; adapterHash: `0x${string}` }[]; examples: [string, number][] };
  try {
    meta = JSON.parse(contents.metadata.tributary ?? 'null');
  } catch {
    throw bad('its metadata is not JSON');
  }
  if (meta?.format !== SKETCH_FILE_FORMAT) throw bad(`its format is ${JSON.stringify(meta?.format)}, expected ${SKETCH_FILE_FORMAT}`);
  const n = meta.examples.length;
  const checkpoints = meta.checkpoints.map((c, k) => {
    const t = contents.tensors.get(`checkpoint.${k}`);
    if (!t || t.dtype !== 'F32' || t.shape[0] !== n || t.shape[1] !== meta.spec.dims) throw bad(`checkpoint.${k} is missing or not F32 [${n}, ${meta.spec.dims}]`);
    return { ...c, values: Float32Array.from(t.data) };
  });
  return { manifestHash: meta.manifestHash, spec: meta.spec, checkpoints, examples: meta.examples.map(([c, r]) => ({ contributionId: BigInt(c), rowIndex: r })) };
}
