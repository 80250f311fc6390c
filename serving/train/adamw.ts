// AdamW (Loshchilov & Hutter): Adam's moment estimates with bias correction, and weight decay applied to
// the weights directly (decoupled) rather than added to the gradient, so decay does not get rescaled by
// the adaptive denominator. Written here rather than taken from tf.train.adam because tfjs has no AdamW,
// and because every operation must be deterministic and inspectable (training is repeatable per seed):
//
//   g ← g · min(1, clipNorm / (‖g‖ + 1e-6))      ‖g‖ over all parameters together (PyTorch's clip_grad_norm_)
//   m ← β₁m + (1 − β₁)g            v ← β₂v + (1 − β₂)g²
//   p ← p − lr · ( m/(1 − β₁ᵗ) / (√(v/(1 − β₂ᵗ)) + ε) + λ·p )
//
// Parameters and moments are tf.Variables updated in place; one step allocates nothing that outlives it.
import { tf, type Tensor, type Variable } from '../tf.ts';
import { TrainingError } from './errors.ts';

export interface AdamWOptions {
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-8. */
  epsilon?: number;
  /** λ, decoupled. Default 0. */
  weightDecay?: number;
  /** Clip the global gradient norm to this; default: no clipping. */
  clipNorm?: number;
}

export interface AdamWStep {
  /** The global gradient norm before clipping. */
  gradNorm: number;
}

export interface AdamW {
  /** Applies one update with `grads` (one per parameter, by name) at learning rate `lr`. */
  step(grads: Readonly<Record<string, Tensor>>, lr: number): AdamWStep;
  /** Updates applied so far (t). */
  readonly steps: number;
  /** Frees the moment estimates (not the parameters). */
  dispose(): void;
}

export function createAdamW(params: ReadonlyMap<string, Variable>, opts: AdamWOptions = {}): AdamW {
  const beta1 = opts.beta1 ?? 0.9;
  const beta2 = opts.beta2 ?? 0.999;
  const epsilon = opts.epsilon ?? 1e-8;
  const weightDecay = opts.weightDecay ?? 0;
  const clipNorm = opts.clipNorm;
  for (const [k, v] of Object.entries({ beta1, beta2 })) {
    if (!(v >= 0 && v < 1)) throw new TrainingError(`AdamW ${k} must be in [0, 1), got ${v}`);
  }
  if (!(epsilon > 0)) throw new TrainingError(`AdamW epsilon must be positive, got ${epsilon}`);
  if (!(weightDecay >= 0)) throw new TrainingError(`AdamW weight decay must be ≥ 0, got ${weightDecay}`);
  if (clipNorm !== undefined && !(clipNorm > 0)) throw new TrainingError(`AdamW clipNorm must be positive, got ${clipNorm}`);

  const m = new Map<string, Variable>();
  const v = new Map<string, Variable>();
  for (const [name, p] of params) {
    // tidy frees the zeros once the variable holds their data.
    m.set(name, tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
    v.set(name, tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
  }
  let t = 0;

  return {
    get steps() {
      return t;
    },
    step(grads, lr) {
      if (!(lr >= 0)) throw new TrainingError(`learning rate must be ≥ 0, got ${lr}`);
      for (const name of params.keys()) if (!grads[name]) throw new TrainingError(`AdamW: no gradient for parameter ${name}`);
      t += 1;
      const c1 = 1 - beta1 ** t;
      const c2 = 1 - beta2 ** t;
      const gradNorm = tf.tidy(() => {
        const sq = [...params.keys()].map((name) => tf.sum(tf.square(grads[name]!)));
        const norm = tf.sqrt(tf.addN(sq));
        const scale = clipNorm === undefined ? null : tf.minimum(1, tf.div(clipNorm, tf.add(norm, 1e-6)));
        for (const [name, p] of params) {
          const g = scale ? tf.mul(grads[name]!, scale) : grads[name]!;
          const mt = tf.add(tf.mul(m.get(name)!, beta1), tf.mul(g, 1 - beta1));
          const vt = tf.add(tf.mul(v.get(name)!, beta2), tf.mul(tf.square(g), 1 - beta2));
          const update = tf.div(tf.div(mt, c1), tf.add(tf.sqrt(tf.div(vt, c2)), epsilon));
          const decayed = weightDecay ? tf.add(update, tf.mul(p, weightDecay)) : update;
          p.assign(tf.sub(p, tf.mul(decayed, lr)));
          m.get(name)!.assign(mt);
          v.get(name)!.assign(vt);
        }
        return norm.dataSync()[0]!;
      });
      return { gradNorm };
    },
    dispose() {
      for (const x of [...m.values(), ...v.values()]) x.dispose();
      m.clear();
      v.clear();
    },
  };
}
