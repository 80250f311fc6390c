// Chooses the tensor backend. The model code is backend-agnostic; this is the only place that knows
// which backends exist and how each is set up:
// - `wasm` (default): SIMD WebAssembly, single-threaded in Node, no native install. Its .wasm files are
//   read from the package's dist folder, and a failed setup is an error here, since tfjs would otherwise
//   fall back to the (30× slower) cpu backend without saying so. Its matmul gets wasmMatMul.ts's wrapper.
// - `webgpu`: Dawn through the `webgpu` package, where the machine has a GPU adapter.
// - `tensorflow`: libtensorflow through @tensorflow/tfjs-node(-gpu), where that can be installed (not
//   a dependency: it downloads libtensorflow at install).
// - `cpu`: plain JavaScript, for debugging.
import { createRequire } from 'node:module';
import path from 'node:path';
import { TributaryError } from '../contracts/index.ts';
import { tf } from './tf.ts';
import { installWasmMatMul } from './wasmMatMul.ts';

export const TENSOR_BACKENDS = ['wasm', 'webgpu', 'tensorflow', 'cpu'] as const;
export type TensorBackend = (typeof TENSOR_BACKENDS)[number];

export class TensorBackendError extends TributaryError {
  override name = 'TensorBackendError';
}

const require = createRequire(import.meta.url);

/** Sets the tfjs backend (idempotent) and answers its name. */
export async function useTensorBackend(name: TensorBackend = 'wasm'): Promise<TensorBackend> {
  if (tf.getBackend() === name) return name;
  switch (name) {
    case 'wasm': {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      const dist = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
      wasm.setWasmPaths(`${dist}/`);
      break;
    }
    case 'webgpu': {
      let gpu: unknown;
      try {
        const webgpu = (await import('webgpu')) as unknown as { create(flags: string[]): unknown; globals: object };
        Object.assign(globalThis, webgpu.globals);
        gpu = webgpu.create([]);
      } catch (cause) {
        throw new TensorBackendError('the webgpu backend could not load Dawn (the `webgpu` package)', { cause, details: 'use TENSOR_BACKEND=wasm on machines without a GPU' });
      }
      // tfjs-backend-webgpu looks for navigator.gpu when it registers, so this comes before the import.
      const nav = (globalThis as { navigator?: object }).navigator;
      Object.defineProperty(globalThis, 'navigator', { value: { ...nav, gpu }, configurable: true, writable: true });
      await import('@tensorflow/tfjs-backend-webgpu');
      break;
    }
    case 'tensorflow': {
      try {
        const mod = '@tensorflow/tfjs-node-gpu';
        await import(mod).catch(() => import('@tensorflow/tfjs-node' as string));
      } catch (cause) {
        throw new TensorBackendError('the tensorflow backend needs @tensorflow/tfjs-node or @tensorflow/tfjs-node-gpu, which are not installed', {
          cause,
          details: 'they download libtensorflow when installed; install one on a host that allows it, or use TENSOR_BACKEND=wasm',
        });
      }
      break;
    }
    case 'cpu':
      break;
    default:
      throw new TensorBackendError(`unknown tensor backend ${JSON.stringify(name)}`, { details: `one of ${TENSOR_BACKENDS.join(', ')}` });
  }
  const ok = await tf.setBackend(name);
  if (!ok || tf.getBackend() !== name) {
    // setBackend answers false when the backend's factory failed (webgpu: no GPU adapter, e.g. no Vulkan driver).
    const why = !ok && name === 'webgpu' ? 'no GPU adapter was found (Dawn needs a Vulkan driver and a GPU)' : `tfjs answered ${ok ? `but is on ${tf.getBackend()}` : 'that it could not set it'}`;
    throw new TensorBackendError(`the ${name} tensor backend failed to initialise`, { details: `${why}; TENSOR_BACKEND=wasm runs everywhere` });
  }
  await tf.ready();
  if (name === 'wasm') installWasmMatMul();
  return name;
}
