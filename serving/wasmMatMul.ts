// A faster BatchMatMul for tfjs's wasm backend, installed over the backend's own kernel.
//
// Measured on 2 cores (bench/serving/matmul.ts prints the ratios): the wasm kernel runs a plain
// [M, K]·[K, N] product at 15–35 GFLOP/s, but with transposeA or transposeB it drops to 0.5–1 GFLOP/s
// (every gradient of a matmul is one of those: dW = xᵀ·dy, dx = dy·Wᵀ, and the tied output projection
// is x·wteᵀ). So this wrapper transposes explicitly (a memory copy, cheap next to the product) and runs
// the plain kernel: 3–8× faster on those products. (Cutting large outputs into bands of rows was tried
// too, and measured slower than the plain kernel: 0.2–0.8×.) Same numbers, same kernel underneath;
// nothing changes for other backends.
//
// Installing it also installs wasmSlice.ts's Slice and SplitV, wasmGather.ts's GatherV2, and serving's
// own kernels, segmentedLora.ts and raggedAttention.ts (backend.ts calls this one function for the wasm
// backend's kernels).
import { installWasmRaggedAttention } from './raggedAttention.ts';
import { installWasmSegmentedLora } from './segmentedLora.ts';
import { tf } from './tf.ts';
import { installWasmGather } from './wasmGather.ts';
import type { KernelFunc, TensorInfo } from './wasmBackend.ts';
import { installWasmSlice } from './wasmSlice.ts';

let installed = false;

/** Replaces the wasm backend's BatchMatMul with the wrapper (idempotent). Call after the backend is ready. */
export function installWasmMatMul(): void {
  installWasmSlice();
  installWasmGather();
  installWasmSegmentedLora();
  installWasmRaggedAttention();
  if (installed) return;
  const original = tf.getKernel('BatchMatMul', 'wasm');
  const transposeK = tf.getKernel('Transpose', 'wasm');
  if (!original || !transposeK) return; // wasm backend not registered: nothing to speed up
  const matmul = original.kernelFunc as unknown as KernelFunc;
  const transpose = transposeK.kernelFunc as unknown as KernelFunc;

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
    if (temps.length === 0) return matmul(args);
    const out = matmul({ inputs: { a, b }, backend, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
    for (const t of temps) backend.disposeData(t.dataId);
    return out;
  };

  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ ...original, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  installed = true;
}
