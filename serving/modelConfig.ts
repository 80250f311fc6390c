// A GPT-2 model's shape, read from and written to Hugging Face's config.json keys, so that a GPT-2
// checkpoint directory works as is and ours open in other tools.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { TributaryError } from '../contracts/index.ts';

export interface Gpt2Config {
  vocabSize: number;
  /** Longest sequence (positions in the position embedding). */
  nPositions: number;
  /** Width of the residual stream (C). */
  nEmbd: number;
  nLayer: number;
  nHead: number;
  layerNormEpsilon: number;
}

export class ModelConfigError extends TributaryError {
  override name = 'ModelConfigError';
}

/** GPT-2 small's shape. */
export const GPT2_SMALL: Gpt2Config = { vocabSize: 50257, nPositions: 1024, nEmbd: 768, nLayer: 12, nHead: 12, layerNormEpsilon: 1e-5 };

export function checkConfig(c: Gpt2Config, where = 'the model config'): Gpt2Config {
  for (const k of ['vocabSize', 'nPositions', 'nEmbd', 'nLayer', 'nHead'] as const) {
    if (!Number.isInteger(c[k]) || c[k] <= 0) throw new ModelConfigError(`${where}: ${k} must be a positive integer, got ${String(c[k])}`);
  }
  if (c.nEmbd % c.nHead !== 0) throw new ModelConfigError(`${where}: n_embd (${c.nEmbd}) is not a multiple of n_head (${c.nHead})`);
  if (!(c.layerNormEpsilon > 0)) throw new ModelConfigError(`${where}: layer_norm_epsilon must be positive, got ${c.layerNormEpsilon}`);
  return c;
}

/** Hugging Face config.json → Gpt2Config. */
export function readModelConfig(dir: string): Gpt2Config {
  const file = path.join(dir, 'config.json');
  if (!existsSync(file)) throw new ModelConfigError(`no config.json in ${dir}`, { details: 'a model directory holds config.json and model.safetensors' });
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (cause) {
    throw new ModelConfigError(`${file} is not valid JSON`, { cause });
  }
  if (raw.model_type !== undefined && raw.model_type !== 'gpt2') {
    throw new ModelConfigError(`${file}: model_type is ${JSON.stringify(raw.model_type)}; only gpt2 models are supported`);
  }
  const act = raw.activation_function ?? 'gelu_new';
  if (act !== 'gelu_new') throw new ModelConfigError(`${file}: activation_function ${JSON.stringify(act)} is not supported (gelu_new only)`);
  const num = (k: string, fallback?: number): number => {
    const v = raw[k] ?? fallback;
    if (typeof v !== 'number') throw new ModelConfigError(`${file}: ${k} is missing or not a number`);
    return v;
  };
  return checkConfig(
    {
      vocabSize: num('vocab_size'),
      nPositions: num('n_positions', raw.n_ctx as number | undefined),
      nEmbd: num('n_embd'),
      nLayer: num('n_layer'),
      nHead: num('n_head'),
      layerNormEpsilon: num('layer_norm_epsilon', 1e-5),
    },
    file,
  );
}

/** Gpt2Config → the config.json object (Hugging Face's keys). */
export function configJson(c: Gpt2Config): Record<string, unknown> {
  return {
    model_type: 'gpt2',
    architectures: ['GPT2LMHeadModel'],
    activation_function: 'gelu_new',
    vocab_size: c.vocabSize,
    n_positions: c.nPositions,
    n_ctx: c.nPositions,
    n_embd: c.nEmbd,
    n_layer: c.nLayer,
    n_head: c.nHead,
    layer_norm_epsilon: c.layerNormEpsilon,
    tie_word_embeddings: true,
  };
}
