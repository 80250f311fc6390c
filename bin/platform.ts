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
import type { Config } from './config.ts';
import type { Logger } from './log.ts';
import { startHttpServer, type HealthCheck, type HttpServer } from './server.ts';
import { createMetrics, type Metrics } from './metrics.ts';

export interface Platform {
  devnet: Devnet;
  ch: ClickHouseStore;
  pg: OperationalStore;
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

    const checks: HealthCheck[] = [
      { name: 'chain', check: async () => `block ${await devnet.conn.publicClient.getBlockNumber()}` },
      { name: 'clickhouse', check: async () => (await (await ch.client.query({ query: 'SELECT 1 AS ok', format: 'JSONEachRow' })).json()).length === 1 ? 'ok' : 'no answer' },
      { name: 'postgres', check: async () => (await pg.db.execute(sql`select 1`), 'ok') },
    ];
    const metrics = createMetrics();
    metrics.gauge('tributary_chain_head_block', 'Latest block number of the chain', async () => Number(await devnet.conn.publicClient.getBlockNumber()));
    const http = await startHttpServer({ conn: devnet.conn, deployment: devnet.deployment, checks, metrics }, c.port);
    stops.push(() => http.close());

    // Other verbs find the running platform through this file and talk to it over HTTP.
    const portFile = join(c.dataDir, 'up.json');
    writeFileSync(portFile, JSON.stringify({ pid: process.pid, port: http.port, rpcUrl: devnet.rpcUrl }) + '\n');
    stops.push(async () => rmSync(portFile, { force: true }));

    return { devnet, ch, pg, http, metrics, stop: stopAll };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
