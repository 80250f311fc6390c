// Slice and SplitV for tfjs's wasm backend that read their input in place, installed over the backend's own.
//
// The backend's kernels start by reading the whole input out of the wasm heap (`readSync`, a copy into a
// new buffer) whatever the part they keep, and that copy runs at a few hundred MB/s: taking half the rows
// of a 645 KB KV cache cost 2.4 ms, splitting a prefill's fused q/k/v projection ~2.7 ms per part
// (measured on 2 cores; bench/serving/README.md). These copy only the
// kept elements, in runs as long as the slice's layout allows, from a view of the heap. Same results;
// nothing changes for other backends.
import { tf } from './tf.ts';
import type { KernelFunc as WasmKernelFunc, TensorInfo, WasmBackend } from './wasmBackend.ts';

type KernelFunc = WasmKernelFunc<TensorInfo | TensorInfo[]>;

/** Copies x[begin : begin + size] (sizes resolved) into a new tensor, one `set` per contiguous run. */
function sliceInPlace(backend: WasmBackend, x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  const total = size.reduce((a, b) => a * b, 1);
  if (total === 0) return out;
  // Views after makeOutput: growing the heap would detach earlier ones.
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const rank = x.shape.length;
  const strides = tf.util.computeStrides(x.shape); // (rank − 1 entries; the last axis has stride 1)
  const stride = (axis: number) => (axis === rank - 1 ? 1 : strides[axis]!);
  // The innermost axes taken whole join the run; the first partial axis (from the end) bounds it.
  let inner = rank - 1;
  while (inner > 0 && begin[inner] === 0 && size[inner] === x.shape[inner]) inner -= 1;
  const run = size[inner]! * stride(inner);
  const outer = size.slice(0, inner);
  const index = new Array<number>(inner).fill(0);
  let written = 0;
  for (;;) {
    let from = begin[inner]! * stride(inner);
    for (let a = 0; a < inner; a++) from += (begin[a]! + index[a]!) * stride(a);
    dst.set(src.subarray(from, from + run), written);
    written += run;
    // Next outer index, last axis fastest.
    let a = inner - 1;
    for (; a >= 0; a--) {
      index[a] = index[a]! + 1;
      if (index[a] !== outer[a]) break;
      index[a] = 0;
    }
    if (a < 0) break;
  }
  return out;
}

let installed = false;

/** Replaces the wasm backend's Slice and SplitV with in-place readers (idempotent). Call after the backend is ready. */
export function installWasmSlice(): void {
  if (installed) return;
  const slice = tf.getKernel('Slice', 'wasm');
  const split = tf.getKernel('SplitV', 'wasm');
  if (!slice || !split) return; // wasm backend not registered
  const sliceOriginal = slice.kernelFunc as unknown as KernelFunc;
  const splitOriginal = split.kernelFunc as unknown as KernelFunc;

  const sliceFunc: KernelFunc = (args) => {
    const x = args.inputs.x!;
    if (x.dtype === 'string') return sliceOriginal(args);
    const [begin, size] = tf.slice_util.parseSliceParams(x as unknown as tf.TensorInfo, args.attrs.begin as number[], args.attrs.size as number[]) as [number[], number[]];
    return sliceInPlace(args.backend, x, begin, size);
  };
  const splitFunc: KernelFunc = (args) => {
    const x = args.inputs.x!;
    if (x.dtype === 'string') return splitOriginal(args);
    const axis = tf.util.parseAxisParam(args.attrs.axis as number, x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, args.attrs.numOrSizeSplits as number[] | number, axis);
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((s) => {
      const size = [...x.shape];
      size[axis] = s;
      const part = sliceInPlace(args.backend, x, [...begin], size);
      begin[axis]! += s;
      return part;
    });
  };

  for (const [name, kernel, func] of [
    ['Slice', slice, sliceFunc],
    ['SplitV', split, splitFunc],
  ] as const) {
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ ...kernel, kernelFunc: func as unknown as tf.KernelFunc });
  }
  installed = true;
}
