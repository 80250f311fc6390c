// Per-sequence KV caches: each running sequence keeps, per layer, the keys and values of its positions
// so far, [H, length, D]. A decode step stacks the batch's caches into the padded (B, H, S, D) form that
// gpt2.ts's `past` takes, and appends each row's new keys and values afterwards. Rows of different
// lengths share the step; padding is masked out by the model.
import { tf, type Tensor3D, type Tensor4D } from './tf.ts';
import type { AttentionPast, ForwardResult } from './gpt2.ts';

export interface SequenceKv {
  /** Per layer, [H, length, D]. */
  k: Tensor3D[];
  v: Tensor3D[];
  length: number;
}

/** Bytes a cache of `length` positions takes (float32 keys and values, every layer). */
export function kvBytesPerPosition(nLayer: number, nEmbd: number): number {
  return 2 * nLayer * nEmbd * 4;
}

/** Stacks sequences' caches into one `past`, padding each to the longest. Sequences of length 0 are allowed. */
export function stackPast(seqs: readonly SequenceKv[], nLayer: number, nHead: number, headDim: number): AttentionPast {
  const S = Math.max(0, ...seqs.map((s) => s.length));
  const stackLayer = (pick: (s: SequenceKv) => Tensor3D | undefined): Tensor4D =>
    tf.tidy(() =>
      tf.stack(
        seqs.map((s) => {
          const t = pick(s) ?? tf.zeros([nHead, 0, headDim]);
          return s.length === S ? t : tf.pad(t, [[0, 0], [0, S - s.length], [0, 0]]);
        }),
      ) as Tensor4D,
    );
  const k: Tensor4D[] = [];
  const v: Tensor4D[] = [];
  for (let l = 0; l < nLayer; l++) {
    k.push(stackLayer((s) => s.k[l]));
    v.push(stackLayer((s) => s.v[l]));
  }
  return { k, v, lengths: seqs.map((s) => s.length) };
}

export function disposePast(past: AttentionPast): void {
  for (const t of past.k) t.dispose();
  for (const t of past.v) t.dispose();
}

/**
 * Appends a forward pass's new keys and values to each row's cache: row b gets its first `counts[b]` new
 * positions (the rest was right-padding). Answers new caches; the old caches and `present` are disposed.
 */
export function appendPresent(seqs: readonly SequenceKv[], present: NonNullable<ForwardResult['present']>, counts: readonly number[]): SequenceKv[] {
  const out: SequenceKv[] = seqs.map((s, b) => ({ k: [], v: [], length: s.length + counts[b]! }));
  for (let l = 0; l < present.k.length; l++) {
    const rowsK = tf.unstack(present.k[l]!) as Tensor3D[]; // B × (H, T, D)
    const rowsV = tf.unstack(present.v[l]!) as Tensor3D[];
    for (let b = 0; b < seqs.length; b++) {
      const n = counts[b]!;
      const grow = (old: Tensor3D | undefined, fresh: Tensor3D): Tensor3D =>
        tf.tidy(() => {
          const add = n === fresh.shape[1] ? fresh : tf.slice(fresh, [0, 0, 0], [-1, n, -1]);
          return old ? (tf.concat([old, add], 1) as Tensor3D) : (add.clone() as Tensor3D);
        });
      out[b]!.k.push(grow(seqs[b]!.k[l], rowsK[b]!));
      out[b]!.v.push(grow(seqs[b]!.v[l], rowsV[b]!));
    }
    for (const t of [...rowsK, ...rowsV]) t.dispose();
  }
  for (const s of seqs) disposeSequence(s);
  for (const t of [...present.k, ...present.v]) t.dispose();
  return out;
}

export function emptySequence(): SequenceKv {
  return { k: [], v: [], length: 0 };
}

export function disposeSequence(s: SequenceKv): void {
  for (const t of s.k) t.dispose();
  for (const t of s.v) t.dispose();
  s.k = [];
  s.v = [];
}
