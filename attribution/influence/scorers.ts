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
//              λ_l = 0.1 × mean |gᵢ|² (DataInf's rule). The sum over i does not depend on the query, so it is
//              folded once into a d_l × d_l matrix, H_l = (I − Φ_lᵀ diag(w) Φ_l / n) / λ_l with
//              wᵢ = 1/(λ_l + |gᵢ|²), and scores = [Q_1 H_1 … Q_L H_L] Φᵀ.
//
// Every method is "precondition the queries (m × k, cheap), then one product with a k × n right-hand
// matrix per checkpoint used". That product is the whole cost (2·m·k·n flops per checkpoint), so the
// right-hand matrices are kept as the plain product wants them, k × n: a transposed operand costs a copy
// of it on every call in the wasm backend (bench/attribution/scoring.ts measures the difference).
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
  /** The same scores read back asynchronously: the only way on backends without synchronous reads (webgpu). */
  scoreAsync(queries: readonly Float32Array[], m: number): Promise<Float32Array>;
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

/** Builds a scorer; TRAK reads its Gram matrices back synchronously, so on webgpu use createScorerAsync. */
export function createScorer(opts: ScorerOptions): InfluenceScorer {
  const build = buildScorer(opts);
  let step = build.next();
  while (!step.done) {
    let values: Float32Array;
    try {
      values = step.value.dataSync() as Float32Array;
    } catch (e) {
      throw build.throw(e); // the builder frees what it holds and rethrows
    } finally {
      step.value.dispose();
    }
    step = build.next(values);
  }
  return step.value;
}

/** createScorer with its host reads (TRAK's Gram matrices) done asynchronously: works on every backend. */
export async function createScorerAsync(opts: ScorerOptions): Promise<InfluenceScorer> {
  const build = buildScorer(opts);
  let step = build.next();
  while (!step.done) {
    let values: Float32Array;
    try {
      values = (await step.value.data()) as Float32Array;
    } catch (e) {
      throw build.throw(e);
    } finally {
      step.value.dispose();
    }
    step = build.next(values);
  }
  return step.value;
}

/**
 * The scorer, as a generator: it yields each tensor whose values it needs on the host, and the driver
 * (sync or async, above) resumes it with them and disposes the tensor.
 */
function* buildScorer(opts: ScorerOptions): Generator<tf.Tensor, InfluenceScorer, Float32Array> {
  const { method, spec, n, checkpoints } = opts;
  const k = spec.dims;
  if (!INFLUENCE_METHODS.includes(method)) throw new ScorerError(`unknown influence method "${method as string}"; one of ${INFLUENCE_METHODS.join(', ')}`);
  if (!checkpoints.length) throw new ScorerError('no checkpoints to score with');
  for (const c of checkpoints) {
    if (c.values.length !== n * k) throw new ScorerError(`checkpoint at step ${c.step} has ${c.values.length} numbers, expected ${n} examples × ${k} dims`);
  }
  const last = checkpoints.length - 1;
  const used = method === 'tracin' || method === 'trak' ? checkpoints.map((_, i) => i) : [last];
  const held: tf.Tensor[] = [];
  // Per checkpoint used: the right-hand k × n matrix, and what is done to that checkpoint's queries first.
  const right: Tensor2D[] = [];
  const left: ((q: Tensor2D) => Tensor2D)[] = [];
  try {
    for (const c of used) {
      const phi = tf.tensor2d(checkpoints[c]!.values, [n, k]);
      const phiT = tf.transpose(phi) as Tensor2D; // (k, n)
      try {
        if (method === 'grad-dot') {
          right.push(phiT);
          left.push((q) => q);
        } else if (method === 'tracin') {
          const eta = checkpoints[c]!.learningRate;
          right.push(phiT);
          left.push((q) => tf.mul(q, eta) as Tensor2D);
        } else if (method === 'trak') {
          // A right factor R with scores = Q·R: (ΦᵀΦ + λI)⁻¹Φᵀ, or Φᵀ(ΦΦᵀ + λI)⁻¹ through the n × n dual.
          const dual = n <= k;
          const size = dual ? n : k;
          const gram = dual ? tf.matMul(phi, phiT) : tf.matMul(phiT, phi);
          const G = Float64Array.from(yield gram);
          let trace = 0;
          for (let i = 0; i < size; i++) trace += G[i * size + i]!;
          const lambda = ((opts.trakDamping ?? 0.1) * trace) / Math.min(n, k) || 1e-12;
          for (let i = 0; i < size; i++) G[i * size + i]! += lambda;
          const inv = tf.tensor2d(Float32Array.from(spdInverse(G, size)), [size, size]);
          right.push((dual ? tf.matMul(phiT, inv) : tf.matMul(inv, phiT)) as Tensor2D); // (k, n)
          inv.dispose();
          left.push((q) => q);
        } else {
          // DataInf: one d_l × d_l matrix per module, applied to the queries' slices; λ stays on the device.
          const damping = opts.dataInfDamping ?? 0.1;
          const H = spec.modules.map((mod) =>
            tf.tidy(() => {
              const gT = tf.slice(phiT, [mod.offset, 0], [mod.size, n]) as Tensor2D; // (d_l, n)
              const g = tf.slice(phi, [0, mod.offset], [n, mod.size]) as Tensor2D; // (n, d_l)
              const sq = tf.sum(tf.square(gT), 0); // |gᵢ|², (n)
              const lambda = tf.maximum(tf.mul(tf.mean(sq), damping), 1e-12);
              const w = tf.div(1, tf.add(sq, lambda)); // (n)
              const M = tf.matMul(tf.mul(gT, w), g); // Σᵢ wᵢ gᵢgᵢᵀ, (d_l, d_l)
              return tf.div(tf.sub(tf.eye(mod.size), tf.div(M, n)), lambda) as Tensor2D;
            }),
          );
          held.push(...H);
          right.push(phiT);
          left.push((q) => {
            const m = q.shape[0];
            const parts = spec.modules.map((mod, l) => tf.matMul(tf.slice(q, [0, mod.offset], [m, mod.size]), H[l]!));
            return (parts.length === 1 ? parts[0]! : tf.concat(parts, 1)) as Tensor2D; // (m, k)
          });
        }
      } finally {
        phi.dispose();
        if (!right.includes(phiT)) phiT.dispose(); // TRAK keeps its factor instead; on an error, nothing
      }
    }
  } catch (e) {
    tf.dispose([...held, ...right]);
    throw e;
  }
  held.push(...right);

  const checkQueries = (queries: readonly Float32Array[], m: number) => {
    if (queries.length !== used.length) throw new ScorerError(`${method} needs query sketches at ${used.length} checkpoint(s), got ${queries.length}`);
    queries.forEach((q, j) => {
      if (q.length !== m * k) throw new ScorerError(`query sketches at checkpoint ${used[j]} have ${q.length} numbers, expected ${m} × ${k}`);
    });
  };
  // (m, n): Σ over the checkpoints used of left(Q)·R.
  const scores = (queries: readonly Float32Array[], m: number): tf.Tensor =>
    tf.tidy(() => {
      const parts = queries.map((q, j) => tf.matMul(left[j]!(tf.tensor2d(q, [m, k])), right[j]!));
      return parts.length === 1 ? parts[0]! : tf.addN(parts);
    });

  return {
    method,
    n,
    checkpointsUsed: used,
    score(queries, m) {
      checkQueries(queries, m);
      if (m === 0) return new Float32Array(0);
      const t = scores(queries, m);
      try {
        return t.dataSync() as Float32Array;
      } finally {
        t.dispose();
      }
    },
    async scoreAsync(queries, m) {
      checkQueries(queries, m);
      if (m === 0) return new Float32Array(0);
      const t = scores(queries, m);
      try {
        return (await t.data()) as Float32Array;
      } finally {
        t.dispose();
      }
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
