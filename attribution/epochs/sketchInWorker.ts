// Sketches a training run's checkpoints in a worker thread (trainingSketchWorker.ts, through serving's
// runWorkerJob), for ensureTrainingSketches' `worker` option: the worker opens the file content store and
// the base model itself and writes the sketch parts and manifest there; nothing comes back but progress.
import { runWorkerJob, type TensorBackend, type WorkerJobError } from '../../serving/index.ts';
import { TrainingSketchError, type SketchJob, type SketchProgress } from './trainingSketches.ts';

const ENTRY = new URL('./trainingSketchWorker.ts', import.meta.url);

export interface SketchWorkerRequest extends SketchJob {
  /** The file content store's root. */
  contentRoot: string;
  adaptersDir?: string;
  baseModelDir: string;
  backend: TensorBackend;
}

export function sketchInWorker(request: SketchWorkerRequest, onProgress?: (p: SketchProgress) => void): Promise<void> {
  return runWorkerJob<SketchWorkerRequest, SketchProgress, null>(ENTRY, request, {
    ...(onProgress && { onProgress }),
    aborted: () => new TrainingSketchError('sketching was aborted'),
    rebuild: (e: WorkerJobError) => new TrainingSketchError(e.name === 'TrainingSketchError' ? e.message : `sketching failed in its worker thread: ${e.name}: ${e.message}`, e.details !== undefined ? { details: e.details } : {}),
    failed: (why, cause) => new TrainingSketchError(`sketching failed: ${why}`, { cause }),
  }).then(() => undefined);
}
