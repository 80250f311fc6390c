// Errors of LoRA training: a training request whose values cannot work (no rows, a rank of 0, a batch of
// tokens that is not aligned with its loss mask…). Retrying the same request never helps, so none is
// retryable; each message names the value that was wrong.
import { TributaryError } from '../../contracts/index.ts';

export class TrainingError extends TributaryError {
  override name = 'TrainingError';
}

/** The caller's AbortSignal fired; the partial run is discarded. */
export class TrainingAbortedError extends TrainingError {
  override name = 'TrainingAbortedError';
}
