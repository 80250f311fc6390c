// The serving part inside `tributary up` (or `tributary serve`): loads the base model, builds the
// engine and its adapter cache, serves every active model published on-chain (its adapter from the
// content store) besides adapters an operator loads, mounts the OpenAI-compatible routes and POST /keys,
// records every inference (usage in Postgres, the log in ClickHouse) and settles usage on-chain on an
// interval.
import { join } from 'node:path';
import type { Hex } from 'viem';
import { keysRoute } from '../api/index.ts';
import type { ChainConnection, Deployment } from '../contracts/index.ts';
import {
  claimableEpochs,
  fillInferenceEpochs,
  redactSettledInferences,
  findApiKeyBySecret,
  listServableModels,
  loadAdapterFiles,
  setInferenceEpochs,
  type ClickHouseStore,
  type ContentStore,
  type OperationalStore,
} from '../schema/index.ts';
import {
  applyPublishedModels,
  backfillInferenceLog,
  createAdapterCache,
  createAdapterLoader,
  parseAdapterConfig,
  publishedAdapterHash,
  createEngine,
  createModelCatalog,
  loadModel,
  openaiRoutes,
  readTokenizer,
  UnknownAdapterError,
  useTensorBackend,
  createInferenceRecorder,
  createSettler,
  type AdapterLoader,
  type Engine,
  type HostAdapter,
  type SettleResult,
  type ModelCatalog,
} from '../serving/index.ts';
import type { Config } from './config.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import type { Route } from './server.ts';

export interface ServingPart {
  engine: Engine;
  catalog: ModelCatalog;
  routes: Route[];
  /** Brings the catalog in step with the published models now, instead of at the next round. */
  refreshModels(): Promise<void>;
  /** Settles all unbilled usage now, batch after batch. */
  settleNow(): Promise<SettleResult[]>;
  stop(): Promise<void>;
}

export const BASE_MODEL_NAME = 'tributary-tiny';
/** How often the catalog is brought in step with the models the indexer has seen published. */
const CATALOG_SYNC_MS = 2000;

/** A published adapter, fetched from the content store by hash (its files are checked against it there). */
async function loadPublishedAdapter(content: ContentStore, loader: AdapterLoader, hash: Hex): Promise<HostAdapter> {
  const stored = await loadAdapterFiles(content, hash);
  if (!stored) throw new UnknownAdapterError(`published/${hash}`);
  const source = `adapter ${hash} (content store)`;
  return loader.parse(parseAdapterConfig(new TextDecoder().decode(stored.config), source), stored.weights, source);
}

export async function startServing(
  c: Config,
  log: Logger,
  deps: { ch: ClickHouseStore; pg: OperationalStore; content: ContentStore; chain: { conn: ChainConnection; deployment: Deployment }; metrics: Metrics },
): Promise<ServingPart> {
  const backend = await useTensorBackend(c.tensorBackend);
  const model = loadModel(c.baseModelDir);
  const tokenizer = readTokenizer(c.baseModelDir);
  log.info('base model loaded', { dir: c.baseModelDir, backend, layers: model.config.nLayer, width: model.config.nEmbd, vocab: model.config.vocabSize });

  const catalog = createModelCatalog({
    file: join(c.dataDir, 'serving', 'catalog.json'),
    initial: [{ id: BASE_MODEL_NAME, ownedBy: 'tributary', created: Math.floor(Date.now() / 1000) }],
  });
  // Adapters are read and decoded in a worker thread, so loading one never stalls the engine's steps.
  const loader = createAdapterLoader();
  const adapters = createAdapterCache({
    model: model.config,
    hostBudgetBytes: c.adapterHostBudgetBytes,
    deviceBudgetBytes: c.adapterDeviceBudgetBytes,
    load: async (key) => {
      const hash = publishedAdapterHash(key);
      if (hash) return loadPublishedAdapter(deps.content, loader, hash);
      const m = catalog.get(key);
      if (!m?.adapterPath) throw new UnknownAdapterError(key);
      return loader.read(m.adapterPath);
    },
  });

  // Published models come from the indexer's view of the chain; a failed read is retried next round.
  const syncCatalog = async () => {
    const changes = applyPublishedModels(catalog, await listServableModels(deps.ch.client));
    if (changes.added.length + changes.updated.length + changes.removed.length > 0) log.info('served models changed', { ...changes });
  };
  await syncCatalog();
  let syncing = false;
  const catalogTimer = setInterval(() => {
    if (syncing) return;
    syncing = true;
    syncCatalog()
      .catch((e: unknown) => log.warn('could not read the published models', { error: e instanceof Error ? e.message : String(e) }))
      .finally(() => (syncing = false));
  }, CATALOG_SYNC_MS);
  catalogTimer.unref();
  const engine = createEngine({ model, tokenizer, adapters, maxBatch: c.serveMaxBatch, maxQueue: c.serveMaxQueue });

  // Log rows that a crash left in the Postgres outbox reach ClickHouse before new ones; epochs the
  // settler could not note (a crash after settling) come from the indexed InferenceSettled events.
  const stores = { ch: deps.ch.client, db: deps.pg.db, log };
  await backfillInferenceLog(stores);
  await fillInferenceEpochs(deps.ch.client);
  const recorder = createInferenceRecorder(stores);
  const settler = createSettler({
    db: deps.pg.db,
    chain: deps.chain,
    operatorKey: c.operatorKey,
    intervalMs: c.settlementIntervalSeconds * 1000,
    log,
    onSettled: async (r) => {
      log.info('usage settled on-chain', { batch: String(r.batch.batchNumber), items: r.batch.settled.length, rejected: r.batch.rejected.length, recovered: r.recovered });
      const byEpoch = new Map<bigint, Hex[]>();
      for (const s of r.batch.settled) byEpoch.set(s.epoch, [...(byEpoch.get(s.epoch) ?? []), s.requestId]);
      for (const [epoch, requestIds] of byEpoch) await setInferenceEpochs(deps.ch.client, { epoch, requestIds });
    },
  });
  settler.start();

  // Privacy: attribution needs an inference's text until its epoch's payout is final; after that only
  // the hashes stay (INFERENCE_TEXT=keep keeps the text).
  let redacting = false;
  const redactTimer = setInterval(() => {
    if (c.inferenceText !== 'until-settled' || redacting) return;
    redacting = true;
    claimableEpochs(deps.ch.client)
      .then(async (epochs) => {
        const n = await redactSettledInferences(deps.ch.client, { epochs });
        if (n > 0) log.info('blanked the text of inferences whose payout is final', { inferences: n, epochs: epochs.map(String) });
      })
      .catch((e: unknown) => log.warn('could not blank settled inference text', { error: e instanceof Error ? e.message : String(e) }))
      .finally(() => (redacting = false));
  }, c.settlementIntervalSeconds * 1000);
  redactTimer.unref();

  const route = openaiRoutes({
    engine,
    tokenizer,
    modelConfig: model.config,
    catalog,
    authenticate: async (header) => {
      const secret = /^Bearer (\S+)$/.exec(header ?? '')?.[1];
      const key = secret ? await findApiKeyBySecret(deps.pg.db, secret) : undefined;
      return key ? { payer: key.payerAddress, role: key.role, keyId: key.id } : null;
    },
    onInference: async (r) => {
      await recorder.record({
        requestId: r.requestId,
        modelId: BigInt(r.model.modelId ?? 0),
        modelVersion: BigInt(r.model.version ?? 0),
        adapterHash: r.model.adapterHash ?? `0x${'0'.repeat(64)}`,
        payer: (r.payer ?? `0x${'0'.repeat(40)}`) as Hex,
        tokensIn: r.tokensIn,
        tokensOut: r.tokensOut,
        latencyMs: r.latencyMs,
        firstTokenMs: r.firstTokenMs,
        finishReason: r.finishReason,
        prompt: r.prompt,
        output: r.output,
        createdAt: r.createdAt,
      });
    },
    evictAdapter: (name) => adapters.evict(name),
    onError: (e) => log.error('inference request failed', { error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
  });

  const m = deps.metrics;
  m.gauge('tributary_serving_running_sequences', 'Sequences in the running batch', () => engine.metrics().running);
  m.gauge('tributary_serving_queued_requests', 'Requests waiting for a batch slot', () => engine.metrics().queued);
  m.gauge('tributary_serving_generated_tokens_total', 'Tokens generated since start', () => engine.metrics().generatedTokens);
  m.gauge('tributary_serving_tokens_per_second', 'Generated tokens per second over the last 30 s', () => engine.metrics().tokensPerSecond);
  m.gauge('tributary_serving_kv_reserved_bytes', 'KV cache bytes reserved by running sequences', () => engine.metrics().kvReservedBytes);

  return {
    engine,
    catalog,
    refreshModels: syncCatalog,
    settleNow: () => settler.drain(),
    routes: [route, keysRoute({ db: deps.pg.db, domain: { chainId: deps.chain.deployment.chainId, router: deps.chain.deployment.contracts.InferenceRouter } })],
    async stop() {
      clearInterval(catalogTimer);
      clearInterval(redactTimer);
      await engine.close();
      await loader.close();
      await recorder.close();
      await settler.stop();
      adapters.dispose();
    },
  };
}
