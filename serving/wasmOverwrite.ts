// Writing new values into a tensor where it already sits, on tfjs's wasm backend: one copy into its
// memory, where a new tensor costs an allocation in the wasm heap, tfjs's bookkeeping and, when the old
// one is freed, a free (the adapter cache reuses an evicted adapter's tensors for the next upload).
// Other backends keep their data out of reach (the GPU, tfjs-node's native memory): there it answers
// false and the caller makes new tensors.
//
// tfjs-wasm's matmul keeps XNNPACK operators with the right operand's values packed inside, cached by
// that tensor's id until it is disposed: a tensor rewritten in place would still multiply as its old
// values (measured). So the rewrite also re-registers the tensor with the backend's C++ side (same id,
// same memory), which drops those operators.
import { tf, type Tensor } from './tf.ts';
import { wasmBackend } from './wasmBackend.ts';

/** Whether overwriteInPlace can work on the current backend. */
export function canOverwriteInPlace(): boolean {
  return tf.getBackend() === 'wasm';
}

/**
 * t's values ← `values` (same length), in place. False, changing nothing, where the backend does not allow
 * it or t is not a live float32 tensor of that size. Whoever holds t sees the new values, kernels that
 * cached what they made of the old ones included: the caller must own it.
 */
export function overwriteInPlace(t: Tensor, values: Float32Array): boolean {
  if (!canOverwriteInPlace() || t.isDisposed || t.dtype !== 'float32' || t.size !== values.length) return false;
  const backend = wasmBackend();
  const info = backend.dataIdMap.get(t.dataId);
  if (!info) return false;
  // The view typedArrayFromHeap would make, from the entry already looked up (one lookup, not two).
  new Float32Array(backend.wasm.HEAPU8.buffer, info.memoryOffset, values.length).set(values);
  backend.wasm.tfjs.disposeData(info.id);
  backend.wasm.tfjs.registerTensor(info.id, values.length, info.memoryOffset);
  return true;
}
