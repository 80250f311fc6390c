// Errors of the contribution upload path. Each carries the HTTP status it answers with, so the route maps
// errors in one place and the CLI can print the same message.
import { TributaryError } from '../../contracts/index.ts';

export class UploadError extends TributaryError {
  override name = 'UploadError';
  constructor(
    message: string,
    readonly status: number,
    opts: ConstructorParameters<typeof TributaryError>[1] & { retryAfterSeconds?: number } = {},
  ) {
    super(message, opts);
    this.retryAfterSeconds = opts.retryAfterSeconds;
  }
  readonly retryAfterSeconds: number | undefined;
}

/** 400: the request or the file is malformed. */
export class BadUploadError extends UploadError {
  override name = 'BadUploadError';
  constructor(message: string, opts: ConstructorParameters<typeof TributaryError>[1] = {}) {
    super(message, 400, opts);
  }
}

/** 401: the signature is not the contributor's over this file and datanet. */
export class UploadSignatureError extends UploadError {
  override name = 'UploadSignatureError';
  constructor(message: string) {
    super(message, 401);
  }
}

/** 404: no such datanet on the chain. */
export class UploadDatanetNotFoundError extends UploadError {
  override name = 'UploadDatanetNotFoundError';
  constructor(message: string) {
    super(message, 404);
  }
}

/** 413: the file is larger than the limit. */
export class UploadTooLargeError extends UploadError {
  override name = 'UploadTooLargeError';
  constructor(message: string) {
    super(message, 413);
  }
}

/** 422: the contribution could not be made as asked (stake below the datanet's, not enough OPEN). */
export class UploadRefusedError extends UploadError {
  override name = 'UploadRefusedError';
  constructor(message: string, opts: ConstructorParameters<typeof TributaryError>[1] = {}) {
    super(message, 422, opts);
  }
}

/** 429: the address used its daily upload quota; retry after the UTC day ends. */
export class UploadQuotaExceededError extends UploadError {
  override name = 'UploadQuotaExceededError';
  constructor(message: string, retryAfterSeconds: number) {
    super(message, 429, { retryable: true, retryAfterSeconds });
  }
}
