// POST /training/jobs on a real anvil, chDB and content store: the owner signs a job, the platform trains
// in a worker thread and streams its progress and what it stored; the owner then registers the model
// with its own key. Malformed, stale, forged, forbidden and unknown jobs are refused with their status
// before any training; a second job waits (409) while one runs, and a client that leaves ends its job.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { privateKeyToAccount } from 'viem/accounts';
import { ANVIL_KEYS, ModelRegistryAbi, type Devnet } from '../contracts/index.ts';
import { openFsContentStore, type ClickHouseStore, type FsContentStore } from '../schema/index.ts';
import type { Indexer } from '../indexer/index.ts';
import { trainingRoute, TRAINING_JOBS_PATH, type TrainingJobEvent } from '../serving/http/trainingRoute.ts';
import { registerTraining, trainAndStore, type RunTrainingContext, type StoredTraining } from '../serving/train/runTraining.ts';
import { JOB_MAX_AGE_SECONDS, trainingJobTypedData, type JobParameters, type TrainingJobDomain } from '../serving/train/trainingJobGrant.ts';
import { startTrainingWorld, type TrainingWorld } from './trainingWorld.ts';
import { ensureTrainingSketches } from '../attribution/index.ts';

const BUILDER = privateKeyToAccount(ANVIL_KEYS[8]!); // model owner
const STRANGER = privateKeyToAccount(ANVIL_KEYS[9]!);

let world: TrainingWorld;
let dir: string;
let devnet: Devnet;
let ch: ClickHouseStore;
let content: FsContentStore;
let indexer: Indexer;
let ctx: RunTrainingContext;
let baseDir: string;
let datanetId: bigint;
let closedId: bigint;
let domain: TrainingJobDomain;
let server: Server;
let base: string;
let sketched: string[] = [];

beforeAll(async () => {
  world = await startTrainingWorld('tributary-training-route-');
  ({ dir, devnet, ch, content, indexer, ctx, baseDir, datanetId, closedId } = world);
  domain = { chainId: devnet.deployment.chainId, registry: devnet.deployment.contracts.ModelRegistry };
  const route = trainingRoute({
    ctx,
    baseModelDir: baseDir,
    domain,
    afterStore: async (s) => {
      sketched.push(s.manifestHash);
      return { sketched: true };
    },
  });
  server = createServer((req, res) => {
    void route(req, res, new URL(req.url!, 'http://x').pathname).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  server?.close();
  await world?.close();
});

const PARAMS: JobParameters = { rank: 4, alpha: 8, steps: 12, batchSize: 8, learningRate: 3e-3, seed: 3, checkpoints: 2 };

async function signed(over: { signer?: typeof BUILDER; owner?: `0x${string}`; datanetId?: bigint; version?: bigint; parameters?: JobParameters; issuedAt?: number } = {}) {
  const job = {
    owner: over.owner ?? BUILDER.address,
    datanetId: over.datanetId ?? datanetId,
    version: over.version ?? 1n,
    modelId: 0n,
    parameters: over.parameters ?? PARAMS,
    issuedAt: BigInt(over.issuedAt ?? Math.floor(Date.now() / 1000)),
  };
  const signature = await (over.signer ?? BUILDER).signTypedData(trainingJobTypedData(domain, job));
  return { owner: job.owner, datanetId: job.datanetId.toString(), version: job.version.toString(), modelId: '0', parameters: job.parameters, issuedAt: Number(job.issuedAt), signature };
}

const post = (body: unknown, signal?: AbortSignal) =>
  fetch(`${base}${TRAINING_JOBS_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body), ...(signal && { signal }) });

async function events(res: Response): Promise<TrainingJobEvent[]> {
  return (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as TrainingJobEvent);
}

describe('POST /training/jobs', () => {
  it('trains a signed job in a worker, streams progress and what it stored; the owner registers it with its own key', async () => {
    const res = await post(await signed());
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    const all = await events(res);
    const phases = all.map((e) => (e.type === 'progress' ? e.phase : e.type));
    expect(phases[0]).toBe('rows');
    expect(phases.filter((p) => p === 'training')).toHaveLength(12);
    expect(phases.slice(-2)).toEqual(['storing', 'result']);
    const result = all.at(-1) as Extract<TrainingJobEvent, { type: 'result' }>;
    expect(result.extra).toEqual({ sketched: true });
    expect(sketched).toEqual([result.training.manifestHash]);

    // The same job on this thread stores the same files: the platform trained what was signed.
    const here = await trainAndStore(ctx, { owner: BUILDER.address, baseModelDir: baseDir, datanetId, version: 1n, ...PARAMS });
    expect(result.training).toMatchObject({ adapterHash: here.adapterHash, manifestHash: here.manifestHash, rows: here.rows, steps: 12 });

    const before = await devnet.conn.publicClient.readContract({ address: devnet.deployment.contracts.ModelRegistry, abi: ModelRegistryAbi, functionName: 'modelCount' });
    const training = result.training as unknown as StoredTraining;
    const reg = await registerTraining(devnet, { ownerKey: ANVIL_KEYS[8]!, name: 'colors-remote' }, { ...training, datanets: training.datanets.map((d) => ({ datanetId: BigInt(d.datanetId), version: BigInt(d.version) })) });
    expect(reg).toMatchObject({ name: 'colors-remote', alreadyRegistered: false });
    const after = await devnet.conn.publicClient.readContract({ address: devnet.deployment.contracts.ModelRegistry, abi: ModelRegistryAbi, functionName: 'modelCount' });
    expect(after).toBe(before + 1n);
  }, 120_000);

  it('refuses malformed, stale, forged, forbidden and unknown jobs before training, with their status', async () => {
    const refusal = async (body: unknown) => {
      const res = await post(body);
      return { status: res.status, error: ((await res.json()) as { error: string }).error };
    };
    expect((await fetch(`${base}${TRAINING_JOBS_PATH}`)).status).toBe(405);
    expect(await refusal('{not json')).toEqual({ status: 400, error: 'the body is not valid JSON' });
    expect(await refusal('[1, 2]')).toEqual({ status: 400, error: 'the body is not a JSON object' });
    expect(await refusal(JSON.stringify({ pad: 'x'.repeat(70_000) }))).toEqual({ status: 413, error: 'the request body is larger than 65536 bytes' });
    expect((await refusal({ ...(await signed()), owner: 'alice' })).error).toBe('owner: an 0x address');
    expect((await refusal({ ...(await signed()), datanetId: '0' })).status).toBe(400);
    expect((await refusal(await signed({ parameters: { ...PARAMS, rank: 0 } }))).error).toMatch(/^parameters\.rank: /);
    expect((await refusal(await signed({ parameters: { ...PARAMS, epochs: 2 } }))).error).toBe('parameters: give steps or epochs, not both');
    expect((await refusal(await signed({ parameters: { ...PARAMS, dropout: 0.1 } as JobParameters }))).status).toBe(400);
    expect(await refusal(await signed({ issuedAt: Math.floor(Date.now() / 1000) - JOB_MAX_AGE_SECONDS - 5 }))).toMatchObject({ status: 400, error: expect.stringMatching(/sign it again/) });
    // Signed by someone else, or the parameters changed after signing.
    expect(await refusal(await signed({ signer: STRANGER }))).toMatchObject({ status: 401, error: expect.stringContaining('not by its owner') });
    expect((await refusal({ ...(await signed()), parameters: { ...PARAMS, steps: 13 } })).status).toBe(401);
    // The chain refuses the owner access to a permissioned datanet; a version the chain does not have.
    expect(await refusal(await signed({ datanetId: closedId }))).toMatchObject({ status: 403, error: expect.stringContaining(`cannot train on datanet ${closedId}`) });
    const unknown = await post(await signed({ version: 9n }));
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: expect.stringContaining(`datanet ${datanetId} has no published version 9`) });
  }, 60_000);

  it('one job at a time: a second one gets 409 with Retry-After; a client that leaves ends its job', async () => {
    const ac = new AbortController();
    const long = await post(await signed({ parameters: { ...PARAMS, steps: 20000 } }), ac.signal);
    expect(long.status).toBe(200);
    // Wait until it trains.
    const reader = long.body!.getReader();
    let seen = '';
    while (!seen.includes('"phase":"training"')) seen += new TextDecoder().decode((await reader.read()).value);
    const busy = await post(await signed());
    expect(busy.status).toBe(409);
    expect(busy.headers.get('retry-after')).toBe('30');
    expect(((await busy.json()) as { error: string }).error).toMatch(/a training job is running/);
    ac.abort();
    // The job ends with its client: the next one is taken.
    const until = Date.now() + 20_000;
    let next: Response;
    for (;;) {
      next = await post(await signed());
      if (next.status !== 409 || Date.now() > until) break;
      await next.body?.cancel();
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(next.status).toBe(200);
    expect((await events(next)).at(-1)!.type).toBe('result');
  }, 120_000);
});

describe('training sketches in a worker thread', () => {
  it('store the same sketch files, bit for bit, as computing them on this thread', async () => {
    const run = await trainAndStore(ctx, { owner: BUILDER.address, baseModelDir: baseDir, datanetId, version: 1n, ...PARAMS, seed: 11 });
    // A copy of the content store before any sketch of this run exists: the inline arm writes there.
    const copy = join(dir, 'content-copy');
    cpSync(content.root, copy, { recursive: true });
    const other = await openFsContentStore({ root: copy });
    const progress: number[] = [];
    const inWorker = await ensureTrainingSketches({ clickhouse: ch.client, content, baseModelDir: baseDir, adaptersDir: ctx.adaptersDir }, run.manifestHash, {
      worker: { contentRoot: content.root },
      onProgress: (p) => progress.push(p.checkpoint),
    });
    const inline = await ensureTrainingSketches({ clickhouse: ch.client, content: other, baseModelDir: baseDir, adaptersDir: ctx.adaptersDir }, run.manifestHash);
    expect(inWorker.created).toBe(true);
    expect(inline.created).toBe(true);
    expect(inWorker.sketchSha256).toBe(inline.sketchSha256);
    expect(inWorker.file.checkpoints).toEqual(inline.file.checkpoints);
    for (let k = 0; k < inline.file.checkpoints.length; k++) expect(await inWorker.readCheckpoint(k)).toEqual(await inline.readCheckpoint(k));
    expect(new Set(progress)).toEqual(new Set([1, 2]));
    // Asked again, the stored sketches are the answer.
    expect((await ensureTrainingSketches({ clickhouse: ch.client, content, baseModelDir: baseDir, adaptersDir: ctx.adaptersDir }, run.manifestHash, { worker: { contentRoot: content.root } })).created).toBe(false);
  }, 120_000);
});
