// The benchmark's adapters: N LoRA adapters with different random weights (distinct seeds, B random
// rather than PEFT's zeros), written once per benchmark run in PEFT's layout to a temp dir, from where
// every arm serves them disk → host → device through the adapter cache.
import path from 'node:path';
import { createLora, disposeLora, loraBytes, readHostAdapter, UnknownAdapterError, writeAdapter, type Gpt2Config, type HostAdapter } from '../../serving/index.ts';
import { adapterName } from './workload.ts';

export interface AdapterShape {
  rank: number;
  /** lora_alpha (the scale is alpha / rank). */
  alpha: number;
  /** PEFT target_modules: `c_attn` and `c_proj` match every layer's attention projections and the MLP's output projection. */
  targets: string[];
}

export const DEFAULT_ADAPTER_SHAPE: AdapterShape = { rank: 8, alpha: 16, targets: ['c_attn', 'c_proj'] };

export interface WrittenAdapters {
  dir: string;
  count: number;
  /** Bytes of one adapter's weights (float32; every adapter has the same shape). */
  bytesEach: number;
  seconds: number;
}

/** Writes adapters `a0` … `a{count-1}` into `dir` (one directory each), each from its own seed. */
export async function writeRandomAdapters(dir: string, count: number, model: Gpt2Config, shape: AdapterShape, seed: number): Promise<WrittenAdapters> {
  const started = performance.now();
  let bytesEach = 0;
  for (let i = 0; i < count; i++) {
    // randomB: an adapter that changes the outputs; std 0.02, GPT-2's own init scale.
    const lora = createLora(model, { r: shape.rank, alpha: shape.alpha, targets: shape.targets, seed: seed * 1_000_003 + i + 1, randomB: 0.02 });
    try {
      bytesEach = loraBytes(lora);
      await writeAdapter(path.join(dir, adapterName(i + 1)), lora);
    } finally {
      disposeLora(lora);
    }
  }
  return { dir, count, bytesEach, seconds: (performance.now() - started) / 1000 };
}

/**
 * The adapter cache's loader: reads `dir/<name>` (PEFT files) into host memory with `read` (an adapter
 * loader's worker threads, or readHostAdapter on the engine's thread). Only the first `count` adapters
 * exist for a run with `count` adapters; another name is unknown, as it would be to the server.
 */
export function diskLoader(dir: string, count: number, read: (dir: string) => Promise<HostAdapter> = async (at) => readHostAdapter(at)): (name: string) => Promise<HostAdapter> {
  const known = new Set(Array.from({ length: count }, (_, i) => adapterName(i + 1)));
  // Names only, no look at the disk first (a stat on the engine's thread per read): the benchmark wrote
  // every known adapter, and a missing file still fails the read, as it would in the server.
  return async (name) => {
    if (!known.has(name)) throw new UnknownAdapterError(name);
    return read(path.join(dir, name));
  };
}
