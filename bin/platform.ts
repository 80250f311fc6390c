// `tributary up`: every part in one process (chDB and PGlite allow one process per data directory).
// Starts the chain (or connects to RPC_URL) and its deployment, opens and migrates both stores, and
// runs the indexer, serves HTTP (GraphQL, contribution uploads, the OpenAI-compatible /v1 routes and
// API keys), attributes ended epochs and posts their payout batches on a schedule, and seeds the demo
// data on a fresh devnet.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { startDevnet, type Devnet } from '../contracts/index.ts';
import {
  CLICKHOUSE_MIGRATIONS,
  DEFAULT_ROW_LIMITS,
  migrate,
  openClickHouse,
  openFsContentStore,
  openPostgres,
  syncContentRows,
  syncTrainingRecords,
  type FsContentStore,
  type ClickHouseStore,
  type OperationalStore,
} from '../schema/index.ts';
import { startIndexer, type Indexer } from '../indexer/index.ts';
import { contributionsRoute, createApi } from '../api/index.ts';
import type { Config } from './config.ts';
import type { Logger } from './log.ts';
import { startHttpServer, type HealthCheck, type HttpServer, type Route } from './server.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { seedDemo, type SeededDatanet } from './demo.ts';
import { seedServingDemo } from './demoServing.ts';
import { startServing, type ServingPart } from './servingPart.ts';
import { startAttribution } from './attributionPart.ts';
import { runDemoEpoch } from './demoEpoch.ts';
import { ensureTrainingSketches, type EpochSchedule } from '../attribution/index.ts';
import { trainingRoute } from '../serving/index.ts';

export interface Platform {
  devnet: Devnet;
  ch: ClickHouseStore;
  /** Unset when the API is not part of this process (`tributary index`). */
  pg: OperationalStore | undefined;
  content: FsContentStore | undefined;
  /** Unset when the indexer is not part of this process (`tributary api`). */
  indexer: Indexer | undefined;
  /** The inference server, when it runs in this process. */
  serving: ServingPart | undefined;
  /** Attribution epochs on a schedule, when the operational store is in this process. */
  attribution: EpochSchedule | undefined;
  /** What the demo seeded at this start (empty unless the devnet was fresh and the demo on). */
  demo: SeededDatanet[];
  http: HttpServer;
  metrics: Metrics;
  stop(): Promise<void>;
}

export function devnetOptions(c: Config, log: Logger, demo = true) {
  return {
    dataDir: c.dataDir,
    demo: demo && !c.rpcUrl,
    rpcUrl: c.rpcUrl,
    chainId: c.chainId,
    deployerKey: c.deployerKey,
    operatorKey: c.operatorKey,
    attributorKey: c.attributorKey,
    signerKeys: c.signerKeys,
    signerThreshold: c.signerThreshold,
    epochSeconds: c.epochSeconds,
    disputeWindowSeconds: c.disputeWindowSeconds,
    log: (m: string) => log.info(m),
  };
}

/**
 * Which parts run in this process. `up` runs all of them; with a ClickHouse server (and PostgreSQL)
 * `tributary index` and `tributary api` run the indexer and the API as processes of their own.
 */
export interface PlatformParts {
  indexer: boolean;
  /** GraphQL and contribution uploads. */
  api: boolean;
  /** The OpenAI-compatible inference server, API keys and usage billing (default: with the API). */
  serving?: boolean;
}

/** Starts everything asked for; on failure, stops what had started and rethrows. */
export async function startPlatform(
  c: Config,
  log: Logger,
  opts: { demo: boolean; parts?: PlatformParts },
): Promise<Platform> {
  const parts = opts.parts ?? { indexer: true, api: true };
  const serves = parts.serving ?? parts.api;
  mkdirSync(c.dataDir, { recursive: true });
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const s of stops.reverse()) await s().catch((e: unknown) => log.error('shutdown step failed', { error: String(e) }));
  };
  try {
    const devnet = await startDevnet(devnetOptions(c, log, opts.demo));
    stops.push(() => devnet.stop());

    const ch = await openClickHouse({ url: c.clickhouseUrl, dataDir: c.dataDir });
    stops.push(() => ch.close());
    const applied = await migrate(ch, CLICKHOUSE_MIGRATIONS, { log: (m: string) => log.info(m) });
    log.info(`ClickHouse ready (${ch.embedded ? 'chDB' : 'server'})`, { location: ch.location, migrationsApplied: applied.length });

    const checks: HealthCheck[] = [
      { name: 'chain', check: async () => `block ${await devnet.conn.publicClient.getBlockNumber()}` },
      { name: 'clickhouse', check: async () => (await (await ch.client.query({ query: 'SELECT 1 AS ok', format: 'JSONEachRow' })).json()).length === 1 ? 'ok' : 'no answer' },
    ];
    const metrics = createMetrics();
    metrics.gauge('tributary_chain_head_block', 'Latest block number of the chain', async () => Number(await devnet.conn.publicClient.getBlockNumber()));
    const routes: Route[] = [];
    const chain = { conn: devnet.conn, deployment: devnet.deployment };

    let pg: OperationalStore | undefined;
    let content: FsContentStore | undefined;
    if (parts.api || serves) {
      const store = await openPostgres({ url: c.databaseUrl, dataDir: c.dataDir, log: (m: string) => log.info(m) });
      pg = store;
      stops.push(() => store.close());
      log.info(`operational store ready (${store.kind})`);
      checks.push({ name: 'postgres', check: async () => (await store.db.execute(sql`select 1`), 'ok') });

      // The content store is the truth for uploaded rows; ClickHouse gets whatever it lacks (a crash
      // between an upload's files and its insert, or a wiped ClickHouse).
      content = await openFsContentStore({ root: join(c.dataDir, 'content') });
      const synced = await syncContentRows(ch.client, content);
      log.info(`content store ready`, { root: content.root, uploads: synced.uploads, copiedToClickHouse: synced.copied });
    }
    if (parts.api && pg && content) {
      // GraphiQL loads its scripts from a CDN, which an offline machine cannot reach: off by default.
      const api = createApi({ ch, graphiql: false, onError: (e) => log.error('GraphQL resolver failed', { error: e instanceof Error ? (e.stack ?? e.message) : String(e) }) });
      routes.push(async (req, res, path) => {
        if (path !== '/graphql') return false;
        await api.handle(req, res);
        return true;
      });
      routes.push(
        contributionsRoute(
          {
            clickhouse: ch.client,
            db: pg.db,
            content,
            chain,
            limits: { maxFileBytes: c.uploadMaxBytes, dailyBytes: c.uploadDailyBytes, rows: { maxRowBytes: DEFAULT_ROW_LIMITS.maxRowBytes, maxRows: DEFAULT_ROW_LIMITS.maxRows } },
          },
          { onError: (e) => log.error('contribution upload failed', { error: e instanceof Error ? (e.stack ?? e.message) : String(e) }) },
        ),
      );
    }

    let serving: ServingPart | undefined;
    if (serves && pg && content) {
      // Training runs written while the platform was down (tributary train) reach ClickHouse first.
      const training = await syncTrainingRecords(ch.client, content);
      if (training.copied > 0) log.info('training records copied to ClickHouse', { ...training });
      const part = await startServing(c, log, { ch, pg, content, chain, metrics });
      serving = part;
      stops.push(() => part.stop());
      routes.push(...part.routes);
      // `tributary train` hands its job here while this process holds the stores: trained and sketched for
      // attribution in worker threads (the engine keeps serving), stored; the owner's process registers it.
      const adaptersDir = join(c.dataDir, 'adapters');
      routes.push(
        trainingRoute({
          ctx: { clickhouse: ch.client, content, chain, adaptersDir },
          baseModelDir: c.baseModelDir,
          domain: { chainId: devnet.deployment.chainId, registry: devnet.deployment.contracts.ModelRegistry },
          afterStore: async (stored) => {
            const s = await ensureTrainingSketches({ clickhouse: ch.client, content: content!, baseModelDir: c.baseModelDir, adaptersDir }, stored.manifestHash, { worker: { contentRoot: content!.root } });
            log.info('training job stored', { adapterHash: stored.adapterHash, manifestHash: stored.manifestHash, sketchedExamples: s.records.length });
            return { sketchedExamples: s.records.length, sketchSha256: s.sketchSha256 };
          },
          onError: (e) => log.error('training job failed', { error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
        }),
      );
    }

    let indexer: Indexer | undefined;
    if (parts.indexer) {
      const ix = startIndexer({ rpcUrl: devnet.rpcUrl, deployment: devnet.deployment, clickhouse: ch, finality: c.indexerFinality, log });
      indexer = ix;
      stops.push(() => ix.stop());
      // An indexer that gives up (e.g. a foreign chain) is an error the operator must see at once.
      ix.done.catch((e: unknown) => log.error('the indexer stopped', { error: e instanceof Error ? e.message : String(e) }));
      const lag = () => {
        const p = ix.progress();
        return p.chainHead === undefined || p.head < 0 ? -1 : Math.max(0, p.chainHead - p.head);
      };
      checks.push({
        name: 'indexer',
        check: async () => {
          const p = ix.progress();
          return `indexed to block ${p.head} (final ${p.finalized}), ${lag() < 0 ? 'lag unknown' : `${lag()} blocks behind`}`;
        },
      });
      metrics.gauge('tributary_indexer_height', 'Last block indexed, unfinalized blocks included', () => ix.progress().head);
      metrics.gauge('tributary_indexer_finalized_height', 'Last final block committed by the indexer', () => ix.progress().finalized);
      metrics.gauge('tributary_indexer_lag_blocks', 'Blocks between the chain head and the indexer (-1: unknown)', lag);
      metrics.gauge('tributary_indexer_rows_total', 'Event rows written since start', () => ix.progress().rows);
      metrics.gauge('tributary_indexer_rows_cancelled_total', 'Event rows cancelled by reorgs since start', () => ix.progress().cancelled);
    }

    const http = await startHttpServer({ conn: devnet.conn, deployment: devnet.deployment, checks, metrics, routes, ...(content ? { content } : {}) }, c.port);
    stops.push(() => http.close());

    // Other verbs find the running platform through this file and talk to it over HTTP (uploads) or use
    // its chain. Only a process with the operational store announces itself.
    if (pg) {
      const portFile = join(c.dataDir, 'up.json');
      writeFileSync(portFile, JSON.stringify({ pid: process.pid, port: http.port, rpcUrl: devnet.rpcUrl }) + '\n');
      stops.push(async () => rmSync(portFile, { force: true }));
    }

    let attribution: EpochSchedule | undefined;
    // `up` only: with a ClickHouse server, `tributary attribute --watch` is the attribution process.
    if (parts.api && parts.indexer && pg && content) {
      const a = startAttribution(c, log, { ch, pg, content, chain });
      attribution = a.schedule;
      stops.push(() => a.schedule.stop());
    }

    // The demo goes through the same HTTP and chain paths a user takes, so it needs everything above.
    let demo: SeededDatanet[] = [];
    if (opts.demo && parts.api && devnet.deployed && !c.rpcUrl) {
      log.info('fresh devnet: seeding the demo datanets (tributary up --no-demo skips this)');
      demo = await seedDemo({ chain, baseUrl: `http://127.0.0.1:${http.port}`, operator: devnet.deployment.roles.operator, log });
      if (serving && indexer && content && c.ownerKey) {
        await seedServingDemo({
          chain,
          ch,
          content,
          indexer,
          serving,
          baseUrl: `http://127.0.0.1:${http.port}`,
          seeded: demo,
          ownerKey: c.ownerKey,
          baseModelDir: c.baseModelDir,
          adaptersDir: join(c.dataDir, 'adapters'),
          log,
        });
        if (attribution) await runDemoEpoch({ chain, indexer, schedule: attribution, log, rpcUrl: devnet.rpcUrl });
      }
    }

    return { devnet, ch, pg, content, indexer, serving, attribution, http, metrics, demo, stop: stopAll };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
