// Model directories: Hugging Face's layout (config.json + model.safetensors with GPT-2's tensor names),
// so a GPT-2 checkpoint placed in a directory runs as is, and ours open in other tools.
//
// GPT-2 stores its projections as Conv1D, [in, out]; a checkpoint converted from a model with linear
// layers stores them [out, in]. Both load (the layout comes from the options, else config.json's
// `tributary_weight_layout`, else GPT-2's), into the [in, out] form gpt2.ts computes with. Names with
// the `transformer.` prefix (GPT2LMHeadModel's state dict) load too; the attention-mask buffers some
// exports carry are skipped, and a tied lm_head is accepted when it equals the token embedding.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createModel, linearModules, parameterShapes, type Gpt2Model } from './gpt2.ts';
import { configJson, ModelConfigError, readModelConfig } from './modelConfig.ts';
import { readSafetensors, writeSafetensors, type SafetensorsInput } from './safetensors.ts';
import { tf, type Tensor } from './tf.ts';

export type WeightLayout = 'conv1d' | 'linear';

export const MODEL_FILE = 'model.safetensors';

export interface LoadModelOptions {
  /** How the projections are stored; default: config.json's `tributary_weight_layout`, else conv1d (GPT-2). */
  layout?: WeightLayout;
}

/** Loads a model directory. Errors name the file and the tensor that is missing, extra or misshapen. */
export function loadModel(dir: string, opts: LoadModelOptions = {}): Gpt2Model {
  const config = readModelConfig(dir);
  const layout = opts.layout ?? readLayout(dir);
  const file = path.join(dir, MODEL_FILE);
  if (!existsSync(file)) throw new ModelConfigError(`no ${MODEL_FILE} in ${dir}`);
  const { tensors } = readSafetensors(file);
  const projections = new Set(linearModules(config).map((m) => `${m.name}.weight`));
  const expected = new Map(parameterShapes(config));
  const params = new Map<string, Tensor>();
  const extra: string[] = [];
  let lmHead: Float32Array | undefined;
  try {
    for (const [rawName, t] of tensors) {
      const name = rawName.startsWith('transformer.') ? rawName.slice('transformer.'.length) : rawName;
      if (/^h\.\d+\.attn\.(bias|masked_bias)$/.test(name)) continue; // causal-mask buffers, not parameters
      if (name === 'lm_head.weight') {
        lmHead = t.data as Float32Array;
        continue;
      }
      const shape = expected.get(name);
      if (!shape) {
        extra.push(rawName);
        continue;
      }
      if (!(t.data instanceof Float32Array)) throw new ModelConfigError(`${file}: tensor ${rawName} is ${t.dtype}, a float type was expected`);
      if (projections.has(name) && layout === 'linear') {
        // [out, in] → [in, out]
        params.set(name, tf.tidy(() => tf.transpose(tf.tensor2d(t.data as Float32Array, [t.shape[0]!, t.shape[1]!]))));
      } else {
        params.set(name, tf.tensor(t.data, t.shape, 'float32'));
      }
    }
    if (extra.length > 0) throw new ModelConfigError(`${file} has tensors a GPT-2 model does not: ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', …' : ''}`);
    if (lmHead) checkTied(file, lmHead, params.get('wte.weight'));
    return createModel(config, params);
  } catch (e) {
    for (const t of params.values()) t.dispose();
    throw e instanceof ModelConfigError && !e.message.includes(file) ? new ModelConfigError(`${file}: ${e.message}`, { cause: e }) : e;
  }
}

export interface SaveModelOptions {
  /** F32 (default: saving then loading gives identical logits) or F16 (half the bytes). */
  dtype?: 'F32' | 'F16';
  layout?: WeightLayout;
  /** Extra config.json keys (e.g. a description of how the model was made). */
  extraConfig?: Record<string, unknown>;
  /** safetensors metadata. */
  metadata?: Record<string, string>;
}

/** Writes config.json and model.safetensors, each atomically (temp file + rename). */
export async function saveModel(dir: string, model: Gpt2Model, opts: SaveModelOptions = {}): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const layout = opts.layout ?? 'conv1d';
  const projections = new Set(linearModules(model.config).map((m) => `${m.name}.weight`));
  const tensors: Record<string, SafetensorsInput> = {};
  for (const [name, t] of model.params) {
    const stored = projections.has(name) && layout === 'linear' ? tf.transpose(t) : t;
    tensors[name] = { shape: stored.shape, data: (await stored.data()) as Float32Array, dtype: opts.dtype ?? 'F32' };
    if (stored !== t) stored.dispose();
  }
  writeSafetensors(path.join(dir, MODEL_FILE), tensors, { format: 'pt', ...opts.metadata });
  const config = { ...configJson(model.config), ...(layout === 'linear' ? { tributary_weight_layout: 'linear' } : {}), ...opts.extraConfig };
  writeJsonAtomically(path.join(dir, 'config.json'), config);
}

export function writeJsonAtomically(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, file);
}

function readLayout(dir: string): WeightLayout {
  const raw = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as { tributary_weight_layout?: unknown };
  const l = raw.tributary_weight_layout ?? 'conv1d';
  if (l !== 'conv1d' && l !== 'linear') throw new ModelConfigError(`${dir}/config.json: tributary_weight_layout must be conv1d or linear, got ${JSON.stringify(l)}`);
  return l;
}

function checkTied(file: string, lmHead: Float32Array, wte: Tensor | undefined): void {
  const w = wte?.dataSync();
  if (!w || w.length !== lmHead.length || w.some((v, i) => v !== lmHead[i])) {
    throw new ModelConfigError(`${file}: lm_head.weight differs from wte.weight; only GPT-2's tied output embedding is supported`);
  }
}

