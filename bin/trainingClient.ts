// What `tributary train` does when a `tributary up` holds the data dir: the owner signs the training job
// (serving/train/trainingJobGrant.ts), POSTs it to the platform, follows its progress stream and gets
// back what the platform stored; the caller then registers the model with the owner's key.
import type { Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { TributaryError, type ChainContext } from '../contracts/index.ts';
import { TRAINING_JOBS_PATH, trainingJobTypedData, type JobParameters, type RunTrainingProgress, type StoredTraining, type TrainingJobEvent } from '../serving/index.ts';

/** The platform refused the job, or it failed there: its HTTP status and message. */
export class TrainingRefusedByServerError extends TributaryError {
  override name = 'TrainingRefusedByServerError';
  constructor(
    message: string,
    readonly status: number,
    opts: { details?: string; retryable?: boolean } = {},
  ) {
    super(message, opts);
  }
}

export interface PlatformTrainingJob {
  baseUrl: string;
  chain: ChainContext;
  ownerKey: Hex;
  datanetId: bigint;
  version: bigint;
  modelId?: bigint;
  parameters: JobParameters;
  onProgress?: (p: RunTrainingProgress) => void;
  /** Called while the platform's indexer has not reached the version yet. */
  onWaiting?: (reason: string) => void;
  /** How long to wait for the platform's indexer to reach the version (default 120 s). */
  waitMs?: number;
}

/** Reads the NDJSON answer line by line. */
async function* lines(res: Response): AsyncGenerator<TrainingJobEvent> {
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    let at: number;
    while ((at = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, at).trim();
      buffered = buffered.slice(at + 1);
      if (line) yield JSON.parse(line) as TrainingJobEvent;
    }
  }
  if (buffered.trim()) yield JSON.parse(buffered) as TrainingJobEvent;
}

/** Signs the job, has the platform train it, and answers what it stored. */
export async function trainOnPlatform(p: PlatformTrainingJob): Promise<StoredTraining> {
  const account = privateKeyToAccount(p.ownerKey);
  const job = { owner: account.address, datanetId: p.datanetId, version: p.version, modelId: p.modelId ?? 0n, parameters: p.parameters, issuedAt: BigInt(Math.floor(Date.now() / 1000)) };
  const domain = { chainId: p.chain.deployment.chainId, registry: p.chain.deployment.contracts.ModelRegistry };
  const signature = await account.signTypedData(trainingJobTypedData(domain, job));
  const body = JSON.stringify({ owner: job.owner, datanetId: job.datanetId.toString(), version: job.version.toString(), modelId: job.modelId.toString(), parameters: job.parameters, issuedAt: Number(job.issuedAt), signature });
  const url = `${p.baseUrl}${TRAINING_JOBS_PATH}`;
  const until = Date.now() + (p.waitMs ?? 120_000);
  for (;;) {
    let res: Response;
    try {
      res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    } catch (e) {
      throw new TrainingRefusedByServerError(`cannot reach the running platform at ${p.baseUrl}: ${(e as Error).message}`, 0, { retryable: true });
    }
    if (res.status !== 200) {
      const answer = (await res.json().catch(() => ({}))) as { error?: string; retryable?: boolean };
      const error = answer.error ?? `HTTP ${res.status}`;
      // The version is on the chain but not yet in the platform's ClickHouse: its indexer is behind.
      if (res.status === 404 && answer.retryable && Date.now() < until) {
        p.onWaiting?.(error);
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      throw new TrainingRefusedByServerError(`the running platform refused the training job (HTTP ${res.status}): ${error}`, res.status, { retryable: answer.retryable === true });
    }
    for await (const e of lines(res)) {
      if (e.type === 'progress') {
        const { type: _, ...progress } = e;
        p.onProgress?.(progress as RunTrainingProgress);
      } else if (e.type === 'error') throw new TrainingRefusedByServerError(`the training job failed on the platform (${e.status}): ${e.error}`, e.status);
      else {
        // bigints travel as decimal strings
        const t = e.training as unknown as StoredTraining & { datanets: { datanetId: string; version: string }[] };
        return { ...t, datanets: t.datanets.map((d) => ({ datanetId: BigInt(d.datanetId), version: BigInt(d.version) })) };
      }
    }
    throw new TrainingRefusedByServerError('the running platform ended the training job without an answer', 502, { retryable: true });
  }
}
