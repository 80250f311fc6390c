// Errors of the content store: a short message, the hash concerned, and whether retrying can help.

export class ContentStoreError extends Error {
  override name = 'ContentStoreError';
  readonly retryable: boolean;
  constructor(message: string, opts: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.retryable = opts.retryable ?? false;
  }
}

/** No content with this hash is stored. Retrying does not help unless someone puts it. */
export class ContentNotFoundError extends ContentStoreError {
  override name = 'ContentNotFoundError';
  constructor(readonly hash: string) {
    super(`no content with hash ${hash} in the store`);
  }
}

/** Stored bytes no longer hash to their name (disk corruption or tampering). Put the original bytes again. */
export class ContentCorruptError extends ContentStoreError {
  override name = 'ContentCorruptError';
  constructor(
    readonly hash: string,
    readonly actualHash: string,
    readonly path: string,
  ) {
    super(`stored content ${hash} is corrupt: ${path} now hashes to ${actualHash}; put the original bytes again to repair it`);
  }
}

/** A string that is not a content hash (64 lowercase hex digits of SHA-256) or not a valid ref name. */
export class InvalidContentKeyError extends ContentStoreError {
  override name = 'InvalidContentKeyError';
}
