// One serving pass over a ragged batch: the same GPT-2 as gpt2.ts's forward, inference only, where every
// sequence brings its own number of new tokens: one for a sequence that continues from the KV cache, a
// whole prompt for one that starts. Their tokens are flattened into N rows with no padding, so an engine
// step that both advances the running sequences and starts new ones is one pass instead of two
// (Sarathi-Serve's and vLLM's mixed prefill-and-decode batches), and a prompt costs its own tokens, not
// the longest prompt's.
//
// Every op is row-wise (embeddings, layer norms, projections with their LoRA hook, GELU, residuals)
// except attention, which raggedAttention.ts does per layer in one kernel, reading and writing the
// batched, right-aligned KV cache of kvCache.ts. Needs that kernel (`hasRaggedAttention()`: wasm); other
// backends use gpt2.ts's forward. gpt2.test.ts-style checks against forward: raggedForward.test.ts.
import { ModelConfigError } from './modelConfig.ts';
import type { ForwardStats, Gpt2Model, LinearHook } from './gpt2.ts';
import { raggedAttention } from './raggedAttention.ts';
import { tf, type Tensor, type Tensor2D, type Tensor3D, type Tensor4D } from './tf.ts';

/** A sequence of the batch: its new tokens, and how many positions it already has in the cache, in which row. */
export interface RaggedSequence {
  tokens: readonly number[];
  /** Positions cached (0 for a sequence that starts). */
  past: number;
  /** The cache row holding them (its last `past` positions); needed when past > 0. */
  row?: number;
}

export interface RaggedForwardOptions {
  /** Per layer, (Bc, H, S, D), right-aligned: the sequences' past, one row each (rows no sequence names are skipped). */
  cache?: { k: readonly Tensor4D[]; v: readonly Tensor4D[] };
  /** The projections' extra terms (LoRA), for the N flattened rows in order. */
  hook?: LinearHook;
  stats?: ForwardStats;
  /** wteᵀ, (C, V), made once (gpt2.ts's `outputProjection`); default: wte transposed in the pass. */
  outputProjection?: Tensor2D;
}

export interface RaggedForwardResult {
  /** (B, 1, V): each sequence's logits at its last new token. */
  logits: Tensor3D;
  /** Per layer, (B, H, S', D), right-aligned: every sequence's past and new positions, S' the longest. */
  cache: { k: Tensor4D[]; v: Tensor4D[] };
}

const GELU_LINEAR = 2 * Math.sqrt(2 / Math.PI);
const GELU_CUBIC = GELU_LINEAR * 0.044715;

export function raggedForward(model: Gpt2Model, seqs: readonly RaggedSequence[], opts: RaggedForwardOptions = {}): RaggedForwardResult {
  const { config, params } = model;
  const p = (name: string): Tensor => params.get(name)!;
  const C = config.nEmbd;
  const B = seqs.length;
  const Bc = opts.cache?.k[0]?.shape[0] ?? 0;
  if (B === 0) throw new ModelConfigError('raggedForward needs at least one sequence');
  if (opts.cache && (opts.cache.k.length !== config.nLayer || opts.cache.v.length !== config.nLayer)) {
    throw new ModelConfigError(`raggedForward: the cache has ${opts.cache.k.length} layers, the model ${config.nLayer}`);
  }
  if (opts.outputProjection && (opts.outputProjection.shape[0] !== C || opts.outputProjection.shape[1] !== config.vocabSize)) {
    throw new ModelConfigError(`raggedForward: outputProjection is [${opts.outputProjection.shape.join(', ')}], expected wteᵀ [${C}, ${config.vocabSize}]`);
  }
  const starts = new Int32Array(B + 1);
  const past = new Int32Array(B);
  const from = new Int32Array(B);
  seqs.forEach((s, b) => {
    if (s.tokens.length === 0) throw new ModelConfigError(`raggedForward: sequence ${b} has no new tokens`);
    const row = s.row ?? -1;
    if (s.past !== 0 && !(Number.isInteger(row) && row >= 0 && row < Bc)) throw new ModelConfigError(`raggedForward: sequence ${b} has ${s.past} past positions but no cache row (row ${s.row}, the cache has ${Bc})`);
    from[b] = s.past === 0 ? -1 : row;
    if (s.past + s.tokens.length > config.nPositions) {
      throw new ModelConfigError(`a sequence of ${s.past + s.tokens.length} tokens is longer than the model's ${config.nPositions} positions`);
    }
    past[b] = s.past;
    starts[b + 1] = starts[b]! + s.tokens.length;
  });
  const N = starts[B]!;
  const ids = new Int32Array(N);
  const positions = new Int32Array(N);
  const last = new Int32Array(B);
  seqs.forEach((s, b) => {
    s.tokens.forEach((t, i) => {
      ids[starts[b]! + i] = t;
      positions[starts[b]! + i] = s.past + i;
    });
    last[b] = starts[b + 1]! - 1;
  });
  const layout = { starts, past, from };

  const linear = (module: string, x: Tensor2D): Tensor2D => {
    if (opts.stats) opts.stats.baseMatmuls += 1;
    const y = tf.add(tf.matMul(x, p(`${module}.weight`) as Tensor2D), p(`${module}.bias`)) as Tensor2D;
    const d = opts.hook?.delta(module, x);
    return d ? tf.add(y, d) : y;
  };
  // As gpt2.ts's.
  const layerNorm = (x: Tensor, prefix: string): Tensor => {
    const { mean, variance } = tf.moments(x, -1, true);
    const normed = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, config.layerNormEpsilon)));
    return tf.add(tf.mul(normed, p(`${prefix}.weight`)), p(`${prefix}.bias`));
  };
  const gelu = (x: Tensor): Tensor => tf.mul(x, tf.sigmoid(tf.mul(x, tf.add(tf.mul(tf.mul(x, x), GELU_CUBIC), GELU_LINEAR))));

  return tf.tidy(() => {
    let x = tf.add(tf.gather(p('wte.weight'), tf.tensor1d(ids, 'int32')), tf.gather(p('wpe.weight'), tf.tensor1d(positions, 'int32'))) as Tensor2D; // (N, C)
    const k: Tensor4D[] = [];
    const v: Tensor4D[] = [];
    for (let l = 0; l < config.nLayer; l++) {
      const h = `h.${l}`;
      const qkv = linear(`${h}.attn.c_attn`, layerNorm(x, `${h}.ln_1`) as Tensor2D); // (N, 3C)
      const cache = opts.cache ? { k: opts.cache.k[l]!, v: opts.cache.v[l]! } : undefined;
      const att = raggedAttention(qkv, cache, layout, config.nHead); // (N, C), and (B, H, S', D) twice
      k.push(att.k);
      v.push(att.v);
      x = tf.add(x, linear(`${h}.attn.c_proj`, att.out));
      const up = gelu(linear(`${h}.mlp.c_fc`, layerNorm(x, `${h}.ln_2`) as Tensor2D)) as Tensor2D; // (N, 4C)
      x = tf.add(x, linear(`${h}.mlp.c_proj`, up));
    }
    const out = layerNorm(tf.gather(x, tf.tensor1d(last, 'int32')), 'ln_f') as Tensor2D; // (B, C)
    const projected = opts.outputProjection ? tf.matMul(out, opts.outputProjection) : tf.matMul(out, p('wte.weight') as Tensor2D, false, true);
    return { logits: tf.reshape(projected, [B, 1, config.vocabSize]) as Tensor3D, cache: { k, v } };
  });
}
