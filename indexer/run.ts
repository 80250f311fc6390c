// startIndexer(): the Subsquid processor over the chain RPC writing into the ClickHouse sink, kept
// running by a small supervisor.
//
// In-process, not a child process: in embedded mode chDB allows one process per data dir, and the
// API in the same process must read what the indexer writes. The processor runs through
// runProcessor() (no process.exit), and stop() ends it cleanly: the sink refuses new transactions,
// the RPC client closes, and stop() resolves once the runner has let go (a transaction in flight
// finishes, data then status, first). The caller maps SIGINT/SIGTERM to stop().
//
// The supervisor loop, each round: wait for the RPC (backoff, a log line per attempt naming the URL,
// an RpcUnreachableError after `connect.maxAttempts`), check the deployment is on that chain, undo a
// reorg deeper than the finality window if the committed head is no longer on the chain, then run the
// processor until it ends or fails. A deep reorg is noticed either by a watchdog comparing the
// committed final head with the chain, or by Subsquid failing ("already indexed block … was not found
// on chain", assertions in its hot-block walk); either way the next round finds the last common
// ancestor (ancestor.ts), cancels everything above it, and re-indexes from there instead of
// crash-looping. The watchdog also restarts the processor when an unfinalized block left the chain
// and the processor did not move on (it waits for a higher head, which an idle devnet never makes). A lost RPC sends the loop back to waiting for it. Other failures are retried with
// backoff; `maxFailures` in a row without a commit in between, or any error marked not retryable (a
// log the ABI cannot decode, a foreign status row), stop the indexer and reject `done`.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClickHouseClient } from '@clickhouse/client';
import type { HashAndHeight } from '@subsquid/util-internal-processor-tools';
import { CONTRACT_NAMES, type Deployment } from '../contracts/index.ts';
import { findCommonAncestor } from './ancestor.ts';
import { blockRows, createLogDecoder, type TableRows } from './decode.ts';
import { IndexerError } from './errors.ts';
import { createSplitFetcher } from './fetchSplit.ts';
import type { IngestSettings } from './ingest.ts';
import { SILENT_LOGGER, type IndexerLogger } from './log.ts';
import { createProcessor, type IndexerContext, type RpcSettings } from './processor.ts';
import { reachChain, type RetryPolicy } from './reachChain.ts';
import { createChainRpc } from './rpc.ts';
import { createClickHouseSink, EMPTY_HEAD, type SinkFaults, type SinkStore } from './sink.ts';
import { runProcessor, type RunningProcessor } from './subsquid.ts';

export const DEFAULT_FINALITY = 10;

export interface StartIndexerOptions {
  /** The chain's JSON-RPC endpoint. */
  rpcUrl: string;
  /** Which contracts, on which chain, from which block. */
  deployment: Pick<Deployment, 'chainId' | 'contracts' | 'deploymentBlock'>;
  /** A migrated ClickHouse database (openClickHouse + migrate); the caller closes it after stop(). */
  clickhouse: { client: ClickHouseClient };
  /** Blocks behind the head before a block is final (default 10). Reorgs within it are undone row by row. */
  finality?: number;
  /** The status row's id (default `main`). */
  id?: string;
  log?: IndexerLogger;
  rpc?: RpcSettings;
  /** How final blocks are fetched and batched (split sizes, prefetch, batch limits); defaults suit both dense and quiet chains. */
  ingest?: IngestSettings;
  /** Reaching the RPC at start and after it dropped: backoff and the number of attempts. */
  connect?: RetryPolicy;
  /** How often the processor polls for a new head (default 1000 ms). */
  pollIntervalMs?: number;
  /** How often the committed blocks are checked against the chain (default 5000 ms; 0 disables). */
  reorgCheckIntervalMs?: number;
  /** Processor failures in a row, with no commit between them, before the indexer gives up (default 5). */
  maxFailures?: number;
  /** Stop (resolving `done`) once this block is final. Default: follow the chain until stop(). */
  toBlock?: number;
  /** Fault-injection points of the sink, for crash tests. */
  faults?: SinkFaults;
}

export interface IndexerProgress {
  /** The last final block committed (-1: none). */
  finalized: number;
  /** The last block indexed, hot blocks included (-1: none). */
  head: number;
  /** Rows written, and rows cancelled by reorgs, since start. */
  rows: number;
  cancelled: number;
  /** Reorgs deeper than the finality window that were rolled back since start. */
  deepReorgs: number;
  /** Processor restarts since start (after failures or deep reorgs). */
  restarts: number;
  /** The chain head as last seen (checked every `reorgCheckIntervalMs`), when known. */
  chainHead: number | undefined;
}

export interface Indexer {
  readonly id: string;
  /** Resolves when stopped or past `toBlock`; rejects with the error that stopped the indexer. */
  readonly done: Promise<void>;
  /** Stops cleanly (idempotent); resolves once nothing more will be written. Never rejects. */
  stop(): Promise<void>;
  progress(): IndexerProgress;
  /** Resolves once block `height` is indexed (hot or final); rejects if the indexer ends first or on timeout. */
  waitForHeight(height: number, timeoutMs?: number): Promise<void>;
}

export function startIndexer(opts: StartIndexerOptions): Indexer {
  const log = opts.log ?? SILENT_LOGGER;
  const finality = opts.finality ?? DEFAULT_FINALITY;
  const maxFailures = opts.maxFailures ?? 5;
  const reorgCheckMs = opts.reorgCheckIntervalMs ?? 5000;
  const rpc = createChainRpc(opts.rpcUrl);
  const decode = createLogDecoder(opts.deployment.contracts);
  // Final blocks: our own split fetcher and scheduling (ingest.ts), within the RPC settings' limits.
  const rpcSettings = opts.rpc ?? {};
  const ingestion = {
    settings: {
      ...opts.ingest,
      maxSplitBlocks: Math.min(opts.ingest?.maxSplitBlocks ?? 100, (rpcSettings.maxBatchCallSize ?? 100) - 1),
      prefetch: Math.min(opts.ingest?.prefetch ?? 3, rpcSettings.capacity ?? Infinity),
      headPollIntervalMs: opts.ingest?.headPollIntervalMs ?? opts.pollIntervalMs,
    },
    fetcher: (signal: AbortSignal) => {
      const fetchSplit = createSplitFetcher({
        url: opts.rpcUrl,
        addresses: CONTRACT_NAMES.map((n) => opts.deployment.contracts[n]),
        timeoutMs: rpcSettings.requestTimeoutMs,
        retryAttempts: rpcSettings.retryAttempts ?? 5,
        rateLimit: rpcSettings.rateLimit,
        signal,
      });
      // Decoded as soon as they arrive: the parsed JSON dies young (cheap for the GC) and only the
      // rows wait in the prefetch queue. Rows of a block are already grouped per table.
      return async (range: { from: number; to: number }) => {
        const blocks = await fetchSplit(range);
        let logs = 0;
        const decoded = blocks.map((b) => {
          logs += b.logs.length;
          return { header: b.header, logs: [], rows: blockRows(b.logs, b.header, decode) };
        });
        return { blocks: decoded, logs };
      };
    },
  };
  const abort = new AbortController();

  const stats = { finalized: -1, head: -1, rows: 0, cancelled: 0, deepReorgs: 0, restarts: 0 };
  let failures = 0;
  let stopping = false;
  let running: RunningProcessor | undefined;
  /** Why the supervisor itself stopped the processor (not a failure), if it did. */
  let restartReason: string | undefined;
  /** The chain head as last seen by the watchdog. */
  let chainHead: number | undefined;
  let lastProgressLog = 0;
  const waiters = new Set<() => void>();

  const sink = createClickHouseSink({
    client: opts.clickhouse.client,
    id: opts.id,
    faults: opts.faults,
    log,
    onCommit(c) {
      stats.finalized = c.finalized.height;
      stats.head = c.head.height;
      stats.rows += c.rows;
      stats.cancelled += c.cancelled;
      failures = 0;
      for (const w of waiters) w();
      const now = Date.now();
      if (now - lastProgressLog >= 10_000) {
        lastProgressLog = now;
        log.info('indexed', { block: c.head.height, final: c.finalized.height, chainHead: chainHead ?? 'unknown', rows: stats.rows });
      }
    },
  });

  const handler = async (ctx: IndexerContext<SinkStore>) => {
    for (const block of ctx.blocks) {
      // Final blocks come decoded (see `ingestion`); hot blocks come from Subsquid's own client.
      const rows = (block as { rows?: TableRows[] }).rows ?? blockRows(block.logs, block.header, decode);
      for (const r of rows) ctx.store.insert(r.table, r.text, r.rows);
    }
  };

  /**
   * Undoes a reorg deeper than the finality window, if the committed final head left the chain.
   * Returns the final head the processor will continue from.
   */
  async function rollBackIfForked(): Promise<HashAndHeight> {
    const status = await sink.readStatus();
    if (status.height < 0) return status;
    const onChain = await rpc.blockHash(status.height);
    if (onChain === status.hash) return status;
    log.warn('the last final block indexed is no longer on the chain: a reorg deeper than the finality window; looking for the last common block', {
      block: status.height,
      hash: status.hash,
      chain: onChain ?? 'the chain is not that high',
      finality,
    });
    const ancestor = await findCommonAncestor(
      { indexedBlockAtOrBelow: (h, above) => sink.indexedBlockAtOrBelow(h, above), chainHash: (h) => rpc.blockHash(h) },
      status.height,
    );
    const to: HashAndHeight = ancestor ?? EMPTY_HEAD;
    const cancelled = await sink.rollbackTo(to);
    stats.deepReorgs++;
    stats.cancelled += cancelled;
    log.warn('rolled back to the last common block; re-indexing from there', {
      block: ancestor ? ancestor.height : 'none: from the deployment block',
      cancelledRows: cancelled,
    });
    return to;
  }

  /**
   * Periodically compares what the sink committed with the chain. The final head gone: a deep reorg,
   * so stop the processor at once (the next round rolls back). The last hot block gone and still gone
   * one check later: Subsquid only looks again once the chain grows past its last height, which an
   * idle devnet may never do, so restart it (connect() drops the hot blocks, which are fetched again).
   * Also records the chain head for progress().
   */
  function watchChain(): () => void {
    if (reorgCheckMs <= 0) return () => {};
    let checking = false;
    let active = true; // a check still in flight when this round ends must not stop the next one
    let suspect: string | undefined;
    const restart = (reason: string) => {
      if (!active || stopping || restartReason) return;
      restartReason = reason;
      sink.close();
      running?.stop();
    };
    const check = async () => {
      chainHead = await rpc.headHeight();
      const s = sink.state();
      if (!s || s.height < 0 || restartReason) return;
      const finalHash = await rpc.blockHash(s.height);
      // Only against an unchanged state: a commit in between makes the comparison stale.
      const unchanged = () => JSON.stringify(sink.state()) === JSON.stringify(s);
      if (finalHash !== s.hash) {
        if (unchanged()) restart(`block ${s.height} (${s.hash}) is no longer on the chain`);
        return;
      }
      const top = s.top[s.top.length - 1];
      if (!top) return;
      const topHash = await rpc.blockHash(top.height);
      const key = `${top.height} ${top.hash}`;
      if (topHash === top.hash || !unchanged()) {
        suspect = undefined;
      } else if (suspect === key) {
        restart(`unfinalized block ${top.height} (${top.hash}) left the chain and the processor has not moved on`);
      } else {
        suspect = key;
      }
    };
    const timer = setInterval(() => {
      if (checking) return;
      checking = true;
      check()
        .catch(() => {}) // an unreachable RPC is the processor's to report
        .finally(() => {
          checking = false;
        });
    }, reorgCheckMs);
    return () => {
      active = false;
      clearInterval(timer);
    };
  }

  async function forked(): Promise<boolean> {
    const s = sink.state();
    if (!s || s.height < 0) return false;
    try {
      return (await rpc.blockHash(s.height)) !== s.hash;
    } catch {
      return false;
    }
  }

  const done = (async () => {
    for (let round = 0; !stopping; round++) {
      await reachChain(rpc, { ...opts.connect, deployment: opts.deployment, log, signal: abort.signal });
      if (stopping) return;
      const from = await rollBackIfForked();
      // Hot blocks are fetched again after a restart (see sink.ts): progress restarts at the final head.
      stats.finalized = stats.head = from.height;
      if (stopping) return;
      if (round === 0) {
        log.info('indexing the deployment', {
          rpc: rpc.url,
          chainId: opts.deployment.chainId,
          fromBlock: Number(opts.deployment.deploymentBlock.number),
          resumeAfter: from.height,
          finality,
        });
      }
      if (round > 0) stats.restarts++;
      restartReason = undefined;
      const processor = createProcessor({
        rpcUrl: opts.rpcUrl,
        deployment: opts.deployment,
        finality,
        rpc: opts.rpc,
        pollIntervalMs: opts.pollIntervalMs,
        toBlock: opts.toBlock,
      });
      running = runProcessor(processor, sink, handler, log, ingestion);
      const stopWatching = watchChain();
      try {
        await running.done;
        log.info('indexed to the end of the block range', { block: opts.toBlock });
        return;
      } catch (err) {
        if (stopping) return;
        if (restartReason) {
          log.warn('restarting the processor', { reason: restartReason });
          continue;
        }
        // "already indexed block … was not found on chain", or an assertion in Subsquid's hot-block
        // walk: the next round rolls back, if the committed head really left the chain.
        if (await forked()) {
          log.warn('the chain reorganised below the finality window while processing; rolling back', { error: firstLine(err) });
          continue;
        }
        if ((err as { retryable?: unknown } | undefined)?.retryable === false) throw err;
        if (isConnectionFailure(err)) {
          // The RPC went away: the next round waits for it (connect policy), with a line per attempt.
          log.warn(`lost the chain RPC at ${rpc.url}; reconnecting`, { error: firstLine(err) });
          try {
            await sleep(1000, undefined, { signal: abort.signal });
          } catch {
            return;
          }
          continue;
        }
        failures++;
        if (failures >= maxFailures) {
          throw new IndexerError(`the indexer failed ${failures} times in a row without committing a batch`, {
            details: `last error: ${firstLine(err)}`,
            cause: err,
          });
        }
        const delay = Math.min(500 * 2 ** (failures - 1), 30_000);
        log.error('the processor failed; restarting', { error: firstLine(err), failures, maxFailures, retryInMs: delay });
        try {
          await sleep(delay, undefined, { signal: abort.signal });
        } catch {
          return;
        }
      } finally {
        stopWatching();
        sink.close();
        running = undefined;
      }
    }
  })();
  // Settles waiters when the indexer ends; `done` itself stays for the caller to observe.
  let endedWith: { error: unknown } | undefined;
  const ended = done.then(
    () => undefined,
    (err: unknown) => err,
  );
  void ended.then((error) => {
    endedWith = { error };
    for (const w of waiters) w();
  });

  return {
    id: sink.id,
    done,
    async stop() {
      if (!stopping) {
        stopping = true;
        abort.abort();
        sink.close();
        running?.stop();
      }
      await ended;
    },
    progress: () => ({ ...stats, chainHead }),
    waitForHeight(height, timeoutMs = 60_000) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new IndexerError(`block ${height} was not indexed within ${timeoutMs} ms`, { details: `the indexer is at block ${stats.head}` }));
        }, timeoutMs);
        const check = () => {
          if (stats.head >= height) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve();
          } else if (endedWith) {
            clearTimeout(timer);
            waiters.delete(check);
            reject(
              endedWith.error ?? new IndexerError(`the indexer stopped at block ${stats.head}, before block ${height}`),
            );
          }
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** A failure to reach the RPC (as Subsquid's client or fetch report it), not a refusal by it. */
function isConnectionFailure(err: unknown): boolean {
  const text = `${(err as Error | undefined)?.name ?? ''} ${(err as Error | undefined)?.message ?? String(err)}`;
  return /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|socket hang up|fetch failed|RpcConnectionError|HttpTimeoutError|timed out/i.test(text);
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}
