// Influence scores between inferences and training examples from their gradient sketches, as batched
// matrix products on the tensor backend (no loop over pairs). Every method answers "how much did
// training on example i help the model produce this output": positive helps, negative hurts.
//
//   grad-dot   qᵀ gᵢ at the final checkpoint.
//   tracin     Σ_c η_c · q_cᵀ g_{i,c} over the saved checkpoints, η_c the learning rate there (TracIn-CP).
//   trak       qᵀ (ΦᵀΦ + λI)⁻¹ gᵢ, Φ the training sketches (TRAK's preconditioning, on LoRA gradients),
//              summed over checkpoints as TRAK ensembles over models. With fewer examples than sketch
//              dimensions the n × n dual is inverted instead: (ΦᵀΦ + λI)⁻¹Φᵀ = Φᵀ(ΦΦᵀ + λI)⁻¹.
//   datainf    DataInf's closed form, per module l: the inverse of (1/n)Σᵢ gᵢgᵢᵀ + λ_l I replaced by
//              (1/(nλ_l)) Σᵢ (I − gᵢgᵢᵀ / (λ_l + |gᵢ|²)), so that
//                qᵀ H⁻¹ gⱼ = (1/λ_l) qᵀgⱼ − (1/(nλ_l)) Σᵢ (qᵀgᵢ)(gᵢᵀgⱼ) / (λ_l + |gᵢ|²),
//              computed as R = Q/λ − ((QΦᵀ) ⊙ w)Φ / (nλ), scores = RΦᵀ; λ_l = 0.1 × mean |gᵢ|² (DataInf's rule).
import { tf, type Tensor2D } from '../../serving/index.ts';
import { spdInverse } from './cholesky.ts';
import type { SketchSpec } from './projection.ts';

export const INFLUENCE_METHODS = ['grad-dot', 'tracin', 'trak', 'datainf'] as const;
export type InfluenceMethod = (typeof INFLUENCE_METHODS)[number];

export interface CheckpointTrainSketches {
  step: number;
  /** The learning rate at this checkpoint's step (TracIn's η). */
  learningRate: number;
  /** n × dims, the training examples' sketches at this checkpoint. */
  values: Float32Array;
}

export interface ScorerOptions {
  method: InfluenceMethod;
  spec: SketchSpec;
  /** Training examples (rows of every checkpoint's values). */
  n: number;
  /** In step order; grad-dot and datainf use the last one. */
  checkpoints: readonly CheckpointTrainSketches[];
  /** TRAK's damping as a fraction of the mean non-zero eigenvalue of ΦᵀΦ. Default 0.1. */
  trakDamping?: number;
  /** DataInf's damping as a fraction of the mean squared sketch norm per module. Default 0.1. */
  dataInfDamping?: number;
}

export interface InfluenceScorer {
  method: InfluenceMethod;
  n: number;
  /** The checkpoints whose query sketches `score` needs, by index into the options' checkpoints. */
  checkpointsUsed: readonly number[];
  /** queries[j] holds m × dims sketches at checkpoint checkpointsUsed[j]; returns m × n scores, row-major. */
  score(queries: readonly Float32Array[], m: number): Float32Array;
  /**
   * Each training example's influence on itself (its own sketches as the query): large for examples the
   * rest of the data does not explain, the classic signal of a mislabeled row (TracIn's self-influence; for
   * TRAK, the leverage score). Computed a chunk of examples at a time.
   */
  selfInfluence(): Float32Array;
  dispose(): void;
}

export class ScorerError extends Error {
  override name = 'ScorerError';
}

export function createScorer(opts: ScorerOptions): InfluenceScorer {
  const { method, spec, n, checkpoints } = opts;
  const k = spec.dims;
  if (!checkpoints.length) throw new ScorerError('no checkpoints to score with');
  for (const c of checkpoints) {
    if (c.values.length !== n * k) throw new ScorerError(`checkpoint at step ${c.step} has ${c.values.length} numbers, expected ${n} examples × ${k} dims`);
  }
  const last = checkpoints.length - 1;
  const used = method === 'tracin' || method === 'trak' ? checkpoints.map((_, i) => i) : [last];
  const train = used.map((i) => tf.tensor2d(checkpoints[i]!.values, [n, k]));
  const held: tf.Tensor[] = [...train];
  const checkQueries = (queries: readonly Float32Array[], m: number) => {
    if (queries.length !== used.length) throw new ScorerError(`${method} needs query sketches at ${used.length} checkpoint(s), got ${queries.length}`);
    queries.forEach((q, j) => {
      if (q.length !== m * k) throw new ScorerError(`query sketches at checkpoint ${used[j]} have ${q.length} numbers, expected ${m} × ${k}`);
    });
  };
  const finish = (t: tf.Tensor): Float32Array => {
    const out = t.dataSync() as Float32Array;
    t.dispose();
    return out;
  };

  let scoreWith: (Q: Tensor2D[]) => tf.Tensor;
  switch (method) {
    case 'grad-dot':
      scoreWith = ([q]) => tf.matMul(q!, train[0]!, false, true);
      break;
    case 'tracin': {
      const eta = used.map((i) => checkpoints[i]!.learningRate);
      scoreWith = (Q) => tf.addN(Q.map((q, j) => tf.mul(tf.matMul(q, train[j]!, false, true), eta[j]!)));
      break;
    }
    case 'trak': {
      const damping = opts.trakDamping ?? 0.1;
      // Per checkpoint, a right factor R such that scores = Q·R: Φᵀ(ΦΦᵀ + λI)⁻¹ (k × n) or (ΦᵀΦ + λI)⁻¹Φᵀ.
      const factors = train.map((phi) => {
        const dual = n <= k;
        const gram = tf.tidy(() => (dual ? tf.matMul(phi, phi, false, true) : tf.matMul(phi, phi, true, false)));
        const size = dual ? n : k;
        const G = Float64Array.from(gram.dataSync());
        gram.dispose();
        let trace = 0;
        for (let i = 0; i < size; i++) trace += G[i * size + i]!;
        const lambda = (damping * trace) / Math.min(n, k) || 1e-12;
        for (let i = 0; i < size; i++) G[i * size + i]! += lambda;
        const inv = tf.tensor2d(Float32Array.from(spdInverse(G, size)), [size, size]);
        const R = tf.tidy(() => (dual ? tf.matMul(phi, inv, true, false) : tf.matMul(inv, phi, false, true))); // (k, n)
        inv.dispose();
        return R as Tensor2D;
      });
      held.push(...factors);
      scoreWith = (Q) => tf.addN(Q.map((q, j) => tf.matMul(q, factors[j]!)));
      break;
    }
    case 'datainf': {
      const damping = opts.dataInfDamping ?? 0.1;
      const phi = train[0]!;
      const blocks = spec.modules.map((mod) => {
        const g = tf.slice(phi, [0, mod.offset], [n, mod.size]) as Tensor2D; // (n, d_l)
        const sq = tf.tidy(() => tf.sum(tf.square(g), 1)); // |gᵢ|², (n)
        const lambda = (damping * (tf.tidy(() => tf.mean(sq)).dataSync()[0] as number)) || 1e-12;
        const w = tf.tidy(() => tf.reshape(tf.div(1, tf.add(sq, lambda)), [1, n])); // (1, n)
        sq.dispose();
        held.push(g, w);
        return { mod, g, w, lambda };
      });
      scoreWith = ([q]) =>
        tf.addN(
          blocks.map(({ mod, g, w, lambda }) => {
            const m = q!.shape[0];
            const ql = tf.slice(q!, [0, mod.offset], [m, mod.size]); // (m, d_l)
            const coef = tf.mul(tf.matMul(ql, g, false, true), w); // (m, n): (qᵀgᵢ)/(λ + |gᵢ|²)
            const R = tf.sub(tf.div(ql, lambda), tf.div(tf.matMul(coef, g), n * lambda)); // (m, d_l)
            return tf.matMul(R, g, false, true); // (m, n)
          }),
        );
      break;
    }
    default:
      throw new ScorerError(`unknown influence method "${method as string}"; one of ${INFLUENCE_METHODS.join(', ')}`);
  }
  return {
    method,
    n,
    checkpointsUsed: used,
    score(queries, m) {
      checkQueries(queries, m);
      if (m === 0) return new Float32Array(0);
      return finish(tf.tidy(() => scoreWith(queries.map((q) => tf.tensor2d(q, [m, k])))));
    },
    selfInfluence() {
      const out = new Float32Array(n);
      const chunk = 256;
      for (let start = 0; start < n; start += chunk) {
        const rows = Math.min(chunk, n - start);
        const own = used.map((c) => checkpoints[c]!.values.subarray(start * k, (start + rows) * k));
        const block = this.score(own, rows); // (rows, n)
        for (let j = 0; j < rows; j++) out[start + j] = block[j * n + start + j]!;
      }
      return out;
    },
    dispose() {
      for (const t of held) t.dispose();
    },
  };
}
