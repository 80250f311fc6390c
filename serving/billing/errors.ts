// What billing refuses or cannot do, and whether retrying can help.
import { TributaryError } from '../../contracts/index.ts';

/**
 * Settling usage on chain failed. Retryable when a later attempt can succeed by itself (the chain moved
 * under us, a log not found yet); not retryable when the store and the chain disagree in a way that
 * needs a person (the store is ahead of the chain: another chain, or a reset devnet).
 */
export class SettlementError extends TributaryError {
  override name = 'SettlementError';
}
