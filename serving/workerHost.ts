// The worker thread that runs jobs (workerJob.ts starts it through tsWorker.mjs): each message names a job
// module and its request; the module's `handle` runs here, and its progress and answer go back tagged
// with the job's id. An error is sent as its name, message and details (TributaryError keeps its details
// apart), so the caller rebuilds it.
import { parentPort } from 'node:worker_threads';
import { TributaryError } from '../contracts/index.ts';
import type { WorkerJobHandler, WorkerJobMessage, WorkerJobRequest } from './workerJob.ts';

const port = parentPort!;
const post = (m: WorkerJobMessage, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

port.on('message', (job: WorkerJobRequest) => {
  void (async () => {
    try {
      const { handle } = (await import(job.module)) as { handle: WorkerJobHandler<unknown, unknown, unknown> };
      const { output, transfer } = await handle(job.request, (progress) => post({ id: job.id, type: 'progress', progress }));
      post({ id: job.id, type: 'done', output }, transfer);
    } catch (e) {
      const details = e instanceof TributaryError ? e.details : undefined;
      const full = e instanceof Error ? e.message : String(e);
      const message = details && full.endsWith(`\n  ${details}`) ? full.slice(0, -(details.length + 3)) : full;
      post({ id: job.id, type: 'error', error: { name: e instanceof Error ? e.name : 'Error', message, ...(details !== undefined && { details }) } });
    }
  })();
});
