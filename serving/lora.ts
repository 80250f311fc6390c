// LoRA adapters: y = x·W + b + s·(x·Aᵀ)·Bᵀ on the targeted projections, with A (r × in) and B (out × r) as
// PEFT stores them and s = alpha / r (alpha / √r with rsLoRA). Kept here transposed, `a` = Aᵀ (in × r)
// and `b` = Bᵀ (r × out), so that applying one is two plain matmuls.
//
// Three ways to apply adapters, all through gpt2.ts's LinearHook:
// - one adapter for the whole batch (`adapterHook`), as training and single-model serving do;
// - a different adapter per row (`multiAdapterHook`, and loraStack.ts): on wasm one segmented LoRA kernel
//   per module (segmentedLora.ts), elsewhere the batch's adapters concatenated along the rank with a mask
//   keeping each row's own columns, so the LoRA term of every row is two dense matmuls whatever the
//   number of distinct adapters; the base matmul runs once either way;
// - merged into the base weights (`mergeAdapter`), which costs nothing per token but one model per adapter.
import { TributaryError } from '../contracts/index.ts';
import { linearModules, type Gpt2Model, type LinearHook } from './gpt2.ts';
import { createLoraStack } from './loraStack.ts';
import type { Gpt2Config } from './modelConfig.ts';
import { tf, type Tensor, type Tensor2D } from './tf.ts';

/** PEFT's adapter_config.json, the fields Tributary reads and writes. */
export interface LoraConfig {
  peft_type: 'LORA';
  task_type: 'CAUSAL_LM';
  base_model_name_or_path: string;
  r: number;
  lora_alpha: number;
  lora_dropout: number;
  /** Module kinds (`c_attn`) or full names (`h.0.attn.c_attn`), as PEFT matches them: a name ending in one. */
  target_modules: string[];
  /** True for GPT-2: its base projections are stored [in, out] (Conv1D). */
  fan_in_fan_out: boolean;
  bias: 'none';
  use_rslora?: boolean;
  inference_mode?: boolean;
}

export interface LoraWeights {
  /** Aᵀ, (in, r). */
  a: Tensor2D;
  /** Bᵀ, (r, out). */
  b: Tensor2D;
}

export interface LoraAdapter {
  config: LoraConfig;
  /** Full module name (`h.0.attn.c_attn`) → its weights. */
  modules: Map<string, LoraWeights>;
}

export class LoraError extends TributaryError {
  override name = 'LoraError';
}

export function loraScale(c: Pick<LoraConfig, 'r' | 'lora_alpha' | 'use_rslora'>): number {
  return c.use_rslora ? c.lora_alpha / Math.sqrt(c.r) : c.lora_alpha / c.r;
}

/** The model's modules an adapter config targets (PEFT's rule: the full name equals or ends with `.${target}`). */
export function targetedModules(model: Gpt2Config, targets: readonly string[]): ReturnType<typeof linearModules> {
  const found = linearModules(model).filter((m) => targets.some((t) => m.name === t || m.name.endsWith(`.${t}`)));
  if (found.length === 0) throw new LoraError(`target_modules ${JSON.stringify(targets)} match no module of the model`, { details: 'GPT-2 modules: c_attn, c_proj, c_fc (or full names such as h.0.attn.c_attn)' });
  return found;
}

export interface NewLoraOptions {
  r: number;
  alpha: number;
  targets: string[];
  seed: number;
  baseModel?: string;
  /** Initialise B randomly too (std), instead of PEFT's zeros: an adapter that changes outputs at once (tests, benchmarks). */
  randomB?: number;
}

/** A new adapter as PEFT initialises one: A uniform in ±1/√in (Kaiming-uniform with a = √5), B zero. */
export function createLora(model: Gpt2Config, opts: NewLoraOptions): LoraAdapter {
  if (!Number.isInteger(opts.r) || opts.r <= 0) throw new LoraError(`rank must be a positive integer, got ${opts.r}`);
  const modules = new Map<string, LoraWeights>();
  let seed = opts.seed * 7919;
  for (const m of targetedModules(model, opts.targets)) {
    const bound = 1 / Math.sqrt(m.in);
    modules.set(m.name, {
      a: tf.randomUniform([m.in, opts.r], -bound, bound, 'float32', ++seed),
      b: opts.randomB ? tf.randomNormal([opts.r, m.out], 0, opts.randomB, 'float32', ++seed) : tf.zeros([opts.r, m.out]),
    });
  }
  return {
    config: {
      peft_type: 'LORA',
      task_type: 'CAUSAL_LM',
      base_model_name_or_path: opts.baseModel ?? '',
      r: opts.r,
      lora_alpha: opts.alpha,
      lora_dropout: 0,
      target_modules: [...opts.targets],
      fan_in_fan_out: true,
      bias: 'none',
    },
    modules,
  };
}

export function disposeLora(adapter: LoraAdapter): void {
  for (const w of adapter.modules.values()) {
    w.a.dispose();
    w.b.dispose();
  }
}

/** Bytes of an adapter's weights (float32). */
export function loraBytes(adapter: LoraAdapter): number {
  let n = 0;
  for (const w of adapter.modules.values()) n += (w.a.size + w.b.size) * 4;
  return n;
}

/** One adapter for every row. */
export function adapterHook(adapter: LoraAdapter): LinearHook {
  const s = loraScale(adapter.config);
  return {
    delta(module, x) {
      const w = adapter.modules.get(module);
      if (!w) return null;
      return tf.mul(tf.matMul(tf.matMul(x, w.a), w.b), s) as Tensor2D;
    },
  };
}

/**
 * A different adapter per row. `rowAdapter[n]` is the index in `adapters` of flattened row n's adapter
 * (rows are the batch's B·T positions in order), or −1 for the base model alone.
 *
 * The batch's adapters are concatenated along the rank: A = [A₁ … A_k] (in × Σr) and B = [s₁B₁; …; s_kB_k]
 * (Σr × out), and a 0/1 mask keeps, for each row, only its own adapter's rank columns:
 * y = ((x·A) ⊙ M)·B. That is two dense matmuls and one multiply per module whatever the number of
 * distinct adapters, and the base matmul still runs once. Ranks may differ. (A per-row gather of each
 * row's A and B, Punica's BGMV, costs fewer multiply-adds, r·(in + out) a row against k·r·(in + out),
 * but with tf ops tfjs-wasm's gather and small batched matmuls made it 10× slower; as one kernel that
 * reads the adapters in place it is what loraStack.ts runs on wasm: bench/serving/README.md.)
 * This one-off hook goes through loraStack.ts, which the engine keeps across steps.
 */
export function multiAdapterHook(adapters: readonly LoraAdapter[], rowAdapter: readonly number[]): LinearHook & { dispose(): void } {
  for (const i of rowAdapter) {
    if (!Number.isInteger(i) || i < -1 || i >= adapters.length) throw new LoraError(`row adapter index ${i} is not in [-1, ${adapters.length})`);
  }
  const stack = createLoraStack();
  const hook = stack.hook(rowAdapter.map((i) => (i < 0 ? null : adapters[i]!)));
  return {
    delta: (module, x) => hook.delta(module, x),
    dispose() {
      hook.dispose();
      stack.dispose();
    },
  };
}

/** A copy of `model` with the adapter merged into its weights: W' = W + s·Aᵀ·Bᵀ (both [in, out]). */
export function mergeAdapter(model: Gpt2Model, adapter: LoraAdapter): Gpt2Model {
  const s = loraScale(adapter.config);
  const params = new Map<string, Tensor>();
  for (const [name, t] of model.params) {
    const module = name.endsWith('.weight') ? name.slice(0, -'.weight'.length) : undefined;
    const w = module ? adapter.modules.get(module) : undefined;
    params.set(name, w ? tf.tidy(() => tf.add(t, tf.mul(tf.matMul(w.a, w.b), s))) : t.clone());
  }
  return { config: model.config, params };
}
