// Errors of the operational store: a short message, detail lines, and whether retrying can help.
import { TributaryError } from '../../contracts/index.ts';
import type { PayoutBatchStatus } from './tables.ts';

export class OperationalStoreError extends TributaryError {
  override name = 'OperationalStoreError';
}

/** The PGlite data directory is open in another process (or already open in this one). */
export class StoreLockedError extends OperationalStoreError {
  override name = 'StoreLockedError';
}

/** The PostgreSQL server could not be reached or refused the connection. */
export class StoreUnreachableError extends OperationalStoreError {
  override name = 'StoreUnreachableError';
}

/** A value handed to the store is malformed (not retryable: the value has to change). */
export class InvalidValueError extends OperationalStoreError {
  override name = 'InvalidValueError';
}

export class PayoutBatchNotFoundError extends OperationalStoreError {
  override name = 'PayoutBatchNotFoundError';
  constructor(
    readonly epoch: bigint,
    readonly nonce: bigint,
  ) {
    super(`no payout batch for epoch ${epoch} nonce ${nonce}`);
  }
}

/** A batch with this (epoch, nonce) exists with other contents: creating it again is not idempotent. */
export class PayoutBatchMismatchError extends OperationalStoreError {
  override name = 'PayoutBatchMismatchError';
  constructor(
    readonly epoch: bigint,
    readonly nonce: bigint,
    readonly fields: string[],
  ) {
    super(`payout batch epoch ${epoch} nonce ${nonce} already exists with a different ${fields.join(', ')}`, {
      details: 'a batch is immutable once created; a different batch for the same epoch needs the next nonce',
    });
  }
}

/** The transition is not an edge of the lifecycle (pending → signed → posted → confirmed; → revoked | failed). */
export class IllegalTransitionError extends OperationalStoreError {
  override name = 'IllegalTransitionError';
  constructor(
    readonly from: PayoutBatchStatus,
    readonly to: PayoutBatchStatus,
    readonly epoch: bigint,
    readonly nonce: bigint,
  ) {
    super(`payout batch epoch ${epoch} nonce ${nonce}: illegal transition ${from} → ${to}`);
  }
}

/**
 * The batch's status was not the one the caller expected: another transaction changed it first.
 * Retrying the same transition cannot help; re-read the batch and decide again.
 */
export class TransitionConflictError extends OperationalStoreError {
  override name = 'TransitionConflictError';
  constructor(
    readonly expected: PayoutBatchStatus,
    readonly actual: PayoutBatchStatus,
    readonly to: PayoutBatchStatus,
    readonly epoch: bigint,
    readonly nonce: bigint,
  ) {
    super(
      `payout batch epoch ${epoch} nonce ${nonce}: expected status ${expected} for ${expected} → ${to}, found ${actual}`,
      { details: 'another transaction changed it first; re-read the batch' },
    );
  }
}

export class ApiKeyNotFoundError extends OperationalStoreError {
  override name = 'ApiKeyNotFoundError';
  constructor(readonly id: string) {
    super(`no API key with id ${id}`);
  }
}

export class GrantAlreadyUsedError extends OperationalStoreError {
  override name = 'GrantAlreadyUsedError';
  constructor(readonly grantDigest: string) {
    super(`the grant ${grantDigest} already created an API key`, { details: 'each signed grant creates one key; sign a new one' });
  }
}
