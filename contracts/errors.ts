// Errors of the chain part, and the base class that every part's errors share.
/**
 * The base of every part's errors (ChainError, ClickHouseStoreError, OperationalStoreError,
 * IndexerError…): a short message, an optional detail line, and whether retrying can help.
 */
export class TributaryError extends Error {
  override name = 'TributaryError';
  readonly details: string | undefined;
  readonly retryable: boolean;
  constructor(message: string, opts: { details?: string; retryable?: boolean; cause?: unknown } = {}) {
    super(opts.details ? `${message}\n  ${opts.details}` : message, { cause: opts.cause });
    this.details = opts.details;
    this.retryable = opts.retryable ?? false;
  }
}

export class ChainError extends TributaryError {
  override name = 'ChainError';
}

/** anvil could not be started or did not answer. */
export class DevnetError extends ChainError {
  override name = 'DevnetError';
}
