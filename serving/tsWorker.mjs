// Starts a worker thread on a TypeScript module (workerData.entry, a file URL). Node 20 runs .ts only
// through tsx, and a worker does not inherit the main thread's loader hooks when tsx was registered
// from code (bin/tributary.mjs) rather than by `--import tsx`; so the worker registers tsx itself
// (started with execArgv [], so that it is registered once).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
