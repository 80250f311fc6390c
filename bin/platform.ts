// `tributary up`: every part in one process (chDB and PGlite allow one process per data directory).
// Starts the chain (or connects to RPC_URL) and its deployment, opens and migrates both stores, and
// serves HTTP. Later issues add the indexer, serving and attribution here.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { startDevnet, type Devnet } from '../contracts/index.ts';
import {
  CLICKHOUSE_MIGRATIONS,
  migrate,
  openClickHouse,
  openPostgres,
  type ClickHouseStore,
  type OperationalStore,
} from '../schema/index.ts';
import { startIndexer, type Indexer } from '../indexer/index.ts';
import { createApi } from '../api/index.ts';
import type { Config } from './config.ts';
import type { Logger } from './log.ts';
import { startHttpServer, type HealthCheck, type HttpServer } from './server.ts';
import { createMetrics, type Metrics } from './metrics.ts';

export interface Platform {
  devnet: Devnet;
  ch: ClickHouseStore;
  pg: OperationalStore;
  indexer: Indexer;
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

/** Starts everything; on failure, stops what had started and rethrows. */
export async function startPlatform(c: Config, log: Logger, opts: { demo: boolean }): Promise<Platform> {
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

    const pg = await openPostgres({ url: c.databaseUrl, dataDir: c.dataDir, log: (m: string) => log.info(m) });
    stops.push(() => pg.close());
    log.info(`operational store ready (${pg.kind})`);

    const indexer = startIndexer({
      rpcUrl: devnet.rpcUrl,
      deployment: devnet.deployment,
      clickhouse: ch,
      finality: c.indexerFinality,
      log,
    });
    stops.push(() => indexer.stop());
    // An indexer that gives up (e.g. a foreign chain) is an error the operator must see at once.
    indexer.done.catch((e: unknown) => log.error('the indexer stopped', { error: e instanceof Error ? e.message : String(e) }));
    const lag = () => {
      const p = indexer.progress();
      return p.chainHead === undefined || p.head < 0 ? -1 : Math.max(0, p.chainHead - p.head);
    };

    const checks: HealthCheck[] = [
      { name: 'chain', check: async () => `block ${await devnet.conn.publicClient.getBlockNumber()}` },
      { name: 'clickhouse', check: async () => (await (await ch.client.query({ query: 'SELECT 1 AS ok', format: 'JSONEachRow' })).json()).length === 1 ? 'ok' : 'no answer' },
      { name: 'postgres', check: async () => (await pg.db.execute(sql`select 1`), 'ok') },
      {
        name: 'indexer',
        check: async () => {
          const p = indexer.progress();
          return `indexed to block ${p.head} (final ${p.finalized}), ${lag() < 0 ? 'lag unknown' : `${lag()} blocks behind`}`;
        },
      },
    ];
    const metrics = createMetrics();
    metrics.gauge('tributary_chain_head_block', 'Latest block number of the chain', async () => Number(await devnet.conn.publicClient.getBlockNumber()));
    metrics.gauge('tributary_indexer_height', 'Last block indexed, unfinalized blocks included', () => indexer.progress().head);
    metrics.gauge('tributary_indexer_finalized_height', 'Last final block committed by the indexer', () => indexer.progress().finalized);
    metrics.gauge('tributary_indexer_lag_blocks', 'Blocks between the chain head and the indexer (-1: unknown)', lag);
    metrics.gauge('tributary_indexer_rows_total', 'Event rows written since start', () => indexer.progress().rows);
    metrics.gauge('tributary_indexer_rows_cancelled_total', 'Event rows cancelled by reorgs since start', () => indexer.progress().cancelled);
    // GraphiQL loads its scripts from a CDN, which an offline machine cannot reach: off by default.
    const api = createApi({ ch, graphiql: false, onError: (e) => log.error('GraphQL resolver failed', { error: e instanceof Error ? (e.stack ?? e.message) : String(e) }) });
    const routes = [
      async (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, path: string) => {
        if (path !== '/graphql') return false;
        await api.handle(req, res);
        return true;
      },
    ];
    const http = await startHttpServer({ conn: devnet.conn, deployment: devnet.deployment, checks, metrics, routes }, c.port);
    stops.push(() => http.close());

    // Other verbs find the running platform through this file and talk to it over HTTP.
    const portFile = join(c.dataDir, 'up.json');
    writeFileSync(portFile, JSON.stringify({ pid: process.pid, port: http.port, rpcUrl: devnet.rpcUrl }) + '\n');
    stops.push(async () => rmSync(portFile, { force: true }));

    return { devnet, ch, pg, indexer, http, metrics, stop: stopAll };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
