// Runs a training job (trainJob.ts) in a worker thread (../workerJob.ts), so the process that asked (a
// running `up`, which also serves inferences and answers HTTP) keeps its event loop while the tensors
// train. The worker loads its own tensor backend and base model; what comes back is the same plain data
// runTrainJob answers on the caller's thread, bit for bit (same code, same backend, same seed).
//
// The caller's AbortSignal ends the worker at once (the partial run is discarded, as trainLora's own abort
// does); an error thrown in the worker comes back as the same error class where it is a training or
// model error, else as a TrainingError naming the original.
import type { TensorBackend } from '../backend.ts';
import { LoraError } from '../lora.ts';
import { ModelConfigError } from '../modelConfig.ts';
import { runWorkerJob, type WorkerJobError } from '../workerJob.ts';
import { TrainingAbortedError, TrainingError } from './errors.ts';
import type { TrainJobInput, TrainJobOptions, TrainJobOutput, TrainWorkerRequest } from './trainJob.ts';
import type { TrainProgress } from './trainLora.ts';

const ENTRY = new URL('./trainWorker.ts', import.meta.url);

const KNOWN: Record<string, new (message: string, opts?: { details?: string }) => Error> = {
  TrainingError,
  TrainingAbortedError,
  ModelConfigError,
  LoraError,
};

function rebuild(e: WorkerJobError): Error {
  const Known = KNOWN[e.name];
  if (Known) return new Known(e.message, e.details !== undefined ? { details: e.details } : {});
  return new TrainingError(`training failed in its worker thread: ${e.name}: ${e.message}`, e.details !== undefined ? { details: e.details } : {});
}

export interface TrainInWorkerOptions extends TrainJobOptions {
  /** The worker's tensor backend (default wasm). */
  backend?: TensorBackend;
}

export function trainInWorker(input: TrainJobInput, opts: TrainInWorkerOptions = {}): Promise<TrainJobOutput> {
  const request: TrainWorkerRequest = { input, backend: opts.backend ?? 'wasm' };
  return runWorkerJob<TrainWorkerRequest, TrainProgress, TrainJobOutput>(ENTRY, request, {
    ...(opts.onProgress && { onProgress: opts.onProgress }),
    ...(opts.signal && { signal: opts.signal }),
    aborted: () => new TrainingAbortedError('training was aborted'),
    rebuild,
    failed: (why, cause) => new TrainingError(`training failed: ${why}`, { cause }),
  });
}
