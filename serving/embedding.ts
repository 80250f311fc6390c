// Embedding lookup with a gradient the wasm backend can compute. tf.gather's gradient needs the
// UnsortedSegmentSum kernel, which tfjs-backend-wasm lacks, so training the embeddings (the base model)
// would fail there; this lookup's gradient scatter-adds the output gradient's rows into the table's
// shape in plain JavaScript instead, (B·T·C) additions, and the forward value is tf.gather's.
import { tf, type Tensor, type Tensor2D } from './tf.ts';

/** table (V, C), ids int32 of any shape S → (…S, C). */
export function embeddingLookup(table: Tensor2D, ids: Tensor): Tensor {
  // customGrad passes the inputs, then the save function, as one variadic list.
  const lookup = tf.customGrad(((t: Tensor, i: Tensor, save: (ts: Tensor[]) => void) => {
    save([i]);
    return {
      value: tf.gather(t, i),
      gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
        const [V, C] = t.shape as [number, number];
        const rows = saved[0]!.dataSync();
        const g = (Array.isArray(dy) ? dy[0]! : dy).dataSync();
        const out = new Float32Array(V * C);
        for (let n = 0; n < rows.length; n++) {
          const src = n * C;
          const dst = rows[n]! * C;
          for (let c = 0; c < C; c++) out[dst + c]! += g[src + c]!;
        }
        return [tf.tensor2d(out, [V, C]), tf.zerosLike(saved[0]!)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return lookup(table, ids);
}
