// Arm (c), ours: the platform's indexer (startIndexer: Subsquid's processor, our decoder and the
// ClickHouse sink), with the platform's default finality, from an empty store to the workload's
// last block. Timed from startIndexer() to the commit of that block.
import { startIndexer } from '../../../indexer/index.ts';
import { armMain } from '../arm.ts';
import { openBenchStore, storedRows, totalRows } from '../store.ts';

await armMain('ours', async ({ chain, rpcUrl, dataDir }, timer) => {
  const store = await openBenchStore(dataDir);
  const deployment = {
    chainId: chain.chainId,
    contracts: chain.contracts,
    deploymentBlock: { number: BigInt(chain.deploymentBlock.number), hash: chain.deploymentBlock.hash },
  };
  timer.start();
  const indexer = startIndexer({ rpcUrl, deployment, clickhouse: store, toBlock: chain.toBlock, ...(process.env.INGEST && { ingest: JSON.parse(process.env.INGEST) }) });
  await indexer.done;
  timer.stop();
  const progress = indexer.progress();
  const rows = await storedRows(store.client);
  await store.close();
  return { events: totalRows(rows), rows, notes: { rowsWritten: progress.rows, finalized: progress.finalized } };
});
