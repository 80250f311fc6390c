// Runs an EvmBatchProcessor inside this process and lets it be stopped.
//
// EvmBatchProcessor.run() hands its work to runProgram(), which calls process.exit() when the work
// ends or fails: fine for a squid that owns its process, not for `tributary up`, which hosts the
// indexer beside the API in one process (chDB allows one process per data dir). So this builds the
// same Runner that run() builds, from the processor's own builders (the body of run() without
// runProgram), and returns its promise. The builders are private in the type declarations but plain
// methods at runtime; checkInternals() fails with a clear message if an upgrade of
// @subsquid/evm-processor (tested with 1.27.3) renames them.
//
// Final blocks can be fetched our way instead of through Subsquid's data source (`ingestion`: the
// scheduling of ingest.ts over a fetcher such as fetchSplit.ts, about twice as fast end to end);
// hot blocks, the finality logic and the runner stay Subsquid's.
//
// Stopping closes the processor's RPC client and aborts the final-block fetcher: pending and later
// requests fail, the runner's loop throws, and the promise settles; the caller (run.ts) knows it
// asked and treats that as a stop.
// Subsquid's log records go to our logger; its Prometheus server is replaced by a stub (the platform
// serves its own /metrics), which also keeps the runner's metrics readable.
import { Logger, LogLevel, type LogRecord } from '@subsquid/logger';
import { Runner, type HotDatabase } from '@subsquid/util-internal-processor-tools';
import { IndexerError } from './errors.ts';
import { ingestFinalized, type IngestRequest, type IngestSettings, type IngestSplit } from './ingest.ts';
import type { IndexerLogger } from './log.ts';
import type { IndexerContext, IndexerProcessor } from './processor.ts';

/** What the runner reports about its progress. */
export interface RunnerProgress {
  /** The chain height the data source reported last (final height in RPC mode). */
  chainHeight: number;
  lastProcessedBlock: number;
  /** Blocks per second over the recent batches. */
  blocksPerSecond: number;
}

export interface RunningProcessor {
  /** Settles when the runner ends: resolves at the end of the block range, rejects on failure or stop. */
  done: Promise<void>;
  /** Closes the RPC client so that the runner stops at its next request. */
  stop(): void;
  progress(): RunnerProgress | undefined;
}

interface RunnerMetricsLike {
  getChainHeight(): number;
  getLastProcessedBlock(): number;
  getMappingSpeed(): number;
}

/** The private builders of EvmBatchProcessor that run() uses. */
interface ProcessorInternals {
  finalityConfirmation?: number;
  getBatchRequests(): unknown[];
  getHotDataSource(): unknown;
  getChainRpcClient(): { close(err?: Error): void };
  getChain(): unknown;
}

const BUILDERS = ['getBatchRequests', 'getHotDataSource', 'getChainRpcClient', 'getChain', 'getLogger', 'getPrometheusServer'] as const;

function checkInternals(processor: object): asserts processor is ProcessorInternals {
  const missing = BUILDERS.filter((m) => typeof (processor as Record<string, unknown>)[m] !== 'function');
  if (missing.length > 0) {
    throw new IndexerError(`this @subsquid/evm-processor has no ${missing.join(', ')}`, {
      details: 'the indexer runs the processor in-process through these builders and is tested with 1.27.3: install that version',
    });
  }
}

export function runProcessor<Store>(
  processor: IndexerProcessor,
  database: HotDatabase<Store>,
  handler: (ctx: IndexerContext<Store>) => Promise<void>,
  log: IndexerLogger,
  ingestion?: FinalBlockIngestion,
): RunningProcessor {
  checkInternals(processor);
  const p = processor as unknown as ProcessorInternals;
  const sqdLog = new Logger(bridge(log), 'sqd:processor');
  let metrics: RunnerMetricsLike | undefined;
  const prometheus = {
    setPort() {},
    addChainRpcMetrics() {},
    addRunnerMetrics(m: RunnerMetricsLike) {
      metrics = m;
    },
    serve: async () => ({ port: 0, close: async () => {} }),
  };
  // Own properties shadow the memoised prototype builders, so every builder sees these two.
  Object.defineProperty(processor, 'getLogger', { value: () => sqdLog });
  Object.defineProperty(processor, 'getPrometheusServer', { value: () => prometheus });

  const mappingLog = sqdLog.child('mapping');
  const hotDataSource = p.getHotDataSource();
  const abort = new AbortController();
  if (ingestion) useOurIngestion(hotDataSource, ingestion.settings ?? {}, ingestion.fetcher(abort.signal));
  const runner = new Runner({
    database,
    requests: p.getBatchRequests(),
    hotDataSource,
    allBlocksAreFinal: p.finalityConfirmation === 0,
    prometheus,
    log: sqdLog,
    process: (store: Store, batch: { blocks: unknown[]; isHead: boolean }) =>
      handler({ _chain: p.getChain(), log: mappingLog, store, blocks: batch.blocks, isHead: batch.isHead } as unknown as IndexerContext<Store>),
  } as unknown as ConstructorParameters<typeof Runner>[0]);

  const done = runner.run();
  return {
    done,
    stop: () => {
      abort.abort();
      p.getChainRpcClient().close(new IndexerError('the indexer is stopping'));
    },
    progress: () =>
      metrics && {
        chainHeight: metrics.getChainHeight(),
        lastProcessedBlock: metrics.getLastProcessedBlock(),
        blocksPerSecond: metrics.getMappingSpeed(),
      },
  };
}

/** How final blocks are fetched instead of Subsquid's fixed 10-block splits (ingest.ts, fetchSplit.ts). */
export interface FinalBlockIngestion {
  settings?: IngestSettings;
  /** The fetcher of one split of final blocks; `signal` aborts when the processor is stopped. */
  fetcher(signal: AbortSignal): (range: { from: number; to: number }) => Promise<IngestSplit<unknown>>;
}

/** The members of Subsquid's EvmRpcDataSource that the final-block ingestion uses or replaces. */
interface RpcDataSourceInternals {
  getFinalizedHeight(): Promise<number>;
  getFinalizedBlocks(requests: IngestRequest<unknown>[], stopOnHead?: boolean): AsyncIterable<unknown>;
}

const DATA_SOURCE_METHODS = ['getFinalizedHeight', 'getFinalizedBlocks'] as const;

/**
 * Replaces the data source's final-block ingestion with ingest.ts's scheduling over `fetchSplit`.
 * Hot (unfinalized) blocks still go through Subsquid's own client and its fork handling.
 */
function useOurIngestion(dataSource: unknown, settings: IngestSettings, fetchSplit: (range: { from: number; to: number }) => Promise<IngestSplit<unknown>>): void {
  const ds = dataSource as RpcDataSourceInternals;
  const missing = DATA_SOURCE_METHODS.filter((m) => typeof (ds as unknown as Record<string, unknown>)[m] !== 'function');
  if (missing.length > 0) {
    throw new IndexerError(`this @subsquid/evm-processor's RPC data source has no ${missing.join(', ')}`, {
      details: 'the indexer replaces its final-block ingestion through these methods and is tested with 1.27.3: install that version',
    });
  }
  // The processor's requests only say which logs to fetch, which the fetcher already knows.
  const source = { getFinalizedHeight: () => ds.getFinalizedHeight(), getSplit: (range: { from: number; to: number }) => fetchSplit(range) };
  ds.getFinalizedBlocks = (requests, stopOnHead) => ingestFinalized(source, requests, stopOnHead ?? false, settings);
}

/** Subsquid log records → our logger. Its INFO lines (ranges, status lines) are ours at debug level. */
function bridge(log: IndexerLogger): (rec: LogRecord) => void {
  return (rec) => {
    const { level, msg, ns, time: _time, err, ...fields } = rec as LogRecord & Record<string, unknown>;
    if (msg?.startsWith('prometheus metrics are served')) return; // the stub serves nothing
    const text = `subsquid: ${msg ?? (err instanceof Error ? err.message : '')}`;
    const extra = { ns, ...fields, ...(err instanceof Error && { error: err.message }) };
    if (level >= LogLevel.ERROR) log.error(text, extra);
    else if (level >= LogLevel.WARN) log.warn(text, extra);
    else log.debug(text, extra);
  };
}
