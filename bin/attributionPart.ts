// Proof of Attribution inside a process (`tributary up`, `tributary attribute`): the payout batch driver on
// the operational store, signing with the configured signer keys, and the epoch job's context. `up` runs
// it on a schedule; the attribute verb runs one epoch or watches.
import { join } from 'node:path';
import { createBatchDriver, keySigner, startEpochSchedule, type AttributeEpochContext, type EpochSchedule } from '../attribution/index.ts';
import type { ChainContext } from '../contracts/index.ts';
import type { ClickHouseStore, ContentStore, OperationalStore } from '../schema/index.ts';
import type { Config } from './config.ts';
import type { Logger } from './log.ts';

export interface AttributionStores {
  ch: ClickHouseStore;
  pg: OperationalStore;
  content: ContentStore;
  chain: ChainContext;
}

/** The epoch job's context for this data dir: stores, chain, a driver signing with SIGNER_KEYS. */
export function attributionContext(c: Config, log: Logger, s: AttributionStores): AttributeEpochContext {
  const driver = createBatchDriver({
    db: s.pg.db,
    chain: s.chain,
    content: s.content,
    attributorKey: c.attributorKey,
    // This process holds every configured signer key; a co-signer elsewhere runs `tributary attribution verify`.
    sign: keySigner(c.signerKeys.slice(0, c.signerThreshold)),
    log: { info: (m, f) => log.debug(m, f), warn: (m, f) => log.warn(m, f) },
  });
  return {
    clickhouse: s.ch.client,
    content: s.content,
    chain: s.chain,
    driver,
    baseModelDir: c.baseModelDir,
    adaptersDir: join(c.dataDir, 'adapters'),
    spanIndexDir: join(c.dataDir, 'span-indexes'),
  };
}

/** Attributes each ended epoch every ATTRIBUTION_INTERVAL_SECONDS. */
export function startAttribution(c: Config, log: Logger, s: AttributionStores): { schedule: EpochSchedule; ctx: AttributeEpochContext } {
  const ctx = attributionContext(c, log, s);
  const schedule = startEpochSchedule(ctx, { intervalMs: c.attributionIntervalSeconds * 1000, log });
  return { schedule, ctx };
}
