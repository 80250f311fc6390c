// The training job on the worker thread (trainInWorker.ts sends it there through ../workerJob.ts):
// chooses the tensor backend, runs the job (trainJob.ts) and answers with its weights' buffers transferred.
import { useTensorBackend } from '../backend.ts';
import type { WorkerJobHandler } from '../workerJob.ts';
import { runTrainJob, trainJobTransfers, type TrainJobOutput, type TrainWorkerRequest } from './trainJob.ts';
import type { TrainProgress } from './trainLora.ts';

export const handle: WorkerJobHandler<TrainWorkerRequest, TrainProgress, TrainJobOutput> = async (req, progress) => {
  await useTensorBackend(req.backend);
  const output = await runTrainJob(req.input, { onProgress: progress });
  return { output, transfer: trainJobTransfers(output) };
};
