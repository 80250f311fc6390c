// The indexer part's public surface: the Subsquid processor over the chain RPC, its reorg- and
// crash-safe ClickHouse sink, and startIndexer(), which runs both in this process until stop().
export { startIndexer, DEFAULT_FINALITY, type StartIndexerOptions, type Indexer, type IndexerProgress } from './run.ts';
export {
  createClickHouseSink,
  EMPTY_HEAD,
  type ClickHouseSink,
  type ClickHouseSinkOptions,
  type SinkStore,
  type SinkFaults,
  type SinkFaultContext,
  type SinkCommit,
} from './sink.ts';
export { createProcessor, INDEXER_FIELDS, type IndexerProcessor, type IndexerContext, type RpcSettings, type CreateProcessorOptions } from './processor.ts';
export { runProcessor, type RunningProcessor, type RunnerProgress, type FinalBlockIngestion } from './subsquid.ts';
export { type IngestSettings } from './ingest.ts';
export { createLogDecoder, type LogDecoder, type RawLog, type RawBlock, type DecodedRow, type TableRows } from './decode.ts';
export { type RetryPolicy } from './reachChain.ts';
export { SILENT_LOGGER, type IndexerLogger } from './log.ts';
export { IndexerError, RpcUnreachableError, WrongChainError, SinkStateError, UnknownEventError, SinkClosedError } from './errors.ts';
