// One job in a worker thread, for the tensor work a serving process must not run on its event loop
// (training, gradient sketches): the caller posts one request, the worker posts progress and then one
// answer (its buffers transferred) or the error's name, message and details. The worker runs TypeScript
// through tsWorker.mjs and lives for that one job; the caller's AbortSignal ends it at once.
import { parentPort, Worker } from 'node:worker_threads';
import { TributaryError } from '../contracts/index.ts';

const BOOTSTRAP = new URL('./tsWorker.mjs', import.meta.url);

/** What a job's worker posts: progress, then one answer. */
export type WorkerJobMessage<P, O> = { type: 'progress'; progress: P } | { type: 'done'; output: O } | { type: 'error'; error: WorkerJobError };

export interface WorkerJobError {
  name: string;
  message: string;
  details?: string;
}

export interface WorkerJobOptions<P> {
  onProgress?: (p: P) => void;
  signal?: AbortSignal;
  /** The error an abort rejects with. */
  aborted: () => Error;
  /** The caller's error for one thrown in the worker (by its name, message and details). */
  rebuild: (e: WorkerJobError) => Error;
  /** The error for a worker that failed or exited without answering. */
  failed: (why: string, cause?: unknown) => Error;
}

/** Runs `entry` (a module that calls serveWorkerJob) in a new worker thread with `request`. */
export function runWorkerJob<Q, P, O>(entry: URL, request: Q, opts: WorkerJobOptions<P>): Promise<O> {
  const { signal } = opts;
  if (signal?.aborted) return Promise.reject(opts.aborted());
  return new Promise<O>((resolve, reject) => {
    const worker = new Worker(BOOTSTRAP, { workerData: { entry: entry.href }, execArgv: [] });
    let settled = false;
    const finish = (f: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      f();
      void worker.terminate();
    };
    const onAbort = () => finish(() => reject(opts.aborted()));
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (m: WorkerJobMessage<P, O>) => {
      if (m.type === 'progress') {
        if (!settled) opts.onProgress?.(m.progress);
      } else if (m.type === 'done') finish(() => resolve(m.output));
      else finish(() => reject(opts.rebuild(m.error)));
    });
    worker.on('error', (e) => finish(() => reject(opts.failed(`the worker thread failed: ${e.message}`, e))));
    worker.on('exit', (code) => finish(() => reject(opts.failed(`the worker thread exited (code ${code}) before answering`))));
    worker.postMessage(request);
  });
}

/** The worker's side: answers the one request with `handle`, posting its progress on the way. */
export function serveWorkerJob<Q, P, O>(handle: (request: Q, progress: (p: P) => void) => Promise<{ output: O; transfer?: ArrayBuffer[] }>): void {
  const port = parentPort!;
  const post = (m: WorkerJobMessage<P, O>, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
  port.once('message', (request: Q) => {
    void (async () => {
      try {
        const { output, transfer } = await handle(request, (progress) => post({ type: 'progress', progress }));
        post({ type: 'done', output }, transfer);
      } catch (e) {
        const details = e instanceof TributaryError ? e.details : undefined;
        const full = e instanceof Error ? e.message : String(e);
        // TributaryError appends its details to the message: send them apart, so the caller rebuilds it as it was.
        const message = details && full.endsWith(`\n  ${details}`) ? full.slice(0, -(details.length + 3)) : full;
        post({ type: 'error', error: { name: e instanceof Error ? e.name : 'Error', message, ...(details !== undefined && { details }) } });
      }
    })();
  });
}
