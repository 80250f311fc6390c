// Brings an embedded ClickHouse (chDB, held by this process) up to the chain head by running the indexer
// in-process until it gets there: for verbs that open the data dir's stores themselves when no
// `tributary up` is running (train, attribute).
import { TributaryError } from '../contracts/index.ts';
import { startIndexer } from '../indexer/index.ts';
import type { ClickHouseStore } from '../schema/index.ts';
import type { ChainSession } from './chainSession.ts';
import type { Config } from './config.ts';
import type { Logger } from './log.ts';

/** Brings the data dir's ClickHouse up to the chain head (embedded chDB only: this process holds it). */
export async function indexToHead(ch: ClickHouseStore, session: ChainSession, c: Config, log: Logger): Promise<number> {
  const head = Number(await session.conn.publicClient.getBlockNumber({ cacheTime: 0 }));
  log.info(`indexing the chain into ClickHouse up to block ${head}`);
  const quiet = { ...log, info: log.debug };
  const indexer = startIndexer({ rpcUrl: session.rpcUrl, deployment: session.deployment, clickhouse: ch, finality: c.indexerFinality, log: quiet });
  try {
    await Promise.race([indexer.waitForHeight(head, 600_000), indexer.done.then(() => Promise.reject(new TributaryError('the indexer stopped before reaching the chain head')))]);
  } finally {
    await indexer.stop();
  }
  return head;
}

