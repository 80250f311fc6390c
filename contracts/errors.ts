// Errors of the chain part: a short message, details, and whether retrying can help.
export class ChainError extends Error {
  override name = 'ChainError';
  readonly details: string | undefined;
  readonly retryable: boolean;
  constructor(message: string, opts: { details?: string; retryable?: boolean; cause?: unknown } = {}) {
    super(opts.details ? `${message}\n  ${opts.details}` : message, { cause: opts.cause });
    this.details = opts.details;
    this.retryable = opts.retryable ?? false;
  }
}

/** anvil could not be started or did not answer. */
export class DevnetError extends ChainError {
  override name = 'DevnetError';
}
