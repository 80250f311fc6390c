// POST /training/jobs: a running platform trains a LoRA adapter for a model owner who signed the job
// (trainingJobGrant.ts), so that `tributary train` works while `tributary up` holds the stores. The
// platform checks the owner's access on-chain, trains in a worker thread (its event loop keeps serving
// inferences), writes the adapter, checkpoints, records and manifest to its stores, and answers what it
// stored; the owner's own process then registers the model with the owner's key.
//
// The answer streams as newline-delimited JSON (application/x-ndjson), one object a line: `progress`
// lines (rows, then every training step with its loss and ETA, then storing), then one `result` line, or
// an `error` line if the job fails after it started. Failures before training starts are plain JSON
// errors with their status: 400 for a malformed or stale job (or one that cannot train: no rows), 401 for
// a signature that is not the owner's, 403 when the chain refuses the owner access, 404 for a version or
// model the chain does not have (or that the platform has not indexed yet: then retryable), 409 while another job runs (one at a time, with Retry-After).
// A client that disconnects ends its job: the worker stops and nothing is stored.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isAddress, isHex } from 'viem';
import { ContractRevertError } from '../../contracts/index.ts';
import { DatanetVersionNotFoundError } from '../../schema/index.ts';
import type { TensorBackend } from '../backend.ts';
import { TrainingAbortedError, TrainingError } from '../train/errors.ts';
import { trainAndStore, type RunTrainingContext, type RunTrainingProgress, type StoredTraining } from '../train/runTraining.ts';
import { checkTrainingJob, jobParametersSchema, type TrainingJob, type TrainingJobDomain } from '../train/trainingJobGrant.ts';
import { readJsonBody } from './jsonBody.ts';

export const TRAINING_JOBS_PATH = '/training/jobs';
const MAX_BODY_BYTES = 65_536;

export interface TrainingRouteOptions {
  ctx: RunTrainingContext;
  baseModelDir: string;
  domain: TrainingJobDomain;
  /** The training worker's tensor backend (default wasm). */
  backend?: TensorBackend;
  /** Work after the run is stored (the platform sketches its gradients for attribution); its answer joins the result. */
  afterStore?: (stored: StoredTraining) => Promise<Record<string, unknown>>;
  onError?: (e: unknown) => void;
}

/** One line of the answer's stream. */
export type TrainingJobEvent =
  | ({ type: 'progress' } & RunTrainingProgress)
  | { type: 'result'; training: StoredTraining; extra: Record<string, unknown> }
  | { type: 'error'; status: number; error: string };

const toJson = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));

/** The status a failure before training answers with. */
function statusOf(e: unknown): { status: number; error: string; retryable?: boolean } | undefined {
  if (e instanceof DatanetVersionNotFoundError) return { status: 404, error: e.message, retryable: true };
  // The chain's refusals: something that does not exist (a version, a model), or the owner's access.
  if (e instanceof ContractRevertError) return { status: /NotFound$/.test(e.errorName) ? 404 : 403, error: e.message };
  if (e instanceof TrainingError && !(e instanceof TrainingAbortedError)) return { status: 400, error: e.message };
  return undefined;
}

export function trainingRoute(opts: TrainingRouteOptions) {
  let running: { since: number; what: string } | null = null;

  return async (req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> => {
    if (path !== TRAINING_JOBS_PATH) return false;
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(toJson(body));
      return true;
    };
    if (req.method !== 'POST') return send(405, { error: `use POST ${TRAINING_JOBS_PATH} with {owner, datanetId, version, modelId, parameters, issuedAt, signature}` }, { allow: 'POST' });

    const body = await readJsonBody(req, MAX_BODY_BYTES);
    if (!body.ok) return send(body.status, { error: body.error });
    if (typeof body.value !== 'object' || body.value === null || Array.isArray(body.value)) return send(400, { error: 'the body is not a JSON object' });
    const raw = body.value as Record<string, unknown>;
    const { owner, datanetId, version, modelId = '0', parameters = {}, issuedAt, signature } = raw;
    const uint = (v: unknown) => (typeof v === 'string' || typeof v === 'number') && /^\d{1,78}$/.test(String(v));
    if (typeof owner !== 'string' || !isAddress(owner)) return send(400, { error: 'owner: an 0x address' });
    if (!uint(datanetId) || BigInt(datanetId as string) === 0n) return send(400, { error: 'datanetId: a positive integer (decimal string)' });
    if (!uint(version) || BigInt(version as string) === 0n) return send(400, { error: 'version: a positive integer (decimal string)' });
    if (!uint(modelId)) return send(400, { error: 'modelId: a non-negative integer (decimal string; 0 for a new model)' });
    if (!uint(issuedAt) || String(issuedAt).length > 12) return send(400, { error: 'issuedAt: unix seconds' });
    if (typeof signature !== 'string' || !isHex(signature)) return send(400, { error: 'signature: 0x-hex EIP-712 signature of the TrainingJob' });
    const parsed = jobParametersSchema.safeParse(parameters);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return send(400, { error: `parameters${issue.path.length ? `.${issue.path.join('.')}` : ''}: ${issue.message}` });
    }
    const job: TrainingJob = {
      owner,
      datanetId: BigInt(datanetId as string),
      version: BigInt(version as string),
      modelId: BigInt(modelId as string),
      parameters: parsed.data,
      issuedAt: BigInt(issuedAt as string),
    };
    const check = await checkTrainingJob(opts.domain, job, signature);
    if (!check.ok) return send(check.status, { error: check.reason });

    const what = `datanet ${job.datanetId} version ${job.version} for ${job.owner}`;
    if (running) {
      const seconds = Math.round((Date.now() - running.since) / 1000);
      return send(409, { error: `a training job is running (${running.what}, for ${seconds} s); one runs at a time`, retryable: true }, { 'retry-after': '30' });
    }
    running = { since: Date.now(), what };

    // The stream starts with the first progress (the rows are read, so access and the version are settled);
    // what fails before it answers with a status of its own.
    const ac = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) ac.abort();
    };
    res.on('close', onClose);
    let streaming = false;
    const line = (e: TrainingJobEvent) => {
      if (!streaming) {
        res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-cache' });
        streaming = true;
      }
      res.write(toJson(e) + '\n');
    };
    try {
      const stored = await trainAndStore(opts.ctx, {
        owner: job.owner,
        baseModelDir: opts.baseModelDir,
        datanetId: job.datanetId,
        version: job.version,
        ...(job.modelId !== 0n && { modelId: job.modelId }),
        ...job.parameters,
        trainer: 'worker',
        ...(opts.backend && { backend: opts.backend }),
        signal: ac.signal,
        onProgress: (p) => {
          if (!ac.signal.aborted) line({ type: 'progress', ...p });
        },
      });
      const extra = opts.afterStore ? await opts.afterStore(stored) : {};
      if (!ac.signal.aborted) {
        line({ type: 'result', training: stored, extra });
        res.end();
      }
    } catch (e) {
      if (ac.signal.aborted) return true; // the client left: nobody to answer
      const known = statusOf(e);
      if (!known) opts.onError?.(e);
      const status = known?.status ?? 500;
      const error = known?.error ?? 'the training job failed on the platform (see its log)';
      if (streaming) {
        line({ type: 'error', status, error });
        res.end();
      } else send(status, { error, ...(known?.retryable && { retryable: true }) });
    } finally {
      running = null;
      res.off('close', onClose);
    }
    return true;
  };
}
