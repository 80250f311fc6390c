// Arm (b), the baseline: what a plain viem indexer does. A loop over the same block ranges as the
// source arm: getLogs (viem's http transport and log formatting), the block timestamps of the blocks
// that have logs (getBlock, JSON-RPC batched), viem's parseEventLogs against each contract's ABI, the
// rows written with the same encoder (eventRowTsv) into the same tables of a fresh chDB, one insert
// per table per batch of the same size as the indexer's. One step after the other, no prefetching.
import { createPublicClient, http, parseEventLogs, type Abi, type Address, type Hex, type Log } from 'viem';
import { artifacts, CONTRACT_NAMES, type ContractName } from '../../../contracts/index.ts';
import { eventRowTsv, eventTable, insertEventRows, type ContractEvent, type EventTable } from '../../../schema/index.ts';
import { armMain } from '../arm.ts';
import { BATCH_MAX_BLOCKS, BATCH_MAX_LOGS } from '../batching.ts';
import { rangesOf, spanOf } from '../ranges.ts';
import { openBenchStore, storedRows, totalRows } from '../store.ts';

await armMain('baseline', async ({ chain, rpcUrl, dataDir }, timer) => {
  const store = await openBenchStore(dataDir);
  const client = createPublicClient({ transport: http(rpcUrl, { batch: { batchSize: 100 }, timeout: 300_000, retryCount: 0 }) });
  const contractAt = new Map<string, ContractName>(CONTRACT_NAMES.map((n) => [chain.contracts[n].toLowerCase(), n]));
  const addresses = CONTRACT_NAMES.map((n) => chain.contracts[n]) as Address[];
  const span = spanOf(chain);

  let pending = new Map<EventTable, string[]>();
  let pendingLogs = 0;
  let pendingBlocks = 0;
  let inserts = 0;
  const flush = async () => {
    for (const [table, lines] of pending) {
      await insertEventRows(store.client, table, lines);
      inserts++;
    }
    pending = new Map();
    pendingLogs = pendingBlocks = 0;
  };

  timer.start();
  for (const [from, to] of rangesOf(chain, span)) {
    const logs = await client.getLogs({ address: addresses, fromBlock: BigInt(from), toBlock: BigInt(to) });
    const numbers = [...new Set(logs.map((l) => l.blockNumber!))];
    const blocks = await Promise.all(numbers.map((blockNumber) => client.getBlock({ blockNumber })));
    const msOf = new Map(blocks.map((b) => [b.number, Number(b.timestamp) * 1000]));
    const byContract = new Map<ContractName, Log[]>();
    for (const l of logs) {
      const c = contractAt.get(l.address.toLowerCase());
      if (!c) continue;
      let list = byContract.get(c);
      if (!list) byContract.set(c, (list = []));
      list.push(l);
    }
    for (const [contract, list] of byContract) {
      for (const log of parseEventLogs({ abi: artifacts[contract].abi as Abi, logs: list, strict: true })) {
        const table = eventTable(contract, log.eventName as ContractEvent<typeof contract>);
        const line = eventRowTsv(
          table,
          {
            blockNumber: log.blockNumber!,
            blockHash: log.blockHash!,
            timestampMs: msOf.get(log.blockNumber!)!,
            logIndex: log.logIndex!,
            transactionHash: log.transactionHash! as Hex,
            address: log.address,
          },
          log.args,
        );
        let lines = pending.get(table);
        if (!lines) pending.set(table, (lines = []));
        lines.push(line);
      }
    }
    pendingLogs += logs.length;
    pendingBlocks += to - from + 1;
    if (pendingLogs >= BATCH_MAX_LOGS || pendingBlocks >= BATCH_MAX_BLOCKS) await flush();
  }
  await flush();
  timer.stop();

  const rows = await storedRows(store.client);
  await store.close();
  return { events: totalRows(rows), rows, notes: { spanBlocks: span, inserts } };
});
