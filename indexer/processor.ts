// The Subsquid EvmBatchProcessor for a deployment: every log of every contract of the deployment,
// from its deployment block, over the chain RPC, with the fields the event tables need.
import { EvmBatchProcessor, type DataHandlerContext } from '@subsquid/evm-processor';
import { CONTRACT_NAMES } from '../contracts/index.ts';
import type { Deployment } from '../contracts/index.ts';

/** The fields fetched: topics, data, tx hash and log index of each log; the block's timestamp. */
export const INDEXER_FIELDS = {
  block: { timestamp: true },
  log: { address: true, topics: true, data: true, transactionHash: true },
  // No transaction fields: logs carry their tx hash, and fetching transactions costs a lot more.
  transaction: { from: false, to: false, hash: false },
} as const;

export type IndexerProcessor = EvmBatchProcessor<typeof INDEXER_FIELDS>;
export type IndexerContext<Store> = DataHandlerContext<Store, typeof INDEXER_FIELDS>;

/**
 * How the processor talks to the RPC (Subsquid's RpcEndpointSettings, in our units). Final blocks are
 * fetched by fetchSplit.ts under the same settings: a split is at most maxBatchCallSize − 1 blocks (its
 * headers and one eth_getLogs make one batch), at most `capacity` splits are in flight, and the
 * timeout, retries and rate limit apply to it too.
 */
export interface RpcSettings {
  /** Requests per second (default: unlimited). */
  rateLimit?: number;
  /** Calls per JSON-RPC batch (default 100). */
  maxBatchCallSize?: number;
  /** Concurrent requests (default 10; final-block splits: at most 3 unless lower). */
  capacity?: number;
  /** Per request (default 30 s). */
  requestTimeoutMs?: number;
  /**
   * Retries of a failed request inside Subsquid's client before the processor fails and the indexer
   * takes over with its own reconnection (default 5: about 13 s of Subsquid's backoff).
   */
  retryAttempts?: number;
}

export interface CreateProcessorOptions {
  rpcUrl: string;
  deployment: Pick<Deployment, 'contracts' | 'deploymentBlock'>;
  /** Blocks behind the head after which a block counts as final; 0 makes every block final. */
  finality: number;
  rpc?: RpcSettings;
  /** How often to poll for a new head (default 1000 ms). */
  pollIntervalMs?: number;
  /** Stop after this block is final (default: follow the chain). */
  toBlock?: number;
}

export function createProcessor(opts: CreateProcessorOptions): IndexerProcessor {
  if (!Number.isInteger(opts.finality) || opts.finality < 0) {
    throw new RangeError(`finality must be a non-negative integer number of blocks, got ${opts.finality}`);
  }
  const from = Number(opts.deployment.deploymentBlock.number);
  const rpc = opts.rpc ?? {};
  return new EvmBatchProcessor()
    .setRpcEndpoint({
      url: opts.rpcUrl,
      rateLimit: rpc.rateLimit,
      maxBatchCallSize: rpc.maxBatchCallSize,
      capacity: rpc.capacity,
      requestTimeout: rpc.requestTimeoutMs,
      retryAttempts: rpc.retryAttempts ?? 5,
    })
    .setRpcDataIngestionSettings({ headPollInterval: opts.pollIntervalMs ?? 1000 })
    .setFinalityConfirmation(opts.finality)
    .setBlockRange({ from, ...(opts.toBlock !== undefined && { to: opts.toBlock }) })
    .setFields(INDEXER_FIELDS)
    .addLog({ address: CONTRACT_NAMES.map((n) => opts.deployment.contracts[n].toLowerCase()), range: { from } });
}
