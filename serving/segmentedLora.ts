// Segmented LoRA as one kernel (Punica's BGMV, S-LoRA's gathered LoRA): for every row n of a batch,
// delta[n] = s_k · (x[n]·A_k)·B_k with k = rows[n] its adapter (no term when k = −1), reading each
// adapter's own A (in × r) and B (r × out) where they already are on the device. One op per module,
// whatever the number of distinct adapters; no stack to build or keep, no gather of weights.
//
// Registered for the wasm backend only, over the wasm heap in place (like wasmSlice.ts): each row in
// wasmSimd.ts's f32x4 loop where rank and width are multiples of 4, else in plain JavaScript. At
// serving's shapes (n_embd 96, rank 8, tens of rows) the multiply-adds are few, under a million per
// decode step, and what costs on wasm is the number of ops, each 5–10 µs of dispatch, plus the masked
// stack's r·k columns per row (loraStack.ts). Other backends do not have the kernel: callers check
// `hasSegmentedLora()` and use tf ops there. Forward only (serving needs no gradient).
import { tf, type Tensor2D } from './tf.ts';
import { wasmBackend, type KernelArgs, type TensorInfo } from './wasmBackend.ts';
import { wasmSimd } from './wasmSimd.ts';

export const SEGMENTED_LORA = 'TributarySegmentedLora';

/** One adapter's weights for one module: a = Aᵀ (in, r), b = Bᵀ (r, out), and its scale (alpha / r). */
export interface LoraPiece {
  a: Tensor2D;
  b: Tensor2D;
  scale: number;
  /**
   * Where the kernel found A and B in the wasm heap (float offsets) and their shapes, kept by the first
   * call: a tensor's data stays where it is while the tensor lives, so later calls skip tfjs's lookups
   * (two a piece, and four shape reads; a pass over 28 adapters' 9 modules has 252 pieces). Measured on
   * a noisy machine: faster in 6 of 10 alternating pairs of runs, within the noise in the others.
   */
  heap?: PieceOnHeap;
}

interface PieceOnHeap {
  /** The tensors' data this was found for (a piece copied with another A or B is located again). */
  aData: object;
  bData: object;
  a: number;
  b: number;
  in: number;
  r: number;
  out: number;
}

/** Where the pieces sit in the wasm heap (float offsets), their ranks and scales: the kernel's attributes. */
interface PieceTable {
  a: Int32Array;
  b: Int32Array;
  ranks: Int32Array;
  scales: Float64Array;
}

/** Whether the current backend computes segmentedLora as one kernel. */
export function hasSegmentedLora(): boolean {
  return tf.getKernel(SEGMENTED_LORA, tf.getBackend()) !== undefined;
}

/**
 * delta (N, out): row n gets pieces[rows[n]]'s term, or zeros when rows[n] is −1. `x` is (N, in); every
 * piece maps in → out. Needs the kernel (`hasSegmentedLora()`).
 *
 * The pieces reach the kernel as heap offsets in its attributes, not as inputs: with 28 adapters on 9
 * modules, tfjs's handling of 57 inputs a call cost 85–94 µs a decode step against 54–66 µs this way
 * (measured, no rows computed). The caller keeps the pieces alive for the call, as it would for inputs
 * (the adapter cache pins a running sequence's adapter).
 */
export function segmentedLora(x: Tensor2D, pieces: readonly LoraPiece[], rows: Int32Array, out: number): Tensor2D {
  const [N, inW] = x.shape;
  if (rows.length !== N) throw new Error(`segmentedLora: ${rows.length} row indices for ${N} rows`);
  const backend = wasmBackend();
  const K = pieces.length;
  const table: PieceTable = { a: new Int32Array(K), b: new Int32Array(K), ranks: new Int32Array(K), scales: new Float64Array(K) };
  const offset = (t: Tensor2D, what: string, k: number): number => {
    const info = backend.dataIdMap.get(t.dataId);
    if (!info) throw new Error(`segmentedLora: piece ${k}'s ${what} is not on the wasm backend`);
    return info.memoryOffset / 4;
  };
  const locate = (p: LoraPiece, k: number): PieceOnHeap => {
    if (p.a.shape[1] !== p.b.shape[0]) throw new Error(`segmentedLora: piece ${k} is [${p.a.shape.join(', ')}]·[${p.b.shape.join(', ')}]: A's rank is not B's`);
    return { aData: p.a.dataId, bData: p.b.dataId, a: offset(p.a, 'A', k), b: offset(p.b, 'B', k), in: p.a.shape[0], r: p.a.shape[1], out: p.b.shape[1] };
  };
  for (let k = 0; k < K; k++) {
    const p = pieces[k]!;
    // Checked on every call: a freed tensor's memory may already hold something else.
    if (p.a.isDisposed || p.b.isDisposed) throw new Error(`segmentedLora: piece ${k}'s ${p.a.isDisposed ? 'A' : 'B'} is disposed`);
    let at = p.heap;
    if (at?.aData !== p.a.dataId || at.bData !== p.b.dataId) at = p.heap = locate(p, k);
    if (at.in !== inW || at.out !== out) throw new Error(`segmentedLora: piece ${k} is [${p.a.shape.join(', ')}]·[${p.b.shape.join(', ')}], the module maps ${inW} → ${out}`);
    table.a[k] = at.a;
    table.b[k] = at.b;
    table.ranks[k] = at.r;
    table.scales[k] = p.scale;
  }
  for (const k of rows) if (k < -1 || k >= K) throw new Error(`segmentedLora: row index ${k} is not in [-1, ${K})`);
  const attrs = { rows, table, outWidth: out };
  return tf.engine().runKernel(SEGMENTED_LORA, { x } as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as Tensor2D;
}

/**
 * heap[yo … yo + out) = scale · (heap[xo … xo + in)·A)·B, with A (in, r) at `ao` and B (r, out) at `bo`,
 * row-major, all offsets in floats of the one heap view. Eight (then four, then one) rank columns at a
 * time in local accumulators, which V8 keeps in registers (a loop over an array of accumulators ran at a
 * fifth of the speed).
 */
function rowTerm(h: Float32Array, xo: number, inW: number, ao: number, r: number, bo: number, out: number, scale: number, yo: number, t: Float64Array): void {
  let j = 0;
  for (; j + 8 <= r; j += 8) {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let s4 = 0;
    let s5 = 0;
    let s6 = 0;
    let s7 = 0;
    for (let i = 0, p = ao + j; i < inW; i++, p += r) {
      const xi = h[xo + i]!;
      s0 += xi * h[p]!;
      s1 += xi * h[p + 1]!;
      s2 += xi * h[p + 2]!;
      s3 += xi * h[p + 3]!;
      s4 += xi * h[p + 4]!;
      s5 += xi * h[p + 5]!;
      s6 += xi * h[p + 6]!;
      s7 += xi * h[p + 7]!;
    }
    t[j] = s0 * scale;
    t[j + 1] = s1 * scale;
    t[j + 2] = s2 * scale;
    t[j + 3] = s3 * scale;
    t[j + 4] = s4 * scale;
    t[j + 5] = s5 * scale;
    t[j + 6] = s6 * scale;
    t[j + 7] = s7 * scale;
  }
  for (; j < r; j++) {
    let s = 0;
    for (let i = 0, p = ao + j; i < inW; i++, p += r) s += h[xo + i]! * h[p]!;
    t[j] = s * scale;
  }
  h.fill(0, yo, yo + out);
  j = 0;
  for (; j + 8 <= r; j += 8) {
    const t0 = t[j]!;
    const t1 = t[j + 1]!;
    const t2 = t[j + 2]!;
    const t3 = t[j + 3]!;
    const t4 = t[j + 4]!;
    const t5 = t[j + 5]!;
    const t6 = t[j + 6]!;
    const t7 = t[j + 7]!;
    const b0 = bo + j * out;
    for (let o = 0, p = b0; o < out; o++, p++) {
      h[yo + o]! += t0 * h[p]! + t1 * h[p + out]! + t2 * h[p + 2 * out]! + t3 * h[p + 3 * out]! + t4 * h[p + 4 * out]! + t5 * h[p + 5 * out]! + t6 * h[p + 6 * out]! + t7 * h[p + 7 * out]!;
    }
  }
  for (; j + 4 <= r; j += 4) {
    const t0 = t[j]!;
    const t1 = t[j + 1]!;
    const t2 = t[j + 2]!;
    const t3 = t[j + 3]!;
    const b0 = bo + j * out;
    const b1 = b0 + out;
    const b2 = b1 + out;
    const b3 = b2 + out;
    for (let o = 0; o < out; o++) h[yo + o]! += t0 * h[b0 + o]! + t1 * h[b1 + o]! + t2 * h[b2 + o]! + t3 * h[b3 + o]!;
  }
  for (; j < r; j++) {
    const tj = t[j]!;
    const bj = bo + j * out;
    for (let o = 0; o < out; o++) h[yo + o]! += tj * h[bj + o]!;
  }
}

function segmentedLoraWasm({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const x = inputs.x!;
  const [N, inW] = x.shape as [number, number];
  const rows = attrs.rows as Int32Array;
  const { a, b, ranks, scales } = attrs.table as PieceTable;
  const out = attrs.outWidth as number;
  const result = backend.makeOutput([N, out], 'float32');
  const simd = out % 4 === 0 ? wasmSimd(backend.wasm.asm?.memory) : undefined;
  let maxRank = 1;
  for (const r of ranks) maxRank = Math.max(maxRank, r);
  const scratch = simd ? backend.wasm._malloc(4 * maxRank) : 0; // the SIMD rows' x·A
  // One view of the whole heap, made after the allocations (growing the heap detaches earlier views); tensors are offsets in it.
  const h = new Float32Array(backend.wasm.HEAPU8.buffer);
  const at = (t: TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset / 4;
  const t = new Float64Array(maxRank);
  const xo = at(x);
  const yo = at(result);
  for (let n = 0; n < N; n++) {
    const k = rows[n]!;
    if (k < 0) h.fill(0, yo + n * out, yo + (n + 1) * out);
    else if (simd && ranks[k]! % 4 === 0) simd.loraRow(4 * (xo + n * inW), inW, 4 * a[k]!, ranks[k]!, 4 * b[k]!, out, scales[k]!, 4 * (yo + n * out), scratch);
    else rowTerm(h, xo + n * inW, inW, a[k]!, ranks[k]!, b[k]!, out, scales[k]!, yo + n * out, t);
  }
  if (simd) backend.wasm._free(scratch);
  return result;
}

let installed = false;

/** Registers the kernel for the wasm backend (idempotent). Call after the backend is ready. */
export function installWasmSegmentedLora(): void {
  if (installed) return;
  tf.registerKernel({ kernelName: SEGMENTED_LORA, backendName: 'wasm', kernelFunc: segmentedLoraWasm as unknown as tf.KernelFunc });
  installed = true;
}
