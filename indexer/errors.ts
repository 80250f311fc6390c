// Errors of the indexer part: a short message, details, and whether retrying can help.
import { TributaryError } from '../contracts/index.ts';

export class IndexerError extends TributaryError {
  override name = 'IndexerError';
}

/** The chain RPC did not answer after the configured number of attempts. */
export class RpcUnreachableError extends IndexerError {
  override name = 'RpcUnreachableError';
}

/** The RPC answers but is not the deployment's chain (other chain id, or the deployment block is gone). */
export class WrongChainError extends IndexerError {
  override name = 'WrongChainError';
}

/**
 * The sink's stored state disagrees with what the processor asks it to do: another process is writing
 * with the same indexer id, or the status row was edited by hand. Retrying does not help.
 */
export class SinkStateError extends IndexerError {
  override name = 'SinkStateError';
}

/** A log of a deployed contract that its ABI does not describe: the ABI is out of date with the code. */
export class UnknownEventError extends IndexerError {
  override name = 'UnknownEventError';
}

/**
 * Thrown into Subsquid's runner by a sink that is closing, so that the runner unwinds without
 * writing; the indexer treats it as a clean stop, never as a failure.
 */
export class SinkClosedError extends IndexerError {
  override name = 'SinkClosedError';
}
