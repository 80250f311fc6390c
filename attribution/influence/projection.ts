// Seeded random projection of per-example LoRA gradients to a sketch of k numbers.
//
// A LoRA module's gradient has two parts: ∂L/∂A (r × in) and ∂L/∂B (out × r). Rather than one dense
// projection of all of them together (k × Σ r·(in + out) numbers of matrix), each module's parts are
// projected along their wide side only, a Kronecker-structured projection with the identity on the rank
// (LoGra's idea, with LoRA's own factorisation as the low-rank side):
//
//   sketch(∂L/∂A) = ∂L/∂A · P_inᵀ      (r × k_in)        sketch(∂L/∂B) = P_out · ∂L/∂B    (k_out × r)
//
// with P entries drawn N(0, 1/k), so inner products between sketches estimate inner products between
// gradients (E[PᵀP] = I). The matrices are never stored: the seed and the module shapes recreate them,
// and they are recorded with every sketch. A side no wider than its k is kept exact (no projection).
import { tf, type LoraAdapter, type PerExampleGradients, type Tensor, type Tensor2D } from '../../serving/index.ts';

export interface SketchModule {
  /** Full module name, as the adapter and the gradients name it. */
  name: string;
  in: number;
  r: number;
  out: number;
  /** Projected widths; equal to in / out where that side is kept exact. */
  kIn: number;
  kOut: number;
  /** Where this module's numbers start in a sketch, and how many there are (r·kIn + r·kOut). */
  offset: number;
  size: number;
}

/** Everything needed to recreate the projection: recorded beside the sketches. */
export interface SketchSpec {
  /** Seed of every projection matrix (mixed with the module's position). */
  seed: number;
  /** Sketch length: Σ module sizes. */
  dims: number;
  modules: SketchModule[];
}

export class SketchSpecError extends Error {
  override name = 'SketchSpecError';
}

export interface SketchSpecOptions {
  seed: number;
  /** Projected width of each module's input side and output side. Default 32. */
  width?: number;
}

/** The projection for an adapter's modules (a checkpoint of the run being attributed). */
export function sketchSpec(adapter: Pick<LoraAdapter, 'modules'>, opts: SketchSpecOptions): SketchSpec {
  const width = opts.width ?? 32;
  if (!Number.isSafeInteger(opts.seed) || opts.seed < 0) throw new SketchSpecError(`the projection seed must be a non-negative integer, got ${opts.seed}`);
  if (!Number.isInteger(width) || width < 1) throw new SketchSpecError(`the projection width must be a positive integer, got ${width}`);
  let offset = 0;
  const modules: SketchModule[] = [];
  for (const [name, w] of adapter.modules) {
    const [inW, r] = w.a.shape;
    const out = w.b.shape[1];
    const kIn = Math.min(inW, width);
    const kOut = Math.min(out, width);
    const size = r * (kIn + kOut);
    modules.push({ name, in: inW, r, out, kIn, kOut, offset, size });
    offset += size;
  }
  if (!modules.length) throw new SketchSpecError('the adapter has no modules to sketch');
  return { seed: opts.seed, dims: offset, modules };
}

/** The projection matrices, made from the spec (P_inᵀ as in × kIn, P_outᵀ as out × kOut; null where exact). */
export interface Projection {
  spec: SketchSpec;
  /** (N, dims): the sketches of N examples' gradients. */
  project(grads: PerExampleGradients): Float32Array;
  /** The same on the device: per-example dA (N, r, in) and dB (N, out, r) per module → (N, dims), a tensor the caller disposes. */
  projectTensors(modules: ReadonlyMap<string, { dA: Tensor; dB: Tensor }>, N: number): Tensor2D;
  dispose(): void;
}

export function createProjection(spec: SketchSpec): Projection {
  const mats = spec.modules.map((m, i) => ({
    inT: m.kIn < m.in ? (tf.randomNormal([m.in, m.kIn], 0, 1 / Math.sqrt(m.kIn), 'float32', spec.seed * 1000 + 2 * i) as Tensor2D) : null,
    outT: m.kOut < m.out ? (tf.randomNormal([m.out, m.kOut], 0, 1 / Math.sqrt(m.kOut), 'float32', spec.seed * 1000 + 2 * i + 1) as Tensor2D) : null,
  }));
  // (N, dims) from each module's per-example dA (N, r, in) and dB (N, out, r), on the device.
  const projectTensors = (modules: ReadonlyMap<string, { dA: Tensor; dB: Tensor }>, N: number): Tensor2D =>
    tf.tidy(() => {
      const blocks = spec.modules.map((m, i) => {
        const g = modules.get(m.name);
        if (!g) throw new SketchSpecError(`the gradients have no module ${m.name}; the sketch spec was made for another adapter`);
        const { inT, outT } = mats[i]!;
        const dA = tf.reshape(g.dA, [N * m.r, m.in]); // rows: (example, rank)
        const a = inT ? tf.matMul(dA, inT) : dA; // (N·r, kIn)
        // ∂L/∂B is (out × r) per example; put the rank first so the out side is the one projected.
        const dBt = tf.reshape(tf.transpose(tf.reshape(g.dB, [N, m.out, m.r]), [0, 2, 1]), [N * m.r, m.out]);
        const b = outT ? tf.matMul(dBt, outT) : dBt; // (N·r, kOut)
        return tf.concat([tf.reshape(a, [N, m.r * m.kIn]), tf.reshape(b, [N, m.r * m.kOut])], 1);
      });
      return tf.concat(blocks, 1) as Tensor2D;
    });
  return {
    spec,
    project(grads) {
      const N = grads.losses.length;
      const out = new Float32Array(N * spec.dims);
      if (N === 0) return out;
      for (const m of spec.modules) {
        const g = grads.modules.get(m.name);
        if (g && (g.in !== m.in || g.r !== m.r || g.out !== m.out)) {
          throw new SketchSpecError(`module ${m.name} is ${g.in} → ${g.out} with rank ${g.r} in the gradients, ${m.in} → ${m.out} with rank ${m.r} in the sketch spec`);
        }
      }
      const parts = tf.tidy(() => {
        const onDevice = new Map([...grads.modules].map(([name, g]) => [name, { dA: tf.tensor3d(g.dA, [N, g.r, g.in]), dB: tf.tensor3d(g.dB, [N, g.out, g.r]) }]));
        return projectTensors(onDevice, N);
      });
      out.set(parts.dataSync() as Float32Array);
      parts.dispose();
      return out;
    },
    projectTensors(modules, N) {
      for (const m of spec.modules) {
        const g = modules.get(m.name);
        const want = [N, m.r, m.in].join(', ');
        if (g && g.dA.shape.join(', ') !== want) throw new SketchSpecError(`module ${m.name}'s dA is [${g.dA.shape.join(', ')}], expected [${want}] by the sketch spec`);
      }
      return projectTensors(modules, N);
    },
    dispose() {
      for (const m of mats) {
        m.inT?.dispose();
        m.outT?.dispose();
      }
    },
  };
}
