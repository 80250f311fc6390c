// Arm (a), the source bound: what the RPC can deliver, with nothing done to the result. eth_getLogs
// over the workload's blocks (and, for the sparse workload, every block's header, as an indexer needs
// its timestamp), in ranges of about 5,000 logs, each response parsed with JSON.parse and counted. No
// decoding, no inserting. `source` sends one request after another; `source-3` keeps 3 in flight, as
// the indexer does.
import { armMain } from '../arm.ts';
import { rpcBatch, toQuantity } from '../jsonRpc.ts';
import { rangesOf, spanOf } from '../ranges.ts';

await armMain('source', async ({ chain, rpcUrl, concurrency = 1 }, timer) => {
  const span = spanOf(chain);
  const ranges = rangesOf(chain, span);
  const headers = chain.workload === 'sparse';
  let events = 0;
  let requests = 0;
  let next = 0;
  const worker = async () => {
    while (next < ranges.length) {
      const [from, to] = ranges[next++]!;
      const calls: [string, unknown[]][] = [['eth_getLogs', [{ fromBlock: toQuantity(from), toBlock: toQuantity(to) }]]];
      if (headers) for (let b = from; b <= to; b++) calls.push(['eth_getBlockByNumber', [toQuantity(b), false]]);
      const [logs] = await rpcBatch<unknown[]>(rpcUrl, calls);
      events += logs!.length;
      requests++;
    }
  };
  timer.start();
  await Promise.all(Array.from({ length: concurrency }, worker));
  timer.stop();
  return { events, notes: { spanBlocks: span, concurrency, requests, headers: headers ? 'yes' : 'no' } };
});
