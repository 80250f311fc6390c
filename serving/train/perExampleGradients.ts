// Each example's own loss and its own gradient with respect to every LoRA parameter, for a batch of
// examples in one forward and one backward pass: what the attribution engine needs (TracIn, TRAK,
// DataInf and LoGra all start from per-example gradients).
//
// Why this works batched: the batch loss Σₙ Lₙ is a sum of per-example losses, and example n's rows of a
// module's input x and of the LoRA term's output y = s·(x·Aᵀ)·Bᵀ belong to it alone. So the gradient of
// the sum with respect to y, restricted to example n's rows, is ∂Lₙ/∂y (call it δₙ, (T, out)). Autodiff
// gives δ for every row at once if a zero "probe" tensor is added to each LoRA term and we ask for the
// gradient with respect to the probes. Then, per example, with the chain rule through y = s·x·Aᵀ·Bᵀ:
//
//   ∂Lₙ/∂B = s · δₙᵀ (xₙ Aᵀ)      (out × r)        ∂Lₙ/∂A = s · (δₙ B)ᵀ xₙ      (r × in)
//
// two batched matmuls over the example dimension, instead of N backward passes. Padding rows have δ = 0
// (no loss reaches them and, being after the real tokens, they influence no real position), so they
// add nothing.
//
// Orientation: gradients are returned in PEFT's layout, dA as lora_A.weight (r × in) and dB as
// lora_B.weight (out × r), each flattened row-major per example. With `withActivations`, the module
// inputs x (N, T, in) and output gradients δ (N, T, out) come back too, for per-layer projection
// (LoGra: project x and δ separately, then take their outer product), zero beyond each example's length.
import type { Gpt2Model, LinearHook } from '../gpt2.ts';
import { forward, linearModules } from '../gpt2.ts';
import { loraScale, type LoraAdapter } from '../lora.ts';
import { tf, type Tensor, type Tensor2D, type Tensor3D } from '../tf.ts';
import { padBatch } from './batch.ts';
import { TrainingError } from './errors.ts';
import type { TokenExample } from './format.ts';
import { maskedCrossEntropy } from './loss.ts';

export interface PerExampleGradientsOptions {
  model: Gpt2Model;
  /** The adapter (a checkpoint) at which the gradients are taken. */
  adapter: LoraAdapter;
  /** Token sequences with their loss masks (format.ts: tokensToExample / toExample). */
  pairs: readonly TokenExample[];
  /** Examples per forward/backward pass. Default 16. */
  batchSize?: number;
  /** Also return each module's inputs and output gradients. Default false. */
  withActivations?: boolean;
  /** Token used for padding (any id of the vocabulary; it is masked). Default 0. */
  padId?: number;
}

export interface ModuleGradients {
  /** Input width, rank and output width. */
  in: number;
  r: number;
  out: number;
  /** (N, r·in): example n's ∂Lₙ/∂A in lora_A.weight's layout (r × in), row-major, at offset n·r·in. */
  dA: Float32Array;
  /** (N, out·r): example n's ∂Lₙ/∂B in lora_B.weight's layout (out × r), row-major, at offset n·out·r. */
  dB: Float32Array;
  /** With activations, (N, T, in): the module's inputs at each example's positions, 0 beyond its length. */
  x?: Float32Array;
  /** With activations, (N, T, out): ∂Lₙ/∂(module output) at each position, 0 beyond its length. */
  delta?: Float32Array;
}

export interface PerExampleGradients {
  /** (N): each example's mean loss over its masked tokens. */
  losses: Float32Array;
  /** (N): how many tokens of each example carry loss. */
  counts: Int32Array;
  /** T of the activation arrays: the longest example's input positions (tokens − 1). */
  positions: number;
  /** (N): each example's input positions (tokens − 1). */
  lengths: Int32Array;
  /** Full module name → its per-example gradients, in the adapter's module order. */
  modules: Map<string, ModuleGradients>;
}

export function perExampleGradients(opts: PerExampleGradientsOptions): PerExampleGradients {
  const { model, adapter, pairs } = opts;
  const batchSize = opts.batchSize ?? 16;
  const padId = opts.padId ?? 0;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new TrainingError(`batch size must be a positive integer, got ${batchSize}`);
  checkAdapterFits(model, adapter);
  const N = pairs.length;
  const lengths = Int32Array.from(pairs, (p) => p.tokens.length - 1);
  const T = N ? Math.max(...lengths) : 0;
  const names = [...adapter.modules.keys()];
  const modules = new Map<string, ModuleGradients>();
  for (const name of names) {
    const w = adapter.modules.get(name)!;
    const [inW, r] = w.a.shape;
    const out = w.b.shape[1];
    modules.set(name, {
      in: inW,
      r,
      out,
      dA: new Float32Array(N * r * inW),
      dB: new Float32Array(N * out * r),
      ...(opts.withActivations ? { x: new Float32Array(N * T * inW), delta: new Float32Array(N * T * out) } : {}),
    });
  }
  const losses = new Float32Array(N);
  const counts = new Int32Array(N);

  for (let start = 0; start < N; start += batchSize) {
    const chunk = pairs.slice(start, start + batchSize);
    const Bn = chunk.length;
    const t = perExampleGradientTensors({ model, adapter, pairs: chunk, padId, withActivations: opts.withActivations ?? false });
    try {
      losses.set(t.losses.dataSync() as Float32Array, start);
      counts.set(Int32Array.from(t.counts.dataSync()), start);
      for (const m of t.modules) {
        const g = modules.get(m.name)!;
        g.dA.set(m.dA.dataSync() as Float32Array, start * g.r * g.in);
        g.dB.set(m.dB.dataSync() as Float32Array, start * g.out * g.r);
        if (g.x && g.delta) {
          copyRows(g.x, m.x!.dataSync() as Float32Array, start, Bn, t.length, T, g.in, lengths);
          copyRows(g.delta, m.delta!.dataSync() as Float32Array, start, Bn, t.length, T, g.out, lengths);
        }
      }
    } finally {
      disposeGradientTensors(t);
    }
  }
  return { losses, counts, positions: T, lengths, modules };
}

/** One batch's per-example gradients, left on the device (tensors the caller disposes: disposeGradientTensors). */
export interface GradientTensors {
  /** (Bn): each example's mean loss over its masked tokens, and how many tokens carry loss. */
  losses: Tensor;
  counts: Tensor;
  /** L: the batch's padded input positions. */
  length: number;
  /** In the adapter's module order: dA (Bn, r, in) and dB (Bn, out, r) as in ModuleGradients; with activations, x (Bn·L, in) and δ (Bn·L, out). */
  modules: { name: string; dA: Tensor3D; dB: Tensor3D; x?: Tensor2D; delta?: Tensor2D }[];
}

/**
 * One forward and one backward pass over a batch of examples: each example's gradients as tensors, so a
 * caller can reduce them on the device (attribution's sketches) and read back only the result, with
 * `data()` on backends that have no synchronous reads (webgpu).
 */
export function perExampleGradientTensors(opts: { model: Gpt2Model; adapter: LoraAdapter; pairs: readonly TokenExample[]; padId?: number; withActivations?: boolean }): GradientTensors {
  const { model, adapter, pairs } = opts;
  checkAdapterFits(model, adapter);
  const s = loraScale(adapter.config);
  const names = [...adapter.modules.keys()];
  const Bn = pairs.length;
  const batch = padBatch(pairs, opts.padId ?? 0);
  const L = batch.length;
  const flat = tf.tidy(() => {
    const targets = tf.tensor2d(batch.targets, [Bn, L], 'int32') as Tensor2D;
    const mask = tf.tensor2d(batch.mask, [Bn, L], 'float32') as Tensor2D;
    const probes = names.map((name) => tf.zeros([Bn * L, adapter.modules.get(name)!.b.shape[1]]) as Tensor2D);
    const inputs = new Map<string, Tensor2D>();
    let perExample: Tensor | undefined;
    let perCount: Tensor | undefined;
    const summed = (...probe: Tensor[]) => {
      const hook: LinearHook = {
        delta(module, x) {
          const i = names.indexOf(module);
          if (i < 0) return null;
          const w = adapter.modules.get(module)!;
          inputs.set(module, tf.keep(x));
          return tf.add(tf.mul(tf.matMul(tf.matMul(x, w.a), w.b), s), probe[i]!) as Tensor2D;
        },
      };
      const l = maskedCrossEntropy(forward(model, batch.inputs, { hook }).logits, targets, mask);
      perExample = tf.keep(l.perExample);
      perCount = tf.keep(l.counts);
      return tf.sum(l.perExample);
    };
    const deltas = tf.grads(summed)(probes) as Tensor2D[]; // each (Bn·L, out): ∂Lₙ/∂y per row
    // Kept tensors outlive every tidy, so what leaves this one is a clone (same data) and the kept ones are freed.
    const out: Tensor[] = [tf.clone(perExample!), tf.clone(perCount!)];
    names.forEach((name, i) => {
      const w = adapter.modules.get(name)!;
      const [inW, r] = w.a.shape;
      const outW = w.b.shape[1];
      const x = inputs.get(name)!;
      const delta = deltas[i]!;
      const xa = tf.reshape(tf.matMul(x, w.a), [Bn, L, r]) as Tensor3D; // x·Aᵀ, (Bn, L, r)
      const dB = tf.mul(tf.matMul(tf.reshape(delta, [Bn, L, outW]) as Tensor3D, xa, true, false), s); // (Bn, out, r)
      const deltaB = tf.reshape(tf.matMul(delta, w.b, false, true), [Bn, L, r]) as Tensor3D; // δ·B, (Bn, L, r)
      const dA = tf.mul(tf.matMul(deltaB, tf.reshape(x, [Bn, L, inW]) as Tensor3D, true, false), s); // (Bn, r, in)
      out.push(dA, dB);
      if (opts.withActivations) out.push(tf.clone(x), delta);
    });
    for (const t of [...inputs.values(), perExample!, perCount!]) t.dispose();
    return out;
  });
  const per = opts.withActivations ? 4 : 2;
  return {
    losses: flat[0]!,
    counts: flat[1]!,
    length: L,
    modules: names.map((name, i) => {
      const [dA, dB, x, delta] = flat.slice(2 + per * i, 2 + per * (i + 1));
      return { name, dA: dA as Tensor3D, dB: dB as Tensor3D, ...(x && delta ? { x: x as Tensor2D, delta: delta as Tensor2D } : {}) };
    }),
  };
}

export function disposeGradientTensors(t: GradientTensors): void {
  tf.dispose([t.losses, t.counts, ...t.modules.flatMap((m) => [m.dA, m.dB, ...(m.x && m.delta ? [m.x, m.delta] : [])])]);
}

/** Every module of the adapter must be a projection of the model, with A and B of its widths. */
function checkAdapterFits(model: Gpt2Model, adapter: LoraAdapter): void {
  const widths = new Map(linearModules(model.config).map((m) => [m.name, m]));
  for (const [name, w] of adapter.modules) {
    const m = widths.get(name);
    if (!m) throw new TrainingError(`the adapter's module ${name} is not a module of this model`);
    if (w.a.shape[0] !== m.in || w.b.shape[1] !== m.out || w.a.shape[1] !== w.b.shape[0]) {
      throw new TrainingError(`the adapter's ${name} has Aᵀ [${w.a.shape.join(', ')}] and Bᵀ [${w.b.shape.join(', ')}]; the model's module is ${m.in} → ${m.out}`);
    }
  }
}

/** Copies a chunk's (Bn, L, width) rows into the (N, T, width) array, keeping only each example's real positions. */
function copyRows(dst: Float32Array, src: Float32Array, start: number, Bn: number, L: number, T: number, width: number, lengths: Int32Array): void {
  for (let b = 0; b < Bn; b++) {
    const len = lengths[start + b]!;
    dst.set(src.subarray(b * L * width, (b * L + len) * width), (start + b) * T * width);
  }
}

/**
 * The same quantities the slow way: one forward and one backward pass per example, differentiating with
 * respect to the adapter's A and B directly. The reference the batched version is tested and measured against.
 */
export function perExampleGradientsLoop(opts: Omit<PerExampleGradientsOptions, 'batchSize' | 'withActivations'>): Pick<PerExampleGradients, 'losses' | 'modules'> {
  const { model, adapter, pairs } = opts;
  checkAdapterFits(model, adapter);
  const s = loraScale(adapter.config);
  const names = [...adapter.modules.keys()];
  const N = pairs.length;
  const modules = new Map<string, ModuleGradients>();
  for (const name of names) {
    const w = adapter.modules.get(name)!;
    const [inW, r] = w.a.shape;
    const out = w.b.shape[1];
    modules.set(name, { in: inW, r, out, dA: new Float32Array(N * r * inW), dB: new Float32Array(N * out * r) });
  }
  const losses = new Float32Array(N);
  const weights = names.flatMap((name) => [adapter.modules.get(name)!.a, adapter.modules.get(name)!.b]);
  pairs.forEach((pair, n) => {
    const batch = padBatch([pair], opts.padId ?? 0);
    tf.tidy(() => {
      const targets = tf.tensor2d(batch.targets, [1, batch.length], 'int32') as Tensor2D;
      const mask = tf.tensor2d(batch.mask, [1, batch.length], 'float32') as Tensor2D;
      const lossOf = (...ws: Tensor[]) => {
        const hook: LinearHook = {
          delta(module, x) {
            const i = names.indexOf(module);
            return i < 0 ? null : (tf.mul(tf.matMul(tf.matMul(x, ws[2 * i]! as Tensor2D), ws[2 * i + 1]! as Tensor2D), s) as Tensor2D);
          },
        };
        return maskedCrossEntropy(forward(model, batch.inputs, { hook }).logits, targets, mask).loss;
      };
      const { value, grads } = tf.valueAndGrads(lossOf)(weights);
      losses[n] = value.dataSync()[0]!;
      names.forEach((name, i) => {
        const g = modules.get(name)!;
        g.dA.set(tf.transpose(grads[2 * i]!).dataSync() as Float32Array, n * g.r * g.in); // (in, r) → (r, in)
        g.dB.set(tf.transpose(grads[2 * i + 1]!).dataSync() as Float32Array, n * g.out * g.r); // (r, out) → (out, r)
      });
    });
  });
  return { losses, modules };
}
