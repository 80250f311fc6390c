// LoRA adapters: y = x·W + b + s·(x·Aᵀ)·Bᵀ on the targeted projections, with A (r × in) and B (out × r) as
// PEFT stores them and s = alpha / r (alpha / √r with rsLoRA). Kept here transposed, `a` = Aᵀ (in × r)
// and `b` = Bᵀ (r × out), so that applying one is two plain matmuls.
//
// Three ways to apply adapters, all through gpt2.ts's LinearHook:
// - one adapter for the whole batch (`adapterHook`), as training and single-model serving do;
// - a different adapter per row (`multiAdapterHook`): the adapters of the batch are stacked and each row
//   gathers its own A and B, so the LoRA term of every row is two batched matmuls whatever the number
//   of distinct adapters (Punica's BGMV), and the base matmul still runs once;
// - merged into the base weights (`mergeAdapter`), which costs nothing per token but one model per adapter.
import { TributaryError } from '../contracts/index.ts';
import { linearModules, type Gpt2Model, type LinearHook } from './gpt2.ts';
import type { Gpt2Config } from './modelConfig.ts';
import { tf, type Tensor, type Tensor2D, type Tensor3D } from './tf.ts';

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
 * (rows are the batch's B·T positions in order), or −1 for the base model alone. Ranks may differ:
 * smaller ones are zero-padded to the largest. The stacked weights are built once per module per hook
 * (so once per decode step), and only for the adapters given, which are those of the batch.
 */
export function multiAdapterHook(adapters: readonly LoraAdapter[], rowAdapter: readonly number[]): LinearHook & { dispose(): void } {
  const rmax = Math.max(1, ...adapters.map((a) => a.config.r));
  const stacked = new Map<string, { a: Tensor3D; b: Tensor3D } | null>();
  // Slot 0 is "no adapter" (zeros); adapter i is slot i + 1.
  const slots = tf.tensor1d(
    rowAdapter.map((i) => {
      if (!Number.isInteger(i) || i < -1 || i >= adapters.length) throw new LoraError(`row adapter index ${i} is not in [-1, ${adapters.length})`);
      return i + 1;
    }),
    'int32',
  );
  const stackFor = (module: string, inW: number, outW: number) => {
    if (stacked.has(module)) return stacked.get(module)!;
    if (!adapters.some((ad) => ad.modules.has(module))) {
      stacked.set(module, null);
      return null;
    }
    const s = tf.tidy(() => {
      const as: Tensor[] = [tf.zeros([inW, rmax])];
      const bs: Tensor[] = [tf.zeros([rmax, outW])];
      for (const ad of adapters) {
        const w = ad.modules.get(module);
        const r = ad.config.r;
        if (!w) {
          as.push(tf.zeros([inW, rmax]));
          bs.push(tf.zeros([rmax, outW]));
          continue;
        }
        as.push(r === rmax ? w.a : tf.pad(w.a, [[0, 0], [0, rmax - r]]));
        // The scale is folded into B, so rows with different scales need nothing else.
        const b = tf.mul(w.b, loraScale(ad.config));
        bs.push(r === rmax ? b : tf.pad(b, [[0, rmax - r], [0, 0]]));
      }
      return { a: tf.stack(as) as Tensor3D, b: tf.stack(bs) as Tensor3D }; // (slots, in, r), (slots, r, out)
    });
    stacked.set(module, s);
    return s;
  };
  return {
    delta(module, x) {
      const [n, inW] = x.shape;
      if (n !== rowAdapter.length) throw new LoraError(`the hook was built for ${rowAdapter.length} rows, the batch has ${n}`);
      const first = adapters.find((ad) => ad.modules.has(module))?.modules.get(module);
      if (!first) return null;
      const s = stackFor(module, inW, first.b.shape[1]);
      if (!s) return null;
      const xa = tf.matMul(tf.reshape(x, [n, 1, inW]), tf.gather(s.a, slots)); // (N, 1, r)
      const y = tf.matMul(xa, tf.gather(s.b, slots)); // (N, 1, out)
      return tf.reshape(y, [n, y.shape[2]!]) as Tensor2D;
    },
    dispose() {
      slots.dispose();
      for (const s of stacked.values()) {
        s?.a.dispose();
        s?.b.dispose();
      }
      stacked.clear();
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
