// Reads LoRA adapters off the engine's thread: a small pool of worker threads (adapterWorker.ts) reads
// each adapter's files and decodes and transposes its weights, and posts them back in one transferred
// buffer, so the main thread only checks the config and later uploads. This is the adapter cache's
// loader in the server and the benchmark (`load: (name) => loader.read(dirOf(name))`).
//
// Errors are the main thread's own: whatever a worker cannot read or decode in the plain layout (a
// missing or corrupt file, F16 weights, a rank that disagrees with the config) is read again with
// readHostAdapter / parseHostAdapter on the main thread, which reads what it can and throws what it
// throws today. A worker that dies hands its requests to the main thread too; one that dies before
// answering anything (it could not start) turns the pool off, and `stats().workerFailure` says why.
//
// Workers start with the loader and are unreferenced while idle, so an open loader never keeps a process
// alive; close() ends them.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { parseAdapterConfig, parseHostAdapter, readHostAdapter } from './adapterFiles.ts';
import type { AdapterWorkerReply, AdapterWorkerRequest } from './adapterWorker.ts';
import type { HostAdapter, HostModule } from './engine/adapterCache.ts';
import { LoraError, type LoraConfig } from './lora.ts';
import { ADAPTER_CONFIG_FILE, hasRank } from './loraWeights.ts';

export interface AdapterLoaderOptions {
  /** Worker threads (default 1; 0 reads everything on the main thread, as readHostAdapter does). */
  workers?: number;
  /**
   * The workers' niceness on Linux (default 10: below the engine's thread, so that a read does not take
   * its core on a busy machine; 0 keeps them level with it).
   */
  nice?: number;
}

export interface AdapterLoaderStats {
  workers: number;
  /** Adapters decoded by a worker, and read on the main thread (a worker could not, or the pool is off). */
  inWorker: number;
  onMainThread: number;
  /** Requests a worker has not answered yet. */
  pending: number;
  /** Why the pool turned itself off (a worker died before answering anything). */
  workerFailure?: string;
}

export interface AdapterLoader {
  /** readHostAdapter(dir), off the main thread. */
  read(dir: string): Promise<HostAdapter>;
  /** parseHostAdapter(config, weights, source), off the main thread (weights are copied, not taken). */
  parse(config: LoraConfig, weights: Uint8Array, source: string): Promise<HostAdapter>;
  stats(): AdapterLoaderStats;
  /** Ends the workers; reads still in flight, and any later ones, reject. */
  close(): Promise<void>;
}

const BOOTSTRAP = new URL('./tsWorker.mjs', import.meta.url);
const ENTRY = new URL('./adapterWorker.ts', import.meta.url).href;

interface Slot {
  worker: Worker | null;
  answered: boolean;
  pending: Map<number, (reply: AdapterWorkerReply | Error) => void>;
}

export function createAdapterLoader(opts: AdapterLoaderOptions = {}): AdapterLoader {
  const count = opts.workers ?? 1;
  if (!Number.isInteger(count) || count < 0) throw new LoraError(`the adapter loader's workers must be a non-negative integer, got ${count}`);
  const nice = opts.nice ?? 10;
  if (!Number.isInteger(nice) || nice < 0 || nice > 19) throw new LoraError(`the adapter loader's nice must be an integer from 0 to 19, got ${nice}`);
  const slots: Slot[] = Array.from({ length: count }, () => ({ worker: null, answered: false, pending: new Map() }));
  let nextId = 1;
  let closed = false;
  let workerFailure: string | undefined;
  const counts = { inWorker: 0, onMainThread: 0 };
  const closedError = (what: string) => new LoraError(`the adapter loader is closed: cannot read ${what}`);

  const start = (slot: Slot): Worker => {
    const worker = new Worker(BOOTSTRAP, { workerData: { entry: ENTRY, nice }, execArgv: [] });
    let error: Error | undefined;
    worker.on('message', (reply: AdapterWorkerReply) => {
      slot.answered = true;
      const settle = slot.pending.get(reply.id);
      slot.pending.delete(reply.id);
      if (slot.pending.size === 0) worker.unref();
      settle?.(reply);
    });
    worker.on('error', (e) => (error = e));
    worker.on('exit', (code) => {
      slot.worker = null;
      const why = error?.message ?? `exit code ${code}`;
      if (!closed && !slot.answered) workerFailure ??= `the adapter loader's worker stopped before answering: ${why}`;
      const settles = [...slot.pending.values()];
      slot.pending.clear();
      for (const settle of settles) settle(new Error(why));
    });
    worker.unref(); // after the listeners: adding a 'message' listener refs the worker again
    return worker;
  };
  // Started now, so that their start (tsx; 0.5–0.8 s here) overlaps whatever the caller does next.
  for (const slot of slots) slot.worker = start(slot);

  /** A worker's answer, or an Error when the worker is gone (the caller then reads on the main thread). */
  const ask = (request: Omit<AdapterWorkerRequest, 'id'>, transfer: ArrayBuffer[]): Promise<AdapterWorkerReply | Error> | null => {
    if (slots.length === 0 || workerFailure !== undefined) return null;
    const slot = slots.reduce((best, s) => (s.pending.size < best.pending.size ? s : best));
    const worker = (slot.worker ??= start(slot));
    const id = nextId++;
    return new Promise((resolve) => {
      slot.pending.set(id, resolve);
      worker.ref(); // a read in flight keeps the process alive until it is answered
      worker.postMessage({ ...request, id }, transfer);
    });
  };

  /** The host adapter from a worker's buffer, or null when the worker could not decode it for this config. */
  const fromReply = (reply: AdapterWorkerReply | Error, config: LoraConfig): HostAdapter | null => {
    if (reply instanceof Error || !reply.ok) return null;
    const modules = new Map<string, HostModule>();
    let at = 0;
    for (const { name, aShape, bShape } of reply.modules) {
      const a = new Float32Array(reply.buffer, at, aShape[0] * aShape[1]);
      at += a.byteLength;
      const b = new Float32Array(reply.buffer, at, bShape[0] * bShape[1]);
      at += b.byteLength;
      modules.set(name, { a, aShape, b, bShape });
    }
    if (!hasRank(modules, config.r)) return null;
    counts.inWorker += 1;
    return { config, modules };
  };

  const onMainThread = <T>(read: () => T): T => {
    counts.onMainThread += 1;
    return read();
  };

  return {
    async read(dir) {
      if (closed) throw closedError(dir);
      const reply = await ask({ dir }, []);
      if (closed) throw closedError(dir);
      if (reply && !(reply instanceof Error) && reply.ok && reply.configText !== null) {
        const host = fromReply(reply, parseAdapterConfig(reply.configText, path.join(dir, ADAPTER_CONFIG_FILE)));
        if (host) return host;
      }
      return onMainThread(() => readHostAdapter(dir));
    },

    async parse(config, weights, source) {
      if (closed) throw closedError(source);
      // A copy in a buffer of its own, to transfer (a Buffer's slice() is a view, often of Node's shared pool).
      const copy = new Uint8Array(weights);
      const reply = await ask({ weights: copy }, [copy.buffer]);
      if (closed) throw closedError(source);
      return (reply && fromReply(reply, config)) ?? onMainThread(() => parseHostAdapter(config, weights, source));
    },

    stats() {
      return {
        workers: slots.filter((s) => s.worker !== null).length,
        ...counts,
        pending: slots.reduce((n, s) => n + s.pending.size, 0),
        ...(workerFailure !== undefined && { workerFailure }),
      };
    },

    async close() {
      closed = true;
      await Promise.all(slots.map((s) => s.worker?.terminate()));
    },
  };
}
