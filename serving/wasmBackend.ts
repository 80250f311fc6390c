// The parts of tfjs-wasm's backend that serving's own wasm kernels use (raggedAttention, segmentedLora,
// wasmGather, wasmSlice, wasmMatMul, wasmOverwrite), declared once. tfjs's BackendWasm class type does not
// declare the emscripten module's `asm.memory`, which wasmSimd.ts needs to share the heap, so this states
// only what the kernels touch.
import { tf } from './tf.ts';

/** A tensor as a kernel sees it: its data's key, shape and dtype. */
export type TensorInfo = { dataId: object; shape: number[]; dtype: string };

export interface WasmBackend {
  /** A new output tensor, its memory allocated on the wasm heap. */
  makeOutput(shape: number[], dtype: string): TensorInfo;
  /** A view of t's data on the heap (detached if the heap grows). */
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object): void;
  wasm: {
    HEAPU8: Uint8Array;
    asm?: { memory?: unknown };
    _malloc(bytes: number): number;
    _free(at: number): void;
    /** The C++ side's record of a tensor (its id, size in elements and memory), and its removal. */
    tfjs: { registerTensor(id: number, size: number, memoryOffset: number): void; disposeData(id: number): void };
  };
  /** Each tensor's id on the C++ side and where its data sits on the heap, in bytes; undefined once disposed. */
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number } | undefined };
}

export type KernelArgs = { inputs: Record<string, TensorInfo>; backend: WasmBackend; attrs: Record<string, unknown> };
export type KernelFunc<Out = TensorInfo> = (args: KernelArgs) => Out;

/** The running backend, seen as wasm's: only call where `tf.getBackend() === 'wasm'`. */
export function wasmBackend(): WasmBackend {
  return tf.backend() as unknown as WasmBackend;
}
