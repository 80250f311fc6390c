// A batched KV cache: the keys and values of every running sequence of a batch, per layer one tensor
// (B, H, S, D), in the right-aligned form gpt2.ts's `past` takes with align 'end' (row b's real positions
// are the last lengths[b] of the S, padding before them).
//
// Why this form: a decode pass appends one position to every row, and forward's `extended` (the past with
// the new keys appended, which attention builds anyway) is then already the next step's cache, so a
// step whose rows do not change costs no op at all here. (Keeping a cache per sequence instead meant
// padding and stacking every row's cache into a batch, then splitting and appending per row and layer at
// every step: 13–21% of a decode step.) The cache changes only when rows leave (a slice per run of kept
// rows, and a concat, done when the cache is next used) or join (their prefill's keys, right-aligned by
// left-padding the prompts, padded to a common S and concatenated). A ragged pass (raggedForward.ts)
// writes a whole new cache instead, from the held one: rows that left are skipped in that copy, so they
// cost nothing.
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
  /**
   * Rows leave (rows not in the batch are ignored). Their positions stay held until the cache is next
   * used: `past()` and `join` drop them first, a ragged pass (`held`, `reset`) skips them in its copy.
   */
  drop(leaving: ReadonlySet<R>): void;
  /**
   * The cache as it is held, for a ragged pass: per layer (Bh, H, S, D), right-aligned, rows that left
   * still in it, and `slots[i]`, the held row of rows[i]. Undefined when it has no positions yet. Owned by the cache.
   */
  held(): { k: readonly Tensor4D[]; v: readonly Tensor4D[]; slots: readonly number[] } | undefined;
  /**
   * Takes a ragged pass's new cache (raggedForward.ts: every row's past and new positions, right-aligned)
   * for `rows`, in that pass's order, with their real lengths. Takes ownership of `cache`; disposes the old one.
   */
  reset(rows: readonly R[], cache: { k: Tensor4D[]; v: Tensor4D[] }, lengths: readonly number[]): void;
  /** Positions held, padding included (B × S), once the rows that left are dropped (it drops them). */
  paddedPositions(): number;
  dispose(): void;
}

export function createKvBatch<R>(): KvBatch<R> {
  let rows: R[] = [];
  let lengths: number[] = [];
  // The held row of each row: 0, 1, … but after a drop, until the cache is compacted or replaced.
  let slots: number[] = [];
  let k: Tensor4D[] = [];
  let v: Tensor4D[] = [];
  const S = () => k[0]?.shape[2] ?? 0;
  const held = () => k[0]?.shape[0] ?? 0;
  const replace = (nk: Tensor4D[], nv: Tensor4D[]) => {
    for (const t of [...k, ...v]) if (!nk.includes(t as Tensor4D) && !nv.includes(t as Tensor4D)) t.dispose();
    k = nk;
    v = nv;
  };

  /** Drops the held rows that left: a slice per run of kept rows (contiguous unless trimming), then one concat. */
  const compact = () => {
    if (rows.length === 0 || held() === rows.length) return;
    const longest = Math.max(...lengths);
    const trim = S() - longest >= TRIM_SLACK ? S() - longest : 0;
    const runs: [number, number][] = [];
    for (const i of slots) {
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
    slots = rows.map((_, i) => i);
  };

  return {
    get rows() {
      return rows;
    },
    get lengths() {
      return lengths;
    },

    past() {
      compact();
      return rows.length > 0 && S() > 0 ? { k, v, lengths, align: 'end' } : undefined;
    },

    held() {
      return rows.length > 0 && S() > 0 ? { k, v, slots } : undefined;
    },

    advance(extended, count) {
      if (extended.k.length === 0 || extended.k[0]!.shape[0] !== rows.length || held() !== rows.length) {
        throw new Error(`KvBatch.advance: the pass had ${extended.k[0]?.shape[0] ?? 0} rows, the cache ${rows.length}`);
      }
      replace(extended.k, extended.v);
      lengths = lengths.map((n) => n + count);
    },

    join(joining, present, joinLengths) {
      compact();
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
      slots = rows.map((_, i) => i);
    },

    drop(leaving) {
      const keep: number[] = [];
      rows.forEach((r, i) => {
        if (!leaving.has(r)) keep.push(i);
      });
      if (keep.length === rows.length) return;
      rows = keep.map((i) => rows[i]!);
      lengths = keep.map((i) => lengths[i]!);
      slots = keep.map((i) => slots[i]!);
      if (rows.length === 0) replace([], []);
    },

    reset(next, cache, nextLengths) {
      if (cache.k.length === 0 || cache.k[0]!.shape[0] !== next.length || nextLengths.length !== next.length) {
        throw new Error(`KvBatch.reset: ${next.length} rows, ${nextLengths.length} lengths, a cache of ${cache.k[0]?.shape[0] ?? 0}`);
      }
      replace(cache.k, cache.v);
      rows = [...next];
      lengths = [...nextLengths];
      slots = rows.map((_, i) => i);
    },

    paddedPositions() {
      compact();
      return held() * S();
    },

    dispose() {
      replace([], []);
      rows = [];
      lengths = [];
      slots = [];
    },
  };
}
