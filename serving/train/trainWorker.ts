// The training worker thread (trainInWorker.ts starts it through ../tsWorker.mjs): takes one job, chooses
// the tensor backend, runs it (trainJob.ts) and posts progress, then the answer with its weights'
// buffers transferred, or the error's name, message and details.
import { parentPort } from 'node:worker_threads';
import { TributaryError } from '../../contracts/index.ts';
import { useTensorBackend } from '../backend.ts';
import { runTrainJob, trainJobTransfers, type TrainWorkerMessage, type TrainWorkerRequest } from './trainJob.ts';

const port = parentPort!;
const post = (m: TrainWorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

port.once('message', (req: TrainWorkerRequest) => {
  void (async () => {
    try {
      await useTensorBackend(req.backend);
      const output = await runTrainJob(req.input, { onProgress: (progress) => post({ type: 'progress', progress }) });
      post({ type: 'done', output }, trainJobTransfers(output));
    } catch (e) {
      const details = e instanceof TributaryError ? e.details : undefined;
      const full = e instanceof Error ? e.message : String(e);
      // TributaryError appends its details to the message: send them apart, so the caller rebuilds it as it was.
      const message = details && full.endsWith(`\n  ${details}`) ? full.slice(0, -(details.length + 3)) : full;
      post({ type: 'error', error: { name: e instanceof Error ? e.name : 'Error', message, ...(details !== undefined && { details }) } });
    }
  })();
});
