// A batched KV cache: the keys and values of every running sequence of a batch, per layer one tensor
// (B, H, S, D), in the right-aligned form gpt2.ts's `past` takes with align 'end' (row b's real positions
// are the last lengths[b] of the S, padding before them).
//
// Why this form: a decode pass appends one position to every row, and forward's `extended` (the past with
// the new keys appended, which attention builds anyway) is then already the next step's cache, so a
// step whose rows do not change costs no op at all here. (Keeping a cache per sequence instead meant
// padding and stacking every row's cache into a batch, then splitting and appending per row and layer at
// every step: 13–21% of a decode step.) The cache changes only when rows leave (a slice per run of kept
// rows, and a concat) or join (their prefill's keys, right-aligned by left-padding the prompts, padded
// to a common S and concatenated).
//
// Padding: S is the longest row, or up to TRIM_SLACK more (trimming is a strided copy, done only when
// it frees that much). The memory is that of B × S positions, which the engine's budget, counted in
// real positions, does not see; the old per-step stacking allocated as much at every step.
import type { AttentionPast, ForwardResult } from './gpt2.ts';
import { tf, type Tensor4D } from './tf.ts';

/** Bytes a cache of `length` positions takes (float32 keys and values, every layer). */
export function kvBytesPerPosition(nLayer: number, nEmbd: number): number {
  return 2 * nLayer * nEmbd * 4;
}

/** Columns of padding the cache keeps rather than copying everything to drop them. */
const TRIM_SLACK = 16;

export interface KvBatch<R> {
  /** The rows, in the order of the cache's first axis (and of the forward passes that use it). */
  readonly rows: readonly R[];
  /** Each row's real positions. */
  readonly lengths: readonly number[];
  /** The cache as forward's `past` (align 'end'), or undefined when it has no positions yet. Owned by the cache. */
  past(): AttentionPast | undefined;
  /**
   * Takes a decode pass's `extended` (forward with this cache's `past()`, `extend: true`, every row `count`
   * real new tokens): the new cache. Disposes the old one.
   */
  advance(extended: NonNullable<ForwardResult['extended']>, count: number): void;
  /**
   * Rows join at the end: `present` of their prefill (prompts left-padded, so right-aligned), and each one's
   * real length. Takes ownership of `present`.
   */
  join(rows: readonly R[], present: NonNullable<ForwardResult['present']>, lengths: readonly number[]): void;
  /** Rows leave (rows not in the batch are ignored). */
  drop(leaving: ReadonlySet<R>): void;
  /** Positions held, padding included (B × S). */
  paddedPositions(): number;
  dispose(): void;
}

export function createKvBatch<R>(): KvBatch<R> {
  let rows: R[] = [];
  let lengths: number[] = [];
  let k: Tensor4D[] = [];
  let v: Tensor4D[] = [];
  const S = () => k[0]?.shape[2] ?? 0;
  const replace = (nk: Tensor4D[], nv: Tensor4D[]) => {
    for (const t of [...k, ...v]) if (!nk.includes(t as Tensor4D) && !nv.includes(t as Tensor4D)) t.dispose();
    k = nk;
    v = nv;
  };

  return {
    get rows() {
      return rows;
    },
    get lengths() {
      return lengths;
    },

    past() {
      return rows.length > 0 && S() > 0 ? { k, v, lengths, align: 'end' } : undefined;
    },

    advance(extended, count) {
      if (extended.k.length === 0 || extended.k[0]!.shape[0] !== rows.length) {
        throw new Error(`KvBatch.advance: the pass had ${extended.k[0]?.shape[0] ?? 0} rows, the cache ${rows.length}`);
      }
      replace(extended.k, extended.v);
      lengths = lengths.map((n) => n + count);
    },

    join(joining, present, joinLengths) {
      const T = present.k[0]!.shape[2];
      const target = Math.max(S(), T);
      // Pads a right-aligned cache on the left to `target` columns.
      const widen = (t: Tensor4D): Tensor4D => (t.shape[2] === target ? t : tf.pad(t, [[0, 0], [0, 0], [target - t.shape[2], 0], [0, 0]]));
      const merge = (old: Tensor4D[], fresh: Tensor4D[]): Tensor4D[] =>
        fresh.map((f, l) => (rows.length === 0 ? widen(f) : (tf.tidy(() => tf.concat([widen(old[l]!), widen(f)], 0)) as Tensor4D)));
      const nk = merge(k, present.k);
      const nv = merge(v, present.v);
      replace(nk, nv);
      for (const t of [...present.k, ...present.v]) if (!nk.includes(t) && !nv.includes(t)) t.dispose();
      rows = [...rows, ...joining];
      lengths = [...lengths, ...joinLengths];
    },

    drop(leaving) {
      const keep: number[] = [];
      rows.forEach((r, i) => {
        if (!leaving.has(r)) keep.push(i);
      });
      if (keep.length === rows.length) return;
      if (keep.length === 0) {
        replace([], []);
        rows = [];
        lengths = [];
        return;
      }
      const longest = Math.max(...keep.map((i) => lengths[i]!));
      const trim = S() - longest >= TRIM_SLACK ? S() - longest : 0;
      // Runs of consecutive kept rows: one slice each (contiguous unless trimming), then one concat.
      const runs: [number, number][] = [];
      for (const i of keep) {
        const last = runs.at(-1);
        if (last && last[0] + last[1] === i) last[1] += 1;
        else runs.push([i, 1]);
      }
      const cut = (t: Tensor4D): Tensor4D =>
        tf.tidy(() => {
          const parts = runs.map(([from, n]) => tf.slice(t, [from, 0, trim, 0], [n, -1, -1, -1]));
          return (parts.length === 1 ? parts[0]! : tf.concat(parts, 0)) as Tensor4D;
        });
      replace(k.map(cut), v.map(cut));
      rows = keep.map((i) => rows[i]!);
      lengths = keep.map((i) => lengths[i]!);
    },

    paddedPositions() {
      return rows.length * S();
    },

    dispose() {
      replace([], []);
      rows = [];
      lengths = [];
    },
  };
}
