// A faster BatchMatMul for tfjs's wasm backend, installed over the backend's own kernel.
//
// Measured on 2 cores (bench/serving/matmul.ts prints the ratios): the wasm kernel runs a plain
// [M, K]·[K, N] product at 15–35 GFLOP/s while its output fits in cache, but
// - with transposeA or transposeB it drops to 0.5–1 GFLOP/s (every gradient of a matmul is one of
//   those: dW = xᵀ·dy, dx = dy·Wᵀ, and the tied output projection is x·wteᵀ), and
// - with a large output (M·N beyond ~64k floats, e.g. 1024 positions × a 4k vocabulary) it drops to
//   a third.
// So this wrapper transposes explicitly (a memory copy, cheap next to the product) and then computes
// the product in bands of rows whose output stays small, concatenating the bands. Same numbers, same
// kernel underneath; nothing changes for other backends.
import { tf } from './tf.ts';

type TensorInfo = { dataId: object; shape: number[]; dtype: string };
type KernelArgs = { inputs: Record<string, TensorInfo>; backend: { disposeData(id: object): void }; attrs: Record<string, unknown> };
type KernelFunc = (args: KernelArgs) => TensorInfo;

/** Output elements a band may have; beyond this the wasm kernel slows down. */
const BAND_OUTPUT = 1 << 16;

let installed = false;

/** Replaces the wasm backend's BatchMatMul with the wrapper (idempotent). Call after the backend is ready. */
export function installWasmMatMul(): void {
  if (installed) return;
  const original = tf.getKernel('BatchMatMul', 'wasm');
  const transposeK = tf.getKernel('Transpose', 'wasm');
  const sliceK = tf.getKernel('Slice', 'wasm');
  const concatK = tf.getKernel('Concat', 'wasm');
  if (!original || !transposeK || !sliceK || !concatK) return; // wasm backend not registered: nothing to speed up
  const matmul = original.kernelFunc as unknown as KernelFunc;
  const transpose = transposeK.kernelFunc as unknown as KernelFunc;
  const slice = sliceK.kernelFunc as unknown as KernelFunc;
  const concat = concatK.kernelFunc as unknown as KernelFunc;

  const kernelFunc: KernelFunc = (args) => {
    const { backend } = args;
    let { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const temps: TensorInfo[] = [];
    const swapLast = (t: TensorInfo): TensorInfo => {
      const r = t.shape.length;
      const perm = [...Array(r).keys()];
      [perm[r - 1], perm[r - 2]] = [r - 2, r - 1];
      const out = transpose({ inputs: { x: t }, backend, attrs: { perm } });
      temps.push(out);
      return out;
    };
    if (args.attrs.transposeA) a = swapLast(a);
    if (args.attrs.transposeB) b = swapLast(b);
    const attrs = { ...args.attrs, transposeA: false, transposeB: false };
    const rank = a.shape.length;
    const M = a.shape[rank - 2]!;
    const N = b.shape[b.shape.length - 1]!;
    const batch = [...a.shape.slice(0, -2), ...b.shape.slice(0, -2)].reduce((x, y) => x * y, 1);
    const rows = Math.max(8, Math.floor(BAND_OUTPUT / Math.max(1, N)));
    let out: TensorInfo;
    if (batch !== 1 || M <= rows) {
      out = matmul({ inputs: { a, b }, backend, attrs });
    } else {
      const bands: TensorInfo[] = [];
      for (let m = 0; m < M; m += rows) {
        const begin = new Array<number>(rank).fill(0);
        const size = [...a.shape];
        begin[rank - 2] = m;
        size[rank - 2] = Math.min(rows, M - m);
        const part = slice({ inputs: { x: a }, backend, attrs: { begin, size } });
        bands.push(matmul({ inputs: { a: part, b }, backend, attrs }));
        backend.disposeData(part.dataId);
      }
      // Concat takes its inputs as a list.
      out = concat({ inputs: bands as unknown as Record<string, TensorInfo>, backend, attrs: { axis: rank - 2 } });
      for (const t of bands) backend.disposeData(t.dataId);
    }
    for (const t of temps) backend.disposeData(t.dataId);
    return out;
  };

  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ ...original, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  installed = true;
}
