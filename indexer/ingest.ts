// Fetching final blocks: which block ranges are requested from the RPC, how many are in flight, and
// how fetched ranges are grouped into the batches the runner commits.
//
// Subsquid's RPC source asks for fixed 10-block splits, five at a time, and hands each split to the
// runner as its own batch. Both ends of that hurt: 10 blocks of 1,000-event transactions make 50 MB
// eth_getLogs responses (slow to serve and to parse, and five of them arrive together, after the whole
// dense chain was served, so fetching and writing never overlapped), while 10 blocks of a quiet chain
// make a commit (inserts and a status row, ~40 ms of fixed cost) every 10 blocks. Measured end to end
// on the dense benchmark chain (bench/indexer): ~10k events/s.
//
// So the ranges adapt to the chain: each split aims at `targetLogs` logs, judged from the logs per
// block seen so far (starting at one block and at most doubling per split, so a dense chain is never
// hit with a huge first request), between 1 and `maxSplitBlocks` blocks. Fetching runs ahead of the
// runner: up to `prefetch` requests in flight, and more as they complete, while up to about one batch
// of blocks and logs is waiting; so the RPC stays busy while ClickHouse inserts (chDB inserts off the
// main thread). The splits that have arrived when the runner asks for the next batch go into it, up to
// `maxBatchLogs` logs and `maxBatchBlocks` blocks: one commit for many quiet blocks.
//
// What a split is, and how it is fetched and checked, is the source's business (fetchSplit.ts).
// Ranges come in order and the blocks of a batch are consecutive.
import { setTimeout as sleep } from 'node:timers/promises';

export interface BlockRange {
  from: number;
  to?: number;
}

/** A range of blocks and what to fetch for them (Subsquid's RangeRequest, opaque here). */
export interface IngestRequest<R> {
  range: BlockRange;
  request: R;
}

export interface IngestBatch<B> {
  blocks: B[];
  /** The batch ends at the finalized head as last seen. */
  isHead: boolean;
}

/** A fetched split: its blocks (every block of the range, in order) and how many logs they hold. */
export interface IngestSplit<B> {
  blocks: B[];
  logs: number;
}

export interface IngestSource<R, B> {
  getFinalizedHeight(): Promise<number>;
  getSplit(range: { from: number; to: number }, request: R): Promise<IngestSplit<B>>;
}

export interface IngestSettings {
  /** Logs a split aims at (default 5,000). */
  targetLogs?: number;
  /** Blocks in a split at most (default 100). */
  maxSplitBlocks?: number;
  /** Splits in flight (default 3). */
  prefetch?: number;
  /** A batch grows by whole splits while under both limits (defaults 20,000 logs, 2,000 blocks). */
  maxBatchLogs?: number;
  maxBatchBlocks?: number;
  /** How often to ask for the finalized height when waiting for new blocks (default 1000 ms). */
  headPollIntervalMs?: number;
}

interface Pending<B> {
  result: Promise<IngestSplit<B>>;
  /** Set once the split has arrived. */
  split?: IngestSplit<B>;
  isHead: boolean;
  /** Blocks in the range, and the logs expected (then counted) in it: what it holds of the buffer budget. */
  blocks: number;
  logs: number;
}

/**
 * The final blocks of `requests`, in order, grouped into batches. Ends at the finalized head when
 * `stopOnHead`, else at the end of the last request, waiting for new blocks as needed.
 */
export async function* ingestFinalized<R, B>(
  source: IngestSource<R, B>,
  requests: readonly IngestRequest<R>[],
  stopOnHead: boolean,
  settings: IngestSettings = {},
): AsyncGenerator<IngestBatch<B>> {
  const targetLogs = settings.targetLogs ?? 5_000;
  const maxSplit = settings.maxSplitBlocks ?? 100;
  const prefetch = Math.max(1, settings.prefetch ?? 3);
  const maxBatchLogs = settings.maxBatchLogs ?? 20_000;
  const maxBatchBlocks = settings.maxBatchBlocks ?? 2_000;
  const poll = settings.headPollIntervalMs ?? 1000;

  let logsPerBlock: number | undefined; // running estimate from the splits fetched so far
  let lastSize = 0;
  const nextSize = (): number => {
    const wanted = logsPerBlock === undefined ? 1 : Math.round(targetLogs / Math.max(logsPerBlock, targetLogs / maxSplit));
    const size = Math.max(1, Math.min(maxSplit, wanted, lastSize === 0 ? 1 : lastSize * 2));
    lastSize = size;
    return size;
  };

  // The splits to fetch, in order; stops at the head when stopOnHead.
  let top = await source.getFinalizedHeight();
  async function* ranges(): AsyncGenerator<{ range: { from: number; to: number }; request: R; isHead: boolean }> {
    for (const req of requests) {
      let beg = req.range.from;
      const end = req.range.to ?? Infinity;
      while (beg <= end) {
        while (top < beg) {
          if (stopOnHead) return;
          await sleep(poll);
          top = await source.getFinalizedHeight();
        }
        const to = Math.min(top, end, beg + nextSize() - 1);
        yield { range: { from: beg, to }, request: req.request, isHead: to >= top };
        beg = to + 1;
        if (beg > top && beg <= end) top = await source.getFinalizedHeight();
      }
    }
  }

  // Splits in order, fetching or arrived. Fetching goes on while the runner writes: up to `prefetch`
  // requests at a time, and up to about one batch of data (blocks and logs) waiting in all, so that the
  // next batch can be full when the runner asks for it, and memory stays bounded.
  const queue: Pending<B>[] = [];
  let inFlight = 0;
  let bufferedBlocks = 0;
  let bufferedLogs = 0;
  const plan = ranges();
  let planned = false; // the plan has no more ranges
  let filling: Promise<void> | undefined;
  let planError: { error: unknown } | undefined;
  let arrived: (() => void) | undefined; // wakes a consumer waiting for a split

  const roomFor = () => queue.length === 0 || (bufferedBlocks < maxBatchBlocks && bufferedLogs < maxBatchLogs);
  const canFill = () => !planned && inFlight < prefetch && roomFor();
  const fill = async () => {
    while (canFill()) {
      const next = await plan.next();
      if (next.done) {
        planned = true;
        break;
      }
      const { range, request, isHead } = next.value;
      const blocks = range.to - range.from + 1;
      const p: Pending<B> = { isHead, result: source.getSplit(range, request), blocks, logs: Math.round((logsPerBlock ?? 0) * blocks) };
      inFlight++;
      bufferedBlocks += blocks;
      bufferedLogs += p.logs;
      queue.push(p);
      p.result.then(
        (split) => {
          inFlight--;
          bufferedLogs += split.logs - p.logs;
          p.logs = split.logs;
          p.split = split;
          if (split.blocks.length > 0) {
            const rate = split.logs / split.blocks.length;
            logsPerBlock = logsPerBlock === undefined ? rate : 0.5 * logsPerBlock + 0.5 * rate;
          }
          pump();
          arrived?.();
        },
        () => {
          inFlight--;
          arrived?.(); // the error is rethrown when the batch is taken
        },
      );
    }
  };
  const pump = () => {
    if (filling || planned || planError) return;
    filling = fill()
      .catch((error: unknown) => {
        planError = { error };
      })
      .finally(() => {
        filling = undefined;
        // A split that arrived while this fill was finishing found it busy: fill again for it.
        if (canFill()) pump();
        arrived?.();
      });
  };
  const take = (p: Pending<B>) => {
    bufferedBlocks -= p.blocks;
    bufferedLogs -= p.logs;
  };

  try {
    for (;;) {
      pump();
      while (queue.length === 0) {
        if (planError) throw planError.error;
        if (planned && !filling) return;
        await new Promise<void>((resolve) => (arrived = resolve));
        arrived = undefined;
        pump();
      }
      const first = queue.shift()!;
      const head = await first.result;
      take(first);
      const blocks = [...head.blocks];
      let logs = head.logs;
      let isHead = first.isHead;
      // Merge what has already arrived, while the batch stays under its limits.
      for (let next = queue[0]; next?.split; next = queue[0]) {
        if (logs + next.split.logs > maxBatchLogs || blocks.length + next.split.blocks.length > maxBatchBlocks) break;
        queue.shift();
        take(next);
        for (const b of next.split.blocks) blocks.push(b);
        logs += next.split.logs;
        isHead = next.isHead;
      }
      pump();
      if (blocks.length > 0) yield { blocks, isHead };
    }
  } finally {
    // Requests still in flight are dropped; keep their failures from going unhandled.
    planned = true;
    for (const p of queue) p.result.catch(() => {});
  }
}
