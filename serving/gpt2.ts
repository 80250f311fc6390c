// GPT-2, written with tfjs ops, top to bottom: embeddings, then n_layer blocks of (layer norm,
// causal self-attention, residual, layer norm, MLP, residual), a final layer norm, and logits from the
// tied token embedding.
//
// Parameters are a map keyed by GPT-2's own tensor names (`h.0.attn.c_attn.weight`, …) and every
// projection is stored the way GPT-2's Conv1D stores it, [in, out], so `x @ W` needs no transpose;
// checkpoint.ts converts other layouts on load.
//
// Two hooks make this one forward serve inference, batched multi-adapter serving and training:
// - `past`: keys and values of earlier positions per row (padded to a common length, with each row's
//   real length), so decoding extends a KV cache instead of recomputing; `present` gives the new ones,
//   `extended` the past with the new ones appended (what a batched KV cache keeps for the next step).
// - `hook.delta(module, x)`: an extra term added to a projection's output, for LoRA (one adapter, or a
//   different adapter per row, see lora.ts). The base matmul runs once for the whole batch either way.
import { tf, type Tensor, type Tensor2D, type Tensor3D, type Tensor4D } from './tf.ts';
import { embeddingLookup } from './embedding.ts';
import { checkConfig, ModelConfigError, type Gpt2Config } from './modelConfig.ts';

export interface Gpt2Model {
  config: Gpt2Config;
  /** GPT-2 tensor names → tensors, projections as [in, out]. */
  params: Map<string, Tensor>;
}

/** The projections LoRA can target, by their GPT-2 module names (as PEFT's `target_modules`). */
export const LINEAR_MODULES = ['c_attn', 'c_proj', 'c_fc'] as const;

/** Every projection of the model: its full module name, and its input and output widths. */
export function linearModules(c: Gpt2Config): { name: string; kind: (typeof LINEAR_MODULES)[number]; in: number; out: number }[] {
  const C = c.nEmbd;
  const out: { name: string; kind: (typeof LINEAR_MODULES)[number]; in: number; out: number }[] = [];
  for (let i = 0; i < c.nLayer; i++) {
    out.push({ name: `h.${i}.attn.c_attn`, kind: 'c_attn', in: C, out: 3 * C });
    out.push({ name: `h.${i}.attn.c_proj`, kind: 'c_proj', in: C, out: C });
    out.push({ name: `h.${i}.mlp.c_fc`, kind: 'c_fc', in: C, out: 4 * C });
    out.push({ name: `h.${i}.mlp.c_proj`, kind: 'c_proj', in: 4 * C, out: C });
  }
  return out;
}

/** Every parameter's name and shape, in GPT-2's order. */
export function parameterShapes(c: Gpt2Config): [string, number[]][] {
  const C = c.nEmbd;
  const shapes: [string, number[]][] = [
    ['wte.weight', [c.vocabSize, C]],
    ['wpe.weight', [c.nPositions, C]],
  ];
  for (let i = 0; i < c.nLayer; i++) {
    shapes.push([`h.${i}.ln_1.weight`, [C]], [`h.${i}.ln_1.bias`, [C]]);
    shapes.push([`h.${i}.attn.c_attn.weight`, [C, 3 * C]], [`h.${i}.attn.c_attn.bias`, [3 * C]]);
    shapes.push([`h.${i}.attn.c_proj.weight`, [C, C]], [`h.${i}.attn.c_proj.bias`, [C]]);
    shapes.push([`h.${i}.ln_2.weight`, [C]], [`h.${i}.ln_2.bias`, [C]]);
    shapes.push([`h.${i}.mlp.c_fc.weight`, [C, 4 * C]], [`h.${i}.mlp.c_fc.bias`, [4 * C]]);
    shapes.push([`h.${i}.mlp.c_proj.weight`, [4 * C, C]], [`h.${i}.mlp.c_proj.bias`, [C]]);
  }
  shapes.push(['ln_f.weight', [C]], ['ln_f.bias', [C]]);
  return shapes;
}

/** Checks that `params` has exactly the tensors of `config`, with their shapes. */
export function createModel(config: Gpt2Config, params: Map<string, Tensor>): Gpt2Model {
  checkConfig(config);
  for (const [name, shape] of parameterShapes(config)) {
    const t = params.get(name);
    if (!t) throw new ModelConfigError(`the model has no tensor ${name}`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new ModelConfigError(`tensor ${name} has shape [${t.shape.join(', ')}], the config says [${shape.join(', ')}]`);
    }
  }
  return { config, params };
}

/** GPT-2's initialisation: normal(0, 0.02), residual projections scaled by 1/√(2·n_layer), deterministic for a seed. */
export function initModel(config: Gpt2Config, seed: number): Gpt2Model {
  const params = new Map<string, Tensor>();
  let s = seed;
  for (const [name, shape] of parameterShapes(config)) {
    s += 1;
    if (name.endsWith('.bias')) params.set(name, tf.zeros(shape));
    else if (/ln_(1|2|f)\.weight$/.test(name)) params.set(name, tf.ones(shape));
    else {
      const std = name.endsWith('c_proj.weight') ? 0.02 / Math.sqrt(2 * config.nLayer) : 0.02;
      params.set(name, tf.randomNormal(shape, 0, std, 'float32', s));
    }
  }
  return createModel(config, params);
}

export function disposeModel(model: Gpt2Model): void {
  for (const t of model.params.values()) t.dispose();
  model.params.clear();
}

const GELU_LINEAR = 2 * Math.sqrt(2 / Math.PI);
const GELU_CUBIC = GELU_LINEAR * 0.044715;

/** Counts what a forward pass did (tests use it to show that batching adapters adds no base matmul). */
export interface ForwardStats {
  baseMatmuls: number;
}

/** Extra terms on the projections' outputs: LoRA. */
export interface LinearHook {
  /** The term added to module `module`'s output for input `x` ([N, in], the batch's rows flattened), or null. */
  delta(module: string, x: Tensor2D): Tensor2D | null;
}

/** Keys and values of earlier positions, per layer. */
export interface AttentionPast {
  /** Per layer, [B, H, S, D]: each row's earlier keys, padded to a common S (see `align`). */
  k: Tensor4D[];
  v: Tensor4D[];
  /** Per row, how many of the S positions are real (the rest is padding and masked out). */
  lengths: readonly number[];
  /**
   * Where a row's real positions sit among the S: 'start' (default), the first lengths[b], padded after;
   * 'end', the last lengths[b], padded before (right-aligned: a batch that appends one position to every
   * row keeps that form, see kvCache.ts).
   */
  align?: 'start' | 'end';
}

export interface ForwardOptions {
  past?: AttentionPast;
  hook?: LinearHook;
  stats?: ForwardStats;
  /** Return the new positions' keys and values (for a KV cache). Default false. */
  present?: boolean;
  /** Return `extended`: per layer, the past's keys and values followed by the new positions'. Default false. */
  extend?: boolean;
  /**
   * Per row, how many of its T tokens are left padding (default none): row b's real tokens are
   * tokens[b][leftPad[b]…], at positions past.lengths[b] onwards. Left-padded prompts give right-aligned keys.
   */
  leftPad?: readonly number[];
  /** Logits only at this position of each row (e.g. each prompt's last token); default every position. */
  logitsAt?: readonly number[];
  /**
   * The tied output projection made once, wteᵀ as (C, V) (`outputProjection(model)`), for callers that run
   * many passes: logits are then x·wteᵀ without transposing the table at every pass (on wasm that
   * transpose costs 4× the product itself). Default: wte, transposed in the pass.
   */
  outputProjection?: Tensor2D;
}

export interface ForwardResult {
  /** [B, T, V], or [B, 1, V] with `logitsAt`. */
  logits: Tensor3D;
  /** Per layer, [B, H, T, D]: the keys and values of the T new positions. */
  present?: { k: Tensor4D[]; v: Tensor4D[] };
  /** Per layer, [B, H, S + T, D]: the past's keys and values, then the new positions'. */
  extended?: { k: Tensor4D[]; v: Tensor4D[] };
}

/**
 * Runs the model on `tokens` ([B][T]: every row the same length T). Row b's tokens sit at positions
 * past.lengths[b] … past.lengths[b] + T − 1. Rows may be right-padded (prompts of different lengths in one
 * prefill): a padded position sees the real ones before it but no real position sees it, so the real
 * logits are unaffected; the caller keeps only the real positions' keys and values. Or left-padded
 * (`leftPad`): no position sees a padded one, and the real tokens' positions start after the past.
 */
export function forward(model: Gpt2Model, tokens: readonly (readonly number[])[] | Tensor2D, opts: ForwardOptions = {}): ForwardResult {
  const { config, params } = model;
  const p = (name: string): Tensor => params.get(name)!;
  const C = config.nEmbd;
  const H = config.nHead;
  const D = C / H;
  const B = Array.isArray(tokens) ? tokens.length : (tokens as Tensor2D).shape[0];
  const T = Array.isArray(tokens) ? (tokens[0]?.length ?? 0) : (tokens as Tensor2D).shape[1];
  const past = opts.past;
  const S = past ? past.k[0]!.shape[2] : 0;
  const lengths = past?.lengths ?? new Array<number>(B).fill(0);
  const leftPad = opts.leftPad ?? new Array<number>(B).fill(0);
  if (B === 0 || T === 0) throw new ModelConfigError(`forward needs at least one row of at least one token, got [${B}, ${T}]`);
  if (leftPad.length !== B || leftPad.some((n) => !Number.isInteger(n) || n < 0 || n >= T)) {
    throw new ModelConfigError(`forward: leftPad must give each of the ${B} rows a padding count in [0, ${T}), got [${leftPad.join(', ')}]`);
  }
  if (Array.isArray(tokens) && tokens.some((r) => r.length !== T)) throw new ModelConfigError('forward: every row must have the same number of tokens (pad them)');
  if (lengths.length !== B) throw new ModelConfigError(`forward: past has ${lengths.length} rows, tokens have ${B}`);
  if (opts.outputProjection && (opts.outputProjection.shape[0] !== C || opts.outputProjection.shape[1] !== config.vocabSize)) {
    throw new ModelConfigError(`forward: outputProjection is [${opts.outputProjection.shape.join(', ')}], expected wteᵀ [${C}, ${config.vocabSize}]`);
  }
  const longest = Math.max(...lengths.map((n, b) => n + T - leftPad[b]!));
  if (longest > config.nPositions) {
    throw new ModelConfigError(`a sequence of ${longest} tokens is longer than the model's ${config.nPositions} positions`);
  }

  const linear = (module: string, x: Tensor2D): Tensor2D => {
    if (opts.stats) opts.stats.baseMatmuls += 1;
    const y = tf.add(tf.matMul(x, p(`${module}.weight`) as Tensor2D), p(`${module}.bias`)) as Tensor2D;
    const d = opts.hook?.delta(module, x);
    return d ? tf.add(y, d) : y;
  };
  const layerNorm = (x: Tensor, prefix: string): Tensor => {
    const { mean, variance } = tf.moments(x, -1, true);
    const normed = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, config.layerNormEpsilon)));
    return tf.add(tf.mul(normed, p(`${prefix}.weight`)), p(`${prefix}.bias`));
  };
  // GPT-2's "gelu_new", the tanh approximation 0.5·x·(1 + tanh(z)) with z = √(2/π)·(x + 0.044715·x³),
  // written as x·sigmoid(2z), which is the same function: on wasm, tanh and pow cost 7× what sigmoid and
  // two multiplies do.
  const gelu = (x: Tensor): Tensor => tf.mul(x, tf.sigmoid(tf.mul(x, tf.add(tf.mul(tf.mul(x, x), GELU_CUBIC), GELU_LINEAR))));
  const heads = (x: Tensor2D): Tensor4D => tf.transpose(tf.reshape(x, [B, T, H, D]), [0, 2, 1, 3]); // (B, H, T, D)

  return tf.tidy(() => {
    const ids = Array.isArray(tokens) ? tf.tensor2d(tokens as number[][], [B, T], 'int32') : (tokens as Tensor2D);
    const positions = tf.tensor2d(
      Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => lengths[b]! + Math.max(0, t - leftPad[b]!))),
      [B, T],
      'int32',
    );
    let x = tf.add(embeddingLookup(p('wte.weight') as Tensor2D, ids), embeddingLookup(p('wpe.weight') as Tensor2D, positions)) as Tensor3D; // (B, T, C)
    const mask = attentionMask(lengths, past?.align ?? 'start', S, T, leftPad); // (B, 1, T, S + T), 0 or −1e9
    const scale = 1 / Math.sqrt(D);
    const presentK: Tensor4D[] = [];
    const presentV: Tensor4D[] = [];
    const extendedK: Tensor4D[] = [];
    const extendedV: Tensor4D[] = [];

    for (let l = 0; l < config.nLayer; l++) {
      const h = `h.${l}`;
      // Causal self-attention.
      const a = tf.reshape(layerNorm(x, `${h}.ln_1`), [B * T, C]) as Tensor2D;
      const qkv = linear(`${h}.attn.c_attn`, a); // (B·T, 3C)
      const [q, k, v] = tf.split(qkv, 3, 1).map((t) => heads(t as Tensor2D)) as [Tensor4D, Tensor4D, Tensor4D]; // (B, H, T, D)
      if (opts.present) {
        presentK.push(k);
        presentV.push(v);
      }
      const keys = past ? tf.concat([past.k[l]!, k], 2) : k; // (B, H, S + T, D)
      const values = past ? tf.concat([past.v[l]!, v], 2) : v;
      if (opts.extend) {
        extendedK.push(keys);
        extendedV.push(values);
      }
      const scores = tf.add(tf.mul(tf.matMul(q, keys, false, true), scale), mask); // (B, H, T, S + T)
      const attended = tf.matMul(tf.softmax(scores), values); // (B, H, T, D)
      const merged = tf.reshape(tf.transpose(attended, [0, 2, 1, 3]), [B * T, C]) as Tensor2D;
      x = tf.add(x, tf.reshape(linear(`${h}.attn.c_proj`, merged), [B, T, C])) as Tensor3D;
      // MLP.
      const m = tf.reshape(layerNorm(x, `${h}.ln_2`), [B * T, C]) as Tensor2D;
      const up = gelu(linear(`${h}.mlp.c_fc`, m)) as Tensor2D; // (B·T, 4C)
      x = tf.add(x, tf.reshape(linear(`${h}.mlp.c_proj`, up), [B, T, C])) as Tensor3D;
    }

    let out = layerNorm(x, 'ln_f') as Tensor3D; // (B, T, C)
    let Tout = T;
    if (opts.logitsAt) {
      if (opts.logitsAt.length !== B || opts.logitsAt.some((t) => t < 0 || t >= T)) {
        throw new ModelConfigError(`forward: logitsAt must give one position in [0, ${T}) per row`);
      }
      const rows = tf.tensor1d(opts.logitsAt.map((t, b) => b * T + t), 'int32');
      out = tf.reshape(tf.gather(tf.reshape(out, [B * T, C]), rows), [B, 1, C]);
      Tout = 1;
    }
    const flat = tf.reshape(out, [B * Tout, C]) as Tensor2D;
    const projected = opts.outputProjection ? tf.matMul(flat, opts.outputProjection) : tf.matMul(flat, p('wte.weight') as Tensor2D, false, true);
    const logits = tf.reshape(projected, [B, Tout, config.vocabSize]) as Tensor3D;
    return {
      logits,
      ...(opts.present ? { present: { k: presentK, v: presentV } } : {}),
      ...(opts.extend ? { extended: { k: extendedK, v: extendedV } } : {}),
    };
  });
}

/** wteᵀ, (C, V): forward's `outputProjection`. The caller disposes it. */
export function outputProjection(model: Gpt2Model): Tensor2D {
  return tf.transpose(model.params.get('wte.weight')!) as Tensor2D;
}

/**
 * The additive attention mask, (B, 1, T, S + T): query t of row b sees the row's real earlier positions
 * (the first or the last lengths[b] of the S, by `align`) and the new positions from its first real one
 * up to itself (S + leftPad[b] ≤ j ≤ S + t). A padded query sees nothing real; its output is never used.
 */
function attentionMask(lengths: readonly number[], align: 'start' | 'end', S: number, T: number, leftPad: readonly number[]): Tensor4D {
  const B = lengths.length;
  const width = S + T;
  const m = new Float32Array(B * T * width);
  for (let b = 0; b < B; b++) {
    const [from, to] = align === 'start' ? [0, lengths[b]!] : [S - lengths[b]!, S]; // real past columns
    for (let t = 0; t < T; t++) {
      const row = (b * T + t) * width;
      for (let j = 0; j < width; j++) {
        const visible = j < S ? j >= from && j < to : j - S >= leftPad[b]! && j - S <= t;
        if (!visible) m[row + j] = -1e9;
      }
    }
  }
  return tf.tensor4d(m, [B, 1, T, width]);
}

/** Parameter count of a config (for logs and docs). */
export function parameterCount(c: Gpt2Config): number {
  return parameterShapes(c).reduce((n, [, s]) => n + s.reduce((a, b) => a * b, 1), 0);
}

