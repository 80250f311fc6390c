// LoRA adapters on disk in PEFT's layout: adapter_config.json and adapter_model.safetensors, whose keys
// are `base_model.model.transformer.<module>.lora_A.weight` (r, in) and `….lora_B.weight` (out, r).
// A and B mean the same whatever the base model's layout; PEFT's `fan_in_fan_out` only says how the base
// weight is stored (true for GPT-2's Conv1D), which matters when merging into it. gpt2.ts always computes
// with [in, out] projections, so an adapter applies the same either way and the flag is kept as written.
//
// An adapter's identity is the SHA-256 of its adapter_model.safetensors bytes (`adapterHash`): what
// ModelRegistry records on-chain and inference logs name.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeJsonAtomically } from './checkpoint.ts';
import { toDevice, type HostAdapter } from './engine/adapterCache.ts';
import { LoraError, type LoraAdapter, type LoraConfig } from './lora.ts';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, loraModules, transpose } from './loraWeights.ts';
import { readSafetensors, writeSafetensors, type SafeTensor, type SafetensorsInput } from './safetensors.ts';

export { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE };
const PREFIX = 'base_model.model.transformer.';

/**
 * Reads an adapter directory into host memory, on the calling thread (createAdapterLoader's `read` does
 * the same in a worker thread). Errors name the file and what is wrong.
 */
export function readHostAdapter(dir: string): HostAdapter {
  const file = path.join(dir, ADAPTER_WEIGHTS_FILE);
  const config = readAdapterConfig(dir);
  if (!existsSync(file)) throw new LoraError(`no ${ADAPTER_WEIGHTS_FILE} in ${dir}`);
  // Read by path rather than as bytes, so that a corrupt file's SafetensorsError names it.
  return hostAdapterOf(config, readSafetensors(file).tensors, file);
}

/**
 * An adapter's weights file (adapter_model.safetensors bytes, from disk or a content store) into host
 * memory, checked against its config; `source` names it in errors.
 */
export function parseHostAdapter(config: LoraConfig, weights: Uint8Array, source: string): HostAdapter {
  return hostAdapterOf(config, readSafetensors(weights).tensors, source);
}

function hostAdapterOf(config: LoraConfig, tensors: Map<string, SafeTensor>, source: string): HostAdapter {
  const decoded = loraModules([...tensors].map(([key, t]) => ({ key, shape: t.shape, data: t.data })), config.r, source);
  if ('error' in decoded) throw new LoraError(decoded.error, decoded.details === undefined ? {} : { details: decoded.details });
  return { config, modules: decoded.modules };
}

export function readAdapter(dir: string): LoraAdapter {
  return toDevice(readHostAdapter(dir));
}

export function readAdapterConfig(dir: string): LoraConfig {
  const file = path.join(dir, ADAPTER_CONFIG_FILE);
  if (!existsSync(file)) throw new LoraError(`no ${ADAPTER_CONFIG_FILE} in ${dir}`, { details: 'an adapter directory holds adapter_config.json and adapter_model.safetensors (PEFT layout)' });
  return parseAdapterConfig(readFileSync(file, 'utf8'), file);
}

/** adapter_config.json's text into a LoraConfig, checked; `file` names it in errors. */
export function parseAdapterConfig(text: string, file: string): LoraConfig {
  let raw: Partial<LoraConfig> & Record<string, unknown>;
  try {
    raw = JSON.parse(text) as typeof raw;
  } catch (cause) {
    throw new LoraError(`${file} is not valid JSON`, { cause });
  }
  if (raw.peft_type !== 'LORA') throw new LoraError(`${file}: peft_type is ${JSON.stringify(raw.peft_type)}, only LORA adapters are supported`);
  if (!Number.isInteger(raw.r) || (raw.r as number) <= 0) throw new LoraError(`${file}: r must be a positive integer`);
  if (typeof raw.lora_alpha !== 'number') throw new LoraError(`${file}: lora_alpha must be a number`);
  if (raw.bias !== undefined && raw.bias !== 'none') throw new LoraError(`${file}: bias ${JSON.stringify(raw.bias)} is not supported (none only)`);
  const targets = typeof raw.target_modules === 'string' ? [raw.target_modules] : raw.target_modules;
  if (!Array.isArray(targets) || targets.some((t) => typeof t !== 'string')) throw new LoraError(`${file}: target_modules must be a list of module names`);
  return {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: typeof raw.base_model_name_or_path === 'string' ? raw.base_model_name_or_path : '',
    r: raw.r as number,
    lora_alpha: raw.lora_alpha,
    lora_dropout: typeof raw.lora_dropout === 'number' ? raw.lora_dropout : 0,
    target_modules: targets,
    fan_in_fan_out: raw.fan_in_fan_out === true,
    bias: 'none',
    use_rslora: raw.use_rslora === true,
  };
}

/** Writes an adapter directory (each file atomically) and answers its hash. */
export async function writeAdapter(dir: string, adapter: LoraAdapter): Promise<`0x${string}`> {
  mkdirSync(dir, { recursive: true });
  const tensors: Record<string, SafetensorsInput> = {};
  for (const [module, w] of adapter.modules) {
    const [inW, r] = w.a.shape;
    const [, outW] = w.b.shape;
    tensors[`${PREFIX}${module}.lora_A.weight`] = { shape: [r, inW], data: transpose((await w.a.data()) as Float32Array, inW, r) };
    tensors[`${PREFIX}${module}.lora_B.weight`] = { shape: [outW, r], data: transpose((await w.b.data()) as Float32Array, r, outW) };
  }
  writeSafetensors(path.join(dir, ADAPTER_WEIGHTS_FILE), tensors, { format: 'pt' });
  writeJsonAtomically(path.join(dir, ADAPTER_CONFIG_FILE), { ...adapter.config, inference_mode: true });
  return adapterHash(dir);
}

/** SHA-256 of adapter_model.safetensors, 0x-hex. */
export function adapterHash(dir: string): `0x${string}` {
  return `0x${createHash('sha256').update(readFileSync(path.join(dir, ADAPTER_WEIGHTS_FILE))).digest('hex')}`;
}
