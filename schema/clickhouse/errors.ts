// Errors of the ClickHouse store: a short message, details, and whether retrying can help.
export class ClickHouseStoreError extends Error {
  override name = 'ClickHouseStoreError';
  readonly details: string | undefined;
  readonly retryable: boolean;
  constructor(message: string, opts: { details?: string; retryable?: boolean; cause?: unknown } = {}) {
    super(opts.details ? `${message}\n  ${opts.details}` : message, { cause: opts.cause });
    this.details = opts.details;
    this.retryable = opts.retryable ?? false;
  }
}

/** chDB's data directory is locked by another process (chDB allows one process per data directory). */
export class DataDirInUseError extends ClickHouseStoreError {
  override name = 'DataDirInUseError';
}

/** The ClickHouse server at CLICKHOUSE_URL did not answer; retrying may help once it is up. */
export class ClickHouseUnreachableError extends ClickHouseStoreError {
  override name = 'ClickHouseUnreachableError';
}

/** A migration could not be applied, or the recorded migrations disagree with the code. */
export class MigrationError extends ClickHouseStoreError {
  override name = 'MigrationError';
}

/** A decoded event argument does not fit its column (wrong type, out of range, malformed hex). */
export class RowEncodingError extends ClickHouseStoreError {
  override name = 'RowEncodingError';
}
