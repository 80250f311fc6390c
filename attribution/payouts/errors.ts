// Errors of the payout side of attribution. Each says what was wrong, with the value, and whether a retry
// can help (TributaryError's `retryable`).
import { TributaryError } from '../../contracts/index.ts';

/** The base of every payout error. */
export class PayoutError extends TributaryError {
  override name = 'PayoutError';
}

/** A score file that is not in the canonical form (parse) or not valid (encode); `line` is 1-based when known. */
export class ScoreFileError extends PayoutError {
  override name = 'ScoreFileError';
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(line === undefined ? `score file: ${message}` : `score file line ${line}: ${message}`);
  }
}

/** Inputs to an allocation that do not fit together (an unknown inference, a pool from the wrong epoch…). */
export class AllocationError extends PayoutError {
  override name = 'AllocationError';
}

/** The part of a payout batch that did not match when it was rebuilt from its inputs. */
export type PayoutMismatchField = 'epoch' | 'scoreFileHash' | 'total' | 'root' | 'cumulativeTotal' | 'previousCumulativeTotal' | 'poolTotal';

/**
 * A batch that does not match what its score file, pool amounts and previous totals give: the field, the
 * value the rebuild gives (`expected`) and the value claimed (`actual`). A signer must not sign it.
 */
export class PayoutMismatchError extends PayoutError {
  override name = 'PayoutMismatchError';
  constructor(
    readonly field: PayoutMismatchField,
    readonly expected: string,
    readonly actual: string,
    details?: string,
  ) {
    super(`payout batch mismatch: ${field} is ${actual}, but the inputs give ${expected}`, { details });
  }
}

/** The batch driver could not move a batch forward; `retryable` says whether the next run may succeed. */
export class BatchDriverError extends PayoutError {
  override name = 'BatchDriverError';
}
