// PEFT's LoRA tensors and the layout the engine computes with: a file holds, per module,
// `…<module>.lora_A.weight` (r, in) and `….lora_B.weight` (out, r); the host keeps Aᵀ (in, r) and
// Bᵀ (r, out), row-major. parseHostAdapter (adapterFiles.ts) and the adapter loader's worker thread
// (adapterWorker.ts) both assemble adapters here. No runtime imports, so that the worker loads neither
// tfjs nor the contracts part.
import type { HostModule } from './engine/adapterCache.ts';

export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';

const LORA_KEY = /^(?:base_model\.model\.)?(?:transformer\.)?(.+)\.lora_(A|B)(?:\.default)?\.weight$/;

export interface NamedTensor {
  key: string;
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array;
}

/** The modules, in the order the file names them first; or what is wrong (the caller throws LoraError with it). */
export type LoraModules = { modules: Map<string, HostModule> } | { error: string; details?: string };

/**
 * A file's tensors into host modules, transposed. `r` is adapter_config.json's rank, checked against
 * every module's A and B; null leaves that check to the caller. `alloc` gives each transposed array
 * (the worker carves them from one buffer, so that one transfer moves them all).
 */
export function loraModules(tensors: Iterable<NamedTensor>, r: number | null, source: string, alloc: (length: number) => Float32Array = (n) => new Float32Array(n)): LoraModules {
  type Part = { data: Float32Array; shape: number[] };
  const parts = new Map<string, { A?: Part; B?: Part }>();
  for (const t of tensors) {
    const m = LORA_KEY.exec(t.key);
    if (!m) return { error: `${source}: unexpected tensor ${t.key}`, details: 'expected base_model.model.transformer.<module>.lora_A.weight / lora_B.weight' };
    if (!(t.data instanceof Float32Array) || t.shape.length !== 2) return { error: `${source}: ${t.key} must be a 2-D float tensor` };
    const entry = parts.get(m[1]!) ?? {};
    entry[m[2] as 'A' | 'B'] = { data: t.data, shape: t.shape };
    parts.set(m[1]!, entry);
  }
  const modules = new Map<string, HostModule>();
  for (const [module, { A, B }] of parts) {
    if (!A || !B) return { error: `${source}: module ${module} has lora_${A ? 'A' : 'B'} but not lora_${A ? 'B' : 'A'}` };
    const [rA, inW] = A.shape as [number, number];
    const [outW, rB] = B.shape as [number, number];
    if (r !== null && (rA !== r || rB !== r)) return { error: `${source}: ${module} has rank ${rA}/${rB}, adapter_config.json says r = ${r}` };
    modules.set(module, { a: transpose(A.data, rA, inW, alloc(A.data.length)), aShape: [inW, rA], b: transpose(B.data, outW, rB, alloc(B.data.length)), bShape: [rB, outW] });
  }
  if (modules.size === 0) return { error: `${source} holds no LoRA weights` };
  return { modules };
}

/** Whether every module has rank r in both A and B (what loraModules checks when given r). */
export function hasRank(modules: Map<string, HostModule>, r: number): boolean {
  for (const m of modules.values()) if (m.aShape[1] !== r || m.bShape[0] !== r) return false;
  return true;
}

/** (rows, cols) row-major → (cols, rows), into `out`. */
export function transpose(data: Float32Array, rows: number, cols: number, out: Float32Array = new Float32Array(data.length)): Float32Array {
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = data[i * cols + j]!;
  return out;
}
