// Jobs in a worker thread, for the tensor work a serving process must not run on its event loop
// (training, gradient sketches). One worker (workerHost.ts, TypeScript through tsWorker.mjs) is kept
// for the process and takes every job: a job names the module that does it (which exports
// `handle(request, progress)`) and its request; the worker posts progress and then one answer (its buffers
// transferred) or the error's name, message and details. Keeping the worker keeps its tensor backend, base
// model files' page cache and V8's compiled code warm: a worker per job paid ~4 s of start-up each time.
// The worker is unreferenced while idle, so it never keeps the process alive. A job's AbortSignal ends the
// worker at once (its other jobs, if any, fail with it); the next job starts a fresh one.
import { Worker } from 'node:worker_threads';

const BOOTSTRAP = new URL('./tsWorker.mjs', import.meta.url);
const HOST = new URL('./workerHost.ts', import.meta.url);

/** A job as the host receives it. */
export interface WorkerJobRequest {
  id: number;
  /** The module (file URL) whose `handle` does the job. */
  module: string;
  request: unknown;
}

/** What the host posts for a job: progress, then one answer. */
export type WorkerJobMessage = { id: number } & ({ type: 'progress'; progress: unknown } | { type: 'done'; output: unknown } | { type: 'error'; error: WorkerJobError });

export interface WorkerJobError {
  name: string;
  message: string;
  details?: string;
}

/** What a job module exports: the job itself, on the worker's thread. */
export type WorkerJobHandler<Q, P, O> = (request: Q, progress: (p: P) => void) => Promise<{ output: O; transfer?: ArrayBuffer[] }>;

export interface WorkerJobOptions<P> {
  onProgress?: (p: P) => void;
  signal?: AbortSignal;
  /** The error an abort rejects with. */
  aborted: () => Error;
  /** The caller's error for one thrown in the worker (by its name, message and details). */
  rebuild: (e: WorkerJobError) => Error;
  /** The error for a worker that failed or exited before answering. */
  failed: (why: string, cause?: unknown) => Error;
}

interface Pending {
  onMessage(m: WorkerJobMessage): void;
  onGone(why: string, cause?: unknown): void;
}

let host: { worker: Worker; jobs: Map<number, Pending> } | null = null;
let nextId = 1;

function startHost(): NonNullable<typeof host> {
  const worker = new Worker(BOOTSTRAP, { workerData: { entry: HOST.href }, execArgv: [] });
  const h = { worker, jobs: new Map<number, Pending>() };
  let error: Error | undefined;
  worker.on('message', (m: WorkerJobMessage) => h.jobs.get(m.id)?.onMessage(m));
  worker.on('error', (e) => (error = e));
  worker.on('exit', (code) => {
    if (host === h) host = null;
    const why = error ? `the worker thread failed: ${error.message}` : `the worker thread exited (code ${code}) before answering`;
    for (const job of [...h.jobs.values()]) job.onGone(why, error);
    h.jobs.clear();
  });
  return h;
}

/** Runs the job `module` exports as `handle`, with `request`, on the process's worker thread. */
export function runWorkerJob<Q, P, O>(module: URL, request: Q, opts: WorkerJobOptions<P>): Promise<O> {
  const { signal } = opts;
  if (signal?.aborted) return Promise.reject(opts.aborted());
  const h = (host ??= startHost());
  const id = nextId++;
  return new Promise<O>((resolve, reject) => {
    const finish = (f: () => void) => {
      if (!h.jobs.delete(id)) return;
      signal?.removeEventListener('abort', onAbort);
      if (h.jobs.size === 0) h.worker.unref();
      f();
    };
    const onAbort = () => {
      finish(() => reject(opts.aborted()));
      // The job cannot be stopped halfway inside the worker: the worker goes, and the next job starts another.
      if (host === h) host = null;
      void h.worker.terminate();
    };
    h.jobs.set(id, {
      onMessage: (m) => {
        if (m.type === 'progress') opts.onProgress?.(m.progress as P);
        else if (m.type === 'done') finish(() => resolve(m.output as O));
        else finish(() => reject(opts.rebuild(m.error)));
      },
      onGone: (why, cause) => finish(() => reject(opts.failed(why, cause))),
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    h.worker.ref();
    const job: WorkerJobRequest = { id, module: module.href, request };
    h.worker.postMessage(job);
  });
}
