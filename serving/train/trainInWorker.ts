// Runs a training job (trainJob.ts) in a worker thread, so the process that asked (a running `up`, which
// also serves inferences and answers HTTP) keeps its event loop while the tensors train. The worker
// loads its own tensor backend and base model; what comes back is the same plain data runTrainJob
// answers on the caller's thread, bit for bit (same code, same backend, same seed).
//
// One worker per job, ended when the job ends. The caller's AbortSignal ends it at once (the partial run
// is discarded, as trainLora's own abort does); an error thrown in the worker comes back as the same
// error class where it is a training or model error, else as a TrainingError naming the original.
import { Worker } from 'node:worker_threads';
import type { TensorBackend } from '../backend.ts';
import { ModelConfigError } from '../modelConfig.ts';
import { LoraError } from '../lora.ts';
import { TrainingAbortedError, TrainingError } from './errors.ts';
import type { TrainJobInput, TrainJobOptions, TrainJobOutput, TrainWorkerMessage, TrainWorkerRequest } from './trainJob.ts';

const BOOTSTRAP = new URL('../tsWorker.mjs', import.meta.url);
const ENTRY = new URL('./trainWorker.ts', import.meta.url).href;

const KNOWN: Record<string, new (message: string, opts?: { details?: string }) => Error> = {
  TrainingError,
  TrainingAbortedError,
  ModelConfigError,
  LoraError,
};

function rebuild(e: { name: string; message: string; details?: string }): Error {
  const Known = KNOWN[e.name];
  if (Known) return new Known(e.message, e.details !== undefined ? { details: e.details } : {});
  return new TrainingError(`training failed in its worker thread: ${e.name}: ${e.message}`, e.details !== undefined ? { details: e.details } : {});
}

export interface TrainInWorkerOptions extends TrainJobOptions {
  /** The worker's tensor backend (default wasm). */
  backend?: TensorBackend;
}

export function trainInWorker(input: TrainJobInput, opts: TrainInWorkerOptions = {}): Promise<TrainJobOutput> {
  const { signal } = opts;
  if (signal?.aborted) return Promise.reject(new TrainingAbortedError('training was aborted before it started'));
  return new Promise<TrainJobOutput>((resolve, reject) => {
    const worker = new Worker(BOOTSTRAP, { workerData: { entry: ENTRY }, execArgv: [] });
    let settled = false;
    const finish = (f: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      f();
      void worker.terminate();
    };
    const onAbort = () => finish(() => reject(new TrainingAbortedError('training was aborted')));
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (m: TrainWorkerMessage) => {
      if (m.type === 'progress') {
        if (!settled) opts.onProgress?.(m.progress);
      } else if (m.type === 'done') finish(() => resolve(m.output));
      else finish(() => reject(rebuild(m.error)));
    });
    worker.on('error', (e) => finish(() => reject(new TrainingError(`the training worker thread failed: ${e.message}`, { cause: e }))));
    worker.on('exit', (code) => finish(() => reject(new TrainingError(`the training worker thread exited (code ${code}) before answering`))));
    const request: TrainWorkerRequest = { input, backend: opts.backend ?? 'wasm' };
    worker.postMessage(request);
  });
}
