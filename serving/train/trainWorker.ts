// The training worker thread (trainInWorker.ts starts it): chooses the tensor backend, runs the job
// (trainJob.ts) and answers with its weights' buffers transferred.
import { useTensorBackend } from '../backend.ts';
import { serveWorkerJob } from '../workerJob.ts';
import { runTrainJob, trainJobTransfers, type TrainJobOutput, type TrainWorkerRequest } from './trainJob.ts';
import type { TrainProgress } from './trainLora.ts';

serveWorkerJob<TrainWorkerRequest, TrainProgress, TrainJobOutput>(async (req, progress) => {
  await useTensorBackend(req.backend);
  const output = await runTrainJob(req.input, { onProgress: progress });
  return { output, transfer: trainJobTransfers(output) };
});
