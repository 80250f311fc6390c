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
// Stopping closes the processor's RPC client: pending and later requests fail, the runner's loop
// throws, and the promise settles; the caller (run.ts) knows it asked and treats that as a stop.
// Subsquid's log records go to our logger; its Prometheus server is replaced by a stub (the platform
// serves its own /metrics), which also keeps the runner's metrics readable.
import { Logger, LogLevel, type LogRecord } from '@subsquid/logger';
import { Runner, type HotDatabase } from '@subsquid/util-internal-processor-tools';
import { IndexerError } from './errors.ts';
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
  const runner = new Runner({
    database,
    requests: p.getBatchRequests(),
    hotDataSource: p.getHotDataSource(),
    allBlocksAreFinal: p.finalityConfirmation === 0,
    prometheus,
    log: sqdLog,
    process: (store: Store, batch: { blocks: unknown[]; isHead: boolean }) =>
      handler({ _chain: p.getChain(), log: mappingLog, store, blocks: batch.blocks, isHead: batch.isHead } as unknown as IndexerContext<Store>),
  } as unknown as ConstructorParameters<typeof Runner>[0]);

  const done = runner.run();
  return {
    done,
    stop: () => p.getChainRpcClient().close(new IndexerError('the indexer is stopping')),
    progress: () =>
      metrics && {
        chainHeight: metrics.getChainHeight(),
        lastProcessedBlock: metrics.getLastProcessedBlock(),
        blocksPerSecond: metrics.getMappingSpeed(),
      },
  };
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
