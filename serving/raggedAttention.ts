// Causal self-attention over a ragged batch as one kernel per layer, for serving (raggedForward.ts).
//
// A serving pass mixes sequences that continue (a cached past, one new token) with sequences that start
// (a whole prompt, no past); their new positions are flattened, one row each, with no padding. Per layer
// this kernel takes the fused q/k/v projection of those rows and the batch's KV cache, and produces
//   - the attention output of every row, (N, C), heads side by side as the output projection takes them:
//     row n of sequence b at position p attends to b's positions 0 … p (its past, then its new rows);
//   - the new KV cache, (B, H, S', D) for keys and for values: every sequence's past (from its row of the
//     old cache; rows of sequences that have left are skipped) followed by its new positions,
//     right-aligned (row b's real positions are its last past_b + count_b, zeros before them), S' the
//     longest sequence. This is the form kvCache.ts keeps and gpt2.ts's `past` takes (align 'end').
// With tf ops that is a split, three reshapes and transposes, two concats, a mask and seven attention ops
// a layer, and at serving's shapes (one query per row, 3 heads of 32) the batched matmuls run one tiny
// product per row and head. Registered for the wasm backend only, over the wasm heap in place: dot
// products and weighted sums in wasmSimd.ts's f32x4 loops where the head width is a multiple of 4, else
// in plain JavaScript. The engine keeps the tf ops path (gpt2.ts's forward) on other backends. Forward only.
import { tf, type Tensor2D, type Tensor4D } from './tf.ts';
import type { KernelArgs, TensorInfo } from './wasmBackend.ts';
import { wasmSimd } from './wasmSimd.ts';

export const RAGGED_ATTENTION = 'TributaryRaggedAttention';

/**
 * The batch's layout: sequence b's new rows are starts[b] … starts[b + 1] − 1, after past[b] positions held
 * in row from[b] of the cache (−1, with past[b] = 0, for a sequence that starts). Cache rows that no
 * sequence comes from (sequences that have left) are skipped.
 */
export interface RaggedLayout {
  /** B + 1 entries, from 0 to N. */
  starts: Int32Array;
  /** B entries. */
  past: Int32Array;
  /** B entries. */
  from: Int32Array;
}

/** Whether the current backend computes raggedAttention as one kernel. */
export function hasRaggedAttention(): boolean {
  return tf.getKernel(RAGGED_ATTENTION, tf.getBackend()) !== undefined;
}

/**
 * qkv (N, 3C) of the batch's new rows; the cache's keys and values (Bc, H, S, D), right-aligned (none when
 * no sequence has a past) → the rows' attention output (N, C) and the new cache's keys and values
 * (B, H, S', D). Needs the kernel (`hasRaggedAttention()`).
 */
export function raggedAttention(qkv: Tensor2D, cache: { k: Tensor4D; v: Tensor4D } | undefined, layout: RaggedLayout, heads: number): { out: Tensor2D; k: Tensor4D; v: Tensor4D } {
  const { starts, past, from } = layout;
  const B = past.length;
  const [N, C3] = qkv.shape;
  if (starts.length !== B + 1 || from.length !== B || starts[0] !== 0 || starts[B] !== N) throw new Error(`raggedAttention: starts [${Array.from(starts).join(', ')}] do not split ${N} rows into ${B} sequences`);
  if (C3 % (3 * heads) !== 0) throw new Error(`raggedAttention: qkv has ${C3} columns, not 3 × ${heads} heads`);
  const D = C3 / 3 / heads;
  const Bc = cache?.k.shape[0] ?? 0;
  const S = cache?.k.shape[2] ?? 0;
  let width = 0;
  for (let b = 0; b < B; b++) {
    const count = starts[b + 1]! - starts[b]!;
    if (count <= 0) throw new Error(`raggedAttention: sequence ${b} has no new rows`);
    const row = from[b]!;
    if (!(row >= -1 && row < Bc) || past[b]! < 0 || past[b]! > (row >= 0 ? S : 0)) {
      throw new Error(`raggedAttention: sequence ${b} has ${past[b]} past positions in cache row ${row}, of ${Bc} rows of ${S} positions`);
    }
    width = Math.max(width, past[b]! + count);
  }
  if (cache) {
    const want = [Bc, heads, S, D];
    for (const t of [cache.k, cache.v]) {
      if (t.shape.some((d, i) => d !== want[i])) throw new Error(`raggedAttention: the cache is [${t.shape.join(', ')}], expected [${want.join(', ')}]`);
    }
  }
  const inputs = cache ? { qkv, k: cache.k, v: cache.v } : { qkv };
  const [out, k, v] = tf.engine().runKernel(RAGGED_ATTENTION, inputs as unknown as tf.NamedTensorMap, { starts, past, from, heads, width } as unknown as tf.NamedAttrMap) as [Tensor2D, Tensor4D, Tensor4D];
  return { out, k, v };
}

function raggedAttentionWasm({ inputs, backend, attrs }: KernelArgs): TensorInfo[] {
  const { qkv, k: pastK, v: pastV } = inputs as Record<'qkv' | 'k' | 'v', TensorInfo | undefined> & { qkv: TensorInfo };
  const starts = attrs.starts as Int32Array;
  const past = attrs.past as Int32Array;
  const from = attrs.from as Int32Array;
  const H = attrs.heads as number;
  const W = attrs.width as number; // S'
  const B = past.length;
  const [N, C3] = qkv.shape as [number, number];
  const C = C3 / 3;
  const D = C / H;
  const S = pastK?.shape[2] ?? 0;
  const out = backend.makeOutput([N, C], 'float32');
  const newK = backend.makeOutput([B, H, W, D], 'float32');
  const newV = backend.makeOutput([B, H, W, D], 'float32');
  const simd = D % 4 === 0 ? wasmSimd(backend.wasm.asm?.memory) : undefined;
  const scratch = simd ? backend.wasm._malloc(4 * W) : 0; // one query's weights, for the SIMD loops
  // One view of the whole heap, made after the allocations (growing the heap detaches earlier views);
  // tensors are offsets in it.
  const h = new Float32Array(backend.wasm.HEAPU8.buffer);
  const at = (t: TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset / 4;
  const q0 = at(qkv);
  const [y0, k0, v0] = [at(out), at(newK), at(newV)];
  const [pk0, pv0] = pastK && pastV ? [at(pastK), at(pastV)] : [0, 0];
  const scale = 1 / Math.sqrt(D);
  const p = new Float64Array(W); // one query's weights over its keys
  for (let b = 0; b < B; b++) {
    const count = starts[b + 1]! - starts[b]!;
    const seen = past[b]!;
    const pad = W - seen - count; // zero columns before the sequence's real ones
    for (let hd = 0; hd < H; hd++) {
      const kb = k0 + (b * H + hd) * W * D;
      const vb = v0 + (b * H + hd) * W * D;
      // The new cache row: zeros, the past's real columns (the last `seen` of the old S), the new positions.
      h.fill(0, kb, kb + pad * D);
      h.fill(0, vb, vb + pad * D);
      if (seen > 0) {
        const src = ((from[b]! * H + hd) * S + (S - seen)) * D;
        h.copyWithin(kb + pad * D, pk0 + src, pk0 + src + seen * D);
        h.copyWithin(vb + pad * D, pv0 + src, pv0 + src + seen * D);
      }
      for (let t = 0; t < count; t++) {
        const row = q0 + (starts[b]! + t) * C3 + hd * D;
        const to = (pad + seen + t) * D;
        h.copyWithin(kb + to, row + C, row + C + D);
        h.copyWithin(vb + to, row + 2 * C, row + 2 * C + D);
      }
      // Each new position attends to the sequence's positions up to itself.
      const first = kb + pad * D; // the sequence's first key
      const firstV = vb + pad * D;
      for (let t = 0; t < count; t++) {
        const qo = q0 + (starts[b]! + t) * C3 + hd * D;
        const L = seen + t + 1;
        const yo = y0 + (starts[b]! + t) * C + hd * D;
        if (simd) {
          // Scores and weighted values in f32x4; the softmax's exponentials here.
          const ps = scratch / 4;
          simd.scores(4 * qo, 4 * first, L, D, scale, scratch);
          let max = -Infinity;
          for (let j = ps; j < ps + L; j++) if (h[j]! > max) max = h[j]!;
          let sum = 0;
          for (let j = ps; j < ps + L; j++) {
            const w = Math.exp(h[j]! - max);
            h[j] = w;
            sum += w;
          }
          simd.weighted(scratch, 4 * firstV, L, D, 1 / sum, 4 * yo);
          continue;
        }
        let max = -Infinity;
        for (let j = 0, ko = first; j < L; j++, ko += D) {
          // Eight lanes of the dot product in local accumulators, which V8 keeps in registers.
          let s0 = 0;
          let s1 = 0;
          let s2 = 0;
          let s3 = 0;
          let d = 0;
          for (; d + 8 <= D; d += 8) {
            s0 += h[qo + d]! * h[ko + d]! + h[qo + d + 4]! * h[ko + d + 4]!;
            s1 += h[qo + d + 1]! * h[ko + d + 1]! + h[qo + d + 5]! * h[ko + d + 5]!;
            s2 += h[qo + d + 2]! * h[ko + d + 2]! + h[qo + d + 6]! * h[ko + d + 6]!;
            s3 += h[qo + d + 3]! * h[ko + d + 3]! + h[qo + d + 7]! * h[ko + d + 7]!;
          }
          for (; d < D; d++) s0 += h[qo + d]! * h[ko + d]!;
          const s = (s0 + s1 + s2 + s3) * scale;
          p[j] = s;
          if (s > max) max = s;
        }
        let sum = 0;
        for (let j = 0; j < L; j++) {
          const w = Math.exp(p[j]! - max);
          p[j] = w;
          sum += w;
        }
        const inv = 1 / sum;
        let d = 0;
        for (; d + 4 <= D; d += 4) {
          let a0 = 0;
          let a1 = 0;
          let a2 = 0;
          let a3 = 0;
          for (let j = 0, o = firstV + d; j < L; j++, o += D) {
            const w = p[j]!;
            a0 += w * h[o]!;
            a1 += w * h[o + 1]!;
            a2 += w * h[o + 2]!;
            a3 += w * h[o + 3]!;
          }
          h[yo + d] = a0 * inv;
          h[yo + d + 1] = a1 * inv;
          h[yo + d + 2] = a2 * inv;
          h[yo + d + 3] = a3 * inv;
        }
        for (; d < D; d++) {
          let a = 0;
          for (let j = 0, o = firstV + d; j < L; j++, o += D) a += p[j]! * h[o]!;
          h[yo + d] = a * inv;
        }
      }
    }
  }
  if (simd) backend.wasm._free(scratch);
  return [out, newK, newV];
}

let installed = false;

/** Registers the kernel for the wasm backend (idempotent). */
export function installWasmRaggedAttention(): void {
  if (installed) return;
  tf.registerKernel({ kernelName: RAGGED_ATTENTION, backendName: 'wasm', kernelFunc: raggedAttentionWasm as unknown as tf.KernelFunc });
  installed = true;
}
