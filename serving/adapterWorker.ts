// The adapter loader's worker thread (adapterLoader.ts starts it through tsWorker.mjs): reads an
// adapter's files and decodes its weights into the host layout, off the engine's thread, and posts them
// back in one transferred buffer. Anything it cannot read or decode in the plain layout it answers with
// `ok: false`, and the loader reads that adapter on the main thread, whose errors are the ones callers see.
import { readFileSync, readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, loraModules } from './loraWeights.ts';
import { readPlainSafetensors } from './plainSafetensors.ts';

/** Read an adapter directory, or decode weights the caller already has (a content store's bytes). */
export type AdapterWorkerRequest = { id: number; dir: string } | { id: number; weights: Uint8Array };

export type AdapterWorkerReply =
  | {
      id: number;
      ok: true;
      /** adapter_config.json's text (for a directory), which the main thread parses and checks. */
      configText: string | null;
      /** Each module's Aᵀ then Bᵀ, in the order of `modules`, float32. */
      buffer: ArrayBuffer;
      modules: { name: string; aShape: [number, number]; bShape: [number, number] }[];
    }
  | { id: number; ok: false; reason: string };

function answer(req: AdapterWorkerRequest): { reply: AdapterWorkerReply; transfer: ArrayBuffer[] } {
  const { id } = req;
  const no = (reason: string) => ({ reply: { id, ok: false as const, reason }, transfer: [] });
  let configText: string | null = null;
  let weights: Uint8Array;
  try {
    if ('dir' in req) {
      configText = readFileSync(path.join(req.dir, ADAPTER_CONFIG_FILE), 'utf8');
      weights = readFileSync(path.join(req.dir, ADAPTER_WEIGHTS_FILE));
    } else weights = req.weights;
  } catch (e) {
    return no(e instanceof Error ? e.message : String(e));
  }
  const tensors = readPlainSafetensors(weights);
  if (!tensors) return no('not a plain F32 safetensors file');
  const buffer = new ArrayBuffer(tensors.reduce((n, t) => n + t.data.byteLength, 0));
  let used = 0;
  const alloc = (length: number) => {
    const out = new Float32Array(buffer, used, length);
    used += length * 4;
    return out;
  };
  const decoded = loraModules(tensors, null, 'adapter', alloc);
  if ('error' in decoded) return no(decoded.error);
  const modules = [...decoded.modules].map(([name, m]) => ({ name, aShape: m.aShape, bShape: m.bShape }));
  return { reply: { id, ok: true, configText, buffer, modules }, transfer: [buffer] };
}

// Below the engine's thread in the scheduler's eyes (Linux; elsewhere the call fails and nothing changes):
// a read woken by the engine's post should not take the engine's core from it on a busy machine, since
// the engine serves every running sequence and a read serves one queued request, which prefetch started early.
const nice = (workerData as { nice?: number } | null)?.nice ?? 0;
if (nice !== 0) {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (tid > 0) setPriority(tid, nice);
  } catch {
    // no per-thread priority here
  }
}

parentPort!.on('message', (req: AdapterWorkerRequest) => {
  const { reply, transfer } = answer(req);
  parentPort!.postMessage(reply, transfer);
});
